/** Ordinary least-squares line through (x, y) points. */
import { checkSamples } from "./_check_samples.ts";

/** A fitted line y = slope * x + intercept and its coefficient of determination. */
export interface LinearFit {
  slope: number;
  intercept: number;
  /** 1 - SSres / SStot; 1 when every y is equal and the fit is exact. */
  r2: number;
  n: number;
}

/**
 * Fit y = slope * x + intercept by least squares.
 *
 * @param xs Abscissas (at least two distinct values).
 * @param ys Ordinates, same length as xs.
 * @returns Slope, intercept, r2 and the number of points.
 * @throws {RangeError} When the lengths differ, fewer than two points are given or all xs are
 *   equal.
 * @throws {TypeError} When a value is not a finite number.
 * @example
 * ```ts
 * import { linearFit } from "./linear_fit.ts";
 * const fit = linearFit([16, 64, 256], [3, 9, 33]);
 * fit.slope; // 0.125
 * fit.intercept; // 1
 * ```
 */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  checkSamples("fit a line", xs);
  checkSamples("fit a line", ys);
  if (xs.length !== ys.length) {
    throw new RangeError(
      `Cannot fit a line: xs has ${xs.length} values but ys has ${ys.length}`,
    );
  }
  const n = xs.length;
  if (n < 2) throw new RangeError(`Cannot fit a line: need at least 2 points, got ${n}`);
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx, dy = ys[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) throw new RangeError("Cannot fit a line: all xs are equal");
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const r = ys[i] - (slope * xs[i] + intercept);
    ssRes += r * r;
  }
  const r2 = syy === 0 ? 1 : 1 - ssRes / syy;
  return { slope, intercept, r2, n };
}
