import assert from "node:assert/strict";
import { gridRunMetrics } from "./grid_run_metrics.ts";

Deno.test("gridRunMetrics derives the per-run figures from the engine's step times", () => {
  const m = gridRunMetrics({
    stepNs: [8e6, 2e6, 4e6, 2e6],
    ttftNs: 8e6,
    prefillNs: 6e6,
    totalNs: 16.5e6,
    promptTokens: 12,
  });
  assert.equal(m.ttftNs, 8e6);
  assert.equal(m.prefillNs, 6e6);
  assert.equal(m.prefillTps, 2000); // 12 tokens / 6 ms
  assert.equal(m.decodeTps, 375); // 3 tokens / 8 ms
  assert.equal(m.tpotNs, 2e6); // median of [2, 4, 2] ms
  assert.equal(m.e2eNs, 16.5e6);
});

Deno.test("gridRunMetrics leaves decode figures out for a single generated token", () => {
  const m = gridRunMetrics({
    stepNs: [5e6],
    ttftNs: 5e6,
    prefillNs: 4e6,
    totalNs: 5e6,
    promptTokens: 4,
  });
  assert.equal("decodeTps" in m, false);
  assert.equal("tpotNs" in m, false);
});

Deno.test("gridRunMetrics rejects empty or non-positive timings", () => {
  assert.throws(
    () => gridRunMetrics({ stepNs: [], ttftNs: 1, prefillNs: 1, totalNs: 1, promptTokens: 1 }),
    { message: "Cannot derive run figures: stepNs is empty" },
  );
  assert.throws(
    () => gridRunMetrics({ stepNs: [1], ttftNs: 1, prefillNs: 0, totalNs: 1, promptTokens: 1 }),
    { message: /engine times must be positive, got ttftNs 1, prefillNs 0/ },
  );
});
