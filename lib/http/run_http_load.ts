/**
 * The HTTP load generator: closed loop (N users, each sending its next request when the last
 * ends) or open loop (constant-rate or Poisson arrivals), a request-count and a duration bound,
 * a concurrency cap, spread over one or more isolates (Deno workers).
 */
import { cpuUsage } from "node:process";
import { poissonArrivals } from "../runner/poisson_arrivals.ts";
import { type LoadRequest, type LoadShard, runLoadShard } from "./_load_shard.ts";
import type { HttpApi, HttpTimeouts } from "./types.ts";

export type { LoadRequest } from "./_load_shard.ts";

/** The shape of a load. */
export type LoadShape =
  | { kind: "closed"; users: number }
  | { kind: "open"; requestsPerSecond: number; arrival: "poisson" | "constant"; seed: number };

/** One load run. */
export interface HttpLoadPlan {
  /** Base URLs (`http://host:port/v1`); requests go round-robin over them. */
  endpoints: string[];
  api: HttpApi;
  model: string;
  apiKey?: string;
  timeouts: HttpTimeouts;
  /** Send ignore_eos and min_tokens = max_tokens. */
  exactTokens: boolean;
  extraBody?: Record<string, unknown>;
  /** Request i sends prompts[i % prompts.length] asking for maxTokens[i % maxTokens.length]. */
  prompts: (string | number[])[];
  maxTokens: number[];
  shape: LoadShape;
  /** Requests in all (default: unbounded, then durationMs must be given). */
  maxRequests?: number;
  /** No request is sent after this long from the start; in-flight ones finish within bounds. */
  durationMs?: number;
  /** Requests in flight at once (default unbounded: closed loop = users). */
  maxConcurrency?: number;
  /** Isolates driving the load (default 1: this one; more start Deno workers). */
  isolates?: number;
}

/** What a load run measured. */
export interface HttpLoadRun {
  /** Every request, ordered by index. */
  requests: LoadRequest[];
  /** Run start to the last result (vLLM's benchmark duration), ns. */
  durationNs: number;
  isolates: number;
  /** Requests in flight at once at most (from the sent/done times). */
  peakInFlight: number;
  /**
   * CPU time this process spent during the run (user + system, every thread: all load
   * isolates), ns: the load generator's own cost, for its overhead per token.
   */
  clientCpuNs: number;
}

function arrivalsOf(plan: HttpLoadPlan, shape: Extract<LoadShape, { kind: "open" }>): number[] {
  const rate = shape.requestsPerSecond;
  const n = plan.maxRequests ??
    Math.ceil(rate * (plan.durationMs ?? 0) / 1000) + 1;
  if (shape.arrival === "constant") return Array.from({ length: n }, (_, i) => i * 1e9 / rate);
  return poissonArrivals(n, rate, shape.seed);
}

