/** End to end: workers scenario -> scheduler -> engine (FFI) -> record -> read back -> tables/charts. */
import assert from "node:assert/strict";
import { workersChart } from "../lib/charts/workers_chart.ts";
import { latencyChart } from "../lib/charts/latency_chart.ts";
import { workersScaling } from "../lib/compare/workers_scaling.ts";
import { formatRecord } from "../lib/results/format_record.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { loadScenario } from "../lib/scenario/load_scenario.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { tinyBench } from "./_tiny.ts";

Deno.test("a workers run on tiny-qwen2 writes a valid record with scaling and latencies", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = validateScenario({
      kind: "workers",
      name: "tiny-workers",
      parallel: [1, 2, 4],
      promptTokens: 10,
      decodeTokens: 6,
      prefillBudgetTokens: 16,
      sequentialRequests: 3,
      open: { capacityFractions: [0.5], requests: 6, maxInFlight: 2 },
    }, "tests/workers_e2e_test.ts");
    const { record, path } = await runBench(tinyBench(dir, { scenario }));
    assert.equal(record.status, "complete");
    const back = await readRecord(path);
    assert.deepEqual(back.cases.map((c) => c.id), [
      "workers-1",
      "workers-2",
      "workers-4",
      "sequential-3",
      "open-50pct",
    ]);
    for (const c of back.cases.filter((c) => c.params.load === "closed")) {
      const n = Number(c.params.workers);
      assert.equal(c.metrics.decodeTps.samples.length, 3, "one throughput per measured run");
      assert.equal(c.metrics.ttftNs.samples.length, 3 * 2 * n, "one TTFT per request");
      assert.equal(c.metrics.itlNs.samples.length, 3 * 2 * n * 5, "one ITL per token gap");
      assert.equal(c.counters.kvCells, n * 16);
      assert.equal(c.counters.kvBytes, n * 16 * back.model.kvBytesPerToken);
      assert.ok(c.metrics.decodeTps.utilisation! > 0);
      assert.equal(c.metrics.failures.summary.max, 0);
      for (const sizes of c.series.batchSize) assert.ok(Math.max(...sizes) <= n);
      for (let i = 0; i < 3; i++) {
        assert.ok(
          c.metrics.tpotNs.samples[i] > 0 &&
            c.metrics.e2eNs.samples[i] > c.metrics.ttftNs.samples[i],
        );
      }
    }
    const scaling = workersScaling(back);
    assert.deepEqual(scaling.map((p) => p.workers), [1, 2, 4]);
    assert.ok(Math.abs(back.derived.efficiencyWorkers4.value - scaling[2].efficiency) < 1e-9);
    const seq = back.cases[3];
    const [s, cc, sp] = ["sequentialTps", "concurrentTps", "concurrentSpeedup"].map((k) =>
      seq.metrics[k].samples
    );
    sp.forEach((v, i) => assert.ok(Math.abs(v - cc[i] / s[i]) < 1e-9));
    const open = back.cases[4];
    const capacity = back.cases[1].metrics.requestsPerSecond.summary.median;
    assert.ok(Math.abs(Number(open.params.requestsPerSecond) / (0.5 * capacity) - 1) < 1e-3);
    assert.equal(open.metrics.ttftNs.samples.length, 3 * 6);
    assert.ok(back.derived.kvBytesCtx32768.value === 32768 * back.model.kvBytesPerToken);
    const md = formatRecord(back, "md");
    assert.match(md, /\| Workers \| Prompt \| Output \| Total KV/);
    assert.match(md, /Theoretical limits/);
    // Wall-clock figures beside the virtual-clock ones: one per run, one per request (closed).
    for (const c of back.cases.filter((c) => c.params.load === "closed")) {
      const n = Number(c.params.workers);
      assert.equal(c.metrics.wallOverallTps.samples.length, 3);
      assert.equal(c.metrics.wallTtftNs.samples.length, 3 * 2 * n);
      c.metrics.wallOverallTps.samples.forEach((wall, i) =>
        assert.ok(wall <= c.metrics.overallTps.samples[i] * 1.0001, "wall clock adds FFI/JS time")
      );
    }
    assert.equal(
      open.metrics.wallTtftNs,
      undefined,
      "open-loop arrivals are virtual: no wall TTFT",
    );
    assert.match(md, /\| Decode fwd t\/s \|/);
    // n beside every percentile set; 6 TTFT samples give no p99.
    const w1 = back.cases[0];
    assert.equal(w1.metrics.ttftNs.summary.n, 6);
    assert.ok(md.includes(`(n=6)`));
    assert.match(
      md,
      /\| workers-1 +\| closed, 1 in flight +\| [\d.]+ \/ [\d.]+ \/ - \/ [\d.]+ \(n=6\)/,
    );

    // The charts carry the record's figures, not just any spec.
    const scalingValues = (workersChart([back]) as { data: { values: Record<string, number>[] } })
      .data.values;
    assert.deepEqual(scalingValues.map((v) => v.workers), [1, 2, 4]);
    scalingValues.forEach((v, i) =>
      assert.equal(v.tps, back.cases[i].metrics.decodeTps.summary.median)
    );
    const lat = (latencyChart([back]) as { data: { values: Record<string, unknown>[] } }).data
      .values;
    const ttft4 = lat.find((v) => v.figure === "TTFT" && v.case === "workers-4")!;
    assert.equal(ttft4.p50, back.cases[2].metrics.ttftNs.summary.p50 / 1e6);
    assert.equal(ttft4.n, 24);
    assert.equal(ttft4.p99, back.cases[2].metrics.ttftNs.summary.p99 / 1e6, "24 samples: a p99");
    const ttft1 = lat.find((v) => v.figure === "TTFT" && v.case === "workers-1")!;
    assert.equal(ttft1.p99, undefined, "6 samples: no p99");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the shipped workers scenario validates, with smaller cpu figures", async () => {
  const s = await loadScenario("scenarios/workers.ts");
  if (s.kind !== "workers") throw new Error("not a workers scenario");
  assert.deepEqual(s.parallel, [1, 2, 4, 8, 16, 32, 64]);
  assert.ok(s.cpu!.decodeTokens! < s.decodeTokens);
});
