/**
 * lmrig serve's continuous-batching loop over a target: requests arrive at any time, wait in a
 * bounded queue for a sequence slot, are prefilled between decode steps and join the running
 * batch; a finished or cancelled sequence leaves it and its slot (and KV) is freed at once.
 */
import { setImmediate } from "node:timers";
import type { Target } from "../targets/types.ts";
import { ApiError } from "./api_error.ts";
import { mulberry32 } from "./_rng.ts";
import { sampleLogits } from "./sample_logits.ts";
import type {
  FinishReason,
  GenerationHandle,
  GenerationParams,
  GenerationResult,
  LmrigTimings,
  SchedulerStats,
  TokenEvent,
} from "./types.ts";

/** Options of {@link createBatchScheduler}. */
export interface BatchSchedulerOptions {
  /** Requests that may wait for a slot; one more is refused with 429. */
  maxQueue: number;
  /** Prompt tokens prefilled per scheduler step, across sequences (longer prompts are cut). */
  prefillBudgetTokens: number;
  /** End-of-sequence token ids (ids at or above the target's vocabulary are ignored). */
  eosTokenIds: readonly number[];
}

/** The scheduler: submit requests, read counters, drain and stop. */
export interface BatchScheduler {
  /**
   * Queue a request. `onToken` is called for every token as it is made.
   * @throws {ApiError} 429 when every slot is busy and the queue is full, 503 once draining.
   * @throws {RangeError} When the prompt is empty or prompt + maxTokens exceed the context.
   */
  submit(params: GenerationParams, onToken?: (event: TokenEvent) => void): GenerationHandle;
  stats(): SchedulerStats;
  /** Refuse new requests from now on (503); queued and running ones go on. */
  stopAdmitting(): void;
  /** Cancel every queued and running request. */
  cancelAll(reason: string): void;
  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void>;
  /** Cancel what is left and end the loop; the target stays open. Idempotent. */
  close(): Promise<void>;
}

interface Seq {
  params: GenerationParams;
  onToken?: (event: TokenEvent) => void;
  slot: number;
  prefilled: number;
  tokens: number[];
  arrivalMs: number;
  prefillStartMs: number;
  prefillNs: number;
  decodeNs: number;
  stepNs: number;
  random: () => number;
  cancelled: string | null;
  resolve: (r: GenerationResult) => void;
}

const ms = (ns: number) => ns / 1e6;