/**
 * Run a load against the endpoints and return every request's result with its timing. The run
 * starts when every isolate is ready; with one isolate the requests run on this event loop,
 * with N > 1 each of N Deno workers takes every N-th request (closed loop: users split evenly;
 * open loop: every N-th arrival, same schedule) and its share of the cap. A request is never
 * sent after the duration bound; requests in flight then finish within their own timeouts, so
 * a run never outlasts durationMs + timeouts.totalMs. Faults never throw: they are results.
 *
 * @param plan Endpoints, request, shape, bounds, cap and isolates.
 * @param signal Stops the run: no new requests, in-flight ones end as `aborted`.
 * @returns The requests, the duration, the isolates used and the peak concurrency.
 * @throws {RangeError} When neither bound is given, or a count is not a positive integer.
 * @example
 * ```ts
 * import { runHttpLoad } from "./run_http_load.ts";
 * import { startScriptedServer } from "./scripted_server.ts";
 * import { DEFAULT_TIMEOUTS } from "./types.ts";
 * await using s = startScriptedServer();
 * const run = await runHttpLoad({
 *   endpoints: [s.baseUrl], api: "completions", model: "ok", timeouts: DEFAULT_TIMEOUTS,
 *   exactTokens: true, prompts: [[1, 2, 3]], maxTokens: [4],
 *   shape: { kind: "closed", users: 2 }, maxRequests: 6,
 * });
 * if (run.requests.length !== 6 || !run.requests.every((r) => r.outputTokens === 4)) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export async function runHttpLoad(plan: HttpLoadPlan, signal?: AbortSignal): Promise<HttpLoadRun> {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new RangeError(`Cannot run the HTTP load: ${name} must be an integer > 0, got ${v}`);
    }
  };
  positive("maxRequests", plan.maxRequests);
  positive("maxConcurrency", plan.maxConcurrency);
  positive("isolates", plan.isolates);
  if (plan.shape.kind === "closed") positive("users", plan.shape.users);
  else if (!(plan.shape.requestsPerSecond > 0)) {
    throw new RangeError(
      `Cannot run the HTTP load: the request rate must be > 0, got ${plan.shape.requestsPerSecond}`,
    );
  }
  if (plan.maxRequests === undefined && !(plan.durationMs! > 0)) {
    throw new RangeError("Cannot run the HTTP load: give a request count or a duration bound");
  }
  if (plan.endpoints.length === 0 || plan.prompts.length === 0 || plan.maxTokens.length === 0) {
    throw new RangeError("Cannot run the HTTP load: no endpoint, prompt or max_tokens given");
  }
  const w = plan.isolates ?? 1;
  const cap = plan.maxConcurrency ?? Number.MAX_SAFE_INTEGER;
  const arrivals = plan.shape.kind === "open" ? arrivalsOf(plan, plan.shape) : undefined;
  const shards: LoadShard[] = Array.from({ length: w }, (_, i) => ({
    isolate: i,
    isolates: w,
    endpoints: plan.endpoints,
    api: plan.api,
    model: plan.model,
    apiKey: plan.apiKey,
    timeouts: plan.timeouts,
    exactTokens: plan.exactTokens,
    extraBody: plan.extraBody,
    prompts: plan.prompts,
    maxTokens: plan.maxTokens,
    closedUsers: plan.shape.kind === "closed"
      ? Math.floor(plan.shape.users / w) + (i < plan.shape.users % w ? 1 : 0)
      : undefined,
    arrivals: arrivals?.flatMap((at, k) => (k % w === i ? [[k, at] as [number, number]] : [])),
    maxRequests: plan.maxRequests ?? Number.MAX_SAFE_INTEGER,
    durationMs: plan.durationMs ?? Number.MAX_SAFE_INTEGER / 2,
    maxConcurrency: Math.max(1, Math.floor(cap / w) + (i < cap % w ? 1 : 0)),
  }));
  let parts: LoadRequest[][];
  const cpu0 = cpuUsage();
  if (w === 1) {
    parts = [await runLoadShard(shards[0], performance.now(), signal)];
  } else {
    parts = await runInWorkers(shards, signal);
  }
  const cpu = cpuUsage(cpu0);
  const requests = parts.flat().sort((a, b) => a.index - b.index);
  const durationNs = requests.reduce((m, r) => Math.max(m, r.doneNs), 0);
  return {
    requests,
    durationNs,
    isolates: w,
    peakInFlight: peakInFlight(requests),
    clientCpuNs: (cpu.user + cpu.system) * 1000,
  };
}

function peakInFlight(requests: LoadRequest[]): number {
  const events: [number, number][] = [];
  for (const r of requests) events.push([r.sentNs, 1], [r.doneNs, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0, peak = 0;
  for (const [, d] of events) peak = Math.max(peak, now += d);
  return peak;
}

async function runInWorkers(shards: LoadShard[], signal?: AbortSignal): Promise<LoadRequest[][]> {
  const url = new URL("./_load_worker.ts", import.meta.url);
  const workers = shards.map(() => new Worker(url, { type: "module" }));
  const onAbort = () => workers.forEach((wk) => wk.postMessage({ stop: true }));
  try {
    await Promise.all(workers.map((wk) =>
      new Promise<void>((resolve, reject) => {
        wk.onmessage = (e) => (e.data.ready ? resolve() : undefined);
        wk.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`Cannot start a load worker: ${e.message}`));
        };
      })
    ));
    signal?.addEventListener("abort", onAbort);
    // Every isolate starts on the same epoch instant, a little ahead so none is late.
    const startEpochMs = performance.timeOrigin + performance.now() + 20;
    return await Promise.all(
      workers.map((wk, i) =>
        new Promise<LoadRequest[]>((resolve, reject) => {
          wk.onmessage = (e) =>
            e.data.error !== undefined
              ? reject(new Error(`A load worker failed: ${e.data.error}`))
              : resolve(e.data.results);
          wk.postMessage({ shard: shards[i], startEpochMs });
        })
      ),
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    for (const wk of workers) wk.terminate();
  }
}
