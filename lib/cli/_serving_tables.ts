/** Table pieces shared by the workers and prompts reports: percentiles, memory, limits. */
import { limitsTable, type MeasuredDecode } from "../memory/limits_table.ts";
import { memoryTable } from "../memory/memory_table.ts";
import type { Metric, ResultRecord } from "../results/types.ts";
import { formatTable } from "./format_table.ts";

/** Milliseconds with a precision that suits the size. */
export const ms = (ns: number | undefined): string =>
  ns === undefined || !Number.isFinite(ns)
    ? "-"
    : (ns / 1e6).toFixed(ns >= 1e9 ? 0 : ns >= 1e7 ? 1 : ns >= 1e5 ? 2 : 3);

/** Fewer samples than this give no p99 (it would be the max, or an interpolation near it). */
export const MIN_P99_SAMPLES = 20;

/**
 * "p50 / p90 / p99 / max (n=N)" of a metric, ms; the p99 is "-" below MIN_P99_SAMPLES samples,
 * and n is always printed so a max over 4 samples is not read as a tail latency.
 */
export const pcts = (m: Metric | undefined): string => {
  if (!m) return "-";
  const s = m.summary;
  const p99 = s.n >= MIN_P99_SAMPLES ? ms(s.p99) : "-";
  return `${[ms(s.p50), ms(s.p90), p99, ms(s.max)].join(" / ")} (n=${s.n})`;
};

/** Bytes in MiB / GiB. */
export const mib = (b: number): string =>
  b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(2)} MiB`;

/** The memory and limits sections of a serving record. */
export function memoryAndLimits(record: ResultRecord, measured: MeasuredDecode[]): string[] {
  const d = record.derived;
  const loads = Object.keys(d).flatMap((k) => {
    const m = /^kvBytesSeqs(\d+)x(\d+)$/.exec(k);
    return m ? [{ sequences: Number(m[1]), tokens: Number(m[2]) }] : [];
  });
  const rows = memoryTable({
    weightBytes: record.model.weightBytes,
    kvBytesPerToken: record.model.kvBytesPerToken,
    kvPoolBytes: d.kvPoolBytes?.value ?? 0,
    peakBytes: d.peakBytes?.value ?? 0,
    loads,
  });
  const label: Record<string, (r: typeof rows[0]) => string> = {
    weights: () => "Model weights",
    "kv-per-token": () => "KV cache per token",
    "kv-pool": () => "KV pool allocated",
    peak: () => "Peak engine memory (counter)",
    load: (r) => `KV: ${r.sequences} sequence(s) x ${r.tokens} tokens`,
    context: (r) => `KV projection: 1 sequence x ${r.tokens} tokens`,
  };
  const out = [
    "",
    `Memory (${record.engine.kvDtype} KV cache)`,
    "",
    formatTable(
      ["Item", "Bytes", "Size"],
      rows.map((r) => [label[r.kind](r), String(r.bytes), mib(r.bytes)]),
    ),
  ];
  const bw = record.environment.probes.ceilingBps; // the one ceiling every limit used
  if (bw > 0 && measured.length > 0) {
    const lim = limitsTable(bw, record.model.decodeBytes, record.model.kvBytesPerToken, measured);
    out.push(
      "",
      `Theoretical limits (the run's read-bandwidth ceiling ${
        (bw / 1e9).toFixed(1)
      } GB/s, median ` +
        `of ${record.environment.probes.bandwidthBps.summary.n} probe passes; decode ` +
        `weights ${mib(record.model.decodeBytes)} read once per step + each sequence's KV)`,
      "",
      formatTable(
        ["Case", "Sequences", "Min step ms", "Max tok/s", "Measured tok/s", "Utilisation"],
        lim.map((r) => [
          r.label,
          r.sequences.toFixed(r.sequences % 1 === 0 ? 0 : 1),
          ms(r.minStepNs),
          r.maxTps.toFixed(1),
          r.tps.toFixed(1),
          `${(r.utilisation * 100).toFixed(1)}%${r.utilisation > 1 ? " (over 100%!)" : ""}`,
        ]),
      ),
    );
  }
  return out;
}
