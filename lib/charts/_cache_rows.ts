/** Points of cache-sweep records: one per (record, executor, position). */
import type { ResultRecord } from "../results/types.ts";
import { caseFigure, type FigureName } from "../compare/case_figure.ts";
import { spread } from "./_spec.ts";

/** Rows for a cache-position chart: series = executor (and record when several). */
export function cacheRows(
  records: ResultRecord[],
  labels: string[],
  figure: FigureName,
  scale: number,
) {
  const rows = records.flatMap((r, i) =>
    r.cases.flatMap((c) => {
      const position = Number(c.params.position);
      const f = caseFigure(c, figure);
      if (!Number.isFinite(position) || position <= 0 || !f) return [];
      const executor = String(c.params.executor ?? r.engine.executor);
      return [{ record: labels[i], executor, position, case: c.id, ...spread(f.samples, scale) }];
    })
  );
  const many = new Set(rows.map((r) => r.record)).size > 1;
  return rows.map((r) => ({ ...r, series: many ? `${r.record} ${r.executor}` : r.executor }));
}
