import assert from "node:assert/strict";
import { Engine } from "../ffi/engine.ts";
import { EngineError } from "../ffi/engine_error.ts";
import { randomTokens } from "./random_tokens.ts";
import { poissonArrivals } from "./poisson_arrivals.ts";
import { sessionServeEngine } from "./run_workers_engine.ts";
import { runWorkersLoad, type ServeEngine, type ServeRequest } from "./run_workers_load.ts";
import { workersRunMetrics } from "./run_workers_metrics.ts";

/** A fake engine with fixed call times that checks how the scheduler uses its slots. */
function fakeEngine(slots: number) {
  const held = new Array<number[] | null>(slots).fill(null); // tokens per live slot
  const log: string[] = [];
  const engine: ServeEngine = {
    prefill: (seq, tokens) => {
      assert.ok(seq >= 0 && seq < slots, `slot ${seq} out of range`);
      held[seq] = [...(held[seq] ?? []), ...tokens];
      log.push(`p${seq}:${tokens.length}`);
      return Promise.resolve(1000 * tokens.length);
    },
    decode: (seqs, tokens) => {
      assert.equal(new Set(seqs).size, seqs.length, "a slot twice in one decode step");
      seqs.forEach((s, i) => {
        assert.ok(held[s] !== null, `decode of free slot ${s}`);
        held[s]!.push(tokens[i]);
      });
      return Promise.resolve(5000 + 100 * seqs.length);
    },
    sample: (seq) => {
      const h = held[seq]!;
      return { token: (h.reduce((a, b) => a + b, 0) * 31 + h.length) % 997, ns: 10 };
    },
    reset: (seq) => {
      held[seq] = null;
    },
    usedBlocks: () => held.filter((h) => h !== null).length,
  };
  return { engine, held, log };
}

const requests = (n: number, prompt: number, decode: number, arrivals?: number[]) =>
  Array.from({ length: n }, (_, i): ServeRequest => ({
    id: i,
    prompt: randomTokens(prompt + (i % 3), 997, i),
    decodeTokens: decode + (i % 4),
    arrivalNs: arrivals?.[i],
  }));

function checkSlots(run: Awaited<ReturnType<typeof runWorkersLoad>>, slots: number) {
  const bySlot = new Map<number, { admit: number; finish: number }[]>();
  for (const r of run.requests) {
    assert.ok(r.slot >= 0 && r.slot < slots);
    bySlot.set(r.slot, [...(bySlot.get(r.slot) ?? []), { admit: r.admitNs, finish: r.finishNs }]);
  }
  for (const [slot, spans] of bySlot) {
    spans.sort((a, b) => a.admit - b.admit);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i].admit >= spans[i - 1].finish, `slot ${slot} reused while live`);
    }
  }
}

Deno.test("runWorkersLoad (closed): every request gets its tokens, slots never overlap", async () => {
  const { engine, held, log } = fakeEngine(4);
  const reqs = requests(11, 9, 5);
  const run = await runWorkersLoad(engine, reqs, {
    slots: 4,
    prefillBudgetTokens: 16,
    mode: "closed",
  });
  assert.equal(run.requests.length, 11);
  for (const r of run.requests) {
    assert.equal(r.tokens.length, reqs[r.id].decodeTokens);
    assert.equal(r.tokenNs.length, r.tokens.length);
    assert.ok(r.firstTokenNs > r.arrivalNs && r.finishNs >= r.firstTokenNs);
  }
  checkSlots(run, 4);
  assert.ok(held.every((h) => h === null), "a slot was not reset at the end");
  assert.ok(run.maxActive <= 4 && run.maxActive === 4);
  // The budget splits prompts into chunks: some request needed two.
  assert.ok(run.requests.some((r) => r.prefillChunks > 1));
  assert.ok(log.some((l) => /^p\d:7$/.test(l)), "no chunk cut at the budget");
  // Virtual time is the sum of the engine times.
  assert.equal(
    run.engineNs,
    run.prefillNs + run.firstSampleNs + run.decodeForwardNs + run.decodeSampleNs,
  );
  assert.equal(run.makespanNs, run.engineNs); // closed loop never idles
  assert.equal(run.promptTokens, reqs.reduce((a, r) => a + r.prompt.length, 0));
  const f = workersRunMetrics(run);
  assert.equal(f.requests.ttftNs.length, 11);
  assert.equal(f.requests.itlNs.length, run.generatedTokens - 11);
  assert.equal(f.run.failures, 0);
});

