import assert from "node:assert/strict";
import { readRecord } from "../results/read_record.ts";
import { compareRecords, findRegressions, formatComparison } from "./mod.ts";

const FIX = "tests/fixtures/records";
const a = await readRecord(`${FIX}/grid-a.json`);
const b = await readRecord(`${FIX}/grid-b.json`);

Deno.test("compareRecords: 10% faster on S1-S3, equal on S4-S6", () => {
  const c = compareRecords([a, b], { files: ["grid-a.json", "grid-b.json"] });
  assert.deepEqual(c.labels, ["grid-a", "grid-b"]);
  const ids = new Set(c.rows.map((r) => r.caseIds[0]));
  assert.deepEqual([...ids], ["S1", "S2", "S3", "S4", "S5", "S6"]);
  for (const row of c.rows) {
    const cell = row.cells[1]!;
    const faster = ["S1", "S2", "S3"].includes(row.caseIds[0]!);
    // Times shrink by 1/1.1, rates grow by 1.1; equal cases give exactly 1.
    const truth = !faster ? 1 : row.better === "higher" ? 1.1 : 1 / 1.1;
    assert.ok(Math.abs(cell.ratio - truth) < 1e-9, `${row.caseIds[0]} ${row.metric} ${cell.ratio}`);
    assert.ok(
      cell.low <= truth && truth <= cell.high,
      `${row.metric} CI ${cell.low}..${cell.high}`,
    );
    assert.equal(
      cell.verdict,
      faster ? "faster" : "within noise",
      `${row.caseIds[0]} ${row.metric}`,
    );
    if (faster) assert.ok(Math.abs(cell.improvementPct - 10) < 1e-6);
  }
  assert.equal(c.unmatched.length, 1);
  assert.equal(c.unmatched[0].caseId, "S7");
  assert.match(c.unmatched[0].reason, /not in baseline grid-a/);
});

Deno.test("compareRecords: the baseline flips the verdicts; a large threshold hides them", () => {
  const c = compareRecords([a, b], { baseline: 1, metrics: ["decodeTps"] });
  assert.equal(c.rows.length, 6);
  assert.deepEqual(c.rows.map((r) => r.cells[0]!.verdict), [
    "slower",
    "slower",
    "slower",
    "within noise",
    "within noise",
    "within noise",
  ]);
  const loose = compareRecords([a, b], { thresholdPct: 15, metrics: ["decodeTps"] });
  assert.ok(loose.rows.every((r) => r.cells[1]!.verdict === "within noise"));
});

Deno.test("compareRecords: case filters, metric choice and bad options", () => {
  const c = compareRecords([a, b], { cases: /^S[12]$/, metrics: ["ttftNs", "e2eNs"] });
  assert.deepEqual(c.rows.map((r) => `${r.caseIds[0]}:${r.metric}`), [
    "S1:ttftNs",
    "S1:e2eNs",
    "S2:ttftNs",
    "S2:e2eNs",
  ]);
  assert.throws(() => compareRecords([a]), /need at least two, got 1/);
  assert.throws(() => compareRecords([a, b], { baseline: 2 }), /baseline 2 is out of range 0..1/);
});

Deno.test("compareRecords: another scenario compares nothing and warns", async () => {
  const sweep = await readRecord(`${FIX}/cache-sweep.json`);
  const c = compareRecords([a, sweep]);
  assert.equal(c.rows.length, 0);
  assert.equal(c.unmatched.length, 6 + sweep.cases.length);
  assert.match(
    c.warnings.join("\n"),
    /scenario "cache-sweep" \(cache-sweep\), baseline .* "s1-s6"/,
  );
  assert.match(formatComparison(c), /No case matched between the records/);
});

Deno.test("findRegressions respects metric direction and noise", () => {
  const worse = findRegressions(compareRecords([b, a]), 5);
  assert.equal(worse.length, 12); // 4 main figures x S1-S3, each ~9.1% worse
  assert.ok(worse.every((r) => Math.abs(r.worsePct - 100 / 11) < 1e-6));
  assert.equal(findRegressions(compareRecords([b, a]), 9.5).length, 0);
  assert.equal(findRegressions(compareRecords([a, b]), 0).length, 0);
  assert.throws(() => findRegressions(compareRecords([a, b]), -1), /must be >= 0 percent, got -1/);
});

Deno.test("formatComparison: markdown and csv carry every figure", () => {
  const c = compareRecords([a, b], { files: ["grid-a.json", "grid-b.json"] });
  const md = formatComparison(c);
  assert.match(
    md,
    /\| S1 \| promptTokens=16, decodeTokens=32 \| Decode TPS \| 10\.0 tok\/s ± 0\.1 \| 11\.0 tok\/s ± 0\.1 \| 1\.100 \[/,
  );
  assert.match(md, /### Unmatched cases[\s\S]*\| grid-b \| S7 \|/);
  const csv = formatComparison(c, undefined, "csv").trim().split("\n");
  assert.equal(csv.length, 1 + c.rows.length * 2);
  assert.throws(() => formatComparison(c, undefined, "xml" as "csv"), /unknown format "xml"/);
});
