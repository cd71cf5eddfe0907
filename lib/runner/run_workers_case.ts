/** Builds a record Case from raw samples by metric key (shared by the workers and prompts runners). */
import { makeMetric } from "../results/make_metric.ts";
import type { Better, Case, MetricUnit } from "../results/types.ts";

/** Unit and direction of every metric key the workers and prompts runners record. */
export const SERVING_METRICS: Record<string, [MetricUnit, Better]> = {
  prefillTps: ["tokens/s", "higher"],
  decodeTps: ["tokens/s", "higher"],
  generationTps: ["tokens/s", "higher"],
  overallTps: ["tokens/s", "higher"],
  outputTps: ["tokens/s", "higher"],
  sequentialTps: ["tokens/s", "higher"],
  concurrentTps: ["tokens/s", "higher"],
  concurrentSpeedup: ["ratio", "higher"],
  requestsPerSecond: ["requests/s", "higher"],
  wallOverallTps: ["tokens/s", "higher"],
  wallOutputTps: ["tokens/s", "higher"],
  wallRequestsPerSecond: ["requests/s", "higher"],
  wallTtftNs: ["ns", "lower"],
  wallE2eNs: ["ns", "lower"],
  failures: ["count", "lower"],
  meanBatch: ["count", "higher"],
  decodeStepNs: ["ns", "lower"],
  hostOverheadNs: ["ns", "lower"],
  hostOverheadShare: ["ratio", "lower"],
  ttftNs: ["ns", "lower"],
  queueNs: ["ns", "lower"],
  tpotNs: ["ns", "lower"],
  itlNs: ["ns", "lower"],
  e2eNs: ["ns", "lower"],
  promptTokens: ["count", "higher"],
  tokenizeNs: ["ns", "lower"],
  prefillNs: ["ns", "lower"],
  decodeForwardNs: ["ns", "lower"],
  samplingNs: ["ns", "lower"],
  detokenizeNs: ["ns", "lower"],
  breakdownSumNs: ["ns", "lower"],
  ffiOverheadNs: ["ns", "lower"],
  wallNs: ["ns", "lower"],
  unaccountedNs: ["ns", "lower"],
  unaccountedShare: ["ratio", "lower"],
};

/** Samples and extras of one case. */
export interface CaseSamples {
  id: string;
  description: string;
  params: Record<string, number | string>;
  /** Measured samples by key (keys of SERVING_METRICS). */
  samples: Record<string, number[]>;
  warmup: Record<string, number[]>;
  series?: Record<string, number[][]>;
  counters?: Record<string, number>;
  /** Hardware bounds by key (same unit as the metric). */
  limits?: Record<string, number>;
}

/**
 * A Case of a record: one Metric per key with samples (summary, and utilisation where a limit
 * is given); keys without samples are left out.
 *
 * @param c The samples.
 * @returns The case.
 * @throws {RangeError} On a key with no known unit.
 * @example
 * ```ts
 * import { buildServingCase } from "./run_workers_case.ts";
 * const c = buildServingCase({ id: "x", description: "", params: {}, warmup: {},
 *   samples: { decodeTps: [10, 12] } });
 * c.metrics.decodeTps.summary.median; // 11
 * ```
 */
export function buildServingCase(c: CaseSamples): Case {
  const metrics: Case["metrics"] = {};
  for (const [key, samples] of Object.entries(c.samples)) {
    if (samples.length === 0) continue;
    const spec = SERVING_METRICS[key];
    if (!spec) throw new RangeError(`Metric "${key}" has no unit (add it to SERVING_METRICS)`);
    metrics[key] = makeMetric(spec[0], spec[1], samples, c.limits?.[key]);
  }
  const warmup: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(c.warmup)) if (v.length > 0) warmup[k] = v;
  return {
    id: c.id,
    description: c.description,
    params: c.params,
    metrics,
    warmup,
    series: c.series ?? {},
    counters: c.counters ?? {},
  };
}
