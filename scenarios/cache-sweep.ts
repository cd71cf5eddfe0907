/**
 * Cache-position sweep: one decode step timed at KV-cache positions 1, 2, 4, ... up to
 * maxCacheLen - prefillLen (32640 for 32768 and 128, as in the seed report), with the cache filled
 * by random data, for every executor (eager vs graph) and backend listed.
 * Run: deno task bench scenarios/cache-sweep.ts                    (every available backend)
 *      deno task bench scenarios/cache-sweep.ts --backend cuda     (the H100 run)
 * See docs/cache-sweep.md.
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "cache-sweep",
  name: "cache-sweep",
  description: "Decode step time against KV-cache position (log2 positions), eager vs graph",
  positions: "log2",
  maxCacheLen: 32768,
  // A CPU step reads the weights at a few GB/s; 8192 keeps the default CPU run to about a minute
  // (qwen2.5-0.5b on 2 cores) while still showing the KV cost. Raise it for a full CPU sweep.
  maxCacheLenCpu: 8192,
  prefillLen: 128,
  // Warm-up steps per position (reported apart), then `steps` measured steps per position.
  warmup: 2,
  steps: 3,
  executors: ["eager", "graph"],
  backends: ["cuda", "metal", "cpu"],
});
