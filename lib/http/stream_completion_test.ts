import assert from "node:assert/strict";
import { startScriptedServer } from "./scripted_server.ts";
import { requestBody } from "./_request_body.ts";
import { streamCompletion } from "./stream_completion.ts";
import type { HttpRequestSpec, HttpTimeouts } from "./types.ts";

const FAST: HttpTimeouts = { connectMs: 400, firstTokenMs: 400, idleMs: 300, totalMs: 3000 };

function spec(
  baseUrl: string,
  model: string,
  over: Partial<HttpRequestSpec> = {},
): HttpRequestSpec {
  return {
    baseUrl,
    api: "completions",
    model,
    prompt: [1, 2, 3, 4],
    maxTokens: 8,
    exactTokens: true,
    timeouts: FAST,
    ...over,
  };
}

Deno.test("stream: a good stream gives TTFT, every ITL gap, E2E and usage tokens", async () => {
  await using s = startScriptedServer({ delayMs: 5 });
  const r = await streamCompletion(spec(s.baseUrl, "slow"));
  assert.ok(r.ok, r.error);
  assert.deepStrictEqual(r.outputTokens, 8);
  assert.deepStrictEqual(r.tokenSource, "usage");
  assert.deepStrictEqual(r.promptTokens, 4);
  assert.deepStrictEqual(r.chunks, 8);
  assert.deepStrictEqual(r.itlNs.length, 7);
  assert.deepStrictEqual(r.honoured, true);
  assert.deepStrictEqual(r.finishReason, "length");
  // 5 ms between tokens: the 7 gaps span at least ~6 delays (the first token may arrive late on
  // a loaded machine and shorten one gap), and E2E = TTFT + the gaps.
  const sum = r.itlNs.reduce((a, b) => a + b, 0);
  assert.ok(sum >= 6 * 5e6 * 0.95, `gaps ${r.itlNs}`);
  assert.ok(Math.abs(r.ttftNs! + sum - r.e2eNs!) < 1e3, "E2E is TTFT plus the gaps");
  const body = s.requests[0];
  assert.deepStrictEqual(body.stream, true);
  assert.deepStrictEqual(body.stream_options, { include_usage: true });
  assert.deepStrictEqual(body.ignore_eos, true);
  assert.deepStrictEqual(body.min_tokens, 8);
  assert.deepStrictEqual(body.prompt, [1, 2, 3, 4]);
});

Deno.test("stream: chat requests, no usage (chunk count), a server that ignores min_tokens", async () => {
  await using s = startScriptedServer();
  const chat = await streamCompletion(
    spec(s.baseUrl, "no-usage", { api: "chat", prompt: "Hello there" }),
  );
  assert.ok(chat.ok, chat.error);
  assert.deepStrictEqual(chat.tokenSource, "chunks");
  assert.deepStrictEqual(chat.outputTokens, 8);
  assert.deepStrictEqual(chat.text, "tok".repeat(8));
  assert.deepStrictEqual(chat.promptTokens, null);
  assert.deepStrictEqual((s.requests[0].messages as unknown[]).length, 1);
  const short = await streamCompletion(spec(s.baseUrl, "short"));
  assert.ok(short.ok);
  assert.deepStrictEqual(short.outputTokens, 4);
  assert.deepStrictEqual(
    short.honoured,
    false,
    "a server that stops early is recorded as not honouring",
  );
  const loose = await streamCompletion(spec(s.baseUrl, "ok", { exactTokens: false }));
  assert.deepStrictEqual(loose.honoured, null);
  assert.deepStrictEqual(s.requests[2].ignore_eos, undefined);
  let threw = false;
  try {
    requestBody(spec(s.baseUrl, "ok", { api: "chat" }));
  } catch (e) {
    threw = (e as Error).message.includes("token ids");
  }
  assert.ok(threw, "a chat request with token ids is refused");
});

Deno.test("stream: server timings (lmrig extension, llama-server timings)", async () => {
  {
    await using s = startScriptedServer({ lmrigTimings: true });
    const r = await streamCompletion(spec(s.baseUrl, "ok"));
    assert.deepStrictEqual(r.server?.source, "lmrig");
    assert.deepStrictEqual(r.server?.queueMs, 1);
    assert.deepStrictEqual(r.server?.prefillMs, 2);
    assert.deepStrictEqual(r.server?.decodeMs, 3.5); // the last chunk's decode time so far (7 x 0.5)
    assert.deepStrictEqual(r.server?.firstTokenMs, 3);
    assert.deepStrictEqual(r.server?.tokens, 8);
  }
  {
    await using s = startScriptedServer({ llamaTimings: true });
    const r = await streamCompletion(spec(s.baseUrl, "ok"));
    assert.deepStrictEqual(r.server?.source, "llama.cpp");
    assert.deepStrictEqual(r.server?.decodeMs, 4);
    assert.deepStrictEqual(r.server?.promptTokens, 4);
  }
  await using s = startScriptedServer();
  assert.deepStrictEqual((await streamCompletion(spec(s.baseUrl, "ok"))).server, undefined);
});

/** Each fault, its kind and a piece of its reason. */
const FAULTS: [string, string, RegExp][] = [
  ["http-400", "http-4xx", /HTTP 400: Prompt is too long/],
  ["http-500", "http-5xx", /HTTP 500: Engine crashed/],
  ["http-503-text", "http-5xx", /HTTP 503: Service overloaded/],
  ["malformed", "malformed-sse", /not JSON/],
  ["no-choices", "malformed-sse", /no "choices"/],
  ["json", "malformed-sse", /content type "application\/json"/],
  ["error-event", "server-error", /Out of KV cache/],
  ["cut", "stream-cut", /broke after 2 chunk|ended after 2 chunk/],
  ["stall", "idle-timeout", /nothing received for 300 ms/],
  ["no-token", "first-token-timeout", /no token within 400 ms/],
  ["no-head", "connect-timeout", /no response head within 400 ms/],
];

Deno.test("stream: every fault is recorded with its kind and reason, within its bound", async () => {
  await using s = startScriptedServer();
  for (const [model, kind, reason] of FAULTS) {
    const t0 = performance.now();
    const r = await streamCompletion(spec(s.baseUrl, model));
    const ms = performance.now() - t0;
    assert.deepStrictEqual(r.ok, false, model);
    assert.deepStrictEqual(r.errorKind, kind, `${model}: ${r.error}`);
    assert.match(r.error!, reason, model);
    assert.ok(ms < 1500, `${model} took ${ms.toFixed(0)} ms (bounds are 300-400 ms)`);
  }
  // Negative control: the same server answers a good request right after the faults.
  assert.ok((await streamCompletion(spec(s.baseUrl, "ok"))).ok);
});

Deno.test("stream: total timeout, connection refused and a stop request", async () => {
  await using s = startScriptedServer({ delayMs: 50 });
  const slow = await streamCompletion(
    spec(s.baseUrl, "slow", { maxTokens: 100, timeouts: { ...FAST, totalMs: 300 } }),
  );
  assert.deepStrictEqual(slow.errorKind, "total-timeout");
  assert.ok(slow.chunks > 0 && slow.chunks < 100);
  // A port that was just closed refuses connections.
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const refused = await streamCompletion(spec(`http://127.0.0.1:${port}/v1`, "ok"));
  assert.deepStrictEqual(refused.errorKind, "connect-refused");
  assert.match(refused.error!, /Cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/completions/);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const stopped = await streamCompletion(spec(s.baseUrl, "slow", { maxTokens: 100 }), ac.signal);
  assert.deepStrictEqual(stopped.errorKind, "aborted");
});
