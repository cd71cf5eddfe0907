/**
 * End to end: the KV fill puts a sequence exactly at its position (through the FFI), and a small
 * cache sweep on tiny-qwen2 gives a record with raw samples, the right params and limits, whose
 * charts render.
 */
import assert from "node:assert/strict";
import { cacheChart, executorRatioChart, renderPng } from "../lib/charts/mod.ts";
import { renderCacheSweepReport } from "../lib/cli/render_cache_sweep_report.ts";
import { Engine } from "../lib/ffi/mod.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { cacheSweepPositions } from "../lib/runner/cache_sweep_positions.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { tinyBench } from "./_tiny.ts";

Deno.test("fill_kv puts the sequence at P, the next step at P + 1, data set by the seed", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  using model = await engine.synthesize("tiny-qwen2", { seed: 3 });
  using session = model.createSession({ maxSeqs: 1, maxCtx: 200 });
  const after = async (position: number, seed: number) => {
    await session.fillKv(0, position, seed);
    assert.equal(session.seqLen(0), position, `length after fill_kv(${position})`);
    await session.decode([0], [7]);
    assert.equal(session.seqLen(0), position + 1, `length after one step at ${position}`);
    const logits = session.logits(0);
    assert.ok(logits.every(Number.isFinite), `finite logits at ${position}`);
    return logits;
  };
  for (const position of [1, 17, 150]) {
    const a = await after(position, 11);
    const again = await after(position, 11);
    const other = await after(position, 12);
    assert.deepStrictEqual(again, a, `same seed, same logits at ${position}`);
    assert.ok(other.some((v, i) => v !== a[i]), `another seed changes the logits at ${position}`);
  }
  // The fill replaces what the sequence held: the same fill after other work gives the same step.
  const base = await after(40, 5);
  await session.fillKv(0, 100, 9);
  await session.decode([0], [3]);
  assert.deepStrictEqual(await after(40, 5), base);
});

Deno.test("a small cache sweep writes a record with raw samples under their limits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = validateScenario({
      kind: "cache-sweep",
      name: "tiny-sweep",
      positions: "log2",
      maxCacheLen: 72,
      prefillLen: 8,
      steps: 3,
      executors: ["eager", "graph"],
      backends: ["cpu"],
      kvDtypeCpu: "bf16",
    }, "tests/cache_sweep_e2e_test.ts");
    const { record, path } = await runBench(tinyBench(dir, { scenario }));
    const back = await readRecord(path);
    assert.equal(back.status, "complete");
    assert.equal(back.scenario.kind, "cache-sweep");
    const positions = cacheSweepPositions(72, 8);
    assert.deepStrictEqual(positions.at(-1), 64);
    // The CPU has no graph executor: only eager is measured, and no ratio exists anywhere.
    assert.equal(back.cases.length, positions.length);
    assert.equal(back.engine.maxCtx, 65);
    assert.equal(back.engine.kvDtype, "bf16", "the scenario's kvDtypeCpu is the session's");
    assert.equal(back.runner.runs, 3, "the record says the samples per position it took");
    for (const executor of ["eager"]) {
      const mine = back.cases.filter((c) => c.params.executor === executor);
      assert.deepStrictEqual(mine.map((c) => c.params.position), positions);
      for (const c of mine) {
        assert.deepStrictEqual(c.params, { position: c.params.position, executor, backend: "cpu" });
        assert.equal(c.id, `pos-${c.params.position}-${executor}`);
        const step = c.metrics.stepNs, tps = c.metrics.decodeTps;
        assert.equal(step.samples.length, 3, `${c.id}: three raw samples`);
        assert.equal(c.warmup.stepNs.length, 1, `${c.id}: one warm-up apart`);
        assert.ok(step.samples.every((x) => x > 0 && Number.isInteger(x)), `${c.id}: raw ns`);
        tps.samples.forEach((t, i) => assert.ok(Math.abs(t - 1e9 / step.samples[i]) < 1e-6));
        const kv = back.model.kvBytesPerToken * (Number(c.params.position) + 1);
        assert.equal(c.counters.kvBytesRead, kv);
        const bw = back.environment.probes.ceilingBps; // the record's one ceiling
        assert.ok(Math.abs(step.limit! - (back.model.decodeBytes + kv) / bw * 1e9) < 1e-3);
        // Utilisation against the one ceiling; the tiny model fits in cache and a shared host's
        // probe is noisy, so a share over 100% can happen: then the record must say so.
        assert.ok(Math.abs(tps.utilisation! - tps.summary.median / tps.limit!) < 1e-12);
        assert.ok(Math.abs(step.utilisation! - step.limit! / step.summary.median) < 1e-12);
        if (tps.utilisation! > 1) {
          assert.ok(back.warnings.some((w) => w.startsWith(`Case ${c.id}: decodeTps median`)));
        }
      }
    }
    // The graph executor was skipped, and the record says why.
    assert.ok(back.warnings.some((w) => w.startsWith('Executor "graph" skipped: the cpu backend')));
    assert.ok(back.cases.every((c) => c.params.executor === "eager"));
    assert.ok(back.cases.every((c) => c.counters.executorGraph === 0));
    const growth = back.derived["stepGrowthPredicted.eager"].value;
    const bytes = (p: number) => back.model.decodeBytes + back.model.kvBytesPerToken * (p + 1);
    assert.ok(Math.abs(growth - bytes(64) / bytes(1)) < 1e-12);
    assert.deepStrictEqual(
      Object.keys(back.derived).filter((k) => k.startsWith("executorRatio")),
      [],
      "no executor ratio in the record",
    );
    assert.deepStrictEqual(back.cases, record.cases);

    const text = renderCacheSweepReport([back]);
    assert.match(text, /\| Position \| Eager TPS \| Eager Step \(ms\) \| Limit TPS/);
    assert.doesNotMatch(text, /Graph|Ratio/, "no graph column and no ratio column");
    assert.match(text, /\|\s+64 \|/);
    for (const spec of [cacheChart([back], "tps"), cacheChart([back], "stepNs")]) {
      const values = spec as { layer?: unknown; data?: { values: unknown[] } };
      assert.ok(values);
      const png = await renderPng(spec);
      assert.ok(png.length > 1000);
    }
    assert.throws(() => executorRatioChart([back]), /executor ratio/, "no executor-ratio chart");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
