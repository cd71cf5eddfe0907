/** Memory figures of a model and its KV cache: measured sizes and projections. */

/** What the memory table needs (all from the engine: model info, session info, counters). */
export interface MemoryFacts {
  weightBytes: number;
  /** KV bytes per cached token at the session's KV dtype (all layers, K and V). */
  kvBytesPerToken: number;
  /** Bytes of the session's KV pool. */
  kvPoolBytes: number;
  /** Peak bytes the engine allocated (lmr_counters.peak_bytes). */
  peakBytes: number;
  /** (sequences, tokens per sequence) pairs to size, e.g. the workers cases. */
  loads: readonly { sequences: number; tokens: number }[];
  /** Context lengths to project one sequence's KV for (default 512 ... 32768). */
  contextLengths?: readonly number[];
}

/** One row of the table. */
export interface MemoryRow {
  /** "weights", "kv-per-token", "kv-pool", "peak", "load" or "context". */
  kind: string;
  sequences: number;
  /** Tokens per sequence (0 where it does not apply). */
  tokens: number;
  bytes: number;
}

/** The projection lengths used when none are given. */
export const CONTEXT_LENGTHS: readonly number[] = [512, 1024, 2048, 4096, 8192, 16384, 32768];

/**
 * The memory table: weight bytes, KV bytes per token, the KV pool and the engine's peak
 * (measured), KV bytes for each load (sequences x tokens x bytes per token: the cells a load
 * holds when every sequence is at its full length) and for one sequence at each context length.
 *
 * @param f The facts.
 * @returns Rows in that order.
 * @throws {RangeError} When a size is negative or not finite.
 * @example
 * ```ts
 * import { memoryTable } from "./memory_table.ts";
 * const rows = memoryTable({ weightBytes: 1e9, kvBytesPerToken: 24576, kvPoolBytes: 0,
 *   peakBytes: 0, loads: [{ sequences: 8, tokens: 64 }], contextLengths: [512] });
 * rows.find((r) => r.kind === "load")?.bytes; // 12582912
 * ```
 */
export function memoryTable(f: MemoryFacts): MemoryRow[] {
  for (const k of ["weightBytes", "kvBytesPerToken", "kvPoolBytes", "peakBytes"] as const) {
    if (!(f[k] >= 0 && Number.isFinite(f[k]))) {
      throw new RangeError(`${k} must be a finite number >= 0, got ${f[k]}`);
    }
  }
  const rows: MemoryRow[] = [
    { kind: "weights", sequences: 0, tokens: 0, bytes: f.weightBytes },
    { kind: "kv-per-token", sequences: 1, tokens: 1, bytes: f.kvBytesPerToken },
    { kind: "kv-pool", sequences: 0, tokens: 0, bytes: f.kvPoolBytes },
    { kind: "peak", sequences: 0, tokens: 0, bytes: f.peakBytes },
  ];
  for (const { sequences, tokens } of f.loads) {
    rows.push({ kind: "load", sequences, tokens, bytes: sequences * tokens * f.kvBytesPerToken });
  }
  for (const tokens of f.contextLengths ?? CONTEXT_LENGTHS) {
    rows.push({ kind: "context", sequences: 1, tokens, bytes: tokens * f.kvBytesPerToken });
  }
  return rows;
}
