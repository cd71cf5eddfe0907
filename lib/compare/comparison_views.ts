/** The special views a comparison adds when its records allow: backends, executors, workers. */
import type { ResultRecord } from "../results/types.ts";
import { type BackendSpeedup, backendSpeedups } from "./backend_speedups.ts";
import type { BootstrapOptions } from "./bootstrap_ratio.ts";
import { type ExecutorRatio, executorRatios } from "./executor_ratios.ts";
import { type TargetRatio, targetRatios } from "./target_ratios.ts";
import { type WorkersPoint, workersScaling } from "./workers_scaling.ts";

/** Views computed from the records of a comparison. */
export interface ComparisonViews {
  /** Baseline vs each record on another backend. */
  backendSpeedups: { base: string; other: string; rows: BackendSpeedup[] }[];
  /** graph / eager per cache position, per record that measured both. */
  executorRatios: { record: string; rows: ExecutorRatio[] }[];
  /** Other target / base target per case, per side-by-side record (`--target a,b`). */
  targetRatios: { record: string; rows: TargetRatio[] }[];
  /** Scaling per workers record. */
  workersScaling: { record: string; rows: WorkersPoint[] }[];
}

/**
 * Compute the views that apply: backend speedup for every record whose engine backend differs
 * from the baseline's, executor ratios for records with `{ position, executor }` cases, target
 * ratios for records whose cases ran on several targets, and workers scaling for records with `{ workers }` cases.
 *
 * @param records The records, in comparison order.
 * @param labels Their labels (from recordLabels).
 * @param baseline Index of the baseline record.
 * @param options Bootstrap settings.
 * @returns The views; each list is empty when nothing applies.
 * @throws {RangeError} When a bootstrap option is out of range (see bootstrapRatio).
 * @example
 * ```ts
 * import { comparisonViews } from "./comparison_views.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const sweep = await readRecord("tests/fixtures/records/cache-sweep.json");
 * const workers = await readRecord("tests/fixtures/records/workers.json");
 * comparisonViews([sweep, workers], ["sweep", "workers"], 0).workersScaling[0].record; // "workers"
 * ```
 */
export function comparisonViews(
  records: ResultRecord[],
  labels: string[],
  baseline: number,
  options: BootstrapOptions = {},
): ComparisonViews {
  const views: ComparisonViews = {
    backendSpeedups: [],
    executorRatios: [],
    targetRatios: [],
    workersScaling: [],
  };
  const base = records[baseline];
  records.forEach((r, i) => {
    if (i !== baseline && r.engine.backend !== base.engine.backend) {
      const rows = backendSpeedups(base, r, options);
      if (rows.length > 0) {
        views.backendSpeedups.push({ base: labels[baseline], other: labels[i], rows });
      }
    }
    const ratios = executorRatios(r, options);
    if (ratios.length > 0) views.executorRatios.push({ record: labels[i], rows: ratios });
    const targets = targetRatios(r, options);
    if (targets.length > 0) views.targetRatios.push({ record: labels[i], rows: targets });
    const scaling = workersScaling(r);
    if (scaling.length > 1) views.workersScaling.push({ record: labels[i], rows: scaling });
  });
  return views;
}
