/** Memory and bandwidth-limit figures as a record's run-level derived entries. */
import type { Derived } from "../results/types.ts";
import { memoryTable } from "./memory_table.ts";

/** Facts of the run (engine-reported sizes and the measured bandwidth). */
export interface MemoryDerivedFacts {
  /** The run's one read-bandwidth ceiling (the record's environment.probes.ceilingBps). */
  bandwidthBps: number;
  decodeBytes: number;
  weightBytes: number;
  kvBytesPerToken: number;
  kvPoolBytes: number;
  peakBytes: number;
  /** (sequences, tokens) loads to size, e.g. N sequences x the request length. */
  loads: readonly { sequences: number; tokens: number }[];
}

/**
 * Derived entries: `weightBytes`, `kvBytesPerToken`, `kvPoolBytes`, `peakBytes`,
 * `kvBytesSeqs{N}x{T}` per load, `kvBytesCtx{T}` per projected context length (one sequence),
 * `bandwidthBps`, `maxDecodeTps` and `minTpotNs` (batch 1 at position 0: decode bytes /
 * bandwidth).
 *
 * @param f The facts.
 * @returns Derived figures by key.
 * @example
 * ```ts
 * import { memoryDerived } from "./memory_derived.ts";
 * const d = memoryDerived({ bandwidthBps: 1e10, decodeBytes: 1e9, weightBytes: 1e9,
 *   kvBytesPerToken: 1000, kvPoolBytes: 0, peakBytes: 0, loads: [] });
 * d.maxDecodeTps.value; // 10
 * ```
 */
export function memoryDerived(f: MemoryDerivedFacts): Record<string, Derived> {
  const out: Record<string, Derived> = {};
  const put = (key: string, value: number, unit: string, description: string) => {
    out[key] = { value, unit, description };
  };
  for (const row of memoryTable({ ...f, loads: f.loads })) {
    if (row.kind === "weights") put("weightBytes", row.bytes, "bytes", "Bytes of all weights");
    if (row.kind === "kv-per-token") {
      put("kvBytesPerToken", row.bytes, "bytes", "KV cache bytes per token (all layers, K and V)");
    }
    if (row.kind === "kv-pool") {
      put("kvPoolBytes", row.bytes, "bytes", "Bytes of the session's KV pool (allocated)");
    }
    if (row.kind === "peak") {
      put("peakBytes", row.bytes, "bytes", "Peak bytes the engine allocated (engine counter)");
    }
    if (row.kind === "load") {
      put(
        `kvBytesSeqs${row.sequences}x${row.tokens}`,
        row.bytes,
        "bytes",
        `KV bytes of ${row.sequences} sequence(s) x ${row.tokens} tokens`,
      );
    }
    if (row.kind === "context") {
      put(
        `kvBytesCtx${row.tokens}`,
        row.bytes,
        "bytes",
        `KV bytes of one ${row.tokens}-token context`,
      );
    }
  }
  if (f.bandwidthBps > 0 && f.decodeBytes > 0) {
    put(
      "bandwidthBps",
      f.bandwidthBps,
      "bytes/s",
      "The run's read-bandwidth ceiling every limit uses: the median of the pre-run probe " +
        "passes (environment.probes.ceilingBps)",
    );
    put(
      "minTpotNs",
      f.decodeBytes / f.bandwidthBps * 1e9,
      "ns",
      "Shortest decode step the bandwidth allows: decode bytes / bandwidth (batch 1, position 0)",
    );
    put(
      "maxDecodeTps",
      f.bandwidthBps / f.decodeBytes,
      "tokens/s",
      "Most batch-1 decode tokens/s the bandwidth allows (position 0)",
    );
  }
  return out;
}
