/** Seeded Poisson arrival times for open-loop load (exponential gaps between requests). */

/**
 * Arrival times of `n` requests of a Poisson process at `requestsPerSecond`: the first at 0, each
 * next after an exponentially distributed gap of mean 1 / rate (inverse transform of a
 * SplitMix32-style uniform draw in (0, 1), 32 bits). The same seed gives the same times.
 *
 * @param n How many requests.
 * @param requestsPerSecond Mean arrival rate (> 0).
 * @param seed Any non-negative integer.
 * @returns Arrival times in ns from the first request, ascending.
 * @throws {RangeError} On a bad n or rate.
 * @example
 * ```ts
 * import { poissonArrivals } from "./poisson_arrivals.ts";
 * const t = poissonArrivals(3, 2, 7); // [0, ~0.5e9, ~1e9] ns apart on average
 * t.length; // 3
 * ```
 */
export function poissonArrivals(n: number, requestsPerSecond: number, seed: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0, got ${n}`);
  if (!(requestsPerSecond > 0 && Number.isFinite(requestsPerSecond))) {
    throw new RangeError(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  let state = ((seed >>> 0) ^ 0x6a09e667) >>> 0;
  const uniform = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 0.5) / 4294967296; // (0, 1): never 0, so log() stays finite
  };
  const meanGapNs = 1e9 / requestsPerSecond;
  const out = new Array<number>(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) t += -Math.log(uniform()) * meanGapNs;
    out[i] = t;
  }
  return out;
}
