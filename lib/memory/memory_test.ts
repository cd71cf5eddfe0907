import assert from "node:assert/strict";
import { limitsTable } from "./limits_table.ts";
import { memoryTable } from "./memory_table.ts";

Deno.test("memoryTable: loads and projections scale with tokens and sequences", () => {
  const facts = {
    weightBytes: 988065536,
    kvBytesPerToken: 24576,
    kvPoolBytes: 1 << 20,
    peakBytes: 2e9,
    loads: [{ sequences: 1, tokens: 64 }, { sequences: 8, tokens: 64 }],
  };
  const rows = memoryTable(facts);
  const loads = rows.filter((r) => r.kind === "load");
  assert.equal(loads[1].bytes, 8 * loads[0].bytes);
  const ctx = rows.filter((r) => r.kind === "context");
  assert.deepEqual(ctx.map((r) => r.tokens), [512, 1024, 2048, 4096, 8192, 16384, 32768]);
  assert.equal(ctx.at(-1)!.bytes, 32768 * 24576);
  assert.throws(() => memoryTable({ ...facts, weightBytes: -1 }), RangeError);
});

Deno.test("limitsTable: weights are read once per step, KV once per sequence", () => {
  const [one, eight] = limitsTable(20e9, 1e9, 1000, [
    { label: "a", sequences: 1, meanPosition: 100, tps: 10 },
    { label: "b", sequences: 8, meanPosition: 100, tps: 100 },
  ]);
  assert.equal(one.bytesPerStep, 1e9 + 1e5);
  assert.ok(Math.abs(one.maxTps - 20e9 / (1e9 + 1e5)) < 1e-9);
  assert.equal(eight.bytesPerStep, 1e9 + 8e5);
  assert.ok(Math.abs(eight.maxTps - 8 * 20e9 / (1e9 + 8e5)) < 1e-9);
  assert.ok(Math.abs(eight.utilisation - 100 / eight.maxTps) < 1e-12);
  assert.ok(Math.abs(one.minStepNs - (1e9 + 1e5) / 20) < 1e-6);
  assert.throws(() => limitsTable(0, 1, 1, []), RangeError);
});
