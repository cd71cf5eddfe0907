/** Cut a cache sweep to the KV cache that fits in memory, before any memory is allocated. */

/** What {@link fitCacheSweepPositions} decided. */
export interface CacheSweepFit {
  /** Positions to run (ascending); the largest that fits is the last when cut. */
  positions: number[];
  /** Session capacity they need: last position + 1 (the timed step adds one entry), tokens. */
  maxCtx: number;
  /** KV pool bytes of that capacity. */
  kvBytes: number;
  /** Set when positions were dropped: what was asked, what fits and why. */
  warning?: string;
}

const size = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * Check the KV memory a sweep needs (kvBytesPerToken x (last position + 1)) against the memory
 * available for it. When it does not fit, the sweep stops at the largest position that does
 * (added as the last point) and says so; when not even position 1 fits, it throws.
 *
 * @param positions Requested positions, ascending, each >= 1.
 * @param kvBytesPerToken KV bytes per cached token at the session's KV dtype.
 * @param availableBytes Memory the KV pool may use, bytes.
 * @param where What the memory is, for messages (e.g. "free host memory").
 * @returns The positions to run, the session capacity and, when cut, a warning.
 * @throws {RangeError} When the arguments are bad or no position fits.
 * @example
 * ```ts
 * import { fitCacheSweepPositions } from "./fit_cache_sweep_positions.ts";
 * fitCacheSweepPositions([1, 2, 4, 8], 1024, 6 * 1024, "test").positions; // [1, 2, 4, 5]
 * ```
 */
export function fitCacheSweepPositions(
  positions: readonly number[],
  kvBytesPerToken: number,
  availableBytes: number,
  where: string,
): CacheSweepFit {
  if (positions.length === 0) throw new RangeError("A cache sweep needs at least one position");
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i];
    if (!Number.isSafeInteger(p) || p < 1 || (i > 0 && p <= positions[i - 1])) {
      throw new RangeError(
        `Positions must be ascending integers >= 1; positions[${i}] is ${p}`,
      );
    }
  }
  if (!(kvBytesPerToken > 0)) {
    throw new RangeError(`kvBytesPerToken must be > 0, got ${kvBytesPerToken}`);
  }
  const last = positions[positions.length - 1];
  const needBytes = kvBytesPerToken * (last + 1);
  if (needBytes <= availableBytes) {
    return { positions: [...positions], maxCtx: last + 1, kvBytes: needBytes };
  }
  const fitTokens = Math.floor(availableBytes / kvBytesPerToken);
  const top = fitTokens - 1;
  if (top < positions[0]) {
    throw new RangeError(
      `Cannot run the cache sweep: position ${positions[0]} needs ${
        size(kvBytesPerToken * (positions[0] + 1))
      } of KV cache (${kvBytesPerToken} bytes/token) but only ${size(availableBytes)} of ` +
        `${where} is available`,
    );
  }
  const kept = positions.filter((p) => p <= top);
  if (kept[kept.length - 1] !== top) kept.push(top);
  return {
    positions: kept,
    maxCtx: top + 1,
    kvBytes: kvBytesPerToken * (top + 1),
    warning: `The KV cache for position ${last} needs ${size(needBytes)} (${kvBytesPerToken} ` +
      `bytes/token x ${last + 1}) but ${size(availableBytes)} of ${where} is available: the ` +
      `sweep stops at position ${top}`,
  };
}