Deno.test("runWorkersLoad (open): queued arrivals wait, idle time is skipped", async () => {
  const { engine } = fakeEngine(2);
  const arrivals = poissonArrivals(9, 2000, 3); // a request every 0.5 ms on average
  const run = await runWorkersLoad(engine, requests(9, 4, 3, arrivals), {
    slots: 2,
    prefillBudgetTokens: 64,
    mode: "open",
  });
  checkSlots(run, 2);
  for (const r of run.requests) {
    assert.equal(r.arrivalNs, arrivals[r.id]);
    assert.ok(r.admitNs >= r.arrivalNs);
  }
  assert.ok(run.makespanNs >= run.requests.at(-1)!.arrivalNs);
  await assert.rejects(
    () =>
      runWorkersLoad(engine, requests(1, 2, 2), { slots: 1, prefillBudgetTokens: 4, mode: "open" }),
    { message: "Request 0 has no arrivalNs (open mode)" },
  );
});

Deno.test("runWorkersLoad: a prefill the engine refuses fails that request only", async () => {
  const { engine, held } = fakeEngine(2);
  const prefill = engine.prefill;
  engine.prefill = (seq, tokens) =>
    tokens.includes(-1)
      ? Promise.reject(new EngineError("Cannot prefill", -5, "KV pool full"))
      : prefill(seq, tokens);
  const reqs = requests(5, 6, 3);
  reqs[2] = { ...reqs[2], prompt: [5, -1, 7] };
  const run = await runWorkersLoad(engine, reqs, {
    slots: 2,
    prefillBudgetTokens: 32,
    mode: "closed",
  });
  assert.match(run.requests[2].error!, /KV pool full/);
  assert.equal(run.requests.filter((r) => r.error === undefined).length, 4);
  assert.equal(workersRunMetrics(run).run.failures, 1);
  assert.ok(held.every((h) => h === null));
  checkSlots(run, 2);
});

Deno.test("runWorkersLoad on the engine: tokens equal a solo generate, blocks come back", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  using model = await engine.synthesize("tiny-qwen2", { seed: 3 });
  const vocab = model.info().vocab;
  using session = model.createSession({ maxSeqs: 3, maxCtx: 64 });
  const reqs = Array.from({ length: 7 }, (_, i): ServeRequest => ({
    id: i,
    prompt: randomTokens(5 + 3 * i, vocab, 100 + i),
    decodeTokens: 4 + (i % 3) * 3,
  }));
  const serve = sessionServeEngine(engine, session);
  const run = await runWorkersLoad(serve, reqs, {
    slots: 3,
    prefillBudgetTokens: 8,
    mode: "closed",
  });
  checkSlots(run, 3);
  assert.equal(session.info().freeBlocks, session.info().blocks, "KV blocks still held");
  assert.ok(run.batchSizes.some((b) => b > 1), "never batched");
  for (const r of reqs) {
    session.reset(0);
    const solo = await session.generate(0, r.prompt, r.decodeTokens);
    assert.deepEqual(run.requests[r.id].tokens, solo.tokens, `request ${r.id}`);
  }
  session.reset(0);
  assert.ok(run.decodeForwardNs > 0 && run.wallNs >= run.engineNs);
});

Deno.test("batched decode through the FFI gives each sequence's solo logits", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 2 });
  // A batch of 4 takes the BF16 kernels at the AVX-512-BF16 level (activations rounded to BF16,
  // 2^-8 relative; measured 7e-4 of the largest logit here) and FP32 paths elsewhere (1e-4).
  const tol = engine.info().simdName.includes("avx512bf16") ? 1e-2 : 1e-4;
  using model = await engine.synthesize("tiny-qwen2", { seed: 9 });
  const vocab = model.info().vocab;
  using batched = model.createSession({ maxSeqs: 4, maxCtx: 64 });
  using solo = model.createSession({ maxSeqs: 1, maxCtx: 64 });
  const prompts = [3, 7, 12, 20].map((n, i) => randomTokens(n, vocab, 40 + i));
  for (let s = 0; s < 4; s++) await batched.prefill(s, prompts[s]);
  const next = [[11, 12, 13, 14], [21, 22, 23, 24]];
  for (const step of next) await batched.decode([0, 1, 2, 3], step);
  for (let s = 0; s < 4; s++) {
    solo.reset(0);
    await solo.prefill(0, prompts[s]);
    for (const step of next) await solo.decode([0], [step[s]]);
    const a = batched.logits(s), b = solo.logits(0);
    let maxDiff = 0, maxAbs = 0;
    for (let i = 0; i < vocab; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(b[i]));
    }
    assert.ok(maxAbs > 0);
    assert.ok(
      maxDiff <= tol * maxAbs,
      `sequence ${s}: logits differ by ${maxDiff} (max ${maxAbs})`,
    );
  }
});
