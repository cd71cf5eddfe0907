/**
 * One streamed request to an OpenAI-compatible server, timed on the monotonic clock the way
 * vLLM's `bench serve` times it: TTFT from send to the first chunk with content, ITL between
 * content chunks, E2E from send to the last chunk. Every failure is returned as data.
 */
import { type ConnectionPool, http1Post, type Http1Response } from "./_http1.ts";
import { requestBody } from "./_request_body.ts";
import { watch } from "./_watchdog.ts";
import type { HttpErrorKind, HttpRequestResult, HttpRequestSpec, ServerTimings } from "./types.ts";

const MS = 1e6; // ns per ms

function errorMessage(text: string): string {
  try {
    const j = JSON.parse(text);
    const m = j?.error?.message ?? j?.message ?? j?.detail ?? j?.error;
    if (typeof m === "string" && m !== "") return m;
  } catch { /* not JSON: the text itself */ }
  return text.trim().slice(0, 300) || "(empty body)";
}

/**
 * Send one streamed request and time it. `stream: true` and
 * `stream_options: {include_usage: true}` are always sent; `exactTokens` adds `ignore_eos` and
 * `min_tokens`. Per request: the response head time, TTFT, every gap between content chunks
 * (ITL), E2E, the output token count (the usage block when the server sends one; otherwise the
 * text is kept for the caller's tokenizer, and the chunk count stands in), and the server's own
 * timings when present: lmrig serve's `lmrig` field on each chunk, llama-server's `timings`.
 * Deadlines (connect, first token, idle, total) are checked by one shared timer; a request never
 * runs past `totalMs` (+ the timer's tick). The promise never rejects on a network or server
 * fault: the result says `ok: false` with the kind and the reason.
 *
 * @param spec The request.
 * @param signal Aborts the request (kind `aborted`), e.g. when the user stops the run.
 * @param pool Keep-alive connections of a load run (default: a fresh connection, closed after).
 * @returns The result, times in ns from the moment the request was sent.
 * @throws {TypeError} Only for a spec that cannot be sent (a chat request with token ids).
 * @example
 * ```ts
 * import { streamCompletion } from "./stream_completion.ts";
 * import { DEFAULT_TIMEOUTS } from "./types.ts";
 * await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
 *   new Response(
 *     'data: {"choices":[{"text":"Hi","finish_reason":null}]}\n\n' +
 *       'data: {"choices":[{"text":"!","finish_reason":"length"}]}\n\n' +
 *       'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n',
 *     { headers: { "content-type": "text/event-stream" } },
 *   ));
 * const r = await streamCompletion({
 *   baseUrl: `http://127.0.0.1:${server.addr.port}/v1`, api: "completions", model: "m",
 *   prompt: "Hello", maxTokens: 2, exactTokens: false, timeouts: DEFAULT_TIMEOUTS,
 * });
 * if (!r.ok || r.outputTokens !== 2 || r.tokenSource !== "usage") throw new Error("unexpected");
 * ```
 */
