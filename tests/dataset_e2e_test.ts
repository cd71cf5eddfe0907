/**
 * End to end: scripts/analyze-dataset.ts reads a CSV dataset, writes the Markdown and JSON
 * reports, a scenario that lib/scenario loads, and a Vega-Lite spec that vega-lite compiles.
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
    const chart = join(dir, "lengths.vl.json");
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

    const spec = JSON.parse(await Deno.readTextFile(chart));
    const vega = compile(spec).spec;
    assert.ok(Array.isArray(vega.marks) && vega.marks.length > 0);

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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
