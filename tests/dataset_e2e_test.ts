/**
 * End to end: scripts/analyze-dataset.ts reads CSV and JSON-array datasets with known lengths,
 * writes the Markdown and JSON reports (exact percentiles, coverage, skipped lines), a scenario
 * that lib/scenario loads, and the histogram as a PNG, an SVG or a Vega-Lite spec.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compile } from "vega-lite";
import { loadScenario } from "../lib/scenario/mod.ts";

const script = new URL("../scripts/analyze-dataset.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("analyze-dataset: CSV in, reports, scenario and chart out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = join(dir, "qa.csv");
    // Questions of 2..11 words, answers of 60 * k words; one row with a field too many.
    const rows = ["question,answer"];
    for (let k = 1; k <= 10; k++) {
      rows.push(`"${"word ".repeat(k + 1).trim()}",${"x ".repeat(60 * k).trim()}`);
    }
    rows.splice(4, 0, "a,b,c");
    await Deno.writeTextFile(data, rows.join("\n") + "\n");
    const scenario = join(dir, "from-qa.ts");
    const chart = join(dir, "lengths.png");
    const common = [data, "--model", "whitespace", "--prompt-field", "question"];
    const md = await run([
      ...common,
      "--output-field",
      "answer",
      "--candidates",
      "256,512,1024",
      "--write-scenario",
      scenario,
      "--chart",
      chart,
    ]);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /\| Prompt \| 10 \| 6\.5 \| 2 \| 6 \| 9 \| 10 \| 11 \| 11 \| 11 \|/);
    assert.match(
      md.stdout,
      /\| 256 \| 4 \| 40\.0% \|\n\| 512 \| 8 \| 80\.0% \|\n\| 1024 \| 10 \| 100\.0% \|/,
    );
    assert.ok(md.stdout.includes(`- \`${data}:5\`: expected 2 fields (as the header), got 3`));
    assert.match(md.stderr, new RegExp(`Skipped 1 of 11 records; first: ${data}:5`));

    const s = await loadScenario(scenario);
    assert.equal(s.kind, "grid");
    assert.equal(s.name, "dataset-qa");
    if (s.kind !== "grid") throw new Error("unreachable");
    assert.deepEqual(s.cases.map((c) => [c.id, c.promptTokens, c.decodeTokens]), [
      ["typical", 6, 300],
      ["conservative", 16, 512],
      ["recommended", 16, 1024],
      ["comprehensive", 16, 1024],
    ]);

    const png = await Deno.readFile(chart);
    assert.deepEqual([...png.slice(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(new TextDecoder().decode(png.slice(12, 16)), "IHDR");
    const view = new DataView(png.buffer, png.byteOffset);
    const [w, h] = [view.getUint32(16), view.getUint32(20)];
    assert.ok(w > 1000 && w < 1700 && h > 600 && h < 1200, `PNG is ${w} x ${h}`);
    assert.match(md.stderr, /Wrote histogram .*lengths\.png/);

    const json = await run([...common, "--format", "json", "--strict", "--max-issues", "0"]);
    assert.equal(json.code, 1, "--strict fails when records were skipped");
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.schema, "lmrig.dataset-analysis");
    assert.equal(doc.skipped, 1);
    assert.deepEqual(doc.issues, []);
    assert.equal(doc.output, null); // no --output-field: prompt-only
    assert.equal(doc.promptTokens, undefined);

    const bad = await run([data, "--model", "whitespace", "--format", "yaml"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be md or json, got "yaml"/);
    const badChart = await run([data, "--model", "whitespace", "--chart", "x.jpg"]);
    assert.equal(badChart.code, 2);
    assert.match(badChart.stderr, /--chart must end in \.png, \.svg or \.json, got "x\.jpg"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("analyze-dataset: a JSON array (streamed), bad elements by line, SVG and spec", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = join(dir, "chat.json");
    // 20 ShareGPT records: prompt k words, answer 10 * k words (k = 1..20); element 2 (line 3)
    // is not valid JSON, element 4 has no gpt turn; the file ends without its "]".
    const conv = (k: number) =>
      JSON.stringify({
        conversations: [
          { from: "human", value: "w ".repeat(k).trim() },
          { from: "gpt", value: "a ".repeat(10 * k).trim() },
        ],
      });
    const elements = Array.from({ length: 20 }, (_, i) => conv(i + 1));
    elements.splice(1, 0, '{"conversations": [oops]}');
    elements.splice(3, 0, '{"conversations": [{"from": "human", "value": "[q]"}]}');
    await Deno.writeTextFile(data, "[\n" + elements.join(",\n") + "\n");
    const svg = join(dir, "h.svg");
    const spec = join(dir, "h.vl.json");
    const args = [data, "--model", "whitespace", "--candidates", "50,100,150,200", "--format"];
    const out = await run([...args, "json", "--chart", svg]);
    assert.equal(out.code, 0, out.stderr);
    const doc = JSON.parse(out.stdout);
    assert.equal(doc.records, 20);
    assert.deepEqual(doc.prompt, {
      count: 20,
      mean: 10.5,
      min: 1,
      p50: 10,
      p75: 15,
      p90: 18,
      p95: 19,
      p99: 20,
      max: 20,
    });
    assert.deepEqual(
      [doc.output.p50, doc.output.p75, doc.output.p90, doc.output.p95, doc.output.p99],
      [100, 150, 180, 190, 200],
    );
    assert.deepEqual(doc.coverage.map((c: { covered: number }) => c.covered), [5, 10, 15, 20]);
    assert.deepEqual(
      doc.recommendations.map((r: { nPredict: number; share: number }) => [r.nPredict, r.share]),
      [[150, 0.75], [200, 1], [200, 1]],
    );
    assert.deepEqual(doc.issues.map((i: { line: number }) => i.line), [3, 5, 24]);
    assert.match(doc.issues[0].reason, /^invalid JSON: /);
    assert.equal(
      doc.issues[1].reason,
      "conversations has no gpt/assistant/chatgpt turn after the first human/user turn",
    );
    assert.equal(
      doc.issues[2].reason,
      "invalid JSON: the array is not closed before the end of the file",
    );
    assert.ok((await Deno.readTextFile(svg)).startsWith("<svg"));

    const md = await run([...args, "md", "--chart", spec, "--max-issues", "1"]);
    assert.equal(md.code, 0, md.stderr);
    assert.ok(md.stdout.includes(`- \`${data}:3\`: invalid JSON: `));
    assert.ok(md.stdout.includes("- ... and 2 more"));
    const vega = compile(JSON.parse(await Deno.readTextFile(spec))).spec;
    assert.ok(Array.isArray(vega.marks) && vega.marks.length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
