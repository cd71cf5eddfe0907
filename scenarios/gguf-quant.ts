/**
 * Quantised GGUF files on lmrig and llama.cpp: pp128, pp512 and tg128 on the same BF16, Q8_0 and
 * Q4_K_M files (the 1.5B shape written as a BF16 GGUF, quantised by llama.cpp's own quantiser in
 * process), both targets alternating run by run. `--llama-lib DIR` runs a user's own llama.cpp
 * build of the same release (for example one built with GGML_NATIVE) instead of the npm prebuilt.
 * Run: deno task bench scenarios/gguf-quant.ts --threads 2
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "grid",
  name: "gguf-quant",
  description:
    "pp128, pp512 and tg128 on the same BF16, Q8_0 and Q4_K_M GGUF files, lmrig and llama.cpp",
  model: "synthetic:qwen2.5-1.5b",
  targets: ["lmrig", "llama.cpp"],
  quants: ["bf16", "q8_0", "q4_k_m"],
  warmup: 1,
  runs: 3,
  cases: [
    { id: "pp128", promptTokens: 128, decodeTokens: 1, description: "Prompt processing, 128" },
    { id: "pp512", promptTokens: 512, decodeTokens: 1, description: "Prompt processing, 512" },
    { id: "tg128", promptTokens: 1, decodeTokens: 128, description: "Token generation, 128" },
  ],
});
