import assert from "node:assert/strict";
import { driftWarnings } from "./drift_warnings.ts";

Deno.test("driftWarnings: nothing within 10%, the ceiling warning beyond it", () => {
  assert.deepEqual(driftWarnings(60e9, 64e9, "cache-sweep", false), []);
  const w = driftWarnings(40.6e9, 81e9, "workers", false);
  assert.equal(w.length, 1);
  assert.match(w[0], /40\.6 GB\/s before .* 81\.0 GB\/s after \(\+100%\)/);
});

Deno.test("driftWarnings: a sweep or grid run in order is told to interleave, an interleaved one not", () => {
  const sweep = driftWarnings(40e9, 80e9, "cache-sweep", false);
  assert.equal(sweep.length, 2);
  assert.match(sweep[1], /growth from the first position .* --interleave/);
  assert.match(driftWarnings(80e9, 40e9, "grid", false)[1], /moved -50%: ratios between cases/);
  assert.equal(driftWarnings(40e9, 80e9, "cache-sweep", true).length, 1);
  assert.equal(driftWarnings(40e9, 80e9, "workers", false).length, 1);
});
