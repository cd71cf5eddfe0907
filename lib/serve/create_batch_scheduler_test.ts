import assert from "node:assert/strict";
import type { Target } from "../targets/types.ts";
import { ApiError } from "./api_error.ts";
import { createBatchScheduler } from "./create_batch_scheduler.ts";
import type { GenerationParams } from "./types.ts";

const VOCAB = 50;

/**
 * A fake target whose next token is (last token + 1) % VOCAB. It records every violation of the
 * rules a real engine needs: a call while another is in flight, a reset during a call, a new
 * request prefilled into a slot that still holds tokens.
 */
function fakeTarget(slots: number, opts: { failPrefill?: number; failDecodeAt?: number } = {}) {
  const len = new Array(slots).fill(0);
  const last = new Array(slots).fill(-1);
  const violations: string[] = [];
  const batches: number[] = [];
  let inCall = false;
  let decodes = 0;
  let gate: Promise<void> | null = null;
  const enter = async () => {
    if (inCall) violations.push("overlapping engine calls");
    inCall = true;
    await new Promise((r) => setTimeout(r, 1));
    if (gate) await gate;
    inCall = false;
  };
  const t = {
    name: "fake",
    capabilities: new Set(["batched-decode", "sampling", "logits"]),
    maxSeqs: slots,
    maxCtx: 64,
    model: () => ({ vocab: VOCAB }),
    async prefill(seq: number, tokens: ArrayLike<number>) {
      await enter();
      if (tokens[0] === opts.failPrefill) throw new Error("prefill refused");
      len[seq] += tokens.length;
      last[seq] = tokens[tokens.length - 1];
      return 1000;
    },
    async decode(seqs: ArrayLike<number>, tokens: ArrayLike<number>) {
      await enter();
      if (++decodes === opts.failDecodeAt) throw new Error("decode failed");
      batches.push(seqs.length);
      for (let i = 0; i < seqs.length; i++) {
        len[seqs[i]]++;
        last[seqs[i]] = tokens[i];
      }
      return 2000;
    },
    sample: (seq: number) => ({ token: (last[seq] + 1) % VOCAB, ns: 10 }),
    logits: (seq: number) => {
      const l = new Float32Array(VOCAB);
      l[(last[seq] + 1) % VOCAB] = 10;
      return l;
    },
    reset(seq: number) {
      if (inCall) violations.push(`reset of ${seq} during an engine call`);
      len[seq] = 0;
      last[seq] = -1;
    },
    seqLen: (seq: number) => len[seq],
  };
  return {
    target: t as unknown as Target,
    len,
    violations,
    batches,
    hold() {
      let open!: () => void;
      gate = new Promise((r) => (open = r));
      return () => {
        gate = null;
        open();
      };
    },
  };
}

const req = (prompt: number[], maxTokens: number): GenerationParams => ({
  prompt,
  maxTokens,
  minTokens: 0,
  ignoreEos: false,
  sampling: { temperature: 0, topK: 0, topP: 1 },
});
const expected = (prompt: number[], n: number) =>
  Array.from({ length: n }, (_, i) => (prompt[prompt.length - 1] + 1 + i) % VOCAB);

Deno.test("scheduler: every request gets its tokens; late requests join the batch", async () => {
  const f = fakeTarget(3);
  const s = createBatchScheduler(f.target, {
    maxQueue: 10,
    prefillBudgetTokens: 4,
    eosTokenIds: [],
  });
  const prompts = [[1, 2, 3, 4, 5, 6], [10], [20, 21], [30, 31, 32], [40]];
  const first = s.submit(req(prompts[0], 40));
  await new Promise((r) => setTimeout(r, 8)); // the first is decoding alone by now (>= 1 ms a call)
  const rest = prompts.slice(1).map((p) => s.submit(req(p, 5)));
  const results = await Promise.all([first, ...rest].map((h) => h.done));
  results.forEach((r, i) => {
    assert.equal(r.finishReason, "length");
    assert.deepEqual(r.tokens, expected(prompts[i], i === 0 ? 40 : 5));
    assert.equal(r.timings.tokens, r.tokens.length);
    // 1000 ns per prefill call; the budget of 4 tokens per step, shared, cuts prompts into chunks.
    const calls = Math.round(r.timings.prefill_ms * 1e6 / 1000);
    assert.ok(calls >= Math.ceil(prompts[i].length / 4) && calls <= prompts[i].length);
  });
  await s.close();
  assert.deepEqual(f.violations, []);
  assert.ok(Math.max(...f.batches) === 3, `batches ${f.batches}`);
  assert.equal(f.batches[0], 1);
  assert.deepEqual(f.len, [0, 0, 0], "every slot is reset");
  const st = s.stats();
  assert.equal(st.requestsFinished, 5);
  assert.equal(st.decodeSequences, (40 - 1) + 4 * (5 - 1)); // every token after the first
  assert.equal(st.generatedTokens, 40 + 4 * 5);
  assert.equal(st.promptTokens, prompts.flat().length);
});

