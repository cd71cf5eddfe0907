/** Starts lmrig serve: a model on a target, the batching scheduler and Deno.serve. */
import { requireCapabilities } from "../targets/require_capabilities.ts";
import { type BatchScheduler, createBatchScheduler } from "./create_batch_scheduler.ts";
import { createOpenAIHandler } from "./create_openai_handler.ts";
import { openServeModel, type ServeModel, type ServeModelOptions } from "./open_serve_model.ts";

/** Options of {@link startServer}. */
export interface ServerOptions extends ServeModelOptions {
  /** Address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Port (default 8000; 0 = any free port). */
  port?: number;
  /** Model id clients send as `model` (default the model spec). */
  servedModelName?: string;
  /** Requests that may wait for a slot before 429 (default 256). */
  maxQueue?: number;
  /** Prompt tokens prefilled per scheduler step (default 512). */
  prefillBudgetTokens?: number;
  /** An already open model (tests); its target is closed with the server. */
  opened?: ServeModel;
}

/** A running server. */
export interface RunningServer {
  /** `http://HOST:PORT/v1`. */
  readonly baseUrl: string;
  readonly hostname: string;
  readonly port: number;
  readonly modelId: string;
  readonly model: ServeModel;
  readonly scheduler: BatchScheduler;
  /**
   * Stop accepting work, let running requests finish for up to `graceMs`, cancel what is left,
   * close the listener and the target. Idempotent; a second call with a smaller bound shortens
   * the wait.
   */
  shutdown(graceMs?: number): Promise<void>;
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
}

/**
 * Open the model and serve it over OpenAI's API on `hostname:port` with continuous batching
 * over `maxSeqs` sequence slots. Needs the target's `batched-decode` and `sampling`.
 *
 * @param o Target, model, limits and address.
 * @returns The running server.
 * @throws {Error} When the model cannot be opened, the target lacks a capability or the port
 *   is taken.
 * @example
 * ```ts
 * import { startServer } from "./start_server.ts";
 * const s = await startServer({ target: "lmrig", model: "synthetic:tiny-qwen2", port: 0, maxSeqs: 2, maxCtx: 64, threads: 1 });
 * const r = await fetch(`${s.baseUrl}/models`);
 * (await r.json()).data[0].id; // "synthetic:tiny-qwen2"
 * await s.shutdown();
 * ```
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const model = o.opened ?? await openServeModel(o);
  const { target } = model;
  let scheduler: BatchScheduler;
  let server: Deno.HttpServer<Deno.NetAddr>;
  const modelId = o.servedModelName ?? o.model;
  let draining = false;
  try {
    requireCapabilities(target, "serve", ["batched-decode", "sampling"]);
    scheduler = createBatchScheduler(target, {
      maxQueue: o.maxQueue ?? 256,
      prefillBudgetTokens: o.prefillBudgetTokens ?? 512,
      eosTokenIds: model.eosTokenIds,
    });
    const handler = createOpenAIHandler({
      scheduler,
      target,
      context: {
        modelId,
        tokenizer: model.tokenizer,
        vocab: target.model().vocab,
        maxCtx: target.maxCtx,
        logits: target.capabilities.has("logits"),
      },
      draining: () => draining,
    });
    server = Deno.serve({
      hostname: o.hostname ?? "127.0.0.1",
      port: o.port ?? 8000,
      onListen: () => {},
    }, handler);
  } catch (e) {
    target.close();
    throw e;
  }
  const addr = server.addr;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let cancelNow: (() => void) | null = null;
  let shutting: Promise<void> | null = null;
  const shutdown = (graceMs = 10_000): Promise<void> => {
    if (shutting !== null) {
      if (graceMs === 0) cancelNow?.();
      return shutting;
    }
    draining = true;
    scheduler.stopAdmitting();
    shutting = (async () => {
      const listenerClosed = server.shutdown();
      const grace = new Promise<void>((resolve) => {
        cancelNow = resolve;
        graceTimer = setTimeout(resolve, graceMs);
      });
      await Promise.race([scheduler.whenIdle(), grace]);
      clearTimeout(graceTimer);
      scheduler.cancelAll(`The server is shutting down (grace period of ${graceMs} ms over)`);
      await scheduler.close();
      await listenerClosed;
      target.close();
    })();
    return shutting;
  };
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    baseUrl: `http://${host}:${addr.port}/v1`,
    hostname: addr.hostname,
    port: addr.port,
    modelId,
    model,
    scheduler,
    shutdown,
    get finished() {
      return server.finished;
    },
  };
}
