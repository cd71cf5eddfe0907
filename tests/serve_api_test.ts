/**
 * lmrig serve end to end on loopback with the tiny synthetic model: every endpoint, streamed and
 * whole responses, the `lmrig` timing field, greedy outputs equal to the in-process generate of
 * the same prompt (with a negative control), seeded sampling, end-of-sequence handling
 * (ignore_eos, min_tokens) and every bad input answered in OpenAI's error shape.
 */
import assert from "node:assert/strict";
import { openLmrigTarget } from "../lib/targets/lmrig.ts";
import { openServeModel } from "../lib/serve/open_serve_model.ts";
import { startServer } from "../lib/serve/start_server.ts";
import { metrics, post, readSse } from "./_serve.ts";

// tiny-llama (untied embeddings): its greedy outputs vary token to token, so comparing them
// checks the numerics (tiny-qwen2's tied embeddings make greedy repeat the last prompt token).
const MODEL = "synthetic:tiny-llama";
const MAX_CTX = 128;

/** Greedy tokens of `prompt` in process, on a fresh target with the server's weights. */
async function inProcess(prompt: number[], n: number, seed = 0): Promise<number[]> {
  using t = await openLmrigTarget({ model: MODEL.slice(10), seed, threads: 1, maxCtx: MAX_CTX });
  await t.prefill(0, prompt);
  const out = [t.sample(0).token];
  while (out.length < n) {
    await t.decode([0], [out[out.length - 1]]);
    out.push(t.sample(0).token);
  }
  return out;
}

function assertTimings(x: unknown, tokens: number) {
  const l = x as Record<string, number>;
  assert.deepEqual(Object.keys(l).sort(), [
    "decode_ms",
    "prefill_ms",
    "queue_ms",
    "step_ms",
    "tokens",
  ]);
  for (const k of ["queue_ms", "prefill_ms", "decode_ms", "step_ms"]) {
    assert.ok(Number.isFinite(l[k]) && l[k] >= 0, `${k} = ${l[k]}`);
  }
  assert.ok(l.prefill_ms > 0 && l.step_ms > 0);
  assert.equal(l.tokens, tokens);
}

