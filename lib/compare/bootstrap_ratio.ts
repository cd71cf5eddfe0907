/** Ratio of medians of two sample sets with a bootstrap percentile confidence interval. */
import { quantile } from "../stats/mod.ts";
import { prng } from "./_prng.ts";

/** A ratio of medians and its confidence interval. */
export interface RatioInterval {
  /** median(other) / median(base). */
  ratio: number;
  /** Lower bound of the interval. */
  low: number;
  /** Upper bound of the interval. */
  high: number;
}

/** Settings of the bootstrap. */
export interface BootstrapOptions {
  /** Resamples drawn (default 2000). */
  resamples?: number;
  /** Seed of the generator (default 1): the same inputs and seed give the same interval. */
  seed?: number;
  /** Coverage of the interval in (0, 1) (default 0.95). */
  confidence?: number;
}

/**
 * Ratio of medians `median(other) / median(base)` with a percentile bootstrap interval: each
 * resample draws both sides with replacement (independently) and takes the ratio of their
 * medians; the interval is the central `confidence` share of those ratios.
 *
 * @param base Raw samples of the baseline (at least one, all finite and non-zero median).
 * @param other Raw samples compared with it.
 * @param options Resamples, seed and confidence.
 * @returns The ratio and its interval (a single point when both sides have one sample).
 * @throws {RangeError} When a side is empty, the baseline median is 0, or an option is out of
 *   range.
 * @example
 * ```ts
 * import { bootstrapRatio } from "./bootstrap_ratio.ts";
 * const r = bootstrapRatio([10, 10.2, 9.9, 10.1], [11, 11.2, 10.9, 11.1]);
 * r.ratio; // 1.1
 * r.low <= 1.1 && 1.1 <= r.high; // true
 * ```
 */
export function bootstrapRatio(
  base: readonly number[],
  other: readonly number[],
  options: BootstrapOptions = {},
): RatioInterval {
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(
      `Cannot bootstrap a ratio: resamples must be a positive integer, got ${resamples}`,
    );
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(
      `Cannot bootstrap a ratio: confidence must be in (0, 1), got ${confidence}`,
    );
  }
  if (base.length === 0 || other.length === 0) {
    throw new RangeError(
      `Cannot bootstrap a ratio: ${base.length === 0 ? "baseline" : "other"} samples are empty`,
    );
  }
  const baseMedian = quantile(base, 0.5);
  if (baseMedian === 0) throw new RangeError("Cannot bootstrap a ratio: the baseline median is 0");
  const ratio = quantile(other, 0.5) / baseMedian;
  const random = prng(options.seed ?? 1);
  const draw = (xs: readonly number[], into: number[]) => {
    for (let i = 0; i < xs.length; i++) into[i] = xs[Math.floor(random() * xs.length)];
    return quantile(into, 0.5);
  };
  const a = new Array<number>(base.length);
  const b = new Array<number>(other.length);
  const ratios: number[] = [];
  for (let i = 0; i < resamples; i++) {
    const m = draw(base, a);
    if (m !== 0) ratios.push(draw(other, b) / m);
  }
  const alpha = (1 - confidence) / 2;
  return { ratio, low: quantile(ratios, alpha), high: quantile(ratios, 1 - alpha) };
}
