/** A record flattened to one row per case and metric (for csv/jsonl exports). */
import type { ResultRecord } from "./types.ts";

/** One flattened row. */
export type RecordRow = Record<string, string | number | null>;

/**
 * Flatten a record: one row per case and metric with the record id, scenario, backend, model,
 * case id and params, unit, summary fields, limit and utilisation (null when absent).
 *
 * @param record The record.
 * @returns Rows with the same keys in the same order.
 * @throws Nothing.
 * @example
 * ```ts
 * import { recordRows } from "./record_rows.ts";
 * import { readRecord } from "./read_record.ts";
 * const rows = recordRows(await readRecord("tests/fixtures/records/grid-a.json"));
 * console.log(rows[0].caseId, rows[0].metric);
 * ```
 */
export function recordRows(record: ResultRecord): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const c of record.cases) {
    for (const [metric, m] of Object.entries(c.metrics)) {
      rows.push({
        record: record.id,
        scenario: record.scenario.name,
        backend: record.engine.backend,
        executor: record.engine.executor,
        model: record.model.spec,
        case: c.id,
        params: Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(";"),
        metric,
        unit: m.unit,
        better: m.better,
        n: m.summary.n,
        median: m.summary.median,
        mean: m.summary.mean,
        stddev: m.summary.stddev,
        cv: m.summary.cv,
        min: m.summary.min,
        max: m.summary.max,
        p90: m.summary.p90,
        p99: m.summary.p99,
        limit: m.limit ?? null,
        utilisation: m.utilisation ?? null,
      });
    }
  }
  return rows;
}
