/**
 * Side-by-side runs: a grid on lmrig and llama.cpp in one run (the same weights as GGUF, the
 * same token ids), targets alternating run by run within each case, both in the record; target
 * refusal before anything runs; an interrupted run keeps what both targets measured.
 */
import assert from "node:assert/strict";
import { readRecord } from "../lib/results/read_record.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import { runGrid } from "../lib/runner/run_grid.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { checkTargets, KIND_ANY_OF, TARGET_CAPABILITIES } from "../lib/runner/check_targets.ts";
import type { Target } from "../lib/targets/types.ts";
import { tinyBench } from "./_tiny.ts";

/** llama.cpp's prebuilt is pinned for linux-x64 only; elsewhere the llama.cpp runs skip. */
const noLlama = !(Deno.build.os === "linux" && Deno.build.arch === "x86_64");
if (noLlama) console.log("side-by-side tests skipped: no llama.cpp prebuilt for this platform");

/** Two cases, small enough for a shared 2-core machine. */
function smallGrid() {
  return validateScenario({
    kind: "grid",
    name: "tiny-targets",
    cases: [
      { id: "T1", promptTokens: 8, decodeTokens: 4 },
      { id: "T2", promptTokens: 16, decodeTokens: 1 },
    ],
  }, "tests/bench_targets_test.ts");
}

/** A fake target: fixed step times per name, logging every generate call. */
function fakeTarget(name: string, stepNs: number, log: string[]): Target {
  const t = {
    name,
    capabilities: new Set(["prefill-timed", "step-timed", "sampling"] as const),
    maxSeqs: 1,
    maxCtx: 64,
    generate: (_seq: number, prompt: readonly number[], nGen: number) => {
      log.push(`${name}:${prompt.join(".")}`);
      const steps = Array.from({ length: nGen }, (_, i) => (i === 0 ? 10 * stepNs : stepNs));
      return Promise.resolve({
        stepNs: steps,
        ttftNs: steps[0],
        prefillNs: steps[0],
        totalNs: steps.reduce((a, b) => a + b, 0),
        promptTokens: prompt.length,
        generatedTokens: nGen,
        counters: {},
      });
    },
    model: () => ({ arch: "x", layers: 1, vocab: 100, weightBytes: 1, dtype: "f32", source: "" }),
    close() {},
  };
  return t as unknown as Target;
}

Deno.test("runGrid: targets alternate run by run within each case, on the same token ids", async () => {
  const log: string[] = [];
  const scenario = smallGrid();
  if (scenario.kind !== "grid") throw new Error("a grid");
  const targets = [fakeTarget("lmrig", 1e6, log), fakeTarget("llama.cpp", 2e6, log)].map((
    target,
  ) => ({ target, decodeBytes: 1, kvBytesPerToken: 0 }));
  const out = await runGrid(
    { targets, vocab: 100, bandwidthBps: null },
    scenario,
    resolveRunnerOptions({ warmup: 1, runs: 3, seed: 1 }),
  );
  const who = log.map((l) => l.split(":")[0]);
  // Case T1: warm-ups A then B, then ABABAB; then case T2 the same (not all of A then all of B).
  const abab = [
    "lmrig",
    "llama.cpp",
    "lmrig",
    "llama.cpp",
    "lmrig",
    "llama.cpp",
    "lmrig",
    "llama.cpp",
  ];
  assert.deepEqual(who, [...abab, ...abab]);
  // The same prompt ids on both targets within a case, other ids in the other case.
  assert.equal(log[0].split(":")[1], log[1].split(":")[1]);
  assert.notEqual(log[0].split(":")[1], log[8].split(":")[1]);
  assert.deepEqual(out.cases.map((c) => `${c.id}/${c.target}`), [
    "T1/lmrig",
    "T1@llama.cpp/llama.cpp",
    "T2/lmrig",
    "T2@llama.cpp/llama.cpp",
  ]);
  assert.equal(out.cases[0].metrics.decodeTps.summary.median, 1000);
  assert.equal(out.cases[1].metrics.decodeTps.summary.median, 500);
  // Negative control: one target runs its cases without any other in between.
  const solo: string[] = [];
  await runGrid(
    {
      targets: [targets[0]].map((t) => ({ ...t, target: fakeTarget("lmrig", 1e6, solo) })),
      vocab: 100,
      bandwidthBps: null,
    },
    scenario,
    resolveRunnerOptions({ warmup: 1, runs: 3, seed: 1 }),
  );
  assert.equal(solo.length, 8);
  assert.ok(solo.every((l) => l.startsWith("lmrig:")));
});

