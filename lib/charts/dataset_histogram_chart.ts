/** Histograms of a dataset's prompt and output token lengths, with the chosen settings marked. */
import { type ChartSpec, PALETTE, topLevel } from "./_spec.ts";

/**
 * What the histogram reads: per-record token lengths and the chosen settings. A
 * `DatasetAnalysis` from lib/dataset fits as it is; charts take plain data, not the reader.
 */
export interface DatasetLengths {
  /** Dataset path, shown in the title (its last component). */
  file: string;
  tokenizer: { source: string };
  /** Prompt length of each usable record, tokens. */
  promptTokens: readonly number[];
  /** Output length of each record with a reference output, tokens (may be empty). */
  outputTokens: readonly number[];
  /** Chosen n-prompt, tokens. */
  nPrompt: number;
  /** Chosen n-predict settings, e.g. conservative / recommended / comprehensive. */
  recommendations: readonly { name: string; nPredict: number; share: number }[];
}

/** Bins and size of the histogram. */
export interface DatasetHistogramOptions {
  /** Bins per panel over [0, axis end] (default 40). */
  binCount?: number;
  /** Plot width of each panel in pixels (default 560). */
  widthPx?: number;
  /** Plot height of each panel in pixels (default 170). */
  heightPx?: number;
}

const MARK = "#c0392b";

/**
 * Vega-Lite spec: a histogram of prompt lengths above one of output lengths (when any record
 * has an output), binned here so the spec stays small for any dataset size. Dashed rules mark
 * n-prompt and each n-predict setting, labelled with the share of records they cover. The axis
 * ends at the larger of p99 and the marked values, so a long tail does not squeeze the bulk into
 * one bar; records beyond it fall into the last bar and the subtitle counts them.
 *
 * @param lengths Lengths and settings (a `DatasetAnalysis`).
 * @param options Bins and size.
 * @returns A Vega-Lite spec for renderSvg / renderPng / displayChart.
 * @throws {RangeError} When there are no prompt lengths, or binCount is not in [1, 1000].
 * @example
 * ```ts
 * import { datasetHistogramChart } from "./dataset_histogram_chart.ts";
 * const spec = datasetHistogramChart({
 *   file: "chat.jsonl", tokenizer: { source: "whitespace" },
 *   promptTokens: [10, 20, 30], outputTokens: [100, 300, 900], nPrompt: 32,
 *   recommendations: [{ name: "recommended", nPredict: 1024, share: 1 }],
 * });
 * ```
 */
export function datasetHistogramChart(
  lengths: DatasetLengths,
  options: DatasetHistogramOptions = {},
): ChartSpec {
  const binCount = options.binCount ?? 40;
  if (!Number.isInteger(binCount) || binCount < 1 || binCount > 1000) {
    throw new RangeError(
      `Cannot draw dataset histogram chart: binCount must be in [1, 1000], got ${binCount}`,
    );
  }
  if (lengths.promptTokens.length === 0) {
    throw new RangeError("Cannot draw dataset histogram chart: no prompt lengths");
  }
  const promptShare = share(lengths.promptTokens, lengths.nPrompt);
  const panels = [
    panel(
      "Prompt",
      lengths.promptTokens,
      [{
        tokens: lengths.nPrompt,
        label: `n-prompt ${lengths.nPrompt} (${pct(promptShare)})`,
      }],
      binCount,
      options,
    ),
  ];
  if (lengths.outputTokens.length > 0) {
    // Settings that share an n-predict get one rule and one label.
    const byTokens = new Map<number, { names: string[]; share: number }>();
    for (const r of lengths.recommendations) {
      const entry = byTokens.get(r.nPredict) ?? { names: [], share: r.share };
      entry.names.push(r.name);
      byTokens.set(r.nPredict, entry);
    }
    const marks = [...byTokens].map(([tokens, e]) => ({
      tokens,
      label: `${e.names.join(" = ")} ${tokens} (${pct(e.share)})`,
    }));
    panels.push(panel("Output", lengths.outputTokens, marks, binCount, options));
  }
  const name = lengths.file.split(/[\\/]/).pop();
  // Headless Vega overestimates text widths and sizes the image by them: keep titles short.
  return topLevel(
    `Token lengths: ${name}`,
    `tokenizer ${lengths.tokenizer.source}; dashed: chosen settings (% of records at or below)`,
    { vconcat: panels, spacing: 24 },
  );
}

