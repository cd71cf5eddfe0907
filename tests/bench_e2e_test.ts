/** End to end: scenario -> runner -> engine (FFI) -> stats -> record on disk -> read back. */
import assert from "node:assert/strict";
import { modelContentHash } from "../lib/env/model_content_hash.ts";
import { Engine } from "../lib/ffi/engine.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { decodeLimitTps } from "../lib/runner/decode_limit_tps.ts";
import { renderGridReport } from "../lib/cli/render_grid_report.ts";
import { tinyBench } from "./_tiny.ts";

const close = (a: number, b: number, rel = 1e-9) =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} != ${b}`);

Deno.test("a grid run produces a consistent, complete record that reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { record, path } = await runBench(tinyBench(dir));
    assert.equal(path, `${dir}/record.json`);
    assert.equal(record.status, "complete");
    assert.equal(record.schemaVersion, 2);
    assert.deepEqual(record.cases.map((c) => c.id), ["T1", "T2", "T3"]);
    assert.equal(record.engine.backend, "cpu");
    assert.equal(record.model.name, "tiny-qwen2");
    const probes = record.environment.probes;
    assert.equal(probes.bandwidthBps.samples.length, 9, "nine probe passes before the cases");
    assert.equal(probes.bandwidthAfterBps?.samples.length, 9, "probed after");
    // One ceiling, stored once: the median of the pre-run passes, used by every limit.
    assert.equal(probes.ceilingBps, probes.bandwidthBps.summary.median);
    assert.equal(probes.bandwidthDuringBps, undefined, "no rising per-case ceiling");
    for (const c of record.cases) {
      const mean = (c.params.promptTokens as number) + (c.params.decodeTokens as number) / 2;
      close(
        c.metrics.decodeTps.limit!,
        decodeLimitTps(
          probes.ceilingBps,
          record.model.decodeBytes,
          record.model.kvBytesPerToken,
          mean,
        ),
      );
      assert.equal(c.counters.bandwidthCeilingBps, undefined);
    }
    // The printed ceiling is exactly the one the limits used, with the probe's spread.
    const text = renderGridReport(record);
    const printed =
      /Read bandwidth ceiling \(every limit uses it\)\s*\|\s*([\d.]+) GB\/s \(median of 9 probe passes; spread ([\d.]+)-([\d.]+)/
        .exec(text);
    assert.ok(printed, text);
    assert.equal(printed[1], (probes.ceilingBps / 1e9).toFixed(1));
    assert.equal(printed[2], (probes.bandwidthBps.summary.min / 1e9).toFixed(1));
    assert.equal(printed[3], (probes.bandwidthBps.summary.max / 1e9).toFixed(1));
    assert.equal(
      text.split("Warnings:")[0].match(/GB\/s/g)?.length,
      1,
      "one bandwidth figure in the table, not a second one",
    );
    for (const c of record.cases) {
      const prompt = c.params.promptTokens as number, decode = c.params.decodeTokens as number;
      const steps = c.series.stepNs;
      assert.equal(steps.length, 3, `${c.id}: one step series per measured run`);
      for (const m of Object.values(c.metrics)) assert.equal(m.samples.length, 3);
      for (const samples of Object.values(c.warmup)) assert.equal(samples.length, 1);
      steps.forEach((run, i) => {
        assert.equal(run.length, decode);
        assert.equal(c.metrics.ttftNs.samples[i], run[0], "step 0 is TTFT");
        const decodeNs = run.slice(1).reduce((a, b) => a + b, 0);
        close(c.metrics.decodeTps.samples[i], (decode - 1) / (decodeNs / 1e9));
        close(c.metrics.prefillTps.samples[i], prompt / (c.metrics.prefillNs.samples[i] / 1e9));
        assert.ok(c.metrics.prefillNs.samples[i] <= c.metrics.ttftNs.samples[i]);
        assert.ok(c.metrics.e2eNs.samples[i] >= c.metrics.ttftNs.samples[i] + decodeNs * 0.99);
      });
      const tps = c.metrics.decodeTps;
      assert.ok(tps.limit! > 0);
      close(tps.utilisation!, tps.summary.median / tps.limit!);
      close(c.metrics.tpotNs.limit!, 1e9 / tps.limit!);
      const over = Object.entries(c.metrics).filter(([, m]) => (m.utilisation ?? 0) > 1);
      for (const [key] of over) {
        assert.ok(
          record.warnings.some((w) => w.startsWith(`Case ${c.id}: ${key}`) && w.includes("limit")),
          `${c.id} ${key} beats its limit without a warning`,
        );
      }
    }
    assert.ok(record.derived.prefillScalingMsPerToken.value > 0);
    close(record.derived.maxDecodeTps.value, probes.ceilingBps / record.model.decodeBytes);

    const onDisk = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(onDisk, JSON.parse(JSON.stringify(record)));
    const read = await readRecord(path);
    assert.equal(read.id, record.id);
    assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 1, "no temp files left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stopping mid-run keeps what was measured and marks the record interrupted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let runs = 0;
    const { record, path } = await runBench(tinyBench(dir, {
      onProgress: () => runs++,
      shouldStop: () => runs >= 5, // T1: 1 warm-up + 3 runs, T2: its warm-up, then stop
    }));
    assert.equal(record.status, "interrupted");
    assert.deepEqual(record.cases.map((c) => c.id), ["T1"]);
    assert.equal(record.cases[0].metrics.ttftNs.samples.length, 3);
    assert.ok(record.warnings.some((w) => w.includes("T2 was not measured")));
    assert.equal(JSON.parse(await Deno.readTextFile(path)).status, "interrupted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("interleaved adaptive runs stay between minRuns and maxRuns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const order: string[] = [];
    const runner = resolveRunnerOptions({
      warmup: 0,
      runs: 2,
      minRuns: 2,
      maxRuns: 4,
      targetCv: 0.0001,
      interleave: true,
    });
    const { record } = await runBench(tinyBench(dir, {
      runner,
      onProgress: (e) => order.push(e.caseId),
    }));
    assert.deepEqual(order.slice(0, 3), ["T1", "T2", "T3"], "round-robin order");
    for (const c of record.cases) {
      const n = c.metrics.ttftNs.samples.length;
      assert.ok(n >= 2 && n <= 4, `${c.id}: ${n} runs`);
      if (n < 4) assert.ok(c.metrics.decodeTps.summary.cv <= 0.0001);
    }
    assert.equal(record.runner.interleave, true);
    assert.equal(record.runner.targetCv, 0.0001);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run on a Hugging Face folder records the folder's content hash", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      using engine = Engine.create({ backend: "cpu", threads: 1 });
      using model = await engine.synthesize("tiny-llama", { seed: 3 });
      await model.save(`${dir}/model`);
    }
    const { record } = await runBench(tinyBench(dir, { model: `${dir}/model` }));
    assert.equal(record.model.synthetic, false);
    assert.equal(record.model.contentHash, await modelContentHash(`${dir}/model`));
    assert.match(record.model.contentHash!, /^sha256:[0-9a-f]{64}$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
