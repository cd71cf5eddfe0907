/**
 * Seed 003 on this machine, part 2 of 2: parallel workers 1/2/4/8, each request 128 prompt
 * tokens (n-prompt) and the dataset analysis's n-predict (docs/dataset-analysis.md: 2048
 * recommended, 4096 comprehensive; the seed ran 4096), closed loop, with Total KV (cells),
 * KV MiB, prompt / generation / overall t/s, speedup and efficiency per row, on every target
 * and weight variant that can run it: lmrig BF16; llama.cpp BF16 and Q4_K_M (quantised in
 * process by llama.cpp's own quantiser; lmrig leaves Q4_K_M out with a note until its engine
 * loads GGUF). Part 1 (llama-bench-style pp128 and tg) is scenarios/seed-003-bench.ts.
 * Run: deno task bench scenarios/seed-003.ts                   (CPU: the `cpu` figures)
 *      deno task bench scenarios/seed-003.ts --quick --model synthetic:tiny-qwen2
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "workers",
  name: "seed-003",
  description: "Seed 003: parallel workers 1/2/4/8, n-prompt 128, n-predict from the dataset " +
    "analysis, lmrig BF16 vs llama.cpp BF16 and Q4_K_M",
  model: "synthetic:qwen2.5-0.5b",
  targets: ["lmrig", "llama.cpp"],
  quants: ["bf16", "q4_k_m"],
  parallel: [1, 2, 4, 8],
  promptTokens: 128,
  decodeTokens: 2048,
  // One request per worker, as the seed's table (N workers, N requests in flight).
  requestsPerWorker: 1,
  prefillBudgetTokens: 512,
  sequentialRequests: 0,
  warmup: 1,
  runs: 3,
  // On a 2-core CPU a 0.5B step takes tens of ms: 2048 outputs x 8 workers x 3 variants would run
  // for hours, so the CPU keeps the seed's 128-token prompts and generates 64 tokens.
  cpu: { decodeTokens: 64 },
});