Deno.test("scheduler: a cancel during an engine call frees the slot right after it", async () => {
  const f = fakeTarget(1);
  const s = createBatchScheduler(f.target, {
    maxQueue: 1,
    prefillBudgetTokens: 8,
    eosTokenIds: [],
  });
  let seen = 0;
  const h = s.submit(req([1, 2], 60), () => seen++);
  while (seen < 3) await new Promise((r) => setTimeout(r, 1));
  const release = f.hold(); // the next decode waits
  await new Promise((r) => setTimeout(r, 5));
  h.cancel("client gone");
  assert.equal(s.stats().active, 1, "not freed while the engine call runs");
  const queued = s.submit(req([7], 2));
  release();
  const r = await h.done;
  assert.equal(r.finishReason, "cancelled");
  assert.equal(r.error, "client gone");
  assert.ok(r.tokens.length < 60);
  assert.deepEqual((await queued.done).tokens, [8, 9], "the freed slot serves the queued request");
  await s.close();
  assert.deepEqual(f.violations, []);
  assert.equal(s.stats().requestsCancelled, 1);
});

Deno.test("scheduler: 429 past slots + queue, 503 once draining; failures stay per request", async () => {
  const f = fakeTarget(2, { failPrefill: 13, failDecodeAt: 3 });
  const s = createBatchScheduler(f.target, {
    maxQueue: 1,
    prefillBudgetTokens: 8,
    eosTokenIds: [],
  });
  const a = s.submit(req([13], 4)); // refused by the engine at prefill
  const b = s.submit(req([1], 4));
  const c = s.submit(req([2], 4));
  assert.throws(() => s.submit(req([3], 4)), (e) => e instanceof ApiError && e.status === 429);
  const [ra, rb, rc] = await Promise.all([a.done, b.done, c.done]);
  assert.equal(ra.finishReason, "error");
  assert.match(ra.error!, /prefill refused/);
  // The third decode call fails: b and c were in that batch.
  assert.equal(rb.finishReason, "error");
  assert.equal(rc.finishReason, "error");
  const d = await s.submit(req([5], 3)).done;
  assert.deepEqual(d.tokens, [6, 7, 8], "the loop goes on after failures");
  s.stopAdmitting();
  assert.throws(() => s.submit(req([3], 4)), (e) => e instanceof ApiError && e.status === 503);
  await s.close();
  assert.deepEqual(f.len, [0, 0]);
  assert.equal(s.stats().requestsFailed, 3);
  assert.deepEqual(f.violations, []);
});

Deno.test("scheduler: end tokens stop a request unless ignored; min_tokens bans them", async () => {
  const f = fakeTarget(1);
  const s = createBatchScheduler(f.target, {
    maxQueue: 4,
    prefillBudgetTokens: 8,
    eosTokenIds: [4, 999],
  });
  const stop = await s.submit(req([1], 10)).done; // 2, 3, 4: end
  assert.deepEqual(stop.tokens, [2, 3, 4]);
  assert.equal(stop.finishReason, "stop");
  const ignored = await s.submit({ ...req([1], 5), ignoreEos: true }).done;
  assert.deepEqual(ignored.tokens, [2, 3, 4, 5, 6]);
  assert.equal(ignored.finishReason, "length");
  // min_tokens 4: 4 is banned at the 3rd token, so the sampler takes the next best (id 0).
  const min = await s.submit({ ...req([1], 6), minTokens: 4 }).done;
  assert.deepEqual(min.tokens.slice(0, 3), [2, 3, 0]);
  assert.ok(!min.tokens.slice(0, 3).includes(4));
  await s.close();
});