Deno.test("runGrid: with interleave every case and target round-robins, targets adjacent", async () => {
  const log: string[] = [];
  const scenario = smallGrid();
  if (scenario.kind !== "grid") throw new Error("a grid");
  const targets = [fakeTarget("lmrig", 1e6, log), fakeTarget("llama.cpp", 2e6, log)].map((
    target,
  ) => ({ target, decodeBytes: 1, kvBytesPerToken: 0 }));
  await runGrid(
    { targets, vocab: 100, bandwidthBps: null },
    scenario,
    resolveRunnerOptions({ warmup: 0, runs: 2, seed: 1, interleave: true }),
  );
  const prompts = [...new Set(log.map((l) => l.split(":")[1]))];
  const order = log.map((l) => `${l.split(":")[0]}/${prompts.indexOf(l.split(":")[1])}`);
  const round = ["lmrig/0", "llama.cpp/0", "lmrig/1", "llama.cpp/1"];
  assert.deepEqual(order, [...round, ...round]);
});

Deno.test("checkTargets: unknown names and missing capabilities are refused before a run", () => {
  assert.deepEqual(checkTargets(["lmrig", "llama.cpp"], "grid"), ["lmrig", "llama.cpp"]);
  assert.throws(() => checkTargets(["lmrig", "vllm"], "grid"), /Unknown target "vllm"/);
  assert.throws(() => checkTargets(["lmrig", "lmrig"], "grid"), /given twice/);
  // Every kind runs on both targets (the cache sweep fills llama.cpp's KV by prefill).
  for (const kind of ["grid", "cache-sweep", "workers", "prompts"]) {
    checkTargets(["lmrig", "llama.cpp"], kind);
  }
  // A target with neither way of filling the KV is refused for the cache sweep, naming both.
  KIND_ANY_OF["x-kind"] = ["kv-fill-random", "kv-fill-prefill"];
  TARGET_CAPABILITIES["bare"] = ["step-timed"];
  try {
    assert.throws(
      () => checkTargets(["bare"], "x-kind"),
      /Cannot run scenario kind "x-kind" on target "bare": it lacks the capabilities "kv-fill-random", "kv-fill-prefill"/,
    );
  } finally {
    delete KIND_ANY_OF["x-kind"];
    delete TARGET_CAPABILITIES["bare"];
  }
});

