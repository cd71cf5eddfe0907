/**
 * lmrig serve's continuous batching on loopback with the tiny synthetic model: requests that
 * arrive while others decode join the running batch (batches > 1, outputs equal to each
 * request's solo in-process generate), the slot and queue bound answer 429, and a client that
 * disconnects (streamed or not) frees its sequence at once.
 */
import assert from "node:assert/strict";
import { openLmrigTarget } from "../lib/targets/lmrig.ts";
import { startServer } from "../lib/serve/start_server.ts";
import { metrics, post, readSse, waitFor } from "./_serve.ts";

const MODEL = "synthetic:tiny-llama"; // untied embeddings: greedy outputs vary (see serve_api_test)
const MAX_CTX = 512;

async function solo(prompt: number[], n: number): Promise<number[]> {
  using t = await openLmrigTarget({ model: "tiny-llama", seed: 0, threads: 1, maxCtx: MAX_CTX });
  await t.prefill(0, prompt);
  const out = [t.sample(0).token];
  while (out.length < n) {
    await t.decode([0], [out[out.length - 1]]);
    out.push(t.sample(0).token);
  }
  return out;
}

const ids = (s: { events: Record<string, unknown>[] }) =>
  s.events.flatMap((e) => (e.choices as { token_ids?: number[] }[])[0]?.token_ids ?? []);

