/**
 * Seed 003 on this machine, part 1 of 2: llama-bench-style pp128 (prompt processing of the
 * dataset analysis's n-prompt, 128 tokens, one call) and tg (token generation of n-predict tokens
 * from an empty context: one token, then n-predict - 1 decode steps), on lmrig BF16 and
 * llama.cpp BF16 and Q4_K_M (tg's n-predict: see TG below; `--quick` keeps the cases and cuts
 * the runs). Part 2 (parallel workers) is
 * scenarios/seed-003.ts.
 * Run: deno task bench scenarios/seed-003-bench.ts
 */
import { defineScenario } from "../lib/scenario/mod.ts";

/**
 * n-predict of the tg case: 128 here, since on a 2-core CPU the analysis's 2048 steps take minutes
 * per run and variant; set it to 2048 (recommended) or 4096 (the seed's) on a faster machine.
 */
const TG = 128;

export default defineScenario({
  kind: "grid",
  name: "seed-003-bench",
  description: "Seed 003: llama-bench-style pp128 and tg on lmrig BF16, llama.cpp BF16 and Q4_K_M",
  model: "synthetic:qwen2.5-0.5b",
  targets: ["lmrig", "llama.cpp"],
  quants: ["bf16", "q4_k_m"],
  warmup: 1,
  runs: 5,
  cases: [
    { id: "pp128", promptTokens: 128, decodeTokens: 1, description: "Prompt processing, 128" },
    { id: `tg${TG}`, promptTokens: 1, decodeTokens: TG, description: `Token generation, ${TG}` },
  ],
});
