/**
 * The cache-sweep and workers runners on lmrig and llama.cpp in one run: the same token ids,
 * targets alternating within each position / case, both targets' cases, facts and derived
 * figures in the record, llama.cpp's KV filled by prefill (said in the record), and an
 * interrupted run that keeps what both targets measured.
 */
import assert from "node:assert/strict";
import { readRecord } from "../lib/results/read_record.ts";
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { tinyBench } from "./_tiny.ts";

const noLlama = !(Deno.build.os === "linux" && Deno.build.arch === "x86_64");
if (noLlama) console.log("runner side-by-side tests skipped: no llama.cpp prebuilt here");

function sweep() {
  return validateScenario({
    kind: "cache-sweep",
    name: "tiny-sweep",
    positions: [1, 24, 96],
    maxCacheLen: 128,
    prefillLen: 0,
    steps: 2,
    executors: ["eager"],
    backends: ["cpu"],
  }, "tests/targets_runners_test.ts");
}

function workers() {
  return validateScenario({
    kind: "workers",
    name: "tiny-workers",
    parallel: [1, 2],
    promptTokens: 8,
    decodeTokens: 5,
    prefillBudgetTokens: 16,
    sequentialRequests: 2,
    open: { capacityFractions: [0.5], requests: 3, maxInFlight: 2 },
  }, "tests/targets_runners_test.ts");
}

async function withDirs(f: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const cache = await Deno.makeTempDir();
  Deno.env.set("LMRIG_CACHE_DIR", cache);
  try {
    await f(dir);
  } finally {
    Deno.env.delete("LMRIG_CACHE_DIR");
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(cache, { recursive: true });
  }
}

Deno.test({
  name: "cache sweep --target lmrig,llama.cpp: both per position, ABAB, KV by prefill stated",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      const order: string[] = [];
      const { record, path } = await runBench(tinyBench(dir, {
        scenario: sweep(),
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 1, runs: 2, seed: 5 }),
        onProgress: (e) => order.push(e.caseId),
      }));
      assert.equal(record.status, "complete");
      assert.deepEqual(record.cases.map((c) => [c.id, c.target, c.params.position]), [
        ["pos-1-eager", "lmrig", 1],
        ["pos-1-eager@llama.cpp", "llama.cpp", 1],
        ["pos-24-eager", "lmrig", 24],
        ["pos-24-eager@llama.cpp", "llama.cpp", 24],
        ["pos-96-eager", "lmrig", 96],
        ["pos-96-eager@llama.cpp", "llama.cpp", 96],
      ]);
      // Per position: warm-up A, B, then measured A, B, A, B.
      const at = (p: number) => {
        const a = `pos-${p}-eager`, b = `${a}@llama.cpp`;
        return [a, b, a, b, a, b];
      };
      assert.deepEqual(order, [...at(1), ...at(24), ...at(96)]);
      for (const c of record.cases) {
        assert.equal(c.metrics.stepNs.samples.length, 2, c.id);
        assert.ok(c.metrics.stepNs.samples.every((x) => x > 0), c.id);
        assert.ok(c.metrics.decodeTps.limit! > 0, c.id);
      }
      assert.deepEqual(record.environment.targets?.map((t) => [t.name, t.kvFill]), [
        ["lmrig", "random"],
        ["llama.cpp", "prefill"],
      ]);
      assert.ok(
        record.warnings.some((w) => /llama\.cpp fill each position by a real prefill/.test(w)),
      );
      assert.ok(record.derived["stepGrowth.llama.cpp"].value > 0);
      assert.equal((await readRecord(path)).cases[1].target, "llama.cpp");
    }),
});

Deno.test({
  name:
    "workers --target lmrig,llama.cpp: every case on both, targets adjacent, per-target scaling",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      const order: string[] = [];
      const { record } = await runBench(tinyBench(dir, {
        scenario: workers(),
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 0, runs: 2, seed: 5 }),
        onProgress: (e) => order.push(e.caseId),
      }));
      assert.equal(record.status, "complete");
      const ids = record.cases.map((c) => c.id);
      assert.deepEqual(ids, [
        "workers-1",
        "workers-2",
        "workers-1@llama.cpp",
        "workers-2@llama.cpp",
        "sequential-2",
        "sequential-2@llama.cpp",
        "open-50pct",
        "open-50pct@llama.cpp",
      ]);
      // The closed-loop group round-robins with targets adjacent.
      const round = ["workers-1", "workers-1@llama.cpp", "workers-2", "workers-2@llama.cpp"];
      assert.deepEqual(order.slice(0, 8), [...round, ...round]);
      for (const c of record.cases) assert.ok(c.target === "lmrig" || c.target === "llama.cpp");
      const llama = record.cases.find((c) => c.id === "workers-2@llama.cpp")!;
      assert.equal(llama.metrics.decodeTps.samples.length, 2);
      assert.ok(llama.metrics.decodeTps.summary.median > 0);
      assert.ok(llama.counters.kvBytes > 0);
      assert.ok(record.derived.efficiencyWorkers2.value > 0);
      assert.ok(record.derived["llama.cpp.efficiencyWorkers2"].value > 0);
      // The same requests: the same prompt lengths and outputs, one token count per request.
      assert.equal(
        llama.metrics.promptTokens?.summary.median,
        record.cases[1].metrics.promptTokens?.summary.median,
      );
    }),
});

