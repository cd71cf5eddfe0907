/** The memory-bandwidth bound of batch-1 decode. */

/**
 * The most decode steps per second the measured read bandwidth allows: every step reads the
 * decode weights once plus the KV cache up to its position, so
 * `limit = bandwidthBps / (decodeBytes + kvBytesPerToken * meanPosition)`.
 *
 * @param bandwidthBps Measured read bandwidth, bytes per second.
 * @param decodeBytes Weight bytes one decode step reads.
 * @param kvBytesPerToken KV cache bytes per cached token (all layers, K and V).
 * @param meanPosition Mean number of cached tokens over the decode steps.
 * @returns Tokens per second.
 * @throws {RangeError} On non-positive bandwidth or bytes, or a negative position.
 * @example
 * ```ts
 * import { decodeLimitTps } from "./decode_limit_tps.ts";
 * decodeLimitTps(100e9, 3e9, 28672, 0); // 33.33...
 * ```
 */
export function decodeLimitTps(
  bandwidthBps: number,
  decodeBytes: number,
  kvBytesPerToken: number,
  meanPosition: number,
): number {
  if (!(bandwidthBps > 0)) throw new RangeError(`bandwidthBps must be > 0, got ${bandwidthBps}`);
  if (!(decodeBytes > 0)) throw new RangeError(`decodeBytes must be > 0, got ${decodeBytes}`);
  if (!(kvBytesPerToken >= 0)) {
    throw new RangeError(`kvBytesPerToken must be >= 0, got ${kvBytesPerToken}`);
  }
  if (!(meanPosition >= 0)) throw new RangeError(`meanPosition must be >= 0, got ${meanPosition}`);
  return bandwidthBps / (decodeBytes + kvBytesPerToken * meanPosition);
}