Deno.test({
  name: "runBench --target lmrig,llama.cpp: both targets per case, ABAB, facts and GGUF hash",
  ignore: noLlama,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const cache = await Deno.makeTempDir();
    Deno.env.set("LMRIG_CACHE_DIR", cache);
    try {
      const order: string[] = [];
      const { record, path } = await runBench(tinyBench(dir, {
        scenario: smallGrid(),
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 1, runs: 2, seed: 5 }),
        onProgress: (e) => order.push(e.caseId),
      }));
      assert.equal(record.status, "complete");
      assert.deepEqual(record.cases.map((c) => [c.id, c.target]), [
        ["T1", "lmrig"],
        ["T1@llama.cpp", "llama.cpp"],
        ["T2", "lmrig"],
        ["T2@llama.cpp", "llama.cpp"],
      ]);
      // Per case: warm-ups A, B, then measured A, B, A, B.
      const t1 = ["T1", "T1@llama.cpp", "T1", "T1@llama.cpp", "T1", "T1@llama.cpp"];
      assert.deepEqual(order, [...t1, ...t1.map((x) => x.replace("T1", "T2"))]);
      for (const c of record.cases) {
        assert.equal(c.metrics.ttftNs.samples.length, 2, c.id);
        assert.ok(c.metrics.ttftNs.samples.every((x) => x > 0), c.id);
        assert.equal(c.series.stepNs.length, 2);
      }
      assert.equal(record.cases[1].metrics.decodeTps.samples.length, 2);
      const envTargets = record.environment.targets ?? [];
      assert.deepEqual(envTargets.map((t) => t.name), ["lmrig", "llama.cpp"]);
      const llama = envTargets[1];
      assert.match(llama.model.contentHash ?? "", /^sha256:[0-9a-f]{64}$/);
      assert.match(llama.model.file ?? "", /\.gguf$/);
      assert.equal(llama.model.dtype, "bf16");
      assert.equal(llama.threads, 1);
      assert.equal(llama.kvFill, "prefill");
      assert.equal(llama.settings.kvType, "f32"); // lmrig's CPU KV type, matched
      // Read back from disk: old readers' fields intact, target fields kept.
      const back = await readRecord(path);
      assert.equal(back.cases[1].target, "llama.cpp");
    } finally {
      Deno.env.delete("LMRIG_CACHE_DIR");
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name: "runBench --target lmrig,llama.cpp: an interrupted run keeps what both targets measured",
  ignore: noLlama,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const cache = await Deno.makeTempDir();
    Deno.env.set("LMRIG_CACHE_DIR", cache);
    try {
      let runs = 0;
      // Stop after case T1's warm-ups and one measured run on each target.
      const { record } = await runBench(tinyBench(dir, {
        scenario: smallGrid(),
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 1, runs: 3, seed: 5 }),
        onProgress: () => runs++,
        shouldStop: () => runs >= 4,
      }));
      assert.equal(record.status, "interrupted");
      assert.deepEqual(record.cases.map((c) => c.id), ["T1", "T1@llama.cpp"]);
      for (const c of record.cases) assert.equal(c.metrics.ttftNs.samples.length, 1, c.id);
      assert.ok(record.warnings.some((w) => /Case T2 was not measured/.test(w)));
    } finally {
      Deno.env.delete("LMRIG_CACHE_DIR");
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(cache, { recursive: true });
    }
  },
});

Deno.test({
  name: "bench CLI --target lmrig,llama.cpp --quick: one table with both targets and their ratio",
  ignore: noLlama,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const scenario = `${dir}/tiny.ts`;
      await Deno.writeTextFile(
        scenario,
        `export default { kind: "grid", name: "tiny", cases: [` +
          `{ id: "A", promptTokens: 8, decodeTokens: 4 }, { id: "B", promptTokens: 12, decodeTokens: 3 }] };\n`,
      );
      const run = (args: string[]) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "scripts/bench.ts", scenario, ...args],
          env: { NO_COLOR: "1", LMRIG_CACHE_DIR: `${dir}/cache` },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const common = ["--model", "synthetic:tiny-qwen2", "--backend", "cpu", "--threads", "1"];
      const out = await run([
        ...common,
        "--quick",
        "--target",
        "lmrig,llama.cpp",
        "--out",
        `${dir}/r.json`,
      ]);
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(text, /\| A@llama\.cpp +\|/);
      assert.match(text, /\| ID +\| Figure +\| +lmrig \| llama\.cpp \| llama\.cpp \/ lmrig +\|/);
      assert.match(text, /\| B +\| decode TPS \| .* \| \d+\.\d\dx \[\d+\.\d\d, \d+\.\d\d\] \|/);
      const record = await readRecord(`${dir}/r.json`);
      assert.deepEqual(record.cases.map((c) => c.id), ["A", "A@llama.cpp", "B", "B@llama.cpp"]);
      assert.deepEqual(
        record.tool.command.slice(-4),
        ["--target", "lmrig,llama.cpp", "--out", `${dir}/r.json`],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
