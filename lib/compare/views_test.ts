import assert from "node:assert/strict";
import { readRecord } from "../results/read_record.ts";
import { backendSpeedups, executorRatios, workersScaling } from "./mod.ts";

const FIX = "tests/fixtures/records";

Deno.test("executorRatios: graph / eager per position, in order", async () => {
  const sweep = await readRecord(`${FIX}/cache-sweep.json`);
  const rows = executorRatios(sweep);
  assert.equal(rows.length, 16);
  assert.deepEqual(rows.map((r) => r.position).slice(0, 4), [1, 2, 4, 8]);
  for (const r of rows) {
    assert.ok(Math.abs(r.ratio - r.graphTps / r.eagerTps) < 1e-9);
    assert.ok(r.low <= r.ratio && r.ratio <= r.high && r.ratio > 1);
  }
  // The fixed eager overhead matters less as steps get longer.
  assert.ok(rows[0].ratio > rows[rows.length - 1].ratio);
});

Deno.test("workersScaling: speedup and efficiency from total TPS", async () => {
  const w = await readRecord(`${FIX}/workers.json`);
  const rows = workersScaling(w);
  assert.deepEqual(rows.map((r) => r.workers), [1, 2, 4, 8, 16]);
  assert.equal(rows[0].efficiency, 1);
  for (const r of rows) {
    assert.ok(Math.abs(r.speedup - r.tps / rows[0].tps) < 1e-12);
    assert.ok(Math.abs(r.efficiency - r.speedup / r.workers) < 1e-12);
  }
  assert.ok(rows[4].efficiency < rows[1].efficiency);
});

Deno.test("backendSpeedups: per case, refuses the same backend", async () => {
  const cpu = await readRecord(`${FIX}/grid-a.json`);
  const cuda = await readRecord(`${FIX}/grid-cuda.json`);
  const rows = backendSpeedups(cpu, cuda);
  assert.equal(rows.length, 6);
  for (const r of rows) assert.ok(Math.abs(r.speedup - r.otherTps / r.baseTps) < 1e-9);
  assert.throws(() => backendSpeedups(cpu, cpu), /both records ran on backend "cpu"/);
});

Deno.test("targetRatios: llama.cpp / lmrig per case from one side-by-side record", async () => {
  const { targetRatios, comparisonViews } = await import("./mod.ts");
  // The fixture's llama.cpp samples are lmrig's halved (times doubled): every ratio is 0.5.
  const r = await readRecord(`${FIX}/grid-targets.json`);
  const rows = targetRatios(r);
  assert.deepEqual(rows.map((x) => x.caseId), ["S1", "S2", "S3", "S4", "S5", "S6"]);
  for (const x of rows) {
    assert.equal(x.base, "lmrig");
    assert.equal(x.other, "llama.cpp");
    assert.equal(x.metric, "decodeTps");
    assert.ok(Math.abs(x.ratio - 0.5) < 1e-12, String(x.ratio));
    assert.ok(x.low < 0.5 && x.high > 0.5 && x.low > 0.45 && x.high < 0.55);
  }
  // Negative control: a record on one target has no target ratio.
  assert.deepEqual(targetRatios(await readRecord(`${FIX}/grid-a.json`)), []);
  // A case without decode steps is compared on prefill TPS.
  for (const c of r.cases) delete c.metrics.decodeTps;
  assert.ok(
    targetRatios(r).every((x) => x.metric === "prefillTps" && Math.abs(x.ratio - 0.5) < 1e-12),
  );
  const views = comparisonViews([r], ["side"], 0);
  assert.equal(views.targetRatios[0].record, "side");
});
