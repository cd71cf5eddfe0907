/** Run-level figures of a workers record: scaling, concurrency speedup, memory and limits. */
import { memoryDerived } from "../memory/memory_derived.ts";
import type { Case, Derived } from "../results/types.ts";

/** Engine facts the derived figures need. */
export interface WorkersFacts {
  bandwidthBps: number;
  decodeBytes: number;
  weightBytes: number;
  kvBytesPerToken: number;
  kvPoolBytes: number;
  peakBytes: number;
  /** Prompt + generated tokens of one request. */
  tokensPerSequence: number;
}

/**
 * Derived figures: per `workers-N` case `decodeSpeedupWorkers{N}` and `efficiencyWorkers{N}`
 * (median decode TPS over the fewest-workers case's, then / (N / fewest)),
 * `overallSpeedupWorkers{N}` (the same on overall TPS), `bestDecodeTps` with the N it came at,
 * `concurrentSpeedup` (sequential-K case), `hostOverheadShare` (median over cases), and the
 * memory and limit entries of memoryDerived with loads N x tokensPerSequence.
 *
 * @param cases The workers cases.
 * @param f Engine facts.
 * @returns Derived figures by key.
 * @example
 * ```ts ignore
 * const d = deriveWorkersFigures(cases, facts);
 * d.efficiencyWorkers8.value;
 * ```
 */
export function deriveWorkersFigures(cases: Case[], f: WorkersFacts): Record<string, Derived> {
  const workers = cases
    .filter((c) => c.params.load === "closed" && c.metrics.decodeTps)
    .sort((a, b) => Number(a.params.workers) - Number(b.params.workers));
  const out = memoryDerived({
    ...f,
    loads: workers.map((c) => ({
      sequences: Number(c.params.workers),
      tokens: f.tokensPerSequence,
    })),
  });
  const med = (c: Case, k: string) => c.metrics[k]?.summary.median ?? NaN;
  if (workers.length > 0) {
    const ref = workers[0];
    const n0 = Number(ref.params.workers);
    let best = ref;
    for (const c of workers) {
      const n = Number(c.params.workers);
      const speedup = med(c, "decodeTps") / med(ref, "decodeTps");
      out[`decodeSpeedupWorkers${n}`] = {
        value: speedup,
        unit: "ratio",
        description: `Total decode TPS at ${n} sequences / at ${n0}`,
      };
      out[`efficiencyWorkers${n}`] = {
        value: speedup / (n / n0),
        unit: "ratio",
        description: `Decode speedup at ${n} sequences / (${n} / ${n0})`,
      };
      out[`overallSpeedupWorkers${n}`] = {
        value: med(c, "overallTps") / med(ref, "overallTps"),
        unit: "ratio",
        description: `Overall TPS (prompt + generated tokens / makespan) at ${n} / at ${n0}`,
      };
      if (med(c, "decodeTps") > med(best, "decodeTps")) best = c;
    }
    out.bestDecodeTps = {
      value: med(best, "decodeTps"),
      unit: "tokens/s",
      description: `Highest total decode TPS (at ${best.params.workers} sequences)`,
    };
    out.bestDecodeWorkers = {
      value: Number(best.params.workers),
      unit: "count",
      description: "Sequences at the highest total decode TPS",
    };
  }
  const seq = cases.find((c) => c.metrics.concurrentSpeedup);
  if (seq) {
    out.concurrentSpeedup = {
      value: med(seq, "concurrentSpeedup"),
      unit: "ratio",
      description: `Overall TPS of ${seq.params.requests} requests at once / one at a time`,
    };
  }
  const shares = cases.flatMap((c) => c.metrics.hostOverheadShare?.summary.median ?? []);
  if (shares.length > 0) {
    shares.sort((a, b) => a - b);
    out.hostOverheadShare = {
      value: shares[Math.floor((shares.length - 1) / 2)],
      unit: "ratio",
      description: "FFI/JS time outside the engine calls / wall time (median over cases); the " +
        "latencies use engine times only",
    };
  }
  return out;
}
