/** Decode TPS or step time against KV-cache position (log2 axis), executors overlaid. */
import type { ResultRecord } from "../results/types.ts";
import { cacheRows } from "./_cache_rows.ts";
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
 * One decode step at each cache position: decode TPS (`figure: "tps"`) or step time in ms
 * (`figure: "stepNs"`) against the position on a log2 axis, one line per executor (and record),
 * error bars median ± 1 stddev. Cases need a `position` param and a step-time or TPS metric.
 *
 * @param records Cache-sweep records.
 * @param figure "tps" or "stepNs".
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no case has a position and the figure.
 * @example
 * ```ts
 * import { cacheChart } from "./cache_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = cacheChart([await readRecord("tests/fixtures/records/cache-sweep.json")], "stepNs");
 * ```
 */
export function cacheChart(
  records: ResultRecord[],
  figure: "tps" | "stepNs",
  options: ChartOptions = {},
): ChartSpec {
  const labels = labelsFor(records, options);
  const tps = figure === "tps";
  const values = cacheRows(records, labels, figure, tps ? 1 : 1e-6);
  const name = tps ? "TPS" : "step time";
  if (values.length === 0) {
    notApplicable(
      `${name} vs cache position`,
      "no case has params.position and a step time or TPS",
    );
  }
  const color = colorBy("series", "Executor", values.map((v) => v.series));
  const x = log2X(
    "position",
    "Cache position (tokens, log2 scale)",
    values.map((v) => v.position),
    -40,
  );
  const title = tps ? "Decode TPS vs cache position" : "Step time vs cache position";
  const yTitle = tps ? "Tokens / s" : "Step time (ms)";
  return topLevel(
    title,
    "one decode step with the KV cache filled to the position; error bars ± 1 stddev",
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? 300,
      data: { values },
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: { x, y: { field: "y", type: "quantitative" }, color },
        },
        errorBars(x, { color }),
        {
          mark: { type: "point", filled: true, size: 40 },
          encoding: {
            x,
            y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: tps } },
            color,
            tooltip: [{ field: "case" }, { field: "position" }, {
              field: "y",
              format: ".3f",
              title: yTitle,
            }],
          },
        },
      ],
    },
  );
}
