// End to end: every chart kind from fixture records compiles cleanly, renders to a PNG of the
// size its SVG declares, and the chart command writes the applicable files.
import assert from "node:assert/strict";
import { compile } from "vega-lite";
import { readRecord } from "../lib/results/read_record.ts";
import {
  allCharts,
  backendSpeedupChart,
  breakdownChart,
  cacheChart,
  type ChartSpec,
  displayChart,
  executorRatioChart,
  latencyChart,
  renderPng,
  renderSvg,
  stepTpsChart,
  throughputChart,
  ttftChart,
  workersChart,
} from "../lib/charts/mod.ts";

const FIX = "tests/fixtures/records";
const [gridA, gridB, cuda, sweep, workers] = await Promise.all(
  ["grid-a", "grid-b", "grid-cuda", "cache-sweep", "workers"].map((n) =>
    readRecord(`${FIX}/${n}.json`)
  ),
);

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Uint8Array): [number, number] {
  assert.deepEqual([...png.slice(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(new TextDecoder().decode(png.slice(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

/** Compile with a logger that fails on any warning or error. */
function compileStrict(spec: ChartSpec): void {
  const problems: string[] = [];
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => (problems.push(a.join(" ")), logger),
    warn: (...a: unknown[]) => (problems.push(a.join(" ")), logger),
    info: () => logger,
    debug: () => logger,
  };
  compile(spec, { logger: logger as never });
  assert.deepEqual(problems, []);
}

const KINDS: [string, () => ChartSpec][] = [
  ["ttft", () => ttftChart([gridA, gridB])],
  ["step-tps", () => stepTpsChart([gridA])],
  ["throughput", () => throughputChart([gridA, gridB])],
  ["cache-tps", () => cacheChart([sweep], "tps")],
  ["cache-step", () => cacheChart([sweep], "stepNs")],
  ["executor-ratio", () => executorRatioChart([sweep])],
  ["backend-speedup", () => backendSpeedupChart([gridA, cuda])],
  ["workers", () => workersChart([workers])],
  ["latency", () => latencyChart([gridA])],
  ["breakdown", () => breakdownChart([gridA])],
];

for (const [name, draw] of KINDS) {
  Deno.test(`chart ${name}: compiles cleanly and renders a PNG of the SVG's size`, async () => {
    const spec = draw();
    compileStrict(spec);
    const svg = await renderSvg(spec);
    const w = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
    const h = Number(/<svg[^>]* height="([\d.]+)"/.exec(svg)![1]);
    assert.ok(w > 300 && h > 200, `${w}x${h}`);
    assert.ok(svg.includes("<text"), "text must survive");
    const png = await renderPng(svg, { scale: 2 });
    assert.deepEqual(pngSize(png), [Math.round(w * 2), Math.round(h * 2)]);
    assert.ok(png.length > 10_000);
  });
}

Deno.test("charts refuse records without their data, naming what is missing", () => {
  assert.throws(
    () => ttftChart([workers]),
    /Cannot draw TTFT chart: no case has params.promptTokens and metrics.ttftNs/,
  );
  assert.throws(() => executorRatioChart([gridA]), /Cannot draw executor ratio chart/);
  assert.throws(() => backendSpeedupChart([gridA, gridB]), /need records on two backends/);
  assert.throws(() => workersChart([sweep]), /Cannot draw workers scaling chart/);
  assert.throws(() => ttftChart([gridA], { labels: ["a", "b"] }), /got 2 labels for 1 records/);
});

Deno.test("allCharts picks the kinds each record supports", () => {
  assert.deepEqual(allCharts([workers]).map((c) => c.name), [
    "latency-percentiles",
    "workers-scaling",
  ]);
  assert.deepEqual(allCharts([sweep]).map((c) => c.name), [
    "cache-tps",
    "cache-step",
    "executor-ratio",
  ]);
  assert.deepEqual(allCharts([gridA]).map((c) => c.name), [
    "ttft-vs-prompt",
    "step-tps",
    "throughput",
    "latency-percentiles",
    "breakdown",
  ]);
  assert.ok(allCharts([gridA, cuda]).some((c) => c.name === "backend-speedup"));
});

Deno.test("displayChart gives Jupyter a Vega-Lite v5 bundle", () => {
  const spec = ttftChart([gridA]);
  const bundle = displayChart(spec)[Symbol.for("Jupyter.display")]();
  const shown = bundle["application/vnd.vegalite.v5+json"] as Record<string, unknown>;
  assert.match(String(shown.$schema), /vega-lite\/v5\.json$/);
  assert.deepEqual(shown.data, spec.data);
});

Deno.test("chart command writes png and svg files, exit 2 on a bad record", async () => {
  const out = await Deno.makeTempDir();
  try {
    const run = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "scripts/chart.ts", ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await run(`${FIX}/cache-sweep.json`, "--out", out, "--format", "png,svg");
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "cache-step.png",
      "cache-step.svg",
      "cache-tps.png",
      "cache-tps.svg",
      "executor-ratio.png",
      "executor-ratio.svg",
    ]);
    const bad = await run(`${FIX}/new-version.json`, "--out", out);
    assert.equal(bad.code, 2);
    assert.match(
      new TextDecoder().decode(bad.stderr),
      /schema version 3 is newer than this tool's 2/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
