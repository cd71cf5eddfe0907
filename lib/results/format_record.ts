/** A record rendered in one of the --format choices. */
import { renderGridReport } from "../cli/render_grid_report.ts";
import { renderHttpReport } from "../cli/render_http_report.ts";
import { renderPromptsReport } from "../cli/render_prompts_report.ts";
import { renderWorkersReport } from "../cli/render_workers_report.ts";
import { recordRows } from "./record_rows.ts";
import type { ResultRecord } from "./types.ts";

/** Output formats of `deno task bench --format`. */
export type RecordFormat = "md" | "json" | "csv" | "jsonl";

/** The formats, for option checks. */
export const RECORD_FORMATS: readonly RecordFormat[] = ["md", "json", "csv", "jsonl"];

function csvCell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Render a record: `json` the whole record, `jsonl` and `csv` one row per case and metric
 * (see recordRows), `md` the report tables (cases, run figures, per-step TPS, warnings).
 *
 * @param record The record.
 * @param format One of md, json, csv, jsonl.
 * @returns The text, ending with a newline.
 * @throws {RangeError} On an unknown format.
 * @example
 * ```ts
 * import { formatRecord } from "./format_record.ts";
 * import { readRecord } from "./read_record.ts";
 * const record = await readRecord("tests/fixtures/records/grid-a.json");
 * console.log(formatRecord(record, "csv").split("\n")[0]); // the CSV header
 * ```
 */
export function formatRecord(record: ResultRecord, format: RecordFormat): string {
  switch (format) {
    case "json":
      return JSON.stringify(record, null, 2) + "\n";
    case "jsonl":
      return recordRows(record).map((r) => JSON.stringify(r)).join("\n") + "\n";
    case "csv": {
      const rows = recordRows(record);
      if (rows.length === 0) return "\n";
      const keys = Object.keys(rows[0]);
      return [keys.join(","), ...rows.map((r) => keys.map((k) => csvCell(r[k])).join(","))]
        .join("\n") + "\n";
    }
    case "md":
      if (record.http) return renderHttpReport(record);
      if (record.scenario.kind === "workers") return renderWorkersReport(record);
      if (record.scenario.kind === "prompts") return renderPromptsReport(record);
      return renderGridReport(record);
    default:
      throw new RangeError(
        `Unknown format "${format}": expected one of ${RECORD_FORMATS.join(", ")}`,
      );
  }
}
