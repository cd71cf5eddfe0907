/** Cache positions of a sweep: powers of two up to the limit, the limit itself last. */

/**
 * The log2 positions of a cache sweep: 1, 2, 4, ... below `maxCacheLen - prefillLen`, then that
 * limit itself as the last point (so 32768 and 128 end with ..., 16384, 32640). When the limit is
 * a power of two it appears once. The decode step at the last position needs one KV slot more
 * than the position, so the session must hold `limit + 1` tokens.
 *
 * @param maxCacheLen KV cache capacity of the sweep, tokens (>= 2).
 * @param prefillLen Tokens kept back for a prompt, as the seed report does (>= 0, below
 *   maxCacheLen).
 * @returns Ascending, distinct positions, each >= 1.
 * @throws {RangeError} When an argument is not an integer in range.
 * @example
 * ```ts
 * import { cacheSweepPositions } from "./cache_sweep_positions.ts";
 * cacheSweepPositions(32768, 128).at(-1); // 32640
 * cacheSweepPositions(16, 0); // [1, 2, 4, 8, 16]
 * ```
 */
export function cacheSweepPositions(maxCacheLen: number, prefillLen: number): number[] {
  if (!Number.isSafeInteger(maxCacheLen) || maxCacheLen < 2) {
    throw new RangeError(`maxCacheLen must be an integer >= 2, got ${maxCacheLen}`);
  }
  if (!Number.isSafeInteger(prefillLen) || prefillLen < 0 || prefillLen >= maxCacheLen) {
    throw new RangeError(
      `prefillLen must be an integer in [0, ${maxCacheLen - 1}] (below maxCacheLen ` +
        `${maxCacheLen}), got ${prefillLen}`,
    );
  }
  const limit = maxCacheLen - prefillLen;
  const out: number[] = [];
  for (let p = 1; p < limit; p *= 2) out.push(p);
  out.push(limit);
  return out;
}