/**
 * Start a continuous-batching loop on `target` with `target.maxSeqs` slots. Each step: free the
 * slots of cancelled sequences, admit queued requests into free slots (lowest slot first),
 * prefill up to `prefillBudgetTokens` prompt tokens of the sequences still prefilling (oldest
 * first; a completed prompt samples its first token), then one batched decode over every
 * sequence with a token to extend and one sample each. Greedy requests sample on the engine
 * (`target.sample`); temperature, top-k, top-p, and min_tokens' end-of-sequence ban sample the
 * target's logits in JS (timed in JS). A cancel is applied at once when no engine call is in
 * flight, else as soon as that call returns (the engine is never touched during a call). A
 * failed prefill fails its request, a failed decode the requests of its batch; the loop goes on.
 * Each step ends with one turn of the event loop, so HTTP I/O runs between steps even on a
 * target whose calls block.
 *
 * @param target An open target (it needs `batched-decode`, `sampling` and `logits`).
 * @param options Queue bound, prefill budget, end-of-sequence ids.
 * @returns The scheduler.
 * @throws {RangeError} On a bad queue bound or budget.
 * @example
 * ```ts
 * import { openLmrigTarget } from "../targets/lmrig.ts";
 * import { createBatchScheduler } from "./create_batch_scheduler.ts";
 * using t = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxSeqs: 2, maxCtx: 64 });
 * const s = createBatchScheduler(t, { maxQueue: 4, prefillBudgetTokens: 64, eosTokenIds: [] });
 * const sampling = { temperature: 0, topK: 0, topP: 1 };
 * const a = s.submit({ prompt: [1, 2, 3], maxTokens: 5, minTokens: 0, ignoreEos: false, sampling });
 * const b = s.submit({ prompt: [4, 5], maxTokens: 5, minTokens: 0, ignoreEos: false, sampling });
 * const [ra, rb] = await Promise.all([a.done, b.done]);
 * await s.close();
 * if (ra.tokens.length !== 5 || rb.tokens.length !== 5 || s.stats().maxBatch !== 2) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function createBatchScheduler(
  target: Target,
  options: BatchSchedulerOptions,
): BatchScheduler {
  const { maxQueue, prefillBudgetTokens: budget } = options;
  if (!Number.isInteger(maxQueue) || maxQueue < 0) {
    throw new RangeError(`maxQueue must be an integer >= 0, got ${maxQueue}`);
  }
  if (!Number.isInteger(budget) || budget < 1) {
    throw new RangeError(`prefillBudgetTokens must be an integer >= 1, got ${budget}`);
  }
  const vocab = target.model().vocab;
  const eos = new Set(options.eosTokenIds.filter((t) => t >= 0 && t < vocab));
  const noBan = new Set<number>();
  const slots = target.maxSeqs;
  const free = Array.from({ length: slots }, (_, i) => i);
  const queue: Seq[] = [];
  const live: Seq[] = [];
  const st: SchedulerStats = {
    slots,
    maxQueue,
    active: 0,
    queued: 0,
    requestsSubmitted: 0,
    requestsFinished: 0,
    requestsCancelled: 0,
    requestsFailed: 0,
    requestsRejected: 0,
    promptTokens: 0,
    generatedTokens: 0,
    prefillCalls: 0,
    decodeSteps: 0,
    decodeSequences: 0,
    maxBatch: 0,
    prefillNs: 0,
    decodeNs: 0,
    sampleNs: 0,
  };
  let admitting = true;
  let stopped = false;
  let inCall = false;
  let wake: (() => void) | null = null;
  let idleWaiters: (() => void)[] = [];
  const kick = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const timings = (s: Seq): LmrigTimings => ({
    queue_ms: Number.isNaN(s.prefillStartMs) ? 0 : s.prefillStartMs - s.arrivalMs,
    prefill_ms: ms(s.prefillNs),
    decode_ms: ms(s.decodeNs),
    step_ms: ms(s.stepNs),
    tokens: s.tokens.length,
  });

  const complete = (s: Seq, reason: FinishReason, error?: string) => {
    const i = live.indexOf(s);
    if (i >= 0) {
      live.splice(i, 1);
      target.reset(s.slot);
      free.push(s.slot);
      free.sort((a, b) => a - b);
    } else {
      const q = queue.indexOf(s);
      if (q >= 0) queue.splice(q, 1);
    }
    if (reason === "cancelled") st.requestsCancelled++;
    else if (reason === "error") st.requestsFailed++;
    else st.requestsFinished++;
    s.resolve({ tokens: s.tokens, finishReason: reason, timings: timings(s), error });
    if (live.length === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  /** Free the slots of cancelled sequences (never during an engine call). */
  const sweep = () => {
    if (inCall) return;
    for (const s of [...live]) if (s.cancelled !== null) complete(s, "cancelled", s.cancelled);
  };

  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    inCall = true;
    try {
      return await f();
    } finally {
      inCall = false;
    }
  };

  const draw = (s: Seq): { token: number; ns: number } => {
    const p = s.params;
    const banned = !p.ignoreEos && s.tokens.length < p.minTokens && eos.size > 0 ? eos : noBan;
    if (p.sampling.temperature <= 0 && banned.size === 0) return target.sample(s.slot);
    const t0 = performance.now();
    const token = sampleLogits(target.logits(s.slot), p.sampling, s.random, banned);
    return { token, ns: (performance.now() - t0) * 1e6 };
  };

  const push = (s: Seq, token: number, stepNs: number) => {
    s.tokens.push(token);
    s.stepNs = stepNs;
    st.generatedTokens++;
    const p = s.params;
    const n = s.tokens.length;
    const finish = !p.ignoreEos && n >= p.minTokens && eos.has(token)
      ? "stop"
      : n >= p.maxTokens
      ? "length"
      : null;
    try {
      s.onToken?.({ token, finishReason: finish, timings: timings(s) });
    } catch {
      // A listener's failure (a closed stream) must not stop the loop; its cancel frees the slot.
    }
    if (finish !== null) complete(s, finish);
  };

  const fail = (s: Seq, e: unknown) => complete(s, "error", (e as Error)?.message ?? String(e));

  const prefillPhase = async () => {
    let left = budget;
    for (const s of live.filter((s) => s.prefilled < s.params.prompt.length)) {
      if (left === 0) break;
      if (s.cancelled !== null || !live.includes(s)) continue;
      const prompt = s.params.prompt;
      const n = Math.min(left, prompt.length - s.prefilled);
      if (Number.isNaN(s.prefillStartMs)) s.prefillStartMs = performance.now();
      let ns: number;
      try {
        ns = await call(() => target.prefill(s.slot, prompt.slice(s.prefilled, s.prefilled + n)));
      } catch (e) {
        fail(s, e);
        continue;
      }
      st.prefillCalls++;
      st.prefillNs += ns;
      st.promptTokens += n;
      s.prefillNs += ns;
      s.prefilled += n;
      left -= n;
      if (s.cancelled !== null) continue;
      if (s.prefilled === prompt.length) {
        let d;
        try {
          d = draw(s);
        } catch (e) {
          fail(s, e);
          continue;
        }
        st.sampleNs += d.ns;
        push(s, d.token, s.prefillNs + d.ns);
      }
    }
  };

  const decodePhase = async () => {
    const batch = live.filter((s) =>
      s.prefilled === s.params.prompt.length && s.cancelled === null
    );
    if (batch.length === 0) return;
    let ns: number;
    try {
      ns = await call(() =>
        target.decode(batch.map((s) => s.slot), batch.map((s) => s.tokens[s.tokens.length - 1]))
      );
    } catch (e) {
      for (const s of batch) fail(s, e);
      return;
    }
    st.decodeSteps++;
    st.decodeSequences += batch.length;
    st.maxBatch = Math.max(st.maxBatch, batch.length);
    st.decodeNs += ns;
    for (const s of batch) {
      if (s.cancelled !== null) continue;
      let d;
      try {
        d = draw(s);
      } catch (e) {
        fail(s, e);
        continue;
      }
      st.sampleNs += d.ns;
      s.decodeNs += ns + d.ns;
      push(s, d.token, ns + d.ns);
    }
  };

  const admit = () => {
    while (free.length > 0 && queue.length > 0) {
      const s = queue.shift()!;
      s.slot = free.shift()!;
      live.push(s);
    }
  };

  const loop = async () => {
    while (!stopped) {
      sweep();
      admit();
      if (live.length === 0) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      await prefillPhase();
      sweep();
      await decodePhase();
      // A target whose calls block (llama.cpp's are synchronous FFI) never yields to the event
      // loop on its own: without this turn, new requests would wait for the whole batch and
      // streamed chunks would leave at the end. setImmediate costs ~13 us (setTimeout(0): 2 ms).
      await new Promise((r) => setImmediate(r));
    }
  };
  // An unexpected failure of the loop itself (not of one request) fails every request and stops
  // the scheduler instead of leaving clients waiting.
  const loopDone = loop().catch((e) => {
    stopped = true;
    admitting = false;
    const why = `The scheduler stopped: ${(e as Error)?.message ?? e}`;
    for (const s of [...queue, ...live]) {
      try {
        complete(s, "error", why);
      } catch {
        s.resolve({ tokens: s.tokens, finishReason: "error", timings: timings(s), error: why });
      }
    }
  });

  const scheduler: BatchScheduler = {
    submit(params, onToken) {
      if (!admitting || stopped) {
        st.requestsRejected++;
        throw new ApiError(
          503,
          "unavailable_error",
          "shutting_down",
          "Cannot accept the request: the server is shutting down",
        );
      }
      if (live.length + queue.length >= slots + maxQueue) {
        st.requestsRejected++;
        throw new ApiError(
          429,
          "rate_limit_error",
          "too_many_requests",
          `Cannot accept the request: all ${slots} sequence slots are busy and the queue holds ` +
            `its limit of ${maxQueue} waiting requests; retry later`,
        );
      }
      const n = params.prompt.length;
      if (n < 1 || !(params.maxTokens >= 1) || n + params.maxTokens - 1 > target.maxCtx) {
        throw new RangeError(
          `Cannot schedule a request of ${n} prompt + ${params.maxTokens} tokens: expected at ` +
            `least 1 of each and at most ${target.maxCtx} positions`,
        );
      }
      let resolve!: (r: GenerationResult) => void;
      const done = new Promise<GenerationResult>((r) => (resolve = r));
      const seed = params.seed ?? crypto.getRandomValues(new Uint32Array(1))[0];
      const s: Seq = {
        params,
        onToken,
        slot: -1,
        prefilled: 0,
        tokens: [],
        arrivalMs: performance.now(),
        prefillStartMs: NaN,
        prefillNs: 0,
        decodeNs: 0,
        stepNs: 0,
        random: mulberry32(seed),
        cancelled: null,
        resolve,
      };
      st.requestsSubmitted++;
      queue.push(s);
      kick();
      return {
        done,
        cancel(reason = "Cancelled by the client") {
          if (s.cancelled !== null || (!live.includes(s) && !queue.includes(s))) return;
          s.cancelled = reason;
          if (queue.includes(s)) complete(s, "cancelled", reason);
          else sweep();
        },
      };
    },
    stats: () => ({ ...st, active: live.length, queued: queue.length }),
    stopAdmitting() {
      admitting = false;
    },
    cancelAll(reason) {
      for (const s of [...queue]) {
        s.cancelled = reason;
        complete(s, "cancelled", reason);
      }
      for (const s of live) s.cancelled ??= reason;
      sweep();
    },
    whenIdle() {
      if (live.length === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
    async close() {
      admitting = false;
      if (stopped) return await loopDone;
      scheduler.cancelAll("The server closed");
      await scheduler.whenIdle();
      stopped = true;
      kick();
      await loopDone;
    },
  };
  return scheduler;
}
