/**
 * S1-S6: six generate requests from a minimal load to decode-heavy and prefill-heavy ones,
 * each measured after warm-ups (TTFT, decode TPS, prefill TPS, per-step times).
 * Run: deno task bench scenarios/s1-s6.ts
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "grid",
  name: "s1-s6",
  description: "Six request shapes: prompt/decode lengths from 16/32 to 1024/128 and 64/512",
  warmup: 3,
  runs: 5,
  maxCtx: 2048,
  cases: [
    { id: "S1", promptTokens: 16, decodeTokens: 32, description: "Minimal load (overhead ratio)" },
    { id: "S2", promptTokens: 64, decodeTokens: 64, description: "Short conversation" },
    { id: "S3", promptTokens: 256, decodeTokens: 128, description: "Medium conversation" },
    { id: "S4", promptTokens: 512, decodeTokens: 256, description: "Long context" },
    {
      id: "S5",
      promptTokens: 1024,
      decodeTokens: 128,
      description: "Long document summarization (prefill-heavy)",
    },
    {
      id: "S6",
      promptTokens: 64,
      decodeTokens: 512,
      description: "Short question + long response (decode-heavy)",
    },
  ],
});
