/** End to end: prompts scenario -> tokenizer + engine (FFI) -> record -> read back -> tables/charts. */
import assert from "node:assert/strict";
import { breakdownChart } from "../lib/charts/breakdown_chart.ts";
import { latencyChart } from "../lib/charts/latency_chart.ts";
import { lmrigSessionTarget } from "../lib/targets/lmrig_session_target.ts";
import { Engine } from "../lib/ffi/engine.ts";
import { formatRecord } from "../lib/results/format_record.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { BREAKDOWN_MARGIN } from "../lib/runner/run_prompts.ts";
import { runPromptsRequest } from "../lib/runner/run_prompts_request.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { loadScenario } from "../lib/scenario/load_scenario.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";
import { loadTokenizer } from "../lib/tokenizer/load_tokenizer.ts";
import { tinyBench } from "./_tiny.ts";

Deno.test("the latency prompt set round-trips through the Qwen tokenizer", async () => {
  const s = await loadScenario("scenarios/latency.ts");
  if (s.kind !== "prompts") throw new Error("not a prompts scenario");
  const tok = await loadTokenizer("synthetic:qwen2.5-0.5b");
  for (const p of s.prompts) {
    const ids = tok.encode(p.text, { addSpecialTokens: false });
    assert.equal(tok.decode(ids), p.text, p.id);
  }
  const doc = s.prompts.find((p) => p.id === "document")!;
  const n = tok.encode(doc.text, { addSpecialTokens: false }).length;
  assert.ok(n >= 450 && n <= 550, `the document has ${n} tokens, not about 500`);
  assert.ok(tok.hasChatTemplate);
});

Deno.test("the breakdown adds up to the measured wall time within the stated margin", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 2 });
  // Two layers of the 0.5B shape: steps of milliseconds, like a real model's.
  using model = await engine.synthesize("qwen2.5-0.5b", { seed: 1, layers: 2 });
  using session = model.createSession({ maxSeqs: 1, maxCtx: 128 });
  const tok = await loadTokenizer("synthetic:qwen2.5-0.5b");
  using target = lmrigSessionTarget(engine, model, session, "qwen2.5-0.5b", () => {});
  const r = await runPromptsRequest(
    target,
    tok,
    { text: "Tell me a story about a robot", chatTemplate: true },
    6,
    model.info().vocab,
  );
  const parts = r.tokenizeNs + r.prefillNs + r.decodeForwardNs + r.samplingNs + r.detokenizeNs;
  assert.ok(Math.abs(parts - r.breakdownSumNs) < 1);
  assert.ok(r.ffiOverheadNs >= 0);
  assert.ok(
    Math.abs(r.unaccountedNs) <= BREAKDOWN_MARGIN * r.wallNs,
    `unaccounted ${r.unaccountedNs} ns of ${r.wallNs} ns`,
  );
  assert.equal(r.tokens.length, 6);
  assert.equal(r.stepNs.length, 6);
  assert.equal(r.ttftNs, r.stepNs[0]);
  assert.equal(r.text, tok.decode(r.tokens, { skipSpecialTokens: true }));
  assert.equal(session.seqLen(0), 0, "the sequence is reset afterwards");
});

Deno.test("a prompts run on tiny-qwen2 writes a valid record with fits and the breakdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = validateScenario({
      kind: "prompts",
      name: "tiny-latency",
      prompts: [{ id: "hello", text: "Hello" }, {
        id: "robot",
        text: "Tell me a story about a robot",
      }],
      decodeTokens: 5,
      contextLengths: [16, 48, 96],
    }, "tests/latency_e2e_test.ts");
    const { record, path } = await runBench(tinyBench(dir, { scenario }));
    assert.equal(record.status, "complete");
    const back = await readRecord(path);
    assert.deepEqual(back.cases.map((c) => c.id), ["hello", "robot", "ctx-16", "ctx-48", "ctx-96"]);
    for (const c of back.cases) {
      assert.equal(c.metrics.ttftNs.samples.length, 3);
      assert.equal(c.series.stepNs.length, 3);
      c.metrics.breakdownSumNs.samples.forEach((sum, i) => {
        const m = c.metrics;
        const parts = ["tokenizeNs", "prefillNs", "decodeForwardNs", "samplingNs", "detokenizeNs"]
          .reduce((a, k) => a + m[k].samples[i], 0);
        assert.ok(Math.abs(parts - sum) <= 1e-6 * sum);
        const wall = m.wallNs.samples[i];
        assert.ok(
          Math.abs(wall - sum - m.ffiOverheadNs.samples[i] - m.unaccountedNs.samples[i]) < 1,
        );
      });
    }
    assert.equal(back.cases[2].params.promptTokens, 16);
    assert.ok(back.derived.ttftSlopeNsPerToken.value > 0, "TTFT grows with the context");
    const shares = ["Prefill", "DecodeForward", "Sampling", "Tokenize", "Detokenize"]
      .reduce((a, k) => a + back.derived[`breakdown${k}Share`].value, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9);
    const md = formatRecord(back, "md");
    assert.match(md, /\| Operation +\| Median \(ms\) \| % of total \|/);
    assert.match(md, /TTFT fit:/);
    // The charts carry the record's figures, not just any spec.
    type Values = { data: { values: Record<string, unknown>[] } };
    const parts = (breakdownChart([back]) as Values).data.values.filter((v) => v.case === "robot");
    const robot = back.cases[1].metrics;
    const prefill = parts.find((v) => v.part === "Prefill")!;
    assert.equal(prefill.ms, robot.prefillNs.summary.median / 1e6);
    const shareSum = parts.reduce((a, v) => a + (v.share as number), 0);
    assert.ok(Math.abs(shareSum - 1) < 1e-9, "the parts of one case add up to 100%");
    const lat = (latencyChart([back]) as Values).data.values;
    const ttft = lat.find((v) => v.figure === "TTFT" && v.case === "ctx-96")!;
    assert.equal(ttft.p50, back.cases[4].metrics.ttftNs.summary.p50 / 1e6);
    assert.equal(ttft.n, 3);
    assert.equal(ttft.p99, undefined, "three runs give no p99");
    assert.ok((ttft.p50 as number) > 0 && (ttft.p90 as number) >= (ttft.p50 as number));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
