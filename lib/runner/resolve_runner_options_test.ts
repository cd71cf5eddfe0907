import assert from "node:assert/strict";
import { resolveRunnerOptions } from "./resolve_runner_options.ts";

Deno.test("resolveRunnerOptions: fixed by default, adaptive bounds when asked", () => {
  const d = resolveRunnerOptions();
  assert.deepEqual([d.warmup, d.runs, d.minRuns, d.maxRuns, d.targetCv], [3, 5, 5, 5, null]);
  const a = resolveRunnerOptions({ runs: 4, targetCv: 0.02 });
  assert.deepEqual([a.minRuns, a.maxRuns], [4, 20]);
  assert.throws(() => resolveRunnerOptions({ minRuns: 5, maxRuns: 3 }), {
    message: "Runner option maxRuns (3) must be >= minRuns (5)",
  });
  assert.throws(() => resolveRunnerOptions({ warmup: -1 }), {
    message: "Runner option warmup must be an integer >= 0, got -1",
  });
  assert.throws(() => resolveRunnerOptions({ targetCv: 1.5 }), {
    message: /targetCv must be in \(0, 1\)/,
  });
});
