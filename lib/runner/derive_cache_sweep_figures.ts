/** Run-level figures of a cache sweep: step growth against the KV prediction, executor ratios. */
import type { Case, Derived } from "../results/types.ts";

/** Facts the figures need besides the cases. */
export interface CacheSweepFacts {
  /** Weight bytes one decode step reads. */
  decodeBytes: number;
  /** KV bytes per cached token. */
  kvBytesPerToken: number;
  /** Median measured read bandwidth, bytes/s. */
  bandwidthBps: number;
}

/** Growth beyond the KV prediction by more than this is flagged. */
const GROWTH_TOLERANCE = 0.10;

const median = (c: Case, key: string) => c.metrics[key]?.summary.median;

/**
 * Derive a sweep's run figures from its cases (params { position, executor }):
 * - `stepGrowth.<executor>`: median step time at the last position / at the first;
 *   `stepGrowthPredicted.<executor>`: what the extra KV bytes explain,
 *   (decodeBytes + kv(P_last + 1)) / (decodeBytes + kv(P_first + 1));
 *   `stepGrowthExcess.<executor>`: measured / predicted (the target is at most 1.10);
 * - `executorRatio.pos-<P>`: graph / eager median TPS at each position both ran, with
 *   `executorRatioMin` and `executorRatioMax` over positions;
 * - `maxDecodeTps`: the bandwidth limit at the first position.
 *
 * @param cases Cache-sweep cases.
 * @param facts Bytes and bandwidth.
 * @returns The derived figures and a warning per executor whose growth exceeds the prediction
 *   by more than 10%.
 * @throws Nothing; figures that cannot be computed are left out.
 * @example
 * ```ts
 * import { deriveCacheSweepFigures } from "./derive_cache_sweep_figures.ts";
 * import { makeMetric } from "../results/make_metric.ts";
 * const at = (position: number, ns: number) => ({
 *   id: `pos-${position}-eager`, description: "", params: { position, executor: "eager" },
 *   metrics: { stepNs: makeMetric("ns", "lower", [ns]) }, warmup: {}, series: {}, counters: {},
 * });
 * const f = deriveCacheSweepFigures([at(1, 100), at(1023, 200)],
 *   { decodeBytes: 1024, kvBytesPerToken: 1, bandwidthBps: 1e9 });
 * f.derived["stepGrowthPredicted.eager"].value; // 2048 / 1026
 * ```
 */
export function deriveCacheSweepFigures(
  cases: readonly Case[],
  facts: CacheSweepFacts,
): { derived: Record<string, Derived>; warnings: string[] } {
  const derived: Record<string, Derived> = {};
  const warnings: string[] = [];
  const bytesAt = (p: number) => facts.decodeBytes + facts.kvBytesPerToken * (p + 1);
  const byExecutor = new Map<string, Case[]>();
  for (const c of cases) {
    const e = String(c.params.executor);
    byExecutor.set(e, [...(byExecutor.get(e) ?? []), c]);
  }
  const positions = [...new Set(cases.map((c) => Number(c.params.position)))].sort((a, b) => a - b);
  if (positions.length > 0 && facts.bandwidthBps > 0) {
    derived.maxDecodeTps = {
      value: facts.bandwidthBps / bytesAt(positions[0]),
      unit: "tokens/s",
      description: `bandwidth limit of one decode step at position ${positions[0]}`,
    };
  }
  for (const [executor, list] of byExecutor) {
    const sorted = [...list].sort((a, b) => Number(a.params.position) - Number(b.params.position));
    if (sorted.length < 2) continue;
    const first = sorted[0], last = sorted[sorted.length - 1];
    const p0 = Number(first.params.position), p1 = Number(last.params.position);
    const s0 = median(first, "stepNs"), s1 = median(last, "stepNs");
    if (s0 === undefined || s1 === undefined) continue;
    const measured = s1 / s0;
    const predicted = bytesAt(p1) / bytesAt(p0);
    const excess = measured / predicted;
    derived[`stepGrowth.${executor}`] = {
      value: measured,
      unit: "ratio",
      description: `${executor}: median step time at position ${p1} / at position ${p0}`,
    };
    derived[`stepGrowthPredicted.${executor}`] = {
      value: predicted,
      unit: "ratio",
      description: `${executor}: step growth the extra KV bytes explain, (decode bytes + KV at ` +
        `${p1 + 1} tokens) / (decode bytes + KV at ${p0 + 1} tokens)`,
    };
    derived[`stepGrowthExcess.${executor}`] = {
      value: excess,
      unit: "ratio",
      description: `${executor}: measured / predicted step growth (target: at most 1.10)`,
    };
    if (excess > 1 + GROWTH_TOLERANCE) {
      warnings.push(
        `Executor ${executor}: step time grows ${measured.toFixed(2)}x from position ${p0} to ` +
          `${p1}, more than the ${predicted.toFixed(2)}x the extra KV bytes explain ` +
          `(+${((excess - 1) * 100).toFixed(0)}%, target +10%)`,
      );
    }
  }
  const eager = byExecutor.get("eager") ?? [], graph = byExecutor.get("graph") ?? [];
  const ratios: number[] = [];
  for (const g of graph) {
    const e = eager.find((x) => x.params.position === g.params.position);
    const gt = median(g, "decodeTps"), et = e && median(e, "decodeTps");
    if (gt === undefined || et === undefined) continue;
    const ranAsEager = g.counters.executorGraph === 0;
    ratios.push(gt / et);
    derived[`executorRatio.pos-${g.params.position}`] = {
      value: gt / et,
      unit: "ratio",
      description: `graph / eager median TPS at position ${g.params.position}` +
        (ranAsEager ? " (graph ran as eager on this backend)" : ""),
    };
  }
  if (ratios.length > 0) {
    derived.executorRatioMin = {
      value: Math.min(...ratios),
      unit: "ratio",
      description: "lowest graph / eager TPS ratio over the positions",
    };
    derived.executorRatioMax = {
      value: Math.max(...ratios),
      unit: "ratio",
      description: "highest graph / eager TPS ratio over the positions",
    };
  }
  return { derived, warnings };
}