Deno.test("lmrig serve: continuous batching, 429, disconnects", async (t) => {
  const server = await startServer({
    target: "lmrig",
    model: MODEL,
    port: 0,
    maxSeqs: 4,
    maxQueue: 2,
    maxCtx: MAX_CTX,
    threads: 1,
  });
  const base = server.baseUrl;
  const target = server.model.target;
  const allFree = () =>
    Array.from({ length: target.maxSeqs }, (_, i) => target.seqLen(i)).every((n) => n === 0);
  try {
    await t.step("requests join a running batch; outputs equal solo generates", async () => {
      const before = await metrics(base);
      const prompts = [[5, 6, 7, 8, 9], [100, 3, 250], [42, 42, 1, 17, 400, 2, 9]];
      const lens = [500, 24, 24];
      const req = (i: number) =>
        post(`${base}/completions`, {
          prompt: prompts[i],
          max_tokens: lens[i],
          temperature: 0,
          ignore_eos: true,
          stream: true,
          return_token_ids: true,
        });
      let joined!: Promise<{ events: Record<string, unknown>[]; atMs: number[] }[]>;
      const t0 = performance.now();
      const a = await readSse(await req(0), (_e, i) => {
        // After A's first token, B and C arrive while A is decoding.
        if (i === 0) {
          joined = Promise.all([1, 2].map(async (j) => {
            const s = await readSse(await req(j));
            return { ...s, endMs: performance.now() - t0 };
          }));
        }
      });
      const aEndMs = performance.now() - t0;
      const [b, c] = await joined;
      assert.deepEqual(ids(a), await solo(prompts[0], lens[0]));
      assert.deepEqual(ids(b), await solo(prompts[1], lens[1]));
      assert.deepEqual(ids(c), await solo(prompts[2], lens[2]));
      const bEnd = (b as unknown as { endMs: number }).endMs;
      assert.ok(bEnd < aEndMs, `B finished (${bEnd} ms) while A was still decoding (${aEndMs} ms)`);
      const after = await metrics(base);
      assert.ok(after.lmrig_decode_batch_max >= 2, `batch max ${after.lmrig_decode_batch_max}`);
      const steps = after.lmrig_decode_steps_total - before.lmrig_decode_steps_total;
      const seqs = after.lmrig_decode_sequences_total - before.lmrig_decode_sequences_total;
      assert.equal(seqs, lens.reduce((x, y) => x + y) - 3); // every token after the first
      assert.ok(steps < seqs, `mean batch ${seqs / steps} > 1`);
      assert.ok(allFree());
    });

    await t.step("4 slots + 2 queued, the 7th request gets 429", async () => {
      const before = await metrics(base);
      const controllers = Array.from({ length: 6 }, () => new AbortController());
      const responses = await Promise.all(controllers.map((c, i) =>
        post(`${base}/completions`, {
          prompt: [1 + i, 2, 3],
          max_tokens: 500,
          ignore_eos: true,
          temperature: 0,
          stream: true,
        }, c.signal)
      ));
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      const m = await metrics(base);
      assert.equal(m.lmrig_active_sequences + m.lmrig_queued_requests, 6);
      // Queued requests take free slots at the next scheduler step.
      assert.ok(
        await waitFor(async () => {
          const x = await metrics(base);
          return x.lmrig_active_sequences === 4 && x.lmrig_queued_requests === 2;
        }, 2000),
      );
      const r = await post(`${base}/completions`, { prompt: [1], max_tokens: 2 });
      assert.equal(r.status, 429);
      const e = (await r.json()).error;
      assert.equal(e.type, "rate_limit_error");
      assert.equal(e.code, "too_many_requests");
      assert.match(e.message, /all 4 sequence slots are busy and the queue holds its limit of 2/);
      for (const c of controllers) c.abort();
      for (const res of responses) await res.body?.cancel().catch(() => {});
      assert.ok(
        await waitFor(async () => {
          const x = await metrics(base);
          return x.lmrig_active_sequences === 0 && x.lmrig_queued_requests === 0;
        }, 2000),
        "every slot and queue place is freed after the clients went away",
      );
      const after = await metrics(base);
      assert.equal(after.lmrig_requests_cancelled_total - before.lmrig_requests_cancelled_total, 6);
      assert.equal(after.lmrig_requests_rejected_total - before.lmrig_requests_rejected_total, 1);
      assert.ok(after.lmrig_generated_tokens_total - before.lmrig_generated_tokens_total < 4 * 500);
      assert.ok(allFree(), "the KV of every sequence is reset");
    });

    await t.step("a streamed client that disconnects frees its slot at once", async () => {
      const before = await metrics(base);
      const res = await post(`${base}/completions`, {
        prompt: [9, 8, 7],
        max_tokens: 500,
        ignore_eos: true,
        temperature: 0,
        stream: true,
      });
      const s = await readSse(res, (_e, i) => i === 2); // read 3 chunks, then hang up
      assert.equal(s.events.length, 3);
      const cutAt = performance.now();
      assert.ok(
        await waitFor(async () => (await metrics(base)).lmrig_active_sequences === 0, 2000),
        "the slot is freed",
      );
      const freedMs = performance.now() - cutAt;
      const after = await metrics(base);
      assert.equal(after.lmrig_requests_cancelled_total - before.lmrig_requests_cancelled_total, 1);
      const made = after.lmrig_generated_tokens_total - before.lmrig_generated_tokens_total;
      assert.ok(made < 500, `only ${made} of 500 tokens were generated`);
      assert.ok(allFree());
      console.log(`slot freed ${freedMs.toFixed(1)} ms after the disconnect, ${made} tokens made`);
      // The freed slot serves the next request.
      const ok = await post(`${base}/completions`, {
        prompt: [1, 2],
        max_tokens: 3,
        temperature: 0,
      });
      assert.equal((await ok.json()).usage.completion_tokens, 3);
    });

    await t.step("a client of a whole response that disconnects frees its slot", async () => {
      const before = await metrics(base);
      const c = new AbortController();
      const p = post(`${base}/completions`, {
        prompt: [4, 4, 4],
        max_tokens: 500,
        ignore_eos: true,
        temperature: 0,
      }, c.signal).catch((e) => e);
      assert.ok(
        await waitFor(async () => (await metrics(base)).lmrig_active_sequences === 1, 2000),
      );
      c.abort();
      assert.equal((await p).name, "AbortError");
      assert.ok(
        await waitFor(async () => (await metrics(base)).lmrig_active_sequences === 0, 2000),
      );
      const after = await metrics(base);
      assert.equal(after.lmrig_requests_cancelled_total - before.lmrig_requests_cancelled_total, 1);
      assert.ok(allFree());
    });
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("lmrig serve: tiny-qwen2 chat uses the Qwen chat template", async () => {
  const server = await startServer({
    target: "lmrig",
    model: "synthetic:tiny-qwen2",
    port: 0,
    maxSeqs: 1,
    maxCtx: 64,
    threads: 1,
  });
  try {
    const tok = server.model.tokenizer;
    const text = tok.applyChatTemplate([{ role: "user", content: "Hello" }]);
    assert.equal(text, "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n");
    const r = await (await post(`${server.baseUrl}/chat/completions`, {
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 2,
      temperature: 0,
    })).json();
    assert.equal(r.usage.prompt_tokens, tok.encode(text, { addSpecialTokens: false }).length);
    assert.equal(r.usage.completion_tokens, 2);
  } finally {
    await server.shutdown(1000);
  }
});
