/** Prefill and decode throughput of every case, side by side. */
import type { ResultRecord } from "../results/types.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  spread,
  topLevel,
} from "./_spec.ts";

/**
 * Bars of median prefill TPS and decode TPS per case with a `promptTokens` param (two panels, each with its own scale, error
 * bars ± 1 stddev), grouped by record when several are given.
 *
 * @param records Records whose cases have `prefillTps` and/or `decodeTps`.
 * @param options Labels and size (per panel).
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no case has either metric.
 * @example
 * ```ts
 * import { throughputChart } from "./throughput_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = throughputChart([await readRecord("tests/fixtures/records/grid-a.json")]);
 * ```
 */
export function throughputChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const figures = [["prefillTps", "Prefill TPS"], ["decodeTps", "Decode TPS"]];
  const values = records.flatMap((r, i) =>
    r.cases.flatMap((c) =>
      figures.flatMap(([key, name]) => {
        const m = c.metrics[key];
        // Only request-shaped cases (a prompt length): cache-sweep and workers points differ in kind.
        if (!m || m.samples.length === 0 || c.params.promptTokens === undefined) return [];
        return [{ record: labels[i], case: c.id, figure: name, ...spread(m.samples) }];
      })
    )
  );
  if (values.length === 0) {
    notApplicable(
      "throughput",
      "no case has params.promptTokens and metrics.prefillTps or metrics.decodeTps",
    );
  }
  const color = colorBy("record", "Record", values.map((v) => v.record));
  const x = { field: "case", type: "nominal", title: "Case", sort: null, axis: { labelAngle: 0 } };
  const xOffset = { field: "record", sort: null };
  const many = new Set(values.map((v) => v.record)).size > 1;
  return topLevel("Throughput by scenario", "median tokens/s, error bars ± 1 stddev", {
    data: { values },
    facet: {
      column: {
        field: "figure",
        type: "nominal",
        title: null,
        sort: figures.map(([, n]) => n),
        header: { labelFontSize: 13 },
      },
    },
    spec: {
      width: options.widthPx ? options.widthPx / 2 : 300,
      height: options.heightPx ?? 280,
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            x,
            ...(many ? { xOffset } : {}),
            y: { field: "y", type: "quantitative", title: "Tokens / s" },
            color,
            tooltip: [{ field: "case" }, { field: "record" }, {
              field: "y",
              format: ".1f",
              title: "tok/s",
            }],
          },
        },
        {
          mark: { type: "rule", color: "#333" },
          encoding: {
            x,
            ...(many ? { xOffset } : {}),
            y: { field: "lo", type: "quantitative" },
            y2: { field: "hi" },
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  });
}