type Marked = { tokens: number; label: string };

/** One histogram panel with its rules. */
function panel(
  series: string,
  values: readonly number[],
  marks: Marked[],
  binCount: number,
  options: DatasetHistogramOptions,
) {
  const sorted = Float64Array.from(values).sort();
  const p99 = sorted[Math.ceil(0.99 * sorted.length) - 1];
  const max = sorted[sorted.length - 1];
  // The axis goes a little past the largest mark, so a rule never sits on the overflow bar.
  const axisEnd = Math.max(p99, ...marks.map((m) => m.tokens * 1.04), 1);
  const width = niceWidth(axisEnd / binCount);
  const bars = Math.floor(axisEnd / width) + 1; // [0, bars * width) holds axisEnd
  const counts = new Array<number>(bars).fill(0);
  let beyond = 0;
  for (const v of sorted) {
    if (v >= bars * width) beyond++;
    else counts[Math.floor(v / width)]++;
  }
  const bins = counts.flatMap((count, b) =>
    count === 0 ? [] : [{ binStart: b * width, binEnd: (b + 1) * width, count, kind: "within" }]
  );
  if (beyond > 0) {
    bins.push({
      binStart: bars * width,
      binEnd: (bars + 1) * width,
      count: beyond,
      kind: "longer",
    });
  }
  const title = `${series} tokens (bars of ${width}` +
    (beyond > 0 ? `; grey: ${beyond} longer, up to ${max})` : ")");
  const x = { field: "tokens", type: "quantitative" };
  return {
    width: options.widthPx ?? 560,
    height: options.heightPx ?? 170,
    layer: [
      {
        data: { values: bins },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: {
            field: "binStart",
            type: "quantitative",
            bin: { binned: true },
            title,
            scale: { domain: [0, (bars + (beyond > 0 ? 1 : 0)) * width], nice: false },
          },
          x2: { field: "binEnd" },
          y: {
            field: "count",
            type: "quantitative",
            title: "records",
            axis: { tickMinStep: 1, format: "d" },
          },
          color: {
            field: "kind",
            type: "nominal",
            scale: { domain: ["within", "longer"], range: [PALETTE[0], "#aaaaaa"] },
            legend: null,
          },
        },
      },
      {
        data: { values: marks },
        mark: { type: "rule", strokeDash: [5, 3], strokeWidth: 1.5, color: MARK },
        encoding: { x },
      },
      // One label per rule, stacked down from the top, right of the rule (left past mid-axis),
      // drawn twice: a white halo first, so rules and bars behind the text do not cross it.
      ...marks.flatMap((m, i) => {
        const left = m.tokens > axisEnd / 2;
        const text = {
          type: "text",
          align: left ? "right" : "left",
          dx: left ? -5 : 5,
          fontSize: 11,
        };
        const encoding = { x, y: { value: 10 + 15 * i }, text: { field: "label" } };
        return [
          {
            data: { values: [m] },
            mark: { ...text, color: "white", stroke: "white", strokeWidth: 4, strokeJoin: "round" },
            encoding,
          },
          { data: { values: [m] }, mark: { ...text, color: MARK }, encoding },
        ];
      }),
    ],
  };
}

/** The smallest round integer (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^k) that is >= raw. */
function niceWidth(raw: number): number {
  for (let p = 1;; p *= 10) {
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8]) {
      if (m * p >= raw && Number.isInteger(m * p)) return m * p;
    }
  }
}

function share(values: readonly number[], limit: number): number {
  return values.reduce((n, v) => n + (v <= limit ? 1 : 0), 0) / values.length;
}

function pct(s: number): string {
  return `${(s * 100).toFixed(s === 1 ? 0 : 1)}%`;
}