Deno.test("lmrig serve: endpoints, numerics, streaming, sampling and bad input", async (t) => {
  const server = await startServer({
    target: "lmrig",
    model: MODEL,
    port: 0,
    maxSeqs: 2,
    maxCtx: MAX_CTX,
    threads: 1,
  });
  const base = server.baseUrl;
  const root = base.replace(/\/v1$/, "");
  const tok = server.model.tokenizer;
  try {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);

    await t.step("models, health, metrics, unknown routes", async () => {
      const models = await (await fetch(`${base}/models`)).json();
      assert.equal(models.object, "list");
      assert.equal(models.data.length, 1);
      assert.equal(models.data[0].id, MODEL);
      assert.equal(models.data[0].object, "model");
      assert.equal(models.data[0].max_model_len, MAX_CTX);
      const one = await fetch(`${base}/models/${encodeURIComponent(MODEL)}`);
      assert.equal((await one.json()).id, MODEL);
      const missing = await fetch(`${base}/models/gpt-4`);
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error.code, "model_not_found");
      const health = await fetch(`${root}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), {
        status: "ok",
        slots_idle: 2,
        slots_processing: 0,
        queued: 0,
      });
      const m = await metrics(base);
      assert.equal(m.lmrig_slots, 2);
      assert.equal(m.lmrig_active_sequences, 0);
      const nf = await fetch(`${base}/embeddings`);
      assert.equal(nf.status, 404);
      const e = (await nf.json()).error;
      assert.equal(e.type, "not_found_error");
      assert.equal(typeof e.message, "string");
      const wrong = await fetch(`${base}/completions`);
      assert.equal(wrong.status, 405);
      await wrong.body?.cancel();
    });

    const prompt = [17, 5, 300, 42, 9, 111, 7];
    const N = 12;
    const expected = await inProcess(prompt, N);

    await t.step(
      "greedy completion equals the in-process generate (negative control)",
      async () => {
        const r = await post(`${base}/completions`, {
          model: MODEL,
          prompt,
          max_tokens: N,
          temperature: 0,
          return_token_ids: true,
        });
        assert.equal(r.status, 200);
        const body = await r.json();
        assert.equal(body.object, "text_completion");
        assert.match(body.id, /^cmpl-/);
        const c = body.choices[0];
        assert.deepEqual(c.token_ids, expected);
        assert.equal(c.text, tok.decode(expected, { skipSpecialTokens: true }));
        assert.equal(c.finish_reason, "length");
        assert.deepEqual(body.prompt_token_ids, prompt);
        assert.deepEqual(body.usage, {
          prompt_tokens: 7,
          completion_tokens: N,
          total_tokens: 7 + N,
        });
        assertTimings(body.lmrig, N);
        // Negative control: other weights (seed 1) give other tokens, so the check can fail.
        assert.notDeepEqual(await inProcess(prompt, N, 1), c.token_ids);
      },
    );

    await t.step("streamed completion: one token per chunk, same tokens and text", async () => {
      const r = await post(`${base}/completions`, {
        prompt,
        max_tokens: N,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
        return_token_ids: true,
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("content-type"), "text/event-stream");
      const s = await readSse(r);
      assert.ok(s.done, "ends with data: [DONE]");
      assert.equal(s.events.length, N + 1); // N token chunks + the usage chunk
      const chunks = s.events.slice(0, N) as {
        choices: { text: string; token_ids: number[]; finish_reason: string | null }[];
        usage: null;
        lmrig: Record<string, number>;
      }[];
      assert.deepEqual(chunks.flatMap((c) => c.choices[0].token_ids), expected);
      assert.equal(
        chunks.map((c) => c.choices[0].text).join(""),
        tok.decode(expected, { skipSpecialTokens: true }),
      );
      chunks.forEach((c, i) => {
        assert.equal(c.choices[0].finish_reason, i === N - 1 ? "length" : null);
        assert.equal(c.usage, null);
        assertTimings(c.lmrig, i + 1);
        if (i === 0) assert.equal(c.lmrig.decode_ms, 0);
        else assert.ok(c.lmrig.decode_ms >= chunks[i - 1].lmrig.decode_ms);
      });
      const last = s.events[N] as Record<string, unknown>;
      assert.deepEqual(last.choices, []);
      assert.deepEqual(last.usage, { prompt_tokens: 7, completion_tokens: N, total_tokens: 7 + N });
      assertTimings(last.lmrig, N);
      // Without include_usage: no usage field, no usage chunk.
      const plain = await readSse(
        await post(`${base}/completions`, { prompt, max_tokens: 3, temperature: 0, stream: true }),
      );
      assert.equal(plain.events.length, 3);
      assert.ok(plain.events.every((e) => !("usage" in e)));
    });

    await t.step("chat: template from the tokenizer, streamed and whole agree", async () => {
      const messages = [{ role: "user", content: "Hello there" }];
      const ids = tok.encode(tok.applyChatTemplate(messages), { addSpecialTokens: false })
        .map((x) => x % server.model.target.model().vocab);
      const want = await inProcess(ids, 6);
      const whole = await (await post(`${base}/chat/completions`, {
        model: MODEL,
        messages,
        max_tokens: 6,
        temperature: 0,
      })).json();
      assert.equal(whole.object, "chat.completion");
      assert.equal(whole.choices[0].message.role, "assistant");
      assert.equal(whole.choices[0].message.content, tok.decode(want, { skipSpecialTokens: true }));
      assert.equal(whole.usage.prompt_tokens, ids.length);
      const s = await readSse(
        await post(`${base}/chat/completions`, {
          messages: [{ role: "user", content: [{ type: "text", text: "Hello there" }] }],
          max_completion_tokens: 6,
          temperature: 0,
          stream: true,
        }),
      );
      assert.equal(s.events.length, 6);
      const deltas = s.events.map((e) =>
        (e.choices as { delta: Record<string, string> }[])[0].delta
      );
      assert.equal(deltas[0].role, "assistant");
      assert.ok(deltas.slice(1).every((d) => !("role" in d)));
      assert.equal(deltas.map((d) => d.content).join(""), whole.choices[0].message.content);
      assert.equal(s.events[0].object, "chat.completion.chunk");
    });

    await t.step("sampling: seeded, top_k 1 is greedy", async () => {
      const ask = async (extra: Record<string, unknown>) =>
        (await (await post(`${base}/completions`, {
          prompt,
          max_tokens: 16,
          return_token_ids: true,
          ...extra,
        })).json()).choices[0].token_ids as number[];
      const a = await ask({ temperature: 1.5, seed: 7 });
      const b = await ask({ temperature: 1.5, seed: 7 });
      const c = await ask({ temperature: 1.5, seed: 8 });
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
      assert.deepEqual(
        await ask({ temperature: 1.5, top_k: 1, seed: 3 }),
        expected.concat(
          await inProcess(prompt, 16).then((x) => x.slice(N)),
        ),
      );
    });

    await t.step("bad input: OpenAI error shape, the field named", async () => {
      const cases: [string, unknown, number, string, string | null][] = [
        ["/completions", "{not json", 400, "invalid_json", null],
        ["/completions", "[1, 2]", 400, "invalid_value", null],
        ["/completions", { model: "gpt-4", prompt: "x" }, 404, "model_not_found", "model"],
        ["/completions", { prompt: "x", max_tokens: "5" }, 400, "invalid_type", "max_tokens"],
        ["/completions", { prompt: "x", max_tokens: 0 }, 400, "invalid_value", "max_tokens"],
        ["/completions", { prompt: "x", temperature: "hot" }, 400, "invalid_type", "temperature"],
        ["/completions", { prompt: "x", top_p: 1.5 }, 400, "invalid_value", "top_p"],
        ["/completions", { prompt: "x", stream: "yes" }, 400, "invalid_type", "stream"],
        ["/completions", { prompt: "x", ignore_eos: 1 }, 400, "invalid_type", "ignore_eos"],
        ["/completions", { prompt: 5 }, 400, "invalid_type", "prompt"],
        ["/completions", { prompt: [1, 99999] }, 400, "invalid_type", "prompt"],
        ["/completions", {}, 400, "missing_field", "prompt"],
        ["/completions", { prompt: "x", n: 2 }, 400, "unsupported_value", "n"],
        ["/completions", { prompt: "x", stop: ["\n"] }, 400, "unsupported_value", "stop"],
        [
          "/completions",
          {
            prompt: "x",
            stream_options: { include_usage: true },
          },
          400,
          "invalid_value",
          "stream_options",
        ],
        [
          "/completions",
          { prompt: "x", max_tokens: 4, min_tokens: 5 },
          400,
          "invalid_value",
          "min_tokens",
        ],
        [
          "/completions",
          { prompt: Array(MAX_CTX).fill(1) },
          400,
          "context_length_exceeded",
          "prompt",
        ],
        [
          "/completions",
          { prompt: [1, 2, 3], max_tokens: MAX_CTX - 2 },
          400,
          "context_length_exceeded",
          "max_tokens",
        ],
        ["/chat/completions", { messages: "hi" }, 400, "invalid_type", "messages"],
        [
          "/chat/completions",
          { messages: [{ role: 1, content: "x" }] },
          400,
          "invalid_type",
          "messages[0].role",
        ],
        [
          "/chat/completions",
          { messages: [{ role: "user", content: 3 }] },
          400,
          "invalid_type",
          "messages[0].content",
        ],
      ];
      for (const [path, body, status, code, param] of cases) {
        const r = await post(`${base}${path}`, body);
        const j = await r.json();
        const what = `${path} ${
          typeof body === "string" ? body : JSON.stringify(body).slice(0, 60)
        }`;
        assert.equal(r.status, status, what);
        assert.deepEqual(Object.keys(j), ["error"], what);
        assert.deepEqual(Object.keys(j.error).sort(), ["code", "message", "param", "type"], what);
        assert.equal(j.error.code, code, what);
        assert.equal(j.error.param, param, what);
        assert.equal(
          j.error.type,
          status === 404 ? "invalid_request_error" : "invalid_request_error",
        );
        assert.match(j.error.message, /^[A-Z]/, what);
      }
      const long = await (await post(`${base}/completions`, { prompt: Array(MAX_CTX).fill(1) }))
        .json();
      assert.match(long.error.message, /^Prompt too long: 128 tokens/);
      // Nothing was left behind by the refused requests.
      const m = await metrics(base);
      assert.equal(m.lmrig_active_sequences, 0);
      assert.equal(m.lmrig_queued_requests, 0);
    });
  } finally {
    await server.shutdown(1000);
  }
});

Deno.test("lmrig serve: end of sequence, ignore_eos and min_tokens", async () => {
  // The tiny model's vocabulary has no end token: declare the greedy 3rd token of a prompt one.
  const prompt = [3, 1, 4, 1, 5, 9, 2, 6];
  const greedy = await inProcess(prompt, 8);
  const eos = greedy[2];
  const opened = await openServeModel({
    target: "lmrig",
    model: MODEL,
    maxSeqs: 1,
    maxCtx: MAX_CTX,
    threads: 1,
  });
  const server = await startServer({
    target: "lmrig",
    model: MODEL,
    port: 0,
    opened: { ...opened, eosTokenIds: [eos] },
  });
  try {
    const ask = async (extra: Record<string, unknown>) =>
      (await (await post(`${server.baseUrl}/completions`, {
        prompt,
        max_tokens: 8,
        temperature: 0,
        return_token_ids: true,
        ...extra,
      })).json()).choices[0];
    const first = greedy.indexOf(eos);
    const stopped = await ask({});
    assert.equal(stopped.finish_reason, "stop");
    assert.deepEqual(stopped.token_ids, greedy.slice(0, first + 1));
    const ignored = await ask({ ignore_eos: true });
    assert.equal(ignored.finish_reason, "length");
    assert.deepEqual(ignored.token_ids, greedy);
    const min = await ask({ min_tokens: 6 });
    assert.ok(min.token_ids.length >= 6);
    assert.ok(
      !min.token_ids.slice(0, 5).includes(eos),
      "the end token is banned before min_tokens",
    );
    assert.deepEqual(min.token_ids.slice(0, first), greedy.slice(0, first));
    if (min.finish_reason === "stop") assert.equal(min.token_ids.at(-1), eos);
  } finally {
    await server.shutdown(1000);
  }
});
