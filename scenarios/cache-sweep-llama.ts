/**
 * The cache-position sweep side by side: one decode step timed at KV-cache positions 1, 2, 4, ...
 * up to 16256 on the CPU, lmrig and llama.cpp taking turns position by position on the same
 * weights (lmrig's synthetic model, written as a BF16 GGUF for llama.cpp). lmrig fills its cache
 * with random data; llama.cpp fills it by a real prefill of seeded random tokens once per position
 * (the record says so), so each llama.cpp position costs a prefill of that length: the range
 * stops at 16K to keep the run within minutes on 2 cores (cache-sweep.ts goes to 32640 on lmrig).
 * Run: deno task bench scenarios/cache-sweep-llama.ts --threads 2
 */
import { defineScenario } from "../lib/scenario/mod.ts";

export default defineScenario({
  kind: "cache-sweep",
  name: "cache-sweep-llama",
  description: "Decode step time against KV-cache position, lmrig and llama.cpp side by side (CPU)",
  positions: "log2",
  maxCacheLen: 16384,
  maxCacheLenCpu: 16384,
  prefillLen: 128,
  warmup: 2,
  steps: 10,
  executors: ["eager"],
  backends: ["cpu"],
  targets: ["lmrig", "llama.cpp"],
});
