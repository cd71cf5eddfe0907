/** The bench's human-readable output of cache-sweep records: the seed report's tables. */
import { backendSpeedups } from "../compare/backend_speedups.ts";
import type { Case, ResultRecord } from "../results/types.ts";
import { formatTable } from "./format_table.ts";
import { renderTargetSection } from "./render_target_section.ts";

const fix = (v: number, d: number) => v.toFixed(d);
const ms = (c: Case | undefined) =>
  c
    ? `${fix(c.metrics.stepNs.summary.median / 1e6, 2)} ± ${
      fix(c.metrics.stepNs.summary.stddev / 1e6, 2)
    }`
    : "-";
const tps = (c: Case | undefined) => c ? fix(c.metrics.decodeTps.summary.median, 1) : "-";
const util = (c: Case | undefined) =>
  c?.metrics.decodeTps.utilisation !== undefined
    ? `${(c.metrics.decodeTps.utilisation * 100).toFixed(0)}%${
      c.metrics.decodeTps.utilisation > 1 ? " (over 100%!)" : ""
    }`
    : "-";

function byPosition(record: ResultRecord): Map<number, Record<string, Case>> {
  const at = new Map<number, Record<string, Case>>();
  for (const c of record.cases) {
    if (!c.metrics.stepNs || !c.metrics.decodeTps) continue;
    const p = Number(c.params.position);
    at.set(p, { ...(at.get(p) ?? {}), [String(c.params.executor)]: c });
  }
  return new Map([...at].sort(([a], [b]) => a - b));
}

function recordSection(record: ResultRecord): string[] {
  // A "graph" case that ran as eager (older CPU records) is no second executor: left out, with
  // its ratio, rather than shown as one.
  const graphAsEager = record.cases.some((c) =>
    c.params.executor === "graph" && c.counters.executorGraph === 0
  );
  const r = {
    ...record,
    cases: record.cases.filter((c) =>
      !(c.params.executor === "graph" && c.counters.executorGraph === 0)
    ),
  };
  const at = byPosition(r);
  const executors = [...new Set(r.cases.map((c) => String(c.params.executor)))].sort();
  const first = executors[0] ?? "eager"; // "eager" sorts before "graph": Ratio = graph / eager
  const second = executors.find((e) => e !== first);
  const bw = r.environment.probes.ceilingBps;
  const spread = r.environment.probes.bandwidthBps.summary;
  const lines = [
    `## Cache sweep: ${r.engine.backend}, ${r.model.name} (${r.model.dtype}, KV ${r.engine.kvDtype})`,
    "",
    `Positions ${[...at.keys()][0]} .. ${[...at.keys()].at(-1)} (KV capacity ${r.engine.maxCtx} ` +
    `tokens), median ± sd of ${r.cases[0]?.metrics.stepNs.summary.n ?? 0} engine-timed steps per ` +
    `point after ${
      r.cases[0]?.warmup.stepNs?.length ?? 0
    } warm-up(s); limit = (decode bytes + KV ` +
    `bytes read) / ${(bw / 1e9).toFixed(1)} GB/s, the run's bandwidth ceiling (median of ` +
    `${spread.n} probe passes, ${(spread.min / 1e9).toFixed(1)}-${
      (spread.max / 1e9).toFixed(1)
    }).` +
    (graphAsEager
      ? ` The record's "graph" cases ran as eager on ${r.engine.backend} and are left out.`
      : ""),
    "",
  ];
  const cap = (e: string) => (e.includes(".") ? e : e[0].toUpperCase() + e.slice(1));
  const headers = ["Position", `${cap(first)} TPS`, `${cap(first)} Step (ms)`];
  if (second) headers.push(`${cap(second)} TPS`, `${cap(second)} Step (ms)`, "Ratio");
  headers.push("Limit TPS", "Utilisation");
  const rows = [...at].map(([p, e]) => {
    const row = [String(p), tps(e[first]), ms(e[first])];
    if (second) {
      const a = e[first]?.metrics.decodeTps.summary.median;
      const b = e[second]?.metrics.decodeTps.summary.median;
      row.push(tps(e[second]), ms(e[second]), a && b ? `${fix(b / a, 2)}x` : "-");
    }
    const lim = (e[first] ?? e[second!])?.metrics.decodeTps.limit;
    row.push(lim !== undefined ? fix(lim, 1) : "-", util(e[first] ?? e[second!]));
    return row;
  });
  lines.push(formatTable(headers, rows), "");
  lines.push(...renderTargetSection(r, "alternating step by step at each position"));
  const growth = executors.flatMap((e) => {
    const m = r.derived[`stepGrowth.${e}`], p = r.derived[`stepGrowthPredicted.${e}`];
    const x = r.derived[`stepGrowthExcess.${e}`];
    if (!m || !p || !x) return [];
    const verdict = x.value <= 1.1 ? "within +10%" : `over by ${((x.value - 1) * 100).toFixed(0)}%`;
    return [[e, `${fix(m.value, 3)}x`, `${fix(p.value, 3)}x`, `${fix(x.value, 3)}`, verdict]];
  });
  if (growth.length > 0) {
    const ps = [...at.keys()];
    lines.push(
      `Step-time growth from position ${ps[0]} to ${ps.at(-1)} against what the extra KV bytes ` +
        "explain:",
      "",
      formatTable([
        "Executor",
        "Measured",
        "Predicted (KV bytes)",
        "Measured / predicted",
        "Verdict",
      ], growth),
      "",
    );
  }
  return lines;
}

