// End to end: the compare command on fixture records, its output formats and exit codes.
import assert from "node:assert/strict";

const FIX = "tests/fixtures/records";

async function compare(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/compare.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("compare: markdown table, unmatched cases, exit 0", async () => {
  const r = await compare(`${FIX}/grid-a.json`, `${FIX}/grid-b.json`);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /\| S1 \| .* \| Decode TPS \| .* \| 1\.100 \[\d\.\d+, \d\.\d+\] \| faster \|/,
  );
  assert.match(r.out, /\| S5 \| .* \| TTFT \| .* \| 1\.000 \[.*\] \| within noise \|/);
  assert.match(
    r.out,
    /\| grid-b \| S7 \| promptTokens=2048, decodeTokens=64 \| not in baseline grid-a \|/,
  );
});

Deno.test("compare: --fail-above exits 1 only past the limit", async () => {
  const args = [`${FIX}/grid-a.json`, `${FIX}/grid-b.json`, "--baseline", "grid-b.json"];
  const fail = await compare(...args, "--fail-above", "5");
  assert.equal(fail.code, 1);
  assert.match(fail.err, /regression: grid-a S1 decodeTps is 9\.1% worse \(limit 5%\)/);
  assert.equal((await compare(...args, "--fail-above", "10")).code, 0);
  assert.equal(
    (await compare(`${FIX}/grid-a.json`, `${FIX}/grid-b.json`, "--fail-above", "0")).code,
    0,
  );
});

Deno.test("compare: json and csv formats, metric and case filters", async () => {
  const r = await compare(
    `${FIX}/grid-a.json`,
    `${FIX}/grid-b.json`,
    "--format",
    "json",
    "--metric",
    "decodeTps",
    "--case",
    "S1,S4",
  );
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.rows.map((x: { caseIds: string[] }) => x.caseIds[0]), ["S1", "S4"]);
  assert.deepEqual(j.rows.map((x: { cells: { verdict: string }[] }) => x.cells[1].verdict), [
    "faster",
    "within noise",
  ]);
  const csv = await compare(
    `${FIX}/grid-a.json`,
    `${FIX}/grid-b.json`,
    "--format",
    "csv",
    "--case",
    "/^S[23]$/",
  );
  assert.equal(csv.out.trim().split("\n").length, 1 + 2 * 4 * 2);
});

Deno.test("compare: special views for backends, executors and workers", async () => {
  const r = await compare(
    `${FIX}/grid-a.json`,
    `${FIX}/grid-cuda.json`,
    `${FIX}/cache-sweep.json`,
    `${FIX}/workers.json`,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /### Backend speedup: grid-cuda \(cuda\/graph\) over grid-a \(cpu\/eager\)/);
  assert.match(r.out, /### Executor ratio \(graph \/ eager\): cache-sweep/);
  assert.match(r.out, /### Workers scaling: workers[\s\S]*\| 16 \| .* \| \d+\.\d+x \| \d+\.\d% \|/);
  assert.match(r.err, /warning: cache-sweep .* comparing matching cases only/);
});

Deno.test("compare: bad input exits 2 with a message", async () => {
  const bad = await compare(`${FIX}/grid-a.json`, `${FIX}/malformed.json`);
  assert.equal(bad.code, 2);
  assert.match(
    bad.err,
    /Cannot read record ".*malformed\.json": malformed JSON at line 5, column 19/,
  );
  const one = await compare(`${FIX}/grid-a.json`);
  assert.equal(one.code, 2);
  assert.match(one.err, /need at least two record files, got 1/);
  const fmt = await compare(`${FIX}/grid-a.json`, `${FIX}/grid-b.json`, "--format", "xml");
  assert.match(fmt.err, /--format must be markdown, csv or json, got "xml"/);
  const base = await compare(`${FIX}/grid-a.json`, `${FIX}/grid-b.json`, "--baseline", "nope.json");
  assert.match(base.err, /--baseline "nope.json" is neither an index nor one of the files/);
});

Deno.test("compare: one side-by-side record shows the target ratios with their CI", async () => {
  const r = await compare(`${FIX}/grid-targets.json`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /### Target ratio \(llama\.cpp \/ lmrig\)/);
  assert.match(
    r.out,
    /\| S1 \| decode TPS \| 10\.0 tok\/s \| 5\.0 tok\/s \| 0\.50x \[0\.4\d, 0\.5\d\] \|/,
  );
  const json = await compare(`${FIX}/grid-targets.json`, "--format", "json");
  assert.equal(JSON.parse(json.out).targetRatios.length, 6);
  // Two records, one of them side by side: the view is there too.
  const two = await compare(`${FIX}/grid-a.json`, `${FIX}/grid-targets.json`);
  assert.equal(two.code, 0, two.err);
  assert.match(two.out, /### Target ratio \(llama\.cpp \/ lmrig\): /);
  // Negative control: one record of one target is refused.
  const one = await compare(`${FIX}/grid-a.json`);
  assert.notEqual(one.code, 0);
  assert.match(one.err, /ran on one target/);
});
