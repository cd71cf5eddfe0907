/** Decode TPS speedup of one backend over another, per case. */
import type { ResultRecord } from "../results/types.ts";
import { backendSpeedups } from "../compare/backend_speedups.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  RATIO_ONE_LINE,
  topLevel,
} from "./_spec.ts";

/**
 * Bars of decode TPS speedup of every record on another backend over the first record, per case,
 * with 95% bootstrap intervals, a label on each bar and a reference line at 1x.
 *
 * @param records The reference record first, then records measured on other backends.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no record ran on a backend other than the first's, or no case matches.
 * @example
 * ```ts
 * import { backendSpeedupChart } from "./backend_speedup_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = backendSpeedupChart([
 *   await readRecord("tests/fixtures/records/grid-a.json"),
 *   await readRecord("tests/fixtures/records/grid-cuda.json"),
 * ]);
 * ```
 */
export function backendSpeedupChart(
  records: ResultRecord[],
  options: ChartOptions = {},
): ChartSpec {
  const labels = labelsFor(records, options);
  const base = records[0];
  const values = records.slice(1).flatMap((r, k) =>
    r.engine.backend === base?.engine.backend ? [] : backendSpeedups(base, r).map((s) => ({
      record: labels[k + 1],
      ...s,
      text: `${s.speedup.toFixed(1)}x`,
    }))
  );
  if (values.length === 0) {
    notApplicable("backend speedup", "need records on two backends with matching cases");
  }
  const color = colorBy("record", "Backend", values.map((v) => v.record));
  const many = new Set(values.map((v) => v.record)).size > 1;
  const x = {
    field: "caseId",
    type: "nominal",
    title: "Case",
    sort: null,
    axis: { labelAngle: 0 },
  };
  const off = many ? { xOffset: { field: "record" } } : {};
  return topLevel(
    `Backend speedup: ${[...new Set(values.map((v) => v.record))].join(", ")} over ${labels[0]}`,
    "decode TPS ratio per case; error bars: 95% bootstrap interval",
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? 280,
      layer: [
        {
          data: { values },
          layer: [
            {
              mark: "bar",
              encoding: {
                x,
                ...off,
                y: { field: "speedup", type: "quantitative", title: "Speedup (x)" },
                color,
              },
            },
            {
              mark: { type: "rule", color: "#333" },
              encoding: {
                x,
                ...off,
                y: { field: "low", type: "quantitative" },
                y2: { field: "high" },
              },
            },
            {
              mark: { type: "text", dy: -10, fontSize: 11 },
              encoding: {
                x,
                ...off,
                y: { field: "high", type: "quantitative" },
                text: { field: "text" },
              },
            },
          ],
        },
        RATIO_ONE_LINE,
      ],
    },
  );
}
