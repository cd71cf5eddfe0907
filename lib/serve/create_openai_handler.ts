/** The HTTP routes of lmrig serve: OpenAI's completions, chat, models, plus health and metrics. */
import { StreamingDetokenizer } from "../tokenizer/streaming_detokenizer.ts";
import type { Target } from "../targets/types.ts";
import { ApiError } from "./api_error.ts";
import type { BatchScheduler } from "./create_batch_scheduler.ts";
import { formatMetrics } from "./format_metrics.ts";
import { parseGenerationRequest, type RequestContext } from "./parse_generation_request.ts";
import {
  type BodyHead,
  chunkBody,
  responseBody,
  usageChunkBody,
  usageOf,
} from "./_response_bodies.ts";

/** What the handler serves. */
export interface OpenAIHandlerOptions {
  scheduler: BatchScheduler;
  target: Target;
  context: RequestContext;
  /** True once the server is shutting down (health answers 503). */
  draining: () => boolean;
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const notFound = (path: string) =>
  new ApiError(404, "not_found_error", "not_found", `Not found: no route ${path}`);

let serial = 0;

/**
 * The request handler of lmrig serve, for `Deno.serve`:
 * `POST /v1/completions`, `POST /v1/chat/completions` (streamed as server-sent events
 * `data: {...}` ending with `data: [DONE]`, or whole), `GET /v1/models`, `GET /v1/models/{id}`,
 * `GET /health`, `GET /metrics` (Prometheus text). Every streamed chunk carries one token and
 * the `lmrig` timing field; errors are OpenAI's `{"error": {...}}` with their status. A client
 * that disconnects cancels its request, which frees its sequence slot.
 *
 * @param o The scheduler, target, request context and the draining flag.
 * @returns The handler.
 * @throws Nothing itself: failures become error responses.
 * @example
 * ```ts ignore
 * const handler = createOpenAIHandler({ scheduler, target, context, draining: () => false });
 * Deno.serve({ hostname: "127.0.0.1", port: 0 }, handler);
 * ```
 */
export function createOpenAIHandler(o: OpenAIHandlerOptions): (req: Request) => Promise<Response> {
  const { scheduler, target, context: ctx } = o;
  const created = Math.floor(Date.now() / 1000);
  const modelCard = () => ({
    id: ctx.modelId,
    object: "model",
    created,
    owned_by: "lmrig",
    root: target.model().source,
    max_model_len: ctx.maxCtx,
  });

  const generate = async (req: Request, kind: "completions" | "chat"): Promise<Response> => {
    let body: unknown;
    const text = await req.text();
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new ApiError(
        400,
        "invalid_request_error",
        "invalid_json",
        `Invalid JSON body: ${(e as Error).message}`,
      );
    }
    const r = parseGenerationRequest(body, kind, ctx);
    const head: BodyHead = {
      id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${++serial}-${crypto.randomUUID().slice(0, 8)}`,
      created: Math.floor(Date.now() / 1000),
      model: ctx.modelId,
      kind,
    };
    const detok = new StreamingDetokenizer(ctx.tokenizer, { skipSpecialTokens: true });
    const nPrompt = r.params.prompt.length;
    if (!r.stream) {
      const handle = scheduler.submit(r.params);
      const onAbort = () => handle.cancel("The client disconnected");
      req.signal.addEventListener("abort", onAbort);
      const res = await handle.done;
      req.signal.removeEventListener("abort", onAbort);
      if (res.finishReason === "cancelled") {
        throw new ApiError(
          503,
          "unavailable_error",
          "cancelled",
          `Request cancelled: ${res.error}`,
        );
      }
      if (res.finishReason === "error") {
        throw new ApiError(500, "server_error", "engine_error", `Generation failed: ${res.error}`);
      }
      const out = ctx.tokenizer.decode(res.tokens, { skipSpecialTokens: true });
      return json(
        responseBody(
          head,
          out,
          res.finishReason,
          usageOf(nPrompt, res.tokens.length),
          res.timings,
          r.returnTokenIds ? res.tokens : null,
          r.returnTokenIds ? [...r.params.prompt] : null,
        ),
      );
    }
    const enc = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let open = true;
    const send = (data: string) => {
      if (!open) return;
      try {
        controller.enqueue(enc.encode(`data: ${data}\n\n`));
      } catch {
        open = false;
      }
    };
    let cancel = (_reason: string) => {};
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel() {
        open = false;
        cancel("The client disconnected");
      },
    });
    let first = true;
    const handle = scheduler.submit(r.params, (ev) => {
      let delta = detok.push(ev.token);
      if (ev.finishReason !== null) delta += detok.flush();
      send(JSON.stringify(chunkBody(
        head,
        delta,
        first,
        ev.finishReason,
        ev.timings,
        r.returnTokenIds ? [ev.token] : null,
        r.includeUsage,
      )));
      first = false;
    });
    // A client that goes away cancels the body stream (its cancel() above frees the slot).
    cancel = (reason) => handle.cancel(reason);
    handle.done.then((res) => {
      if (res.finishReason === "cancelled" || res.finishReason === "error") {
        const e = res.finishReason === "error"
          ? new ApiError(500, "server_error", "engine_error", `Generation failed: ${res.error}`)
          : new ApiError(503, "unavailable_error", "cancelled", `Request cancelled: ${res.error}`);
        send(JSON.stringify(e.toJSON()));
      }
      if (r.includeUsage) {
        send(
          JSON.stringify(usageChunkBody(head, usageOf(nPrompt, res.tokens.length), res.timings)),
        );
      }
      send("[DONE]");
      if (open) {
        open = false;
        try {
          controller.close();
        } catch {
          // The client went away first.
        }
      }
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  };

  const route = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname.replace(/\/+$/, "") || "/";
    const method = req.method;
    const allow = (m: string) => {
      if (method !== m) {
        throw new ApiError(
          405,
          "invalid_request_error",
          "method_not_allowed",
          `Method not allowed: ${method} ${path} (use ${m})`,
        );
      }
    };
    switch (path) {
      case "/v1/completions":
        allow("POST");
        return await generate(req, "completions");
      case "/v1/chat/completions":
        allow("POST");
        return await generate(req, "chat");
      case "/v1/models":
        allow("GET");
        return json({ object: "list", data: [modelCard()] });
      case "/health": {
        allow("GET");
        const s = scheduler.stats();
        const body = {
          status: o.draining() ? "shutting_down" : "ok",
          slots_idle: s.slots - s.active,
          slots_processing: s.active,
          queued: s.queued,
        };
        return json(body, o.draining() ? 503 : 200);
      }
      case "/metrics":
        allow("GET");
        return new Response(formatMetrics(scheduler.stats(), target.name), {
          headers: { "content-type": "text/plain; version=0.0.4" },
        });
    }
    if (path.startsWith("/v1/models/")) {
      allow("GET");
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      if (id !== ctx.modelId) {
        throw new ApiError(
          404,
          "invalid_request_error",
          "model_not_found",
          `The model \`${id}\` does not exist: this server serves \`${ctx.modelId}\``,
        );
      }
      return json(modelCard());
    }
    throw notFound(path);
  };

  return async (req) => {
    try {
      return await route(req);
    } catch (e) {
      if (e instanceof ApiError) return e.toResponse();
      const message = e instanceof Error ? e.message : String(e);
      return new ApiError(500, "server_error", "internal_error", `Internal error: ${message}`)
        .toResponse();
    }
  };
}
