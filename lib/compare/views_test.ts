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
