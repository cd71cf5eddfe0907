import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { datasetHistogramChart, type DatasetLengths } from "./dataset_histogram_chart.ts";
import { renderPng } from "./render_png.ts";
import { renderSvg } from "./render_svg.ts";

// Prompts 1..100 tokens; outputs 10, 20, ..., 1000 and one of 5000 (beyond the axis).
const LENGTHS: DatasetLengths = {
  file: "data/chat.jsonl",
  tokenizer: { source: "whitespace" },
  promptTokens: Array.from({ length: 100 }, (_, i) => i + 1),
  outputTokens: [...Array.from({ length: 100 }, (_, i) => 10 * (i + 1)), 5000],
  nPrompt: 64,
  recommendations: [
    { name: "conservative", nPredict: 512, share: 0.5 },
    { name: "recommended", nPredict: 1024, share: 100 / 101 },
    { name: "comprehensive", nPredict: 1024, share: 100 / 101 },
  ],
};

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("histogram: bins count every length once, rules mark the settings", () => {
  const spec = datasetHistogramChart(LENGTHS, { binCount: 20 }) as Json;
  const [prompt, output] = spec.vconcat;
  const sum = (p: Json) => p.layer[0].data.values.reduce((n: number, b: Json) => n + b.count, 0);
  assert.equal(sum(prompt), 100);
  assert.equal(sum(output), 101);
  // The prompt axis ends at p99 = 99 (past n-prompt 64): bars of 5; 100 lies beyond it.
  assert.equal(prompt.layer[0].data.values[0].binEnd, 5);
  assert.equal(
    prompt.layer[0].encoding.x.title,
    "Prompt tokens (bars of 5; grey: 1 longer, up to 100)",
  );
  // Output axis ends at 1024 * 1.04 (p99 is 1000): bars of 60; 5000 lies beyond, in grey.
  const last = output.layer[0].data.values.at(-1);
  assert.deepEqual([last.kind, last.count], ["longer", 1]);
  assert.match(output.layer[0].encoding.x.title, /bars of 60; grey: 1 longer, up to 5000/);
  assert.deepEqual(prompt.layer[1].data.values.map((m: Json) => m.label), ["n-prompt 64 (64.0%)"]);
  assert.deepEqual(output.layer[1].data.values.map((m: Json) => m.label), [
    "conservative 512 (50.0%)",
    "recommended = comprehensive 1024 (99.0%)",
  ]);
  assert.match(spec.title.text, /^Token lengths: chat\.jsonl$/);
});

Deno.test("histogram: prompt-only datasets get one panel; bad input is refused", () => {
  const spec = datasetHistogramChart({ ...LENGTHS, outputTokens: [], recommendations: [] }) as Json;
  assert.equal(spec.vconcat.length, 1);
  assert.throws(() => datasetHistogramChart(LENGTHS, { binCount: 0 }), RangeError);
  assert.throws(
    () => datasetHistogramChart({ ...LENGTHS, promptTokens: [] }),
    /no prompt lengths/,
  );
});

Deno.test("histogram: compiles without warnings and renders a PNG of the SVG's size", async () => {
  const spec = datasetHistogramChart(LENGTHS);
  const problems: string[] = [];
  const logger: Json = {
    level: () => logger,
    error: (...a: unknown[]) => (problems.push(a.join(" ")), logger),
    warn: (...a: unknown[]) => (problems.push(a.join(" ")), logger),
    info: () => logger,
    debug: () => logger,
  };
  assert.ok(compile(spec, { logger }).spec.marks);
  assert.deepEqual(problems, []);
  const svg = await renderSvg(spec);
  const [w, h] = [/width="(\d+)"/, /height="(\d+)"/].map((r) => Number(svg.match(r)![1]));
  const png = await renderPng(svg, { scale: 2 });
  assert.deepEqual([...png.slice(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(new TextDecoder().decode(png.slice(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset);
  assert.deepEqual([view.getUint32(16), view.getUint32(20)], [2 * w, 2 * h]);
  assert.ok(w > 560 && w < 800, `width ${w}: titles must not widen the image`);
});
