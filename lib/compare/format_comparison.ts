/** Render a comparison (and its views) as markdown, CSV or JSON. */
import { formatValue } from "./format_value.ts";
import { metricLabel } from "./metric_label.ts";
import type { ComparisonViews } from "./comparison_views.ts";
import { formatTargetRatios } from "./format_target_ratios.ts";
import type { Comparison, ComparisonRow, RatioCell } from "./types.ts";

/** Output formats of the compare command. */
export type ComparisonFormat = "markdown" | "csv" | "json";

/**
 * Render a comparison. Markdown gives one table of figures side by side with ratios, intervals
 * and verdicts, then the unmatched cases, warnings and the special views; CSV gives one line per
 * figure and record; JSON gives everything, unrounded.
 *
 * @param comparison From compareRecords.
 * @param views From comparisonViews (optional).
 * @param format "markdown" (default), "csv" or "json".
 * @returns The text, ending with a newline.
 * @throws {RangeError} For an unknown format.
 * @example
 * ```ts
 * import { compareRecords, formatComparison } from "./mod.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const a = await readRecord("tests/fixtures/records/grid-a.json");
 * const b = await readRecord("tests/fixtures/records/grid-b.json");
 * formatComparison(compareRecords([a, b]), undefined, "csv").split("\n")[0];
 * // "case,params,metric,unit,better,record,median,stddev,ratio,low,high,change_pct,verdict"
 * ```
 */
export function formatComparison(
  comparison: Comparison,
  views?: ComparisonViews,
  format: ComparisonFormat = "markdown",
): string {
  if (format === "json") return JSON.stringify({ ...comparison, views }, null, 2) + "\n";
  if (format === "csv") return csv(comparison);
  if (format === "markdown") return markdown(comparison, views);
  throw new RangeError(
    `Cannot format comparison: unknown format "${format}" (markdown, csv, json)`,
  );
}

function csv(c: Comparison): string {
  const q = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  const lines = [
    "case,params,metric,unit,better,record,median,stddev,ratio,low,high,change_pct,verdict",
  ];
  for (const row of c.rows) {
    c.labels.forEach((label, i) => {
      if (row.medians[i] === null) return;
      const cell = row.cells[i];
      lines.push(
        [
          row.caseIds[i] ?? "",
          row.params,
          row.metric,
          row.unit,
          row.better,
          label,
          row.medians[i],
          row.stddevs[i] ?? "",
          cell?.ratio ?? "",
          cell?.low ?? "",
          cell?.high ?? "",
          cell?.changePct ?? "",
          i === c.baseline ? "baseline" : cell?.verdict ?? "",
        ].map((v) => q(String(v))).join(","),
      );
    });
  }
  return lines.join("\n") + "\n";
}

function table(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${head.map(esc).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

function ratioText(cell: RatioCell): string {
  return `${cell.ratio.toFixed(3)} [${cell.low.toFixed(3)}, ${cell.high.toFixed(3)}]`;
}

function valueText(row: ComparisonRow, i: number): string {
  const m = row.medians[i];
  if (m === null) return "—";
  const sd = row.stddevs[i];
  const v = formatValue(m, row.unit);
  return sd ? `${v} ± ${formatValue(sd, row.unit, false, m)}` : v;
}

function markdown(c: Comparison, views?: ComparisonViews): string {
  const base = c.labels[c.baseline];
  const others = c.labels.map((_, i) => i).filter((i) => i !== c.baseline);
  const out: string[] = [`## Comparison against \`${base}\``, ""];
  out.push(
    `Each figure is the median of the raw samples (± sample standard deviation). Ratios are ` +
      `record / baseline with a ${Math.round(c.confidence * 100)}% bootstrap interval ` +
      `(resampling both sides, ratio of medians); a change is "within noise" when the interval ` +
      `includes 1 or it is under ${c.thresholdPct}%.` +
      (c.ignoredParams.length ? ` Cases matched ignoring ${c.ignoredParams.join(", ")}.` : ""),
    "",
  );
  const head = ["Case", "Params", "Metric", `${base} (baseline)`];
  for (const i of others) head.push(c.labels[i], `${c.labels[i]} / ${base}`, "Verdict");
  const rows = c.rows.map((row) => {
    const cells = [
      row.caseIds[c.baseline] ?? "",
      row.params,
      metricLabel(row.metric),
      valueText(row, c.baseline),
    ];
    for (const i of others) {
      const cell = row.cells[i];
      cells.push(valueText(row, i), cell ? ratioText(cell) : "—", cell?.verdict ?? "—");
    }
    return cells;
  });
  out.push(rows.length ? table(head, rows) : "No case matched between the records.", "");
  if (c.unmatched.length) {
    out.push("### Unmatched cases", "");
    out.push(
      table(
        ["Record", "Case", "Params", "Why"],
        c.unmatched.map((u) => [u.record, u.caseId, u.params, u.reason]),
      ),
      "",
    );
  }
  if (views) out.push(...viewsMarkdown(views));
  if (c.warnings.length) out.push("### Warnings", "", ...c.warnings.map((w) => `- ${w}`), "");
  return out.join("\n");
}

function viewsMarkdown(v: ComparisonViews): string[] {
  const out: string[] = [];
  for (const { base, other, rows } of v.backendSpeedups) {
    out.push(`### Backend speedup: ${other} over ${base}`, "");
    out.push(
      table(
        ["Case", `${base} decode TPS`, `${other} decode TPS`, "Speedup [95% CI]"],
        rows.map((
          r,
        ) => [
          r.caseId,
          formatValue(r.baseTps, "tokens/s"),
          formatValue(r.otherTps, "tokens/s"),
          `${r.speedup.toFixed(2)}x [${r.low.toFixed(2)}, ${r.high.toFixed(2)}]`,
        ]),
      ),
      "",
    );
  }
  for (const { record, rows } of v.executorRatios) {
    out.push(`### Executor ratio (graph / eager): ${record}`, "");
    out.push(
      table(
        ["Position", "Graph TPS", "Eager TPS", "Graph / eager [95% CI]"],
        rows.map((
          r,
        ) => [
          String(r.position),
          formatValue(r.graphTps, "tokens/s"),
          formatValue(r.eagerTps, "tokens/s"),
          `${r.ratio.toFixed(3)}x [${r.low.toFixed(3)}, ${r.high.toFixed(3)}]`,
        ]),
      ),
      "",
    );
  }
  for (const { record, rows } of v.targetRatios) out.push(...formatTargetRatios(record, rows));
  for (const { record, rows } of v.workersScaling) {
    out.push(`### Workers scaling: ${record}`, "");
    out.push(
      table(
        ["Workers", "Total decode TPS", "Speedup", "Efficiency"],
        rows.map((
          r,
        ) => [
          String(r.workers),
          `${formatValue(r.tps, "tokens/s")} ± ${formatValue(r.tpsStddev, "tokens/s", false)}`,
          `${r.speedup.toFixed(2)}x`,
          `${(r.efficiency * 100).toFixed(1)}%`,
        ]),
      ),
      "",
    );
  }
  return out;
}
