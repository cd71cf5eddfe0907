/**
 * End to end: what a user trusts of a run's files and flags. A failed run is marked "failed"
 * with its error and completed cases and never replaces an earlier record; a bad --out is
 * refused before the model loads; every scenario kind applies the runner flags and records what
 * it ran; compare and report refuse records that are not complete.
 */
import assert from "node:assert/strict";
import { readRecord } from "../lib/results/read_record.ts";
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { tinyBench } from "./_tiny.ts";

const FIX = "tests/fixtures/records";

/** A grid whose second case's prompt tokenizes to an id beyond tiny-qwen2's vocabulary. */
function failingGrid() {
  return validateScenario({
    kind: "grid",
    name: "tiny-fails",
    cases: [
      { id: "G1", promptTokens: 4, decodeTokens: 4, prompt: "good" },
      { id: "G2", promptTokens: 4, decodeTokens: 4, prompt: "bad" },
    ],
  }, "tests/integrity_e2e_test.ts");
}
const tokenizerFor = () =>
  Promise.resolve((text: string) => (text === "bad" ? [1, 2, 10_000_000, 3] : [1, 2, 3, 4]));

async function script(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("an engine error mid-run leaves a failed record with the error and the done cases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/record.json`;
    const opts = tinyBench(dir, { scenario: failingGrid(), tokenizerFor });
    await assert.rejects(() => runBench(opts), /Case G2 failed: /);
    const r = await readRecord(path);
    assert.equal(r.status, "failed");
    assert.match(r.error!, /^Case G2 failed: /);
    assert.deepEqual(r.cases.map((c) => c.id), ["G1"], "the completed case is kept");
    assert.equal(r.cases[0].metrics.decodeTps.samples.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run that does not complete never replaces an earlier record at its --out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/record.json`;
    const first = (await runBench(tinyBench(dir))).record;
    assert.equal(first.status, "complete");
    // A scenario that does not fit the model: refused before anything is written.
    const tooLong = validateScenario({
      kind: "grid",
      name: "too-long",
      cases: [{ id: "L", promptTokens: 600, decodeTokens: 8 }],
    }, "tests/integrity_e2e_test.ts");
    await assert.rejects(() => runBench(tinyBench(dir, { scenario: tooLong })), /positions/);
    assert.equal((await readRecord(path)).id, first.id, "untouched by a refused scenario");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
      "record.json",
    ]);
    // A failure after a case: the failed record goes beside the complete one.
    await assert.rejects(() => runBench(tinyBench(dir, { scenario: failingGrid(), tokenizerFor })));
    assert.equal((await readRecord(path)).id, first.id, "untouched by a failed run");
    const partial = await readRecord(`${dir}/record.partial.json`);
    assert.equal(partial.status, "failed");
    assert.deepEqual(partial.cases.map((c) => c.id), ["G1"]);
    // An interrupted run too; a complete one replaces the record.
    let runs = 0;
    const stopped = await runBench(
      tinyBench(dir, { onProgress: () => runs++, shouldStop: () => runs >= 5 }),
    );
    assert.equal(stopped.record.status, "interrupted");
    assert.equal(stopped.path, `${dir}/record.partial.json`);
    assert.equal((await readRecord(path)).id, first.id, "untouched by an interrupted run");
    const second = await runBench(tinyBench(dir));
    assert.equal(second.path, path);
    assert.equal((await readRecord(path)).id, second.record.id, "a complete run replaces it");
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [
      "record.json",
    ], "the progress file is gone once the run completed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad --out is refused before the model loads, with a clear message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The model does not exist: a refusal that names --out proves the path was checked first.
    const bench = (out: string) => runBench(tinyBench(dir, { model: `${dir}/no-model`, out }));
    await assert.rejects(() => bench(dir), /^TypeError: Cannot write --out ".*": it is a folder/);
    await assert.rejects(() => bench(""), /Cannot write --out "": the path is empty/);
    const fifo = `${dir}/fifo`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success);
    await assert.rejects(
      () => bench(fifo),
      /Cannot write --out ".*fifo": it is not a regular file/,
    );
    assert.ok(Deno.lstatSync(fifo).isFifo, "the FIFO is still a FIFO");
    Deno.symlinkSync(`${dir}/elsewhere.json`, `${dir}/link.json`);
    await assert.rejects(() => bench(`${dir}/link.json`), /it is a symbolic link/);
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assert.rejects(
      () => bench(`${dir}/file/record.json`),
      /a part of its folder path is a file/,
    );
    // The model error comes only once the path is fine.
    await assert.rejects(() => bench(`${dir}/ok.json`), /Cannot load model/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the cache sweep applies --runs, warm-ups, adaptive runs and interleave", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = validateScenario({
      kind: "cache-sweep",
      name: "tiny-sweep",
      positions: [4, 32],
      maxCacheLen: 64,
      steps: 3,
      executors: ["eager"],
      backends: ["cpu"],
    }, "tests/integrity_e2e_test.ts");
    const order: string[] = [];
    const fixed = await runBench(tinyBench(dir, {
      scenario,
      runner: resolveRunnerOptions({ warmup: 2, runs: 4, interleave: true, seed: 5 }),
      onProgress: (e) => order.push(`${e.caseId}:${e.phase}`),
    }));
    for (const c of fixed.record.cases) {
      assert.equal(c.metrics.stepNs.samples.length, 4, `${c.id}: --runs 4, not the scenario's 3`);
      assert.equal(c.warmup.stepNs.length, 2);
    }
    assert.deepEqual(order.slice(4, 8), [
      "pos-4-eager:measure",
      "pos-32-eager:measure",
      "pos-4-eager:measure",
      "pos-32-eager:measure",
    ], "interleaved positions");
    assert.equal(fixed.record.runner.runs, 4);
    assert.equal(fixed.record.runner.interleave, true);
    const adaptive = await runBench(tinyBench(dir, {
      scenario,
      runner: resolveRunnerOptions({ warmup: 0, runs: 2, maxRuns: 6, targetCv: 1e-9 }),
    }));
    for (const c of adaptive.record.cases) {
      assert.equal(c.metrics.stepNs.samples.length, 6, "a CV of 1e-9 is never reached: maxRuns");
    }
    assert.equal(adaptive.record.runner.maxRuns, 6);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cache-sweep scenario refuses runs: its samples per position are steps", () => {
  assert.throws(
    () =>
      validateScenario({
        kind: "cache-sweep",
        name: "x",
        positions: [4],
        maxCacheLen: 64,
        runs: 5,
      }, "sweep.ts"),
    /sweep\.ts: runs is not a field of a cache sweep: give "steps"/,
  );
  // No backend that does not exist is offered: a Mac runs the cpu backend.
  assert.throws(
    () =>
      validateScenario({
        kind: "cache-sweep",
        name: "x",
        positions: [4],
        maxCacheLen: 64,
        backends: ["metal"],
      }, "sweep.ts"),
    /sweep\.ts: backends\[0\] must be one of/,
  );
});

