/** Total decode TPS and efficiency against the number of sequences decoding together. */
import type { ResultRecord } from "../results/types.ts";
import { workersScaling } from "../compare/workers_scaling.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  errorBars,
  labelsFor,
  log2X,
  notApplicable,
  topLevel,
} from "./_spec.ts";

/**
 * Two panels: total decode TPS against workers (error bars ± 1 stddev, dashed ideal linear
 * scaling) and efficiency (speedup / workers, 100% = perfect) against workers; log2 x axes.
 *
 * @param records Workers records (cases with a `workers` param).
 * @param options Labels and size (per panel).
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no record has two or more worker counts.
 * @example
 * ```ts
 * import { workersChart } from "./workers_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = workersChart([await readRecord("tests/fixtures/records/workers.json")]);
 * ```
 */
export function workersChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const values = records.flatMap((r, i) => {
    const pts = workersScaling(r);
    if (pts.length < 2) return [];
    return pts.map((p) => ({
      record: labels[i],
      ...p,
      lo: p.tps - p.tpsStddev,
      hi: p.tps + p.tpsStddev,
      ideal: pts[0].tps * p.workers / pts[0].workers,
    }));
  });
  if (values.length === 0) {
    notApplicable("workers scaling", "no record has cases at two or more params.workers");
  }
  const color = colorBy("record", "Record", values.map((v) => v.record));
  const x = log2X("workers", "Workers (sequences, log2 scale)", values.map((v) => v.workers));
  const width = options.widthPx ? options.widthPx / 2 : 300;
  const height = options.heightPx ?? 260;
  return topLevel(
    "Workers scaling",
    "total decode TPS (dashed: ideal linear scaling) and efficiency = speedup / workers",
    {
      data: { values },
      hconcat: [
        {
          width,
          height,
          layer: [
            {
              mark: { type: "line", strokeDash: [4, 4], color: "#999" },
              encoding: {
                x,
                y: { field: "ideal", type: "quantitative" },
                detail: { field: "record" },
              },
            },
            {
              mark: { type: "line", strokeWidth: 2 },
              encoding: { x, y: { field: "tps", type: "quantitative" }, color },
            },
            errorBars(x, { color }),
            {
              mark: { type: "point", filled: true, size: 50 },
              encoding: {
                x,
                y: { field: "tps", type: "quantitative", title: "Total decode TPS" },
                color,
                tooltip: [{ field: "workers" }, { field: "tps", format: ".1f" }],
              },
            },
          ],
        },
        {
          width,
          height,
          layer: [
            {
              mark: { type: "line", strokeWidth: 2 },
              encoding: { x, y: { field: "efficiency", type: "quantitative" }, color },
            },
            {
              mark: { type: "point", filled: true, size: 50 },
              encoding: {
                x,
                y: {
                  field: "efficiency",
                  type: "quantitative",
                  title: "Efficiency",
                  axis: { format: ".0%" },
                  scale: { domain: [0, 1.05] },
                },
                color,
                tooltip: [{ field: "workers" }, { field: "efficiency", format: ".1%" }],
              },
            },
          ],
        },
      ],
    },
  );
}
