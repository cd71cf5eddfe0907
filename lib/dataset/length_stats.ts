/** Count, mean and nearest-rank percentiles of token lengths. */
import type { LengthStats } from "./types.ts";

/**
 * Summarises token lengths. Percentiles are nearest-rank: pXX is the smallest length with at
 * least XX% of lengths <= it (sorted[ceil(XX * n / 100) - 1]), so it is always a length that
 * occurs, and an n-predict of pXX covers at least XX% of outputs. (lib/stats' `quantile`
 * interpolates instead; that suits timings, not a length to budget for.)
 *
 * @param lengths Non-negative integers, in any order (not modified).
 * @returns count, mean, min, p50, p75, p90, p95, p99 and max.
 * @throws {RangeError} When lengths is empty.
 * @throws {TypeError} When a length is not a non-negative integer.
 * @example
 * ```ts
 * import { lengthStats } from "./length_stats.ts";
 * lengthStats([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
 * // { count: 10, mean: 5.5, min: 1, p50: 5, p75: 8, p90: 9, p95: 10, p99: 10, max: 10 }
 * ```
 */
export function lengthStats(lengths: readonly number[]): LengthStats {
  if (!Array.isArray(lengths) || lengths.length === 0) {
    throw new RangeError("Cannot summarise lengths: no lengths given");
  }
  let sum = 0;
  lengths.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0) {
      throw new TypeError(
        `Cannot summarise lengths: lengths[${i}] must be a non-negative integer, got ${v}`,
      );
    }
    sum += v;
  });
  const sorted = Float64Array.from(lengths).sort();
  const n = sorted.length;
  const rank = (percent: number) => sorted[Math.ceil((percent * n) / 100) - 1];
  return {
    count: n,
    mean: sum / n,
    min: sorted[0],
    p50: rank(50),
    p75: rank(75),
    p90: rank(90),
    p95: rank(95),
    p99: rank(99),
    max: sorted[n - 1],
  };
}
