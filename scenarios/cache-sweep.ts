/**
 * Cache-position sweep: one decode step timed at KV-cache positions 1, 2, 4, ... up to
 * maxCacheLen - prefillLen (32640 for 32768 and 128, as in the seed report), with the cache filled
 * by random data, for every executor (eager vs graph) the backend has (the CPU: eager only) and
 * every backend listed that is available here.
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
  // The CPU sweeps the same range as the seed (last point 32640): qwen2.5-0.5b with a BF16 KV cache
  // needs 0.4 GB of KV there (0.8 GB in F32) and the run takes minutes on 2 cores. Lower it on
  // small machines (the sweep also stops by itself at the largest position that fits in memory).
  maxCacheLenCpu: 32768,
  // BF16 KV on the CPU (the backend's default is F32): half the bytes a long-context step reads,
  // the AVX-512 attention kernel's faster path, and a 16-bit cache like llama.cpp's default (F16).
  // "f32" gives the earlier CPU records' basis.
  kvDtypeCpu: "bf16",
  prefillLen: 128,
  // Warm-up steps per position (reported apart), then `steps` measured steps per position (the
  // default of --runs): 3 left the long-context figures mostly noise.
  warmup: 2,
  steps: 10,
  executors: ["eager", "graph"],
  backends: ["cuda", "cpu"],
});
