/** Shared pieces of every chart spec: the Vega-Lite type, fonts, sizes, labels, error bars. */
import type { TopLevelSpec } from "vega-lite";
import type { ResultRecord } from "../results/types.ts";
import { recordLabels } from "../compare/record_labels.ts";
import { summarize } from "../stats/summarize.ts";

/** A Vega-Lite (v6 schema, v5-compatible) top-level spec. */
export type ChartSpec = TopLevelSpec;

/** Options every chart function takes. */
export interface ChartOptions {
  /** One legend label per record (default: scenario name, plus backend/executor if they differ). */
  labels?: string[];
  /** Plot width in pixels (default 560). */
  widthPx?: number;
  /** Plot height in pixels (default 300). */
  heightPx?: number;
}

/** The font the renderers ship (assets/fonts); every text mark uses it. */
export const FONT = "DejaVu Sans";

export const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"];

/** Wrap chart content into a top-level spec with the shared config. */
export function topLevel(
  title: string,
  subtitle: string,
  body: Record<string, unknown>,
): ChartSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle, anchor: "start", subtitleColor: "#555" },
    background: "white",
    padding: 12,
    config: {
      font: FONT,
      title: { fontSize: 15, subtitleFontSize: 11 },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
      legend: {
        labelFontSize: 11,
        titleFontSize: 11,
        orient: "bottom",
        direction: "horizontal",
        labelLimit: 0,
        columns: 3,
      },
      range: { category: PALETTE },
      view: { stroke: "#ccc" },
    },
    ...body,
  } as ChartSpec;
}

/** Legend labels for the records. */
export function labelsFor(records: ResultRecord[], options: ChartOptions): string[] {
  if (options.labels && options.labels.length !== records.length) {
    throw new RangeError(
      `Cannot draw chart: got ${options.labels.length} labels for ${records.length} records`,
    );
  }
  return options.labels ?? recordLabels(records);
}

/** Median, and median +- stddev, of raw samples (for points with error bars). */
export function spread(samples: number[], scale = 1): { y: number; lo: number; hi: number } {
  const { median, stddev } = summarize(samples);
  return { y: median * scale, lo: (median - stddev) * scale, hi: (median + stddev) * scale };
}

/** Throw the "not applicable" error every chart uses when records lack what it draws. */
export function notApplicable(chart: string, why: string): never {
  throw new RangeError(`Cannot draw ${chart} chart: ${why}`);
}

/** Color encoding by series, with the legend hidden when there is only one series. */
export function colorBy(field: string, title: string, series: string[]): Record<string, unknown> {
  const domain = [...new Set(series)];
  return {
    field,
    type: "nominal",
    title,
    scale: { domain, range: PALETTE },
    legend: domain.length > 1 ? {} : null,
  };
}

/** Tick values for a log2 axis covering the data (1, 2, 4, ...), thinned to at most ~12. */
export function log2Ticks(values: number[]): number[] {
  const max = Math.max(...values);
  const min = Math.max(1, Math.min(...values));
  const ticks: number[] = [];
  for (let v = 2 ** Math.floor(Math.log2(min)); v <= max * 1.0001; v *= 2) ticks.push(v);
  const step = Math.ceil(ticks.length / 12);
  return ticks.filter((_, i) => i % step === 0);
}

/** A quantitative x encoding on a log2 axis with ticks at the powers of two the data covers. */
export function log2X(
  field: string,
  title: string,
  values: number[],
  labelAngle = 0,
): Record<string, unknown> {
  return {
    field,
    type: "quantitative",
    title,
    scale: { type: "log", base: 2 },
    axis: { values: log2Ticks(values), format: "d", ...(labelAngle ? { labelAngle } : {}) },
  };
}

/** Error bars: a rule from field `lo` to field `hi` at each x. */
export function errorBars(
  x: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  lo = "lo",
  hi = "hi",
): Record<string, unknown> {
  return {
    mark: "rule",
    encoding: { x, y: { field: lo, type: "quantitative" }, y2: { field: hi }, ...extra },
  };
}

/** A dashed horizontal reference line at y = 1 (ratio charts: above it, the numerator wins). */
export const RATIO_ONE_LINE = {
  data: { values: [{ one: 1 }] },
  mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
  encoding: { y: { field: "one", type: "quantitative" } },
};
