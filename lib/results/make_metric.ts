/** Raw samples (+ a hardware bound) -> a Metric of a result record. */
import { summarize } from "../stats/summarize.ts";
import type { Better, Metric, MetricUnit } from "./types.ts";

/**
 * Build a Metric: the raw samples kept as given, their summary, and when a limit is given the
 * utilisation (median / limit when higher is better, limit / median when lower is better).
 *
 * @param unit The unit of samples and limit.
 * @param better Whether higher or lower values are better.
 * @param samples One per measured run.
 * @param limit The hardware bound of the figure, same unit (optional).
 * @returns The metric.
 * @throws {RangeError | TypeError} From summarize on empty or non-finite samples, or a limit
 *   that is not a positive number.
 * @example
 * ```ts
 * import { makeMetric } from "./make_metric.ts";
 * const m = makeMetric("tokens/s", "higher", [90, 100, 110], 200);
 * m.utilisation; // 0.5
 * ```
 */
export function makeMetric(
  unit: MetricUnit,
  better: Better,
  samples: readonly number[],
  limit?: number,
): Metric {
  const summary = summarize(samples);
  const metric: Metric = { unit, better, samples: [...samples], summary };
  if (limit !== undefined) {
    if (!(limit > 0 && Number.isFinite(limit))) {
      throw new RangeError(`Cannot attach a limit: it must be a positive number, got ${limit}`);
    }
    metric.limit = limit;
    metric.utilisation = better === "higher" ? summary.median / limit : limit / summary.median;
  }
  return metric;
}
