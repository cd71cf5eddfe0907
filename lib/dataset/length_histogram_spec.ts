/** A Vega-Lite histogram of a dataset's prompt and output token lengths. */
import type { DatasetAnalysis } from "./analyze_dataset.ts";

/**
 * Vega-Lite v5 spec: a histogram of prompt lengths above one of output lengths (when there are
 * outputs), counted into equal-width bins here so the spec stays small for large datasets,
 * with dashed labelled rules at the recommended n-prompt and n-predict values. Render with vega-lite / vega, or view in a notebook (mime type
 * application/vnd.vegalite.v5+json).
 *
 * @param a The analysis.
 * @param binCount Bins per series (default 40).
 * @returns The spec, a plain JSON object.
 * @throws {RangeError} When binCount is not an integer in [1, 1000].
 * @example
 * ```ts
 * import { analyzeDataset } from "./analyze_dataset.ts";
 * import { lengthHistogramSpec } from "./length_histogram_spec.ts";
 * import { createWhitespaceTokenizer } from "../tokenizer/mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"prompt": "a b c", "output": "d e"}\n');
 * const spec = lengthHistogramSpec(await analyzeDataset(path, { tokenizer: createWhitespaceTokenizer() }));
 * spec.$schema; // "https://vega.github.io/schema/vega-lite/v5.json"
 * ```
 */
export function lengthHistogramSpec(a: DatasetAnalysis, binCount = 40): Record<string, unknown> {
  if (!Number.isInteger(binCount) || binCount < 1 || binCount > 1000) {
    throw new RangeError(`Cannot draw a histogram: binCount must be in [1, 1000], got ${binCount}`);
  }
  const rules = (series: string) =>
    series === "prompt"
      ? [{ tokens: a.nPrompt, label: `n-prompt ${a.nPrompt}` }]
      : a.recommendations.map((r) => ({ tokens: r.nPredict, label: `${r.name} ${r.nPredict}` }));
  const panel = (series: string, lengths: readonly number[]) => ({
    title: `${series} tokens (${lengths.length} records)`,
    width: 560,
    height: 160,
    layer: [
      {
        data: { values: bins(lengths, binCount) },
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: { field: "binStart", type: "quantitative", title: "tokens", bin: { binned: true } },
          x2: { field: "binEnd" },
          y: { field: "count", type: "quantitative", title: "records" },
        },
      },
      {
        data: { values: rules(series) },
        mark: { type: "rule", strokeDash: [4, 3], color: "#c0392b" },
        encoding: { x: { field: "tokens", type: "quantitative" } },
      },
      {
        data: { values: rules(series) },
        mark: { type: "text", angle: 270, align: "left", dx: 4, dy: -4, color: "#c0392b" },
        encoding: {
          x: { field: "tokens", type: "quantitative" },
          y: { value: 0 },
          text: { field: "label" },
        },
      },
    ],
  });
  const panels = [panel("prompt", a.promptTokens)];
  if (a.outputTokens.length > 0) panels.push(panel("output", a.outputTokens));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `Token lengths: ${a.file} (${a.tokenizer.source})`,
    vconcat: panels,
  };
}

/** Equal-width bins over [0, max]; each value lands in exactly one bin. */
function bins(lengths: readonly number[], binCount: number) {
  const max = lengths.reduce((m, v) => Math.max(m, v), 0);
  const width = Math.max(1, Math.ceil((max + 1) / binCount));
  const counts = new Map<number, number>();
  for (const v of lengths) {
    const b = Math.floor(v / width);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => x[0] - y[0]).map(([b, count]) => ({
    binStart: b * width,
    binEnd: (b + 1) * width,
    count,
  }));
}
