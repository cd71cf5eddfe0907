/** The end-of-sequence token ids of a served model. */
import { join } from "node:path";
import type { TextTokenizer } from "../tokenizer/types.ts";

/** Special tokens that end a turn or a text in the families lmrig serves. */
const EOS_TEXTS = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"];

function idsOf(v: unknown): number[] {
  if (Number.isInteger(v)) return [v as number];
  if (Array.isArray(v)) return v.filter((x) => Number.isInteger(x));
  return [];
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

/**
 * The ids a model ends a sequence with: a Hugging Face folder's `generation_config.json`
 * `eos_token_id` (a number or a list), else its `config.json`'s; otherwise (synthetic presets,
 * a GGUF with a separate tokenizer) the family's end tokens that the tokenizer knows as one id
 * (`<|im_end|>`, `<|endoftext|>` for Qwen; `</s>` = 2 for Llama 2).
 *
 * @param folder The model's (or tokenizer's) Hugging Face folder, or null.
 * @param tokenizer The tokenizer.
 * @returns Distinct ids, possibly empty.
 */
export async function eosTokenIds(
  folder: string | null,
  tokenizer: TextTokenizer,
): Promise<number[]> {
  if (folder !== null) {
    for (const f of ["generation_config.json", "config.json"]) {
      const ids = idsOf((await readJson(join(folder, f)))?.eos_token_id);
      if (ids.length > 0) return [...new Set(ids)];
    }
  }
  const ids: number[] = [];
  for (const t of EOS_TEXTS) {
    const enc = tokenizer.encode(t, { addSpecialTokens: false });
    if (enc.length === 1 && tokenizer.decode(enc) === t) ids.push(enc[0]);
  }
  if (ids.length === 0 && tokenizer.name.includes("Llama 2")) ids.push(2);
  return [...new Set(ids)];
}
