/**
 * A scripted OpenAI-compatible streaming server on loopback, for the HTTP client's tests and
 * its benchmark: it streams instantly (or with a set delay) and injects a fault chosen by the
 * request's `model` field. It runs no model; every token is the text "tok".
 * Run alone: `deno run -A lib/http/scripted_server.ts [--port N] [--tokens-per-write N]`
 * (prints `listening on http://127.0.0.1:PORT/v1`).
 */

/**
 * Behaviours by `model` name: `ok` (default; any unknown name too), `http-400`, `http-500`
 * (JSON error bodies), `http-503-text` (a plain-text body), `malformed` (a data line that is
 * not JSON after two tokens), `no-choices` (a JSON chunk without choices), `cut` (the connection
 * ends after two tokens, no [DONE]), `stall` (two tokens, then silence), `no-head` (the
 * response head never comes), `no-token` (head, then silence), `error-event` (an in-band
 * `error` object after one token), `json` (a non-streamed JSON body), `short` (ignores
 * ignore_eos/min_tokens: stops after half of max_tokens), `no-usage` (no usage block), `slow`
 * (`delayMs` between tokens).
 */
export type ScriptedFault =
  | "ok"
  | "http-400"
  | "http-500"
  | "http-503-text"
  | "malformed"
  | "no-choices"
  | "cut"
  | "stall"
  | "no-head"
  | "no-token"
  | "error-event"
  | "json"
  | "short"
  | "no-usage"
  | "slow";

/** Options of {@link startScriptedServer}. */
export interface ScriptedServerOptions {
  /** Port (default 0: any free one). */
  port?: number;
  /** SSE events per write (default 1: one token per write, like a server flushing per step). */
  tokensPerWrite?: number;
  /** `slow`: ms between tokens (default 20). */
  delayMs?: number;
  /** Send lmrig serve's `lmrig` timing field on every chunk (default false). */
  lmrigTimings?: boolean;
  /** Send llama-server's `timings` object on the last chunk (default false). */
  llamaTimings?: boolean;
}

/** A running scripted server. */
export interface ScriptedServer {
  /** `http://127.0.0.1:PORT/v1`. */
  baseUrl: string;
  port: number;
  /** Requests received so far, with their parsed bodies. */
  requests: Record<string, unknown>[];
  /** Stop: ends held streams and closes the listener. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const enc = new TextEncoder();

/**
 * Start the scripted server on 127.0.0.1.
 *
 * @param options Port, write size, delays and timing extensions.
 * @returns The server; close it (or `await using`).
 * @throws {Deno.errors.AddrInUse} When the port is taken.
 * @example
 * ```ts
 * import { startScriptedServer } from "./scripted_server.ts";
 * await using s = startScriptedServer();
 * const res = await fetch(`${s.baseUrl}/models`);
 * const body = await res.json();
 * if (body.data[0].id !== "ok") throw new Error("unexpected");
 * ```
 */
export function startScriptedServer(options: ScriptedServerOptions = {}): ScriptedServer {
  const perWrite = Math.max(1, options.tokensPerWrite ?? 1);
  const held = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const pending = new Set<() => void>();
  const requests: Record<string, unknown>[] = [];
  const ac = new AbortController();

  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path === "/v1/models") {
      return Response.json({ object: "list", data: [{ id: "ok", object: "model" }] });
    }
    if (req.method !== "POST" || !path.endsWith("/completions")) {
      return new Response("not found", { status: 404 });
    }
    const body = await req.json();
    requests.push(body);
    const chat = path.endsWith("/chat/completions");
    const fault = String(body.model ?? "ok") as ScriptedFault;
    const maxTokens = Number(body.max_tokens ?? 16);
    const exact = body.ignore_eos === true || Number(body.min_tokens ?? 0) >= maxTokens;
    const n = fault === "short" || !exact ? Math.max(1, Math.floor(maxTokens / 2)) : maxTokens;
    const promptTokens = Array.isArray(body.prompt)
      ? body.prompt.length
      : String(body.prompt ?? body.messages?.[0]?.content ?? "").split(/\s+/).length;
    switch (fault) {
      case "http-400":
        return Response.json({ error: { message: "Prompt is too long", type: "invalid" } }, {
          status: 400,
        });
      case "http-500":
        return Response.json({ error: { message: "Engine crashed" } }, { status: 500 });
      case "http-503-text":
        return new Response("Service overloaded, retry later", { status: 503 });
      case "json":
        return Response.json({ choices: [{ text: "tok" }] });
      case "no-head":
        await new Promise<void>((resolve) => {
          pending.add(resolve);
          ac.signal.addEventListener("abort", () => resolve());
        });
        return new Response("late", { status: 500 });
    }
    const chunk = (i: number, last: boolean): string => {
      const c: Record<string, unknown> = {
        id: "x",
        object: chat ? "chat.completion.chunk" : "text_completion",
        choices: [
          chat
            ? { index: 0, delta: { content: "tok" }, finish_reason: last ? "length" : null }
            : { index: 0, text: "tok", finish_reason: last ? "length" : null },
        ],
      };
      if (options.lmrigTimings) {
        c.lmrig = {
          queue_ms: 1,
          prefill_ms: 2,
          decode_ms: i * 0.5,
          step_ms: i === 0 ? 2 : 0.5,
          tokens: i + 1,
        };
      }
      if (last && options.llamaTimings) {
        c.timings = { prompt_n: promptTokens, prompt_ms: 2, predicted_n: n, predicted_ms: n * 0.5 };
      }
      return `data: ${JSON.stringify(c)}\n\n`;
    };
    const usage = `data: ${
      JSON.stringify({
        choices: [],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: n,
          total_tokens: promptTokens + n,
        },
      })
    }\n\n`;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        held.add(c);
      },
      async pull(c) {
        if (ac.signal.aborted) return;
        if (fault === "no-token" || ((fault === "stall" || fault === "cut") && i >= 2)) {
          if (fault === "cut") {
            // The body ends mid-response: no final chunk, no [DONE].
            held.delete(c);
            c.close();
            return;
          }
          await new Promise<void>((resolve) => {
            pending.add(resolve);
            ac.signal.addEventListener("abort", () => resolve());
          });
          return;
        }
        if (fault === "slow" && i > 0) {
          await new Promise((r) => setTimeout(r, options.delayMs ?? 20));
        }
        let out = "";
        for (let k = 0; k < perWrite && i < n; k++, i++) {
          if (fault === "malformed" && i === 2) out += "data: {not json\n\n";
          else if (fault === "no-choices" && i === 2) out += 'data: {"id":"x"}\n\n';
          else if (fault === "error-event" && i === 1) {
            out += `data: ${JSON.stringify({ error: { message: "Out of KV cache" } })}\n\n`;
          } else out += chunk(i, i === n - 1);
        }
        if (i >= n) {
          if (fault !== "no-usage") out += usage;
          out += "data: [DONE]\n\n";
          c.enqueue(enc.encode(out));
          held.delete(c);
          c.close();
          return;
        }
        c.enqueue(enc.encode(out));
      },
      cancel() {
        // The client went away: nothing is held for it.
      },
    });
    return new Response(stream, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    signal: ac.signal,
    onListen() {},
  }, handler);
  const port = server.addr.port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    ac.abort();
    for (const r of pending) r();
    for (const c of held) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await server.finished;
  };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const s = startScriptedServer({
    port: arg("port") ?? 0,
    tokensPerWrite: arg("tokens-per-write"),
  });
  console.log(`listening on ${s.baseUrl}`);
  Deno.addSignalListener("SIGTERM", () => s.close().then(() => Deno.exit(0)));
}
