/** p50 / p90 / p99 of TTFT and TPOT per case (prompt). */
import type { ResultRecord } from "../results/types.ts";
import { summarize } from "../stats/summarize.ts";

/** Fewer samples than this give no p99. */
const MIN_P99_SAMPLES = 20;
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  topLevel,
} from "./_spec.ts";

/**
 * Latency percentiles per case: for TTFT (`ttftNs` summaries) and, when recorded, the decode
 * step time (every step after the first in `series.stepNs`, all runs pooled, else `tpotNs`),
 * p50, p90 and p99 in ms on a log scale, joined by a rule from p50 to p99 (each value carries
 * its sample count n; a p99 of fewer than 20 samples is left out and the rule ends at p90).
 * Uses the first record that has TTFT.
 *
 * @param records Grid or prompts records.
 * @param options Labels and size (per panel).
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no record has TTFT samples.
 * @example
 * ```ts
 * import { latencyChart } from "./latency_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = latencyChart([await readRecord("tests/fixtures/records/grid-a.json")]);
 * ```
 */
export function latencyChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const index = records.findIndex((r) =>
    r.cases.some((c) => (c.metrics.ttftNs?.samples.length ?? 0) > 0)
  );
  if (index < 0) notApplicable("latency percentiles", "no case has metrics.ttftNs");
  const values: Record<string, unknown>[] = [];
  // A p99 of fewer than 20 samples is the max or close to it: left out (the rule ends at p90).
  const push = (
    figure: string,
    caseId: string,
    s: { n: number; p50: number; p90: number; p99: number },
  ) => {
    const v: Record<string, unknown> = {
      figure,
      case: caseId,
      n: s.n,
      p50: s.p50 / 1e6,
      p90: s.p90 / 1e6,
      top: s.p90 / 1e6,
    };
    if (s.n >= MIN_P99_SAMPLES) v.top = v.p99 = s.p99 / 1e6;
    values.push(v);
  };
  for (const c of records[index].cases) {
    const ttft = c.metrics.ttftNs;
    if (ttft && ttft.samples.length > 0) push("TTFT", c.id, ttft.summary);
    const steps = (c.series.stepNs ?? []).flatMap((run) => run.slice(1));
    const tpot = steps.length > 0 ? summarize(steps) : c.metrics.tpotNs?.summary;
    if (tpot) push("Decode step (TPOT)", c.id, tpot);
  }
  // Long case ids ("workers-16", "open-90pct") collide when level: slant them.
  const longest = Math.max(0, ...values.map((v) => String(v.case).length));
  const x = {
    field: "case",
    type: "nominal",
    title: "Case",
    sort: null,
    axis: { labelAngle: longest > 6 ? -35 : 0 },
  };
  const color = colorBy("percentile", "Percentile", ["p50", "p90", "p99"]);
  return topLevel(
    `Latency percentiles: ${labels[index]}`,
    `p50 / p90 / p99 per case, ms, log scale; no p99 from fewer than ${MIN_P99_SAMPLES} samples`,
    {
      data: { values },
      facet: {
        column: {
          field: "figure",
          type: "nominal",
          title: null,
          sort: ["TTFT", "Decode step (TPOT)"],
          header: { labelFontSize: 13 },
        },
      },
      spec: {
        width: options.widthPx ? options.widthPx / 2 : 300,
        height: options.heightPx ?? 280,
        layer: [
          {
            mark: { type: "rule", color: "#999", strokeWidth: 2 },
            encoding: { x, y: { field: "p50", type: "quantitative" }, y2: { field: "top" } },
          },
          {
            transform: [{ fold: ["p50", "p90", "p99"], as: ["percentile", "ms"] }],
            mark: { type: "point", filled: true, size: 70 },
            encoding: {
              x,
              y: {
                field: "ms",
                type: "quantitative",
                title: "Latency (ms)",
                scale: { type: "log", nice: false, padding: 12 },
              },
              color,
              tooltip: [
                { field: "case" },
                { field: "percentile" },
                { field: "ms", format: ".3f" },
                { field: "n" },
              ],
            },
          },
        ],
      },
      resolve: { scale: { y: "independent" } },
    },
  );
}
