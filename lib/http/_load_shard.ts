/**
 * The part of an HTTP load run one isolate drives: a closed loop of users or an open-loop
 * arrival schedule, bounded by a request count and a deadline, capped in concurrency. Runs in
 * the main isolate or in a load worker (_load_worker.ts); everything in it is plain data so it
 * crosses postMessage.
 */
import { ConnectionPool } from "./_http1.ts";
import { streamCompletion } from "./stream_completion.ts";
import type { HttpApi, HttpRequestResult, HttpTimeouts } from "./types.ts";

/** What one isolate runs. */
export interface LoadShard {
  /** This isolate's number (0-based) and how many there are. */
  isolate: number;
  isolates: number;
  endpoints: string[];
  api: HttpApi;
  model: string;
  apiKey?: string;
  timeouts: HttpTimeouts;
  exactTokens: boolean;
  extraBody?: Record<string, unknown>;
  /** Request i sends prompts[i % prompts.length] with maxTokens[i % ...]. */
  prompts: (string | number[])[];
  maxTokens: number[];
  /** Closed: this isolate's users. Open: its arrivals (request index, ns from run start). */
  closedUsers?: number;
  arrivals?: [number, number][];
  /** Closed loop: request indices isolate, isolate + isolates, ... below maxRequests. */
  maxRequests: number;
  /** No request is sent after this many ms from the run start (in-flight ones finish). */
  durationMs: number;
  /** In flight at once in this isolate. */
  maxConcurrency: number;
}

/** One request of a load run: the client's result plus when and where it went. */
export interface LoadRequest extends HttpRequestResult {
  index: number;
  /** Endpoint index (round-robin over the list). */
  endpoint: number;
  isolate: number;
  /** When it was due (open loop: its arrival; closed: when its user was free), ns from start. */
  dueNs: number;
  /** When it was sent, ns from start; sent - due is the client-side wait (cap, scheduling). */
  sentNs: number;
  /** When its result was in, ns from start. */
  doneNs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run one isolate's share of a load over keep-alive connections (closed at the end). `startMs`
 * is the run start on this isolate's performance.now() clock (a worker converts the shared
 * epoch start into it).
 */
export async function runLoadShard(
  shard: LoadShard,
  startMs: number,
  signal?: AbortSignal,
): Promise<LoadRequest[]> {
  const pool = new ConnectionPool();
  try {
    return await drive(shard, startMs, pool, signal);
  } finally {
    pool.close();
  }
}

async function drive(
  shard: LoadShard,
  startMs: number,
  pool: ConnectionPool,
  signal?: AbortSignal,
): Promise<LoadRequest[]> {
  const out: LoadRequest[] = [];
  const deadline = startMs + shard.durationMs;
  const since = (t: number) => (t - startMs) * 1e6;
  /** dueNs: the arrival time itself when the schedule gives one (no round trip through startMs). */
  const send = async (index: number, dueMs: number, dueNs = since(dueMs)) => {
    const endpoint = index % shard.endpoints.length;
    const sent = performance.now();
    const r = await streamCompletion(
      {
        baseUrl: shard.endpoints[endpoint],
        api: shard.api,
        model: shard.model,
        prompt: shard.prompts[index % shard.prompts.length],
        maxTokens: shard.maxTokens[index % shard.maxTokens.length],
        exactTokens: shard.exactTokens,
        apiKey: shard.apiKey,
        timeouts: shard.timeouts,
        extraBody: shard.extraBody,
      },
      signal,
      pool,
    );
    out.push({
      ...r,
      index,
      endpoint,
      isolate: shard.isolate,
      dueNs,
      sentNs: since(sent),
      doneNs: since(performance.now()),
    });
  };
  if (startMs > performance.now()) await sleep(startMs - performance.now());

  if (shard.closedUsers !== undefined) {
    let next = shard.isolate;
    const take = () => {
      if (signal?.aborted || performance.now() >= deadline || next >= shard.maxRequests) return -1;
      const i = next;
      next += shard.isolates;
      return i;
    };
    const users = Math.min(shard.closedUsers, shard.maxConcurrency);
    await Promise.all(Array.from({ length: users }, async () => {
      for (let i = take(); i >= 0; i = take()) await send(i, performance.now());
    }));
    return out;
  }

  // Open loop: each arrival is sent at its time, or as soon as a slot frees under the cap.
  let inFlight = 0;
  let freed: (() => void) | null = null;
  const running = new Set<Promise<void>>();
  for (const [index, atNs] of shard.arrivals ?? []) {
    const due = startMs + atNs / 1e6;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    if (signal?.aborted || due >= deadline) break;
    while (inFlight >= shard.maxConcurrency) await new Promise<void>((r) => (freed = r));
    inFlight++;
    const p: Promise<void> = send(index, due, atNs).finally(() => {
      inFlight--;
      running.delete(p);
      const f = freed;
      freed = null;
      f?.();
    });
    running.add(p);
  }
  await Promise.all(running);
  return out;
}
