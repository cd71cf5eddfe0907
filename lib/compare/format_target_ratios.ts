/** The target-ratio view of one side-by-side record, as markdown lines. */
import { formatValue } from "./format_value.ts";
import type { TargetRatio } from "./target_ratios.ts";

const esc = (s: string) => s.replaceAll("|", "\\|");

/**
 * Markdown of {@link targetRatios} rows: a heading naming the record and the two targets, then
 * per case the figure, both medians and the ratio with its 95% bootstrap interval.
 *
 * @param record The record's label.
 * @param rows Rows of one record (non-empty).
 * @returns Markdown lines (the last one empty).
 * @throws {RangeError} When rows is empty.
 * @example
 * ```ts
 * import { formatTargetRatios } from "./format_target_ratios.ts";
 * const lines = formatTargetRatios("run", [{
 *   caseId: "S1", base: "lmrig", other: "llama.cpp", metric: "decodeTps",
 *   baseValue: 10, otherValue: 5, ratio: 0.5, low: 0.49, high: 0.51,
 * }]);
 * lines[0]; // "### Target ratio (llama.cpp / lmrig): run"
 * ```
 */
export function formatTargetRatios(record: string, rows: readonly TargetRatio[]): string[] {
  if (rows.length === 0) throw new RangeError("Cannot format target ratios: no rows");
  const { base, other } = rows[0];
  const head = ["Case", "Figure", base, other, `${other} / ${base} [95% CI]`];
  const lines = [
    `| ${head.map(esc).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) =>
      `| ${
        [
          r.other === other ? r.caseId : `${r.caseId} (${r.other})`,
          r.metric === "decodeTps" ? "decode TPS" : "prefill TPS",
          formatValue(r.baseValue, "tokens/s"),
          formatValue(r.otherValue, "tokens/s"),
          `${r.ratio.toFixed(2)}x [${r.low.toFixed(2)}, ${r.high.toFixed(2)}]`,
        ].map(esc).join(" | ")
      } |`
    ),
  ];
  return [`### Target ratio (${other} / ${base}): ${record}`, "", lines.join("\n"), ""];
}
