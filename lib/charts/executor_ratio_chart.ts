/** graph / eager throughput ratio at each cache position, with its bootstrap interval. */
import type { ResultRecord } from "../results/types.ts";
import { executorRatios } from "../compare/executor_ratios.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  errorBars,
  labelsFor,
  log2X,
  notApplicable,
  RATIO_ONE_LINE,
  topLevel,
} from "./_spec.ts";

/**
 * The executor efficiency panel: graph TPS / eager TPS per cache position (log2 axis) with 95%
 * bootstrap intervals and a reference line at 1 (above it, graph is faster).
 *
 * @param records Cache-sweep records measured with both executors.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no record has both executors at a position.
 * @example
 * ```ts
 * import { executorRatioChart } from "./executor_ratio_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = executorRatioChart([await readRecord("tests/fixtures/records/cache-sweep.json")]);
 * ```
 */
export function executorRatioChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const values = records.flatMap((r, i) =>
    executorRatios(r).map((x) => ({ record: labels[i], ...x }))
  );
  if (values.length === 0) {
    notApplicable(
      "executor ratio",
      "no record has graph and eager cases at the same params.position",
    );
  }
  const color = colorBy("record", "Record", values.map((v) => v.record));
  const x = log2X(
    "position",
    "Cache position (tokens, log2 scale)",
    values.map((v) => v.position),
    -40,
  );
  return topLevel(
    "Executor ratio: graph / eager TPS",
    "above 1: graph faster; error bars: 95% bootstrap interval",
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? 260,
      layer: [
        RATIO_ONE_LINE,
        {
          data: { values },
          layer: [
            {
              mark: { type: "line", strokeWidth: 2 },
              encoding: { x, y: { field: "ratio", type: "quantitative" }, color },
            },
            errorBars(x, { color }, "low", "high"),
            {
              mark: { type: "point", filled: true, size: 40 },
              encoding: {
                x,
                y: {
                  field: "ratio",
                  type: "quantitative",
                  title: "Graph / eager",
                  scale: { zero: false },
                },
                color,
                tooltip: [{ field: "position" }, { field: "ratio", format: ".3f" }, {
                  field: "low",
                  format: ".3f",
                }, { field: "high", format: ".3f" }],
              },
            },
          ],
        },
      ],
    },
  );
}
