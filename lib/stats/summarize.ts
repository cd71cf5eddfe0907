/** Raw samples -> the Summary every metric in a result record carries. */
import type { Summary } from "../results/types.ts";
import { checkSamples } from "./_check_samples.ts";
import { quantileSorted } from "./_quantile_sorted.ts";

/**
 * Summarise raw samples: count, median, mean, sample standard deviation (n - 1; 0 for one
 * sample), coefficient of variation (stddev / |mean|, 0 when the mean is 0), min, max and the
 * 50th/90th/99th percentiles with linear interpolation.
 *
 * @param samples Finite numbers, one per measured run (not modified).
 * @returns The summary.
 * @throws {RangeError} When samples is empty.
 * @throws {TypeError} When a sample is not a finite number.
 * @example
 * ```ts
 * import { summarize } from "./summarize.ts";
 * const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
 * s.mean; // 5
 * s.median; // 4.5
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  checkSamples("summarize samples", samples);
  const n = samples.length;
  const sorted = [...samples].sort((a, b) => a - b);
  let sum = 0;
  for (const v of samples) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of samples) sq += (v - mean) * (v - mean);
  const stddev = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  const median = quantileSorted(sorted, 0.5);
  return {
    n,
    median,
    mean,
    stddev,
    cv: mean === 0 ? 0 : stddev / Math.abs(mean),
    min: sorted[0],
    max: sorted[n - 1],
    p50: median,
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
  };
}