Deno.test({
  name: "an interrupted workers run keeps what both targets measured",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      let runs = 0;
      const { record } = await runBench(tinyBench(dir, {
        scenario: workers(),
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 0, runs: 3, seed: 5 }),
        onProgress: () => runs++,
        shouldStop: () => runs >= 4,
      }));
      assert.equal(record.status, "interrupted");
      const ids = record.cases.map((c) => c.id);
      assert.ok(ids.includes("workers-1") && ids.includes("workers-1@llama.cpp"), ids.join());
      assert.ok(!ids.some((id) => id.startsWith("sequential")));
      for (const c of record.cases) assert.equal(c.metrics.decodeTps.samples.length, 1, c.id);
    }),
});

Deno.test({
  name: "prompts --target lmrig,llama.cpp: every text on both, ABAB per case, per-target breakdown",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      const scenario = validateScenario({
        kind: "prompts",
        name: "tiny-latency",
        prompts: [{ id: "robot", text: "Tell me a story about a robot" }],
        decodeTokens: 4,
        contextLengths: [24],
      }, "tests/targets_runners_test.ts");
      const order: string[] = [];
      const { record } = await runBench(tinyBench(dir, {
        scenario,
        targets: ["lmrig", "llama.cpp"],
        runner: resolveRunnerOptions({ warmup: 1, runs: 2, seed: 5 }),
        onProgress: (e) => order.push(e.caseId),
      }));
      assert.equal(record.status, "complete");
      assert.deepEqual(record.cases.map((c) => [c.id, c.target]), [
        ["robot", "lmrig"],
        ["robot@llama.cpp", "llama.cpp"],
        ["ctx-24", "lmrig"],
        ["ctx-24@llama.cpp", "llama.cpp"],
      ]);
      const ab = (
        id: string,
      ) => [id, `${id}@llama.cpp`, id, `${id}@llama.cpp`, id, `${id}@llama.cpp`];
      assert.deepEqual(order, [...ab("robot"), ...ab("ctx-24")]);
      for (const c of record.cases) {
        assert.equal(c.metrics.ttftNs.samples.length, 2, c.id);
        assert.equal(
          c.params.promptTokens,
          record.cases[c.id.includes("ctx") ? 2 : 0].params.promptTokens,
        );
      }
      // Each target's breakdown shares, lmrig's under plain keys, llama.cpp's prefixed.
      for (const prefix of ["", "llama.cpp."]) {
        const shares = ["Prefill", "DecodeForward", "Sampling", "Tokenize", "Detokenize"]
          .reduce((a, k) => a + record.derived[`${prefix}breakdown${k}Share`].value, 0);
        assert.ok(Math.abs(shares - 1) < 1e-9, prefix);
      }
    }),
});

