/** Quantiles with linear interpolation between order statistics. */
import { checkSamples } from "./_check_samples.ts";
import { quantileSorted } from "./_quantile_sorted.ts";

/**
 * The p-quantile of `samples` by linear interpolation between closest ranks
 * (position (n - 1) * p in the sorted samples; numpy's default, R type 7).
 *
 * @param samples Finite numbers, in any order (not modified).
 * @param p Probability in [0, 1].
 * @returns The interpolated quantile.
 * @throws {RangeError} When samples is empty or p is outside [0, 1].
 * @throws {TypeError} When a sample is not a finite number.
 * @example
 * ```ts
 * import { quantile } from "./quantile.ts";
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * quantile([10, 20], 0.9); // 19
 * ```
 */
export function quantile(samples: readonly number[], p: number): number {
  checkSamples("compute a quantile", samples);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot compute a quantile: p must be in [0, 1], got ${p}`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return quantileSorted(sorted, p);
}
