/** Seeded random prompt token ids (the same seed gives the same prompt everywhere). */

/**
 * `n` token ids drawn uniformly from [low, vocab) by a SplitMix32-style generator seeded by
 * `seed`. Low ids are skipped by default because they are often special tokens.
 *
 * @param n How many ids.
 * @param vocab Vocabulary size (exclusive upper bound).
 * @param seed Any non-negative integer.
 * @param low Smallest id (default min(16, vocab - 1)).
 * @returns The ids.
 * @throws {RangeError} On a bad n, vocab or low.
 * @example
 * ```ts
 * import { randomTokens } from "./random_tokens.ts";
 * const ids = randomTokens(4, 1000, 42); // 4 ids in [16, 1000)
 * ```
 */
export function randomTokens(n: number, vocab: number, seed: number, low?: number): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0, got ${n}`);
  if (!Number.isInteger(vocab) || vocab < 1) {
    throw new RangeError(`vocab must be a positive integer, got ${vocab}`);
  }
  const lo = low ?? Math.min(16, vocab - 1);
  if (!Number.isInteger(lo) || lo < 0 || lo >= vocab) {
    throw new RangeError(`low must be an integer in [0, ${vocab - 1}], got ${lo}`);
  }
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = lo + (z % (vocab - lo));
  }
  return out;
}