Deno.test({
  name:
    "--quant: each variant a target of its own, quantised size in limits, lmrig runs Q8_0 and refuses what it cannot read",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      const scenario = validateScenario({
        kind: "grid",
        name: "tiny-quant",
        cases: [{ id: "A", promptTokens: 8, decodeTokens: 4 }],
      }, "tests/targets_runners_test.ts");
      const options = {
        scenario,
        targets: ["lmrig", "llama.cpp"],
        quants: ["bf16", "q8_0", "q4_k_m"],
        runner: resolveRunnerOptions({ warmup: 0, runs: 2, seed: 5 }),
      };
      const { record } = await runBench(tinyBench(dir, options));
      assert.equal(record.status, "complete");
      // lmrig runs the Q8_0 file with its own kernels; the tiny model's Q4_K_M mixes in types
      // lmrig does not read (rows of 64 are no multiple of Q4_K's 256), so it is left out.
      assert.deepEqual(record.cases.map((c) => [c.id, c.target]), [
        ["A", "lmrig"],
        ["A@llama.cpp:bf16", "llama.cpp:bf16"],
        ["A@lmrig:q8_0", "lmrig:q8_0"],
        ["A@llama.cpp:q8_0", "llama.cpp:q8_0"],
        ["A@llama.cpp:q4_k_m", "llama.cpp:q4_k_m"],
      ]);
      assert.ok(record.warnings.some((w) => w.startsWith("lmrig cannot run Q4_K_M yet")));
      assert.ok(!record.warnings.some((w) => w.startsWith("lmrig cannot run Q8_0")));
      // No per-tensor quantiser chatter, each message once.
      assert.ok(!record.warnings.some((w) => /not divisible by/.test(w)));
      assert.equal(new Set(record.warnings).size, record.warnings.length);
      const env = record.environment.targets!;
      const byLabel = (l: string) => env.find((t) => (t.label ?? t.name) === l)!;
      assert.deepEqual(
        ["lmrig", "llama.cpp:bf16", "lmrig:q8_0", "llama.cpp:q8_0", "llama.cpp:q4_k_m"].map((
          l,
        ) => byLabel(l)?.model.dtype),
        ["bf16", "bf16", "q8_0", "q8_0", "q4_k_m"],
      );
      const [bf16, q8, q4] = ["llama.cpp:bf16", "llama.cpp:q8_0", "llama.cpp:q4_k_m"].map(byLabel);
      // Cached next to the source GGUF, smaller on disk, and the limits use the smaller size.
      assert.equal(q4.model.file, bf16.model.file!.replace(/\.bf16\.gguf$/, ".q4_k_m.gguf"));
      assert.ok(
        q8.model.fileBytes! < bf16.model.fileBytes! && q4.model.weightBytes < q8.model.weightBytes,
      );
      const limit = (i: number) => record.cases[i].metrics.decodeTps.limit!;
      assert.ok(limit(3) > limit(1) && limit(4) > limit(3), `${limit(1)} ${limit(3)} ${limit(4)}`);
      assert.equal(limit(0), limit(1)); // the same bytes in lmrig and llama.cpp bf16
      assert.equal(limit(2), limit(3)); // the same Q8_0 file on both targets
      // A second run reuses the quantised files.
      const mtime = Deno.statSync(q4.model.file!).mtime?.getTime();
      await runBench(tinyBench(dir, { ...options, out: `${dir}/again.json` }));
      assert.equal(Deno.statSync(q4.model.file!).mtime?.getTime(), mtime);
      // lmrig alone on a quantised variant: nothing can run, said before measuring.
      await assert.rejects(
        () =>
          runBench(tinyBench(dir, {
            ...options,
            targets: ["lmrig"],
            quants: ["q4_k_m"],
            out: `${dir}/none.json`,
          })),
        /no target can run any of the variants \(q4_k_m\): lmrig cannot run Q4_K_M yet/,
      );
    }),
});

Deno.test({
  name:
    "seed-003 --quick on a tiny model: workers 1/2/4/8 and pp128/tg on lmrig BF16, llama.cpp BF16 and Q4_K_M",
  ignore: noLlama,
  fn: () =>
    withDirs(async (dir) => {
      const bench = async (file: string, out: string) => {
        const r = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "scripts/bench.ts",
            file,
            "--quick",
            "--model",
            "synthetic:tiny-qwen2",
            "--threads",
            "1",
            "--out",
            out,
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
        assert.equal(r.code, 0, text);
        return { text, record: await readRecord(out) };
      };
      const w = await bench("scenarios/seed-003.ts", `${dir}/w.json`);
      const labels = ["lmrig", "llama.cpp:bf16", "llama.cpp:q4_k_m"];
      for (const label of labels) {
        for (const n of [1, 2, 4, 8]) {
          const id = label === "lmrig" ? `workers-${n}` : `workers-${n}@${label}`;
          const c = w.record.cases.find((x) => x.id === id);
          assert.ok(c, id);
          assert.equal(c.params.promptTokens, 128);
          assert.equal(c.counters.kvCells, n * (128 + Number(c.params.decodeTokens)));
        }
        // One row per target and worker count, with KV MiB, speedup and efficiency.
        const rows = w.text.split("\n").filter((l) => l.startsWith(`| ${label} `));
        assert.equal(rows.length, 4, label);
        assert.match(rows[0], /MiB .*\| +1\.00x \| +100\.0% +\|/);
      }
      assert.match(w.text, /lmrig cannot run Q4_K_M yet/);
      const b = await bench("scenarios/seed-003-bench.ts", `${dir}/b.json`);
      assert.deepEqual(b.record.cases.map((c) => c.id), [
        "pp128",
        "pp128@llama.cpp:bf16",
        "pp128@llama.cpp:q4_k_m",
        "tg128",
        "tg128@llama.cpp:bf16",
        "tg128@llama.cpp:q4_k_m",
      ]);
      assert.ok(b.record.cases[1].metrics.prefillTps.summary.median > 0);
      assert.ok(b.record.cases[5].metrics.decodeTps.summary.median > 0);
    }),
});
