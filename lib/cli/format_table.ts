/** Markdown pipe tables, padded so they also read well in a terminal. */

/**
 * Render a Markdown table with columns padded to equal width. Numeric-looking columns are
 * right-aligned.
 *
 * @param headers Column titles.
 * @param rows Cells (already formatted).
 * @returns The table, lines joined by "\n", no trailing newline.
 * @throws {RangeError} When a row's length differs from the headers'.
 * @example
 * ```ts
 * import { formatTable } from "./format_table.ts";
 * formatTable(["ID", "TPS"], [["S1", "16.6"]]);
 * // "| ID | TPS  |\n|----|-----:|\n| S1 | 16.6 |"
 * ```
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  rows.forEach((r, i) => {
    if (r.length !== headers.length) {
      throw new RangeError(
        `Row ${i} has ${r.length} cells but the table has ${headers.length} columns`,
      );
    }
  });
  const widths = headers.map((h, c) => Math.max(h.length, 3, ...rows.map((r) => r[c].length)));
  const numeric = headers.map((_, c) =>
    rows.length > 0 &&
    rows.every((r) => /^[-+]?[\d.,]+(\s*±\s*[\d.,]+)?\s*\S*$/.test(r[c]) || r[c] === "-")
  );
  const line = (cells: readonly string[]) =>
    "| " +
    cells.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join(" | ") +
    " |";
  const rule = "|" +
    widths.map((w, c) => (numeric[c] ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2)))
      .join("|") +
    "|";
  return [line(headers), rule, ...rows.map(line)].join("\n");
}
