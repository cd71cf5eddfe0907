/** Where a request's time goes: stacked shares of prefill, decode, sampling and tokenisation. */
import type { ResultRecord } from "../results/types.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  topLevel,
} from "./_spec.ts";

/** Breakdown parts and the metric keys each may be recorded under, first found wins. */
const PARTS: [string, string[]][] = [
  ["Prefill", ["prefillNs"]],
  ["Decode forward", ["decodeForwardNs", "decodeNs"]],
  ["Sampling", ["samplingNs", "sampleNs"]],
  ["Tokenization", ["tokenizeNs"]],
  ["Detokenization", ["detokenizeNs"]],
];

/**
 * Timing breakdown per case of the first record that has one: median time of each part as a
 * share of their sum, as horizontal stacked bars (needs at least two parts; keys: prefillNs,
 * decodeForwardNs|decodeNs, samplingNs|sampleNs, tokenizeNs, detokenizeNs).
 *
 * @param records Records with breakdown metrics.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no case has two breakdown parts.
 * @example
 * ```ts
 * import { breakdownChart } from "./breakdown_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = breakdownChart([await readRecord("tests/fixtures/records/grid-a.json")]);
 * ```
 */
export function breakdownChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  let label = "";
  let values: Record<string, unknown>[] = [];
  for (let i = 0; i < records.length && values.length === 0; i++) {
    values = records[i].cases.flatMap((c) => {
      const parts = PARTS.flatMap(([part, keys]) => {
        const key = keys.find((k) => (c.metrics[k]?.samples.length ?? 0) > 0);
        return key ? [{ part, ms: c.metrics[key].summary.median / 1e6 }] : [];
      });
      if (parts.length < 2) return [];
      const total = parts.reduce((a, p) => a + p.ms, 0);
      return parts.map((p, order) => ({ case: c.id, ...p, share: p.ms / total, order }));
    });
    label = labels[i];
  }
  if (values.length === 0) {
    notApplicable(
      "timing breakdown",
      "no case has two of prefillNs, decodeForwardNs, samplingNs, tokenizeNs, detokenizeNs",
    );
  }
  const present = PARTS.map(([p]) => p).filter((p) => values.some((v) => v.part === p));
  return topLevel(
    `Timing breakdown: ${label}`,
    "median time of each part as a share of the request",
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? Math.max(120, 34 * new Set(values.map((v) => v.case)).size),
      data: { values },
      mark: { type: "bar" },
      encoding: {
        y: { field: "case", type: "nominal", title: "Case", sort: null },
        x: {
          field: "share",
          type: "quantitative",
          title: "Share of request time",
          stack: "normalize",
          axis: { format: ".0%" },
        },
        color: { ...colorBy("part", "Part", present), legend: {} },
        order: { field: "order" },
        tooltip: [{ field: "case" }, { field: "part" }, {
          field: "ms",
          format: ".3f",
          title: "median ms",
        }, { field: "share", format: ".1%" }],
      },
    },
  );
}
