import assert from "node:assert/strict";
import { repeatRuns } from "./repeat_runs.ts";
import { resolveRunnerOptions } from "./resolve_runner_options.ts";

const ids = ["a", "b"];

Deno.test("repeatRuns: fixed runs, warm-ups apart, cases one after the other", async () => {
  const order: string[] = [];
  const out = await repeatRuns(
    { ids, options: resolveRunnerOptions({ warmup: 2, runs: 3 }), key: "x" },
    (i, phase, run) => {
      order.push(`${ids[i]}${phase[0]}${run}`);
      return Promise.resolve({ x: 10 * i + run, many: [1, 2] });
    },
  );
  assert.deepEqual(order, ["aw1", "aw2", "am1", "am2", "am3", "bw1", "bw2", "bm1", "bm2", "bm3"]);
  assert.deepEqual(out.cases[1].samples.x, [11, 12, 13]);
  assert.deepEqual(out.cases[1].warmup.x, [11, 12]);
  assert.equal(out.cases[0].samples.many.length, 6, "several values per run are pooled");
  assert.ok(out.cases.every((c) => c.done && c.runs === 3));
  assert.equal(out.interrupted, false);
});

Deno.test("repeatRuns: the adaptive rule stops at the target CV, never past maxRuns", async () => {
  const options = resolveRunnerOptions({ warmup: 0, runs: 2, maxRuns: 7, targetCv: 0.01 });
  const out = await repeatRuns({ ids, options, key: "x" }, (i, _phase, run) =>
    // a: steady from the start; b: every run different, so only maxRuns stops it.
    Promise.resolve({ x: i === 0 ? 100 : run * 50 }));
  assert.equal(out.cases[0].runs, 2);
  assert.equal(out.cases[1].runs, 7);
  // Negative control: without targetCv the same plan takes exactly `runs`.
  const fixed = await repeatRuns(
    { ids, options: resolveRunnerOptions({ warmup: 0, runs: 2 }), key: "x" },
    (_i, _p, run) => Promise.resolve({ x: run * 50 }),
  );
  assert.deepEqual(fixed.cases.map((c) => c.runs), [2, 2]);
  // A key per case: b watches its steady figure y (its x varies), so it stops as early as a.
  const perCase = await repeatRuns(
    { ids, options, key: (i) => (i === 0 ? "x" : "y") },
    (i, _p, run) => Promise.resolve({ x: i === 0 ? 100 : run * 50, y: 7 }),
  );
  assert.deepEqual(perCase.cases.map((c) => c.runs), [2, 2]);
});

Deno.test("repeatRuns: interleave, cool-down, checkpoints and stop", async () => {
  const order: string[] = [];
  const checkpoints: number[] = [];
  const t0 = performance.now();
  const out = await repeatRuns({
    ids,
    options: resolveRunnerOptions({ warmup: 1, runs: 2, interleave: true, cooldownMs: 20 }),
    key: "x",
    onCheckpoint: (runs) => {
      checkpoints.push(runs.reduce((a, c) => a + c.runs, 0));
    },
  }, (i, phase) => {
    order.push(`${ids[i]}${phase[0]}`);
    return Promise.resolve({ x: 1 });
  });
  assert.deepEqual(order, ["aw", "bw", "am", "bm", "am", "bm"]);
  assert.deepEqual(checkpoints, [2, 4], "one checkpoint per round");
  assert.ok(performance.now() - t0 >= 5 * 20, "a pause before every run but the first");
  assert.equal(out.interrupted, false);

  let n = 0;
  const stopped = await repeatRuns({
    ids,
    options: resolveRunnerOptions({ warmup: 0, runs: 3 }),
    key: "x",
    shouldStop: () => n >= 4,
  }, () => {
    n++;
    // The fourth run is cut short by the stop request: its figures are dropped.
    return Promise.resolve(n === 4 ? null : { x: n });
  });
  assert.equal(stopped.interrupted, true);
  assert.deepEqual(stopped.cases.map((c) => c.samples.x ?? []), [[1, 2, 3], []]);
  assert.equal(stopped.cases[1].done, false);
});

Deno.test("repeatRuns: an error names the case and keeps the cause", async () => {
  const cause = new RangeError("non-finite logits in sequence 0 at position 7");
  const err = await repeatRuns(
    { ids, options: resolveRunnerOptions({ warmup: 0, runs: 1 }), key: "x" },
    (i) => (i === 1 ? Promise.reject(cause) : Promise.resolve({ x: 1 })),
  ).then(() => null, (e) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.message, "Case b failed: non-finite logits in sequence 0 at position 7");
  assert.equal(err.cause, cause);
});
