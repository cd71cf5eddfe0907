/** Memory-bandwidth limits of decode and how close measured figures come to them. */

/** One measured decode figure to hold against its limit. */
export interface MeasuredDecode {
  /** What it is, e.g. "workers-8" or "Hello". */
  label: string;
  /** Sequences decoding together in each step. */
  sequences: number;
  /** Mean KV position the steps attended over. */
  meanPosition: number;
  /** Measured total decode throughput, tokens/s (all sequences). */
  tps: number;
  /** Weight bytes one step reads for this row when they differ from the table's (a quantised
   * variant of a side-by-side run). */
  decodeBytes?: number;
}

/** One row: the limit of a measured figure and its utilisation. */
export interface LimitRow {
  label: string;
  sequences: number;
  /** Bytes one step reads: the decode weights once + every sequence's KV up to its position. */
  bytesPerStep: number;
  /** Shortest step the bandwidth allows, ns. */
  minStepNs: number;
  /** Most total tokens/s: sequences / minStep. */
  maxTps: number;
  /** Measured total tokens/s. */
  tps: number;
  /** tps / maxTps (1 = at the bandwidth limit; above 1 means the limit model is wrong). */
  utilisation: number;
}

/**
 * The theoretical limits table: with a measured read bandwidth B, a decode step over n sequences
 * reads the decode weights once plus each sequence's KV cache, so it takes at least
 * (decodeBytes + n * kvBytesPerToken * meanPosition) / B; that bounds TPOT from below and total
 * tokens/s from above. Compute limits are not modelled: batched steps become compute-bound, so
 * a low utilisation at large n is expected on CPUs.
 *
 * @param bandwidthBps Measured read bandwidth, bytes/s.
 * @param decodeBytes Weight bytes one decode step reads.
 * @param kvBytesPerToken KV bytes per cached token.
 * @param measured The figures to hold against the limit.
 * @returns One row per measured figure.
 * @throws {RangeError} On a non-positive bandwidth or decode size.
 * @example
 * ```ts
 * import { limitsTable } from "./limits_table.ts";
 * const [row] = limitsTable(10e9, 1e9, 0, [{ label: "1", sequences: 1, meanPosition: 0,
 *   tps: 5 }]);
 * row.maxTps; // 10
 * row.utilisation; // 0.5
 * ```
 */
export function limitsTable(
  bandwidthBps: number,
  decodeBytes: number,
  kvBytesPerToken: number,
  measured: readonly MeasuredDecode[],
): LimitRow[] {
  if (!(bandwidthBps > 0)) throw new RangeError(`bandwidthBps must be > 0, got ${bandwidthBps}`);
  if (!(decodeBytes > 0)) throw new RangeError(`decodeBytes must be > 0, got ${decodeBytes}`);
  return measured.map((m) => {
    const bytesPerStep = (m.decodeBytes ?? decodeBytes) +
      m.sequences * kvBytesPerToken * m.meanPosition;
    const minStepNs = bytesPerStep / bandwidthBps * 1e9;
    const maxTps = m.sequences * 1e9 / minStepNs;
    return {
      label: m.label,
      sequences: m.sequences,
      bytesPerStep,
      minStepNs,
      maxTps,
      tps: m.tps,
      utilisation: m.tps / maxTps,
    };
  });
}
