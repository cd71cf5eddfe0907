/** TTFT against prompt length, one series per record, with error bars. */
import type { ResultRecord } from "../results/types.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  errorBars,
  labelsFor,
  notApplicable,
  spread,
  topLevel,
} from "./_spec.ts";

/**
 * TTFT (median, ms, error bars median ± stddev) against prompt tokens for every case with a
 * `promptTokens` param and a `ttftNs` metric; the line joins the mean of cases sharing a prompt
 * length. Linear growth is what chunked prefill should give.
 *
 * @param records Grid records.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no case has promptTokens and ttftNs.
 * @example
 * ```ts
 * import { ttftChart } from "./ttft_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = ttftChart([await readRecord("tests/fixtures/records/grid-a.json")]);
 * ```
 */
export function ttftChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const values = records.flatMap((r, i) =>
    r.cases.flatMap((c) => {
      const prompt = Number(c.params.promptTokens);
      const m = c.metrics.ttftNs;
      if (!Number.isFinite(prompt) || !m || m.samples.length === 0) return [];
      return [{ record: labels[i], case: c.id, prompt, ...spread(m.samples, 1e-6) }];
    })
  );
  if (values.length === 0) {
    notApplicable("TTFT", "no case has params.promptTokens and metrics.ttftNs");
  }
  const color = colorBy("record", "Record", values.map((v) => v.record));
  const x = { field: "prompt", type: "quantitative", title: "Prompt length (tokens)" };
  return topLevel("TTFT vs prompt length", "median TTFT, error bars ± 1 stddev", {
    width: options.widthPx ?? 560,
    height: options.heightPx ?? 300,
    data: { values },
    layer: [
      {
        mark: { type: "line", strokeWidth: 2 },
        encoding: { x, y: { aggregate: "mean", field: "y", type: "quantitative" }, color },
      },
      { ...errorBars(x, { color }), mark: { type: "rule", strokeWidth: 1.5 } },
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", title: "TTFT (ms)" },
          color,
          tooltip: [{ field: "case" }, { field: "prompt" }, {
            field: "y",
            title: "TTFT ms",
            format: ".2f",
          }],
        },
      },
    ],
  });
}
