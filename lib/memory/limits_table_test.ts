import assert from "node:assert/strict";
import { limitsTable } from "./limits_table.ts";

Deno.test("limitsTable: a row's own decode bytes (a quantised variant) set its limit", () => {
  const rows = limitsTable(100e9, 1e9, 0, [
    { label: "bf16", sequences: 1, meanPosition: 0, tps: 50 },
    { label: "q4_k_m", sequences: 1, meanPosition: 0, tps: 50, decodeBytes: 0.25e9 },
  ]);
  assert.equal(rows[0].maxTps, 100);
  assert.equal(rows[1].maxTps, 400);
  assert.equal(rows[1].utilisation, 0.125);
  // without its own bytes the variant would read as 50% of a BF16 limit
  assert.notEqual(rows[1].utilisation, rows[0].utilisation);
});
