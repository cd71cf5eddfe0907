/**
 * Concurrent sequences: total decode throughput, speedup and efficiency at 1 ... 64 sequences in
 * flight (closed loop, continuous batching with chunked prefill between decode steps), the same
 * requests one at a time vs together, and open-loop Poisson arrivals at 50% and 90% of the
 * closed-loop capacity, with TTFT / TPOT / ITL / E2E percentiles. See docs/serving.md.
 * Run: deno task bench scenarios/workers.ts                    (CPU: the smaller `cpu` figures)
 *      deno task bench scenarios/workers.ts --backend cuda     (the H100 run)
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "workers",
  name: "workers",
  description: "Total decode TPS and latency with 1-64 sequences in flight; sequential vs " +
    "concurrent; Poisson open loop",
  parallel: [1, 2, 4, 8, 16, 32, 64],
  // The seed report used 128 + 4096; 512 generated tokens keep one GPU run within minutes while
  // the KV cache still grows to 640 positions per sequence.
  promptTokens: 128,
  decodeTokens: 512,
  // Each sequence slot serves two requests: the second enters as the first one leaves.
  requestsPerWorker: 2,
  // Prompt tokens prefilled per scheduler step, across the sequences still prefilling.
  prefillBudgetTokens: 512,
  // Seed 004's comparison: 5 requests one after another, then all 5 together.
  sequentialRequests: 5,
  open: { capacityFractions: [0.5, 0.9], requests: 64, maxInFlight: 16 },
  warmup: 1,
  runs: 3,
  // A CPU decode step reads the weights at a few GB/s and a 64-sequence step takes about a
  // second on 2 cores: with the default CPU model (qwen2.5-0.5b) these figures finish in about
  // 5 minutes on a quiet 2-core machine (docs/serving.md). Pass a scenario without `cpu` (or edit
  // these) for 32 and 64 sequences on a CPU.
  cpu: {
    parallel: [1, 2, 4, 8, 16],
    promptTokens: 16,
    decodeTokens: 16,
    prefillBudgetTokens: 64,
    open: { capacityFractions: [0.5, 0.9], requests: 16, maxInFlight: 8 },
  },
});