export async function streamCompletion(
  spec: HttpRequestSpec,
  signal?: AbortSignal,
  pool?: ConnectionPool,
): Promise<HttpRequestResult> {
  const url = spec.baseUrl.replace(/\/+$/, "") +
    (spec.api === "chat" ? "/chat/completions" : "/completions");
  const payload = JSON.stringify(requestBody(spec));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
  };
  if (spec.apiKey) headers.authorization = `Bearer ${spec.apiKey}`;
  const to = spec.timeouts;
  const r: HttpRequestResult = {
    ok: false,
    itlNs: [],
    chunks: 0,
    outputTokens: 0,
    tokenSource: "chunks",
    promptTokens: null,
    honoured: null,
  };
  let phase: "head" | "first" | "stream" = "head";
  let why: HttpErrorKind | null = null;
  let closeConn = () => {};
  let onAborted = () => {};
  const aborted = new Promise<never>((_, reject) => (onAborted = () => reject(new Error(why!))));
  aborted.catch(() => {});
  const abortWith = (kind: HttpErrorKind) => {
    if (why !== null) return;
    why = kind;
    closeConn();
    onAborted();
  };
  const onAbort = () => abortWith("aborted");
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort);
  const t0 = performance.now();
  let lastAt = t0;
  const unwatch = watch((now) => {
    const since = now - t0;
    if (since > to.totalMs) abortWith("total-timeout");
    else if (phase === "head" && since > to.connectMs) abortWith("connect-timeout");
    else if (phase !== "stream" && since > to.firstTokenMs) abortWith("first-token-timeout");
    else if (phase === "stream" && now - lastAt > to.idleMs) abortWith("idle-timeout");
  });
  const fail = (kind: HttpErrorKind, message: string): HttpRequestResult => {
    r.ok = false;
    r.errorKind = why ?? kind;
    const bound = {
      "connect-timeout": `no response head within ${to.connectMs} ms`,
      "first-token-timeout": `no token within ${to.firstTokenMs} ms`,
      "idle-timeout": `nothing received for ${to.idleMs} ms after the stream started`,
      "total-timeout": `the request ran over ${to.totalMs} ms`,
      aborted: "the run was stopped",
    } as Record<string, string>;
    r.error = why !== null ? bound[why] ?? message : message;
    return r;
  };
  let text = "";
  let prevAt = 0;
  let sawDone = false;
  let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  let lmrigFirst: Record<string, number> | undefined;
  let lmrigLast: Record<string, number> | undefined;
  let llama: Record<string, number> | undefined;
  let bad: string | null = null;

  const onEvent = (data: string, at: number) => {
    if (data === "[DONE]") {
      sawDone = true;
      return;
    }
    let obj;
    try {
      obj = JSON.parse(data);
    } catch {
      bad = `a data line is not JSON: ${JSON.stringify(data.slice(0, 80))}`;
      return;
    }
    if (obj === null || typeof obj !== "object") {
      bad = `a data line is not a JSON object: ${JSON.stringify(data.slice(0, 80))}`;
      return;
    }
    if (obj.error !== undefined) {
      const e = obj.error;
      bad = null;
      r.errorKind = "server-error";
      r.error = typeof e === "string" ? e : e?.message ?? JSON.stringify(e).slice(0, 300);
      return;
    }
    if (obj.usage) usage = obj.usage;
    if (obj.lmrig) {
      lmrigFirst ??= obj.lmrig;
      lmrigLast = obj.lmrig;
    }
    if (obj.timings) llama = obj.timings;
    const choices = obj.choices;
    if (!Array.isArray(choices)) {
      if (!obj.usage) bad = `a chunk has no "choices": ${JSON.stringify(data.slice(0, 80))}`;
      return;
    }
    const c = choices[0];
    if (c === undefined) return;
    const content = spec.api === "chat" ? c.delta?.content ?? c.delta?.reasoning_content : c.text;
    if (typeof content === "string" && content !== "") {
      if (r.chunks === 0) {
        r.ttftNs = (at - t0) * MS;
        phase = "stream";
      } else r.itlNs.push((at - prevAt) * MS);
      prevAt = at;
      r.chunks++;
      text += content;
    }
    if (c.finish_reason) r.finishReason = c.finish_reason;
  };

  try {
    let res: Http1Response;
    try {
      const connecting = http1Post(new URL(url), headers, payload, (c) => (closeConn = c), pool);
      // A connect cannot be cancelled: when a deadline wins the race, close what it brings.
      connecting.then((x) => why !== null && x.close(), () => {});
      res = await Promise.race([connecting, aborted]);
    } catch (e) {
      return fail("connect-refused", `Cannot reach ${url}: ${(e as Error).message}`);
    }
    r.headersNs = (performance.now() - t0) * MS;
    r.status = res.status;
    const decoder = new TextDecoder();
    if (res.status < 200 || res.status > 299) {
      let body = "";
      try {
        for (let b = await res.read(); b !== null; b = await res.read()) {
          body += decoder.decode(b, { stream: true });
        }
      } catch { /* cut or timed out: the status still says what failed */ }
      return fail(
        res.status < 500 ? "http-4xx" : "http-5xx",
        `HTTP ${res.status}: ${errorMessage(body)}`,
      );
    }
    phase = "first";
    lastAt = performance.now();
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("text/event-stream")) {
      return fail("malformed-sse", `Expected an event stream, got content type "${type}"`);
    }
    let buf = "";
    let data: string | null = null;
    for (;;) {
      let bytes: Uint8Array | null;
      try {
        bytes = await res.read();
      } catch (e) {
        return fail(
          "stream-cut",
          `The stream broke after ${r.chunks} chunk(s): ${(e as Error).message}`,
        );
      }
      const at = performance.now();
      lastAt = at;
      if (bytes === null) break;
      buf += decoder.decode(bytes, { stream: true });
      let start = 0;
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n", start)) {
        let line = buf.slice(start, nl);
        start = nl + 1;
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (line === "") {
          if (data !== null) onEvent(data, at);
          data = null;
        } else if (line.startsWith("data:")) {
          const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
          data = data === null ? v : data + "\n" + v;
        } // comments (":") and other fields (event:, id:, retry:) carry no tokens
        if (bad !== null || r.errorKind === "server-error") break;
      }
      buf = buf.slice(start);
      if (bad !== null || r.errorKind === "server-error") break;
    }
    if (bad !== null) return fail("malformed-sse", `Malformed event stream: ${bad}`);
    if (r.errorKind === "server-error") return fail("server-error", r.error!);
    if (buf.startsWith("data:")) onEvent(buf.slice(5).trim(), lastAt); // no final blank line
    if (bad !== null) return fail("malformed-sse", `Malformed event stream: ${bad}`);
    if (!sawDone && !r.finishReason) {
      return fail("stream-cut", `The stream ended after ${r.chunks} chunk(s) without [DONE]`);
    }
    r.ok = true;
    // E2E ends at the last content chunk (vLLM's latency); a stream with no content ends at
    // its last read.
    r.e2eNs = ((r.chunks > 0 ? prevAt : lastAt) - t0) * MS;
    if (usage?.completion_tokens !== undefined) {
      r.outputTokens = usage.completion_tokens;
      r.tokenSource = "usage";
    } else {
      r.outputTokens = r.chunks;
      r.text = text;
    }
    if (usage?.prompt_tokens !== undefined) r.promptTokens = usage.prompt_tokens;
    if (spec.exactTokens && r.tokenSource !== "tokenizer") {
      r.honoured = r.outputTokens === spec.maxTokens;
    }
    r.server = serverTimings(lmrigFirst, lmrigLast, llama);
    if (r.server === undefined) delete r.server;
    return r;
  } finally {
    closeConn();
    unwatch();
    signal?.removeEventListener("abort", onAbort);
  }
}

function serverTimings(
  first: Record<string, number> | undefined,
  last: Record<string, number> | undefined,
  llama: Record<string, number> | undefined,
): ServerTimings | undefined {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  if (last) {
    const t: ServerTimings = {
      source: "lmrig",
      queueMs: num(last.queue_ms),
      prefillMs: num(last.prefill_ms),
      decodeMs: num(last.decode_ms),
      tokens: num(last.tokens),
    };
    // The engine's share of TTFT: the first chunk's queue wait and prefill (its token is the
    // prefill's sample).
    const f = first ?? last;
    const q = num(f.queue_ms), p = num(f.prefill_ms);
    if (q !== undefined && p !== undefined) t.firstTokenMs = q + p;
    return t;
  }
  if (llama) {
    return {
      source: "llama.cpp",
      prefillMs: num(llama.prompt_ms),
      decodeMs: num(llama.predicted_ms),
      tokens: num(llama.predicted_n),
      promptTokens: num(llama.prompt_n),
    };
  }
  return undefined;
}