/**
 * Render cache-sweep records as the seed report's tables: per record, Position | <executor> TPS |
 * Step (ms) | ... | Ratio with the bandwidth limit and utilisation, the step-time growth against
 * the KV prediction, then for records on two backends Position | A TPS | A Step | B TPS | B Step |
 * Speedup (B over A, the first record's backend being A), and every record's warnings.
 *
 * @param records Cache-sweep records (one per backend).
 * @returns Markdown text ending with a newline.
 * @example
 * ```ts
 * import { renderCacheSweepReport } from "./render_cache_sweep_report.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const text = renderCacheSweepReport([await readRecord("tests/fixtures/records/cache-sweep.json")]);
 * ```
 */
export function renderCacheSweepReport(records: readonly ResultRecord[]): string {
  const lines = records.flatMap(recordSection);
  const base = records[0];
  for (const other of records.slice(1)) {
    if (!base || other.engine.backend === base.engine.backend) continue;
    const a = byPosition(base), b = byPosition(other);
    const speed = backendSpeedups(base, other);
    const A = base.engine.backend.toUpperCase(), B = other.engine.backend.toUpperCase();
    const executors = [...new Set(base.cases.map((c) => String(c.params.executor)))];
    for (const e of executors) {
      const rows = [...b].flatMap(([p, eb]) => {
        const ca = a.get(p)?.[e], cb = eb[e];
        if (!ca || !cb) return [];
        const s = speed.find((x) => x.caseId === ca.id);
        return [[
          String(p),
          tps(cb),
          ms(cb),
          tps(ca),
          ms(ca),
          s ? `${fix(s.speedup, s.speedup < 10 ? 2 : 1)}x` : "-",
        ]];
      });
      if (rows.length === 0) continue;
      lines.push(
        `## ${B} vs ${A} (${e} executor)`,
        "",
        formatTable([
          "Position",
          `${B} TPS`,
          `${B} Step (ms)`,
          `${A} TPS`,
          `${A} Step (ms)`,
          "Speedup",
        ], rows),
        "",
      );
    }
  }
  const warnings = records.flatMap((r) => r.warnings.map((w) => `- ${r.engine.backend}: ${w}`));
  if (warnings.length > 0) lines.push("Warnings:", ...warnings, "");
  return lines.join("\n") + "\n";
}
