// End to end: the report command writes the markdown report and its charts from records.
import assert from "node:assert/strict";
import { buildReport } from "../lib/report/mod.ts";
import { readRecord } from "../lib/results/read_record.ts";

const FIX = "tests/fixtures/records";

Deno.test("buildReport: S1-S6 table from the samples, metrics, sweep and workers sections", async () => {
  const grid = await readRecord(`${FIX}/grid-a.json`);
  const md = buildReport([
    grid,
    await readRecord(`${FIX}/cache-sweep.json`),
    await readRecord(`${FIX}/workers.json`),
  ]);
  const s1 = grid.cases[0];
  const ttftMs = s1.metrics.ttftNs.summary.median / 1e6;
  assert.ok(md.includes(`| S1 | 16 | 32 | ${ttftMs.toFixed(1)} ± `), "TTFT median from the record");
  assert.match(md, /\| Prefill scaling \| 11\.1 ms\/token \|/);
  assert.match(
    md,
    /## Cache sweep: [\s\S]*\| 32640 \| [\d.]+ \| [\d.]+ ± [\d.]+ \| [\d.]+ \| [\d.]+ ± [\d.]+ \| 1\.0\d\dx \|/,
  );
  assert.match(md, /## Workers scaling: [\s\S]*\| 16 \| [\d.]+ ± [\d.]+ \| [\d.]+x \| [\d.]+% \|/);
  assert.match(md, /## Warnings\n\n- .*S1: decodeTps CV/);
  assert.throws(() => buildReport([]), /no records given/);
});

Deno.test("report command writes the report and links charts that exist", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/docs/benchmarks.md`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "scripts/report.ts",
        `${FIX}/grid-a.json`,
        `${FIX}/grid-cuda.json`,
        "--out",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const md = await Deno.readTextFile(out);
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    assert.ok(links.includes("charts/backend-speedup.png"));
    for (const link of links) {
      assert.ok((await Deno.stat(`${dir}/docs/${link}`)).size > 10_000, link);
    }
    assert.match(md, /## Backend speedup: grid-cuda \(cuda\/graph\) over grid-a \(cpu\/eager\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildReport: a side-by-side record gets its target ratios with their CI", async () => {
  const md = buildReport([await readRecord("tests/fixtures/records/grid-targets.json")]);
  assert.match(md, /### Target ratio \(llama\.cpp \/ lmrig\): /);
  assert.match(
    md,
    /\| S2 \| decode TPS \| 10\.0 tok\/s \| 5\.0 tok\/s \| 0\.50x \[0\.4\d, 0\.5\d\] \|/,
  );
  // Negative control: a record on one target has none.
  const plain = buildReport([await readRecord("tests/fixtures/records/grid-a.json")]);
  assert.doesNotMatch(plain, /Target ratio/);
});

Deno.test("buildReport: one environment row per record, each with its own bandwidth ceiling", async () => {
  const a = await readRecord(`${FIX}/grid-a.json`);
  const b = structuredClone(a);
  b.id = "grid-a-again";
  b.environment.probes.ceilingBps = a.environment.probes.ceilingBps * 1.5;
  const md = buildReport([a, b]);
  const env = md.slice(md.indexOf("## Environment"), md.indexOf("## Results"));
  const rows = env.split("\n").filter((l) => / ceiling \(every limit/.test(l));
  assert.equal(rows.length, 2, "a row for each record, not one shared row");
  const gb = (bps: number) => `${(bps / 1e9).toFixed(2)} GB/s ceiling`;
  assert.ok(rows[0].includes(gb(a.environment.probes.ceilingBps)), rows[0]);
  assert.ok(rows[1].includes(gb(b.environment.probes.ceilingBps)), rows[1]);
});