Deno.test("workers and prompts apply --runs, warm-ups and cool-down and interleave cases", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const workers = validateScenario({
      kind: "workers",
      name: "tiny-workers",
      parallel: [1, 2],
      promptTokens: 6,
      decodeTokens: 4,
      sequentialRequests: 0,
    }, "tests/integrity_e2e_test.ts");
    const order: string[] = [];
    const w = await runBench(tinyBench(dir, {
      scenario: workers,
      runner: resolveRunnerOptions({ warmup: 1, runs: 4, seed: 5 }),
      onProgress: (e) => order.push(`${e.caseId}:${e.phase}`),
    }));
    for (const c of w.record.cases) {
      assert.equal(c.metrics.decodeTps.samples.length, 4, `${c.id}: --runs 4`);
      assert.equal(c.warmup.decodeTps.length, 1, `${c.id}: --warmup 1`);
    }
    // The 1-worker baseline is measured in turns with the 2-worker case, and the record says so.
    assert.deepEqual(order.slice(2, 6), [
      "workers-1:measure",
      "workers-2:measure",
      "workers-1:measure",
      "workers-2:measure",
    ]);
    assert.equal(w.record.runner.interleave, true);
    assert.equal(w.record.runner.runs, 4);

    const prompts = validateScenario({
      kind: "prompts",
      name: "tiny-prompts",
      prompts: [{ id: "a", text: "Hello" }, { id: "b", text: "Hello there" }],
      decodeTokens: 3,
    }, "tests/integrity_e2e_test.ts");
    const t0 = performance.now();
    const p = await runBench(tinyBench(dir, {
      scenario: prompts,
      runner: resolveRunnerOptions({ warmup: 0, runs: 3, cooldownMs: 40 }),
    }));
    const ms = performance.now() - t0;
    for (const c of p.record.cases) assert.equal(c.metrics.ttftNs.samples.length, 3);
    assert.ok(ms >= 5 * 40, `six runs with a 40 ms cool-down before all but the first: ${ms} ms`);
    assert.equal(p.record.runner.cooldownMs, 40);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compare and report refuse records that are not complete; --fail-above needs a match", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const failed = JSON.parse(await Deno.readTextFile(`${FIX}/grid-b.json`));
    failed.status = "failed";
    failed.error = "Case S4 failed: boom";
    const path = `${dir}/failed.json`;
    await Deno.writeTextFile(path, JSON.stringify(failed));
    const a = `${FIX}/grid-a.json`;

    let r = await script("scripts/compare.ts", a, path);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /Cannot compare ".*failed\.json": its status is "failed" \(Case S4/);
    assert.match(r.err, /pass --include-partial/);
    r = await script("scripts/compare.ts", a, path, "--include-partial");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /is failed .* included as asked/);
    r = await script("scripts/compare.ts", a, path, "--include-partial", "--fail-above", "50");
    assert.equal(r.code, 1, "a gate does not pass on a failed record");
    assert.match(r.err, /not complete/);
    r = await script(
      "scripts/compare.ts",
      a,
      `${FIX}/grid-b.json`,
      "--case",
      "NOPE",
      "--fail-above",
      "5",
    );
    assert.equal(r.code, 1, "a gate does not pass on nothing");
    assert.match(r.err, /no case matched/);

    r = await script("scripts/report.ts", a, path, "--out", `${dir}/r.md`, "--charts", dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /Cannot report on ".*failed\.json": its status is "failed"/);
    r = await script("scripts/report.ts", a, "--out", dir);
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: Cannot write --out ".*": it is a folder, not a file\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
