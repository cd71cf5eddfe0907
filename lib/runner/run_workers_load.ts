/**
 * The continuous-batching scheduler of the workers scenario: sequences enter and leave a batch
 * while it decodes, new prompts are prefilled in chunks between decode steps, and a virtual
 * clock built from the engine's own call times gives every request its latencies.
 */
import { EngineError } from "../ffi/engine_error.ts";

/** The engine calls the scheduler makes; each returns the engine's own duration of the call. */
export interface ServeEngine {
  /** Append tokens to sequence slot `seq`; returns the call's engine time, ns. */
  prefill(seq: number, tokens: readonly number[]): Promise<number>;
  /** One batched decode step; returns its engine time, ns. */
  decode(seqs: readonly number[], tokens: readonly number[]): Promise<number>;
  /** Sample slot `seq`'s next token; returns it and the call's engine time, ns. */
  sample(seq: number): { token: number; ns: number };
  /** Forget slot `seq` and free its KV blocks. */
  reset(seq: number): void;
  /** KV blocks in use now (for the peak; optional). */
  usedBlocks?(): number;
}

/** One request: a prompt and the number of tokens to generate (the first one included). */
export interface ServeRequest {
  id: number;
  prompt: readonly number[];
  decodeTokens: number;
  /** Open loop: arrival time, ns from the start. Closed loop: leave undefined. */
  arrivalNs?: number;
}

/** What happened to one request (times in ns on the virtual clock). */
export interface ServedRequest {
  id: number;
  /** The sequence slot it ran in (-1 when it never got one). */
  slot: number;
  arrivalNs: number;
  /** When it got its slot (arrival + queueing). */
  admitNs: number;
  /** When its first token was ready (NaN when it failed first). */
  firstTokenNs: number;
  finishNs: number;
  tokens: number[];
  /** Ready time of each token. */
  tokenNs: number[];
  /** The same moments on the wall clock (JS, ns since the run began: FFI and JS time in). */
  wallAdmitNs: number;
  wallFirstTokenNs: number;
  wallFinishNs: number;
  /** Prefill chunks it was split into. */
  prefillChunks: number;
  /** The engine's message when it failed (the KV pool refused it, ...). */
  error?: string;
}

/** Totals of one scheduler run. */
export interface ServeRun {
  requests: ServedRequest[];
  promptTokens: number;
  generatedTokens: number;
  /** Engine time in prefill calls, in first-token samples, in decode forwards, in decode samples. */
  prefillNs: number;
  firstSampleNs: number;
  decodeForwardNs: number;
  decodeSampleNs: number;
  decodeSteps: number;
  /** Sequences x decode steps (tokens made by decode steps). */
  decodeTokens: number;
  /** Batched decode steps' sizes, one entry per step. */
  batchSizes: number[];
  /** Engine time of each decode step (forward only), ns. */
  stepNs: number[];
  /** First arrival to last finish on the virtual clock. */
  makespanNs: number;
  /** Sum of every engine call's own time. */
  engineNs: number;
  /** JS wall time of the whole run (includes FFI, JS scheduling and sampling calls). */
  wallNs: number;
  maxActive: number;
  /** Most KV blocks in use at once (0 when the engine does not report blocks). */
  peakUsedBlocks: number;
}

/** Options of {@link runWorkersLoad}. */
export interface ServeOptions {
  /** Sequence slots (requests served at once); slots are 0 .. slots - 1. */
  slots: number;
  /** Prompt tokens prefilled per scheduler step, across sequences. */
  prefillBudgetTokens: number;
  /** "closed": the next request enters as soon as a slot frees; "open": at its arrivalNs. */
  mode: "closed" | "open";
  /** Called after each scheduler step (progress, stop checks); return true to stop early. */
  onStep?: (done: number, total: number) => boolean | void;
}

interface Live {
  r: ServeRequest;
  out: ServedRequest;
  prefilled: number;
}

/**
 * Serve `requests` through a continuous-batching loop. Each scheduler step prefills up to
 * `prefillBudgetTokens` prompt tokens of the sequences still prefilling (oldest first, cut into
 * chunks at the budget; a sequence whose prompt is complete samples its first token at once),
 * then runs one batched decode step over every sequence that has a token to extend, and samples
 * each. A finished request frees its slot (lmr_session_reset frees its KV blocks) and the next
 * request takes the lowest free slot. The virtual clock advances by each call's engine time
 * only, so FFI and JS overhead stay out of every latency (the run reports wallNs apart). A
 * prefill the engine refuses marks that request failed and frees its slot; a failed decode
 * throws.
 *
 * @param engine The engine calls.
 * @param requests In arrival order (closed loop: the order they are sent).
 * @param options Slots, prefill budget, mode.
 * @returns Per-request times and tokens, and the run's totals.
 * @throws {RangeError} On bad options (open mode needs arrivalNs on every request).
 * @throws {EngineError} When a decode step fails.
 * @example
 * ```ts ignore
 * const run = await runWorkersLoad(engine, requests, { slots: 8, prefillBudgetTokens: 256,
 *   mode: "closed" });
 * console.log(run.requests[0].firstTokenNs - run.requests[0].arrivalNs); // TTFT, ns
 * ```
 */
export async function runWorkersLoad(
  engine: ServeEngine,
  requests: readonly ServeRequest[],
  options: ServeOptions,
): Promise<ServeRun> {
  const { slots, prefillBudgetTokens: budget, mode } = options;
  if (!Number.isInteger(slots) || slots < 1) {
    throw new RangeError(`slots must be a positive integer, got ${slots}`);
  }
  if (!Number.isInteger(budget) || budget < 1) {
    throw new RangeError(`prefillBudgetTokens must be a positive integer, got ${budget}`);
  }
  for (const r of requests) {
    if (r.prompt.length < 1 || r.decodeTokens < 1) {
      throw new RangeError(`Request ${r.id} needs a prompt token and decodeTokens >= 1`);
    }
    if (mode === "open" && !(r.arrivalNs !== undefined && r.arrivalNs >= 0)) {
      throw new RangeError(`Request ${r.id} has no arrivalNs (open mode)`);
    }
  }
  const run: ServeRun = {
    requests: [],
    promptTokens: 0,
    generatedTokens: 0,
    prefillNs: 0,
    firstSampleNs: 0,
    decodeForwardNs: 0,
    decodeSampleNs: 0,
    decodeSteps: 0,
    decodeTokens: 0,
    batchSizes: [],
    stepNs: [],
    makespanNs: 0,
    engineNs: 0,
    wallNs: 0,
    maxActive: 0,
    peakUsedBlocks: 0,
  };
  const t0 = performance.now();
  const free = Array.from({ length: slots }, (_, i) => i); // kept sorted: lowest slot first
  const live: Live[] = []; // admission order
  let next = 0; // next request to admit
  let now = 0;
  let finished = 0;

  const wall = () => (performance.now() - t0) * 1e6;
  const finish = (l: Live) => {
    l.out.finishNs = now;
    l.out.wallFinishNs = wall();
    engine.reset(l.out.slot);
    live.splice(live.indexOf(l), 1);
    free.push(l.out.slot);
    free.sort((a, b) => a - b);
    run.requests.push(l.out);
    finished++;
  };
  const pushToken = (l: Live, token: number) => {
    l.out.tokens.push(token);
    l.out.tokenNs.push(now);
    run.generatedTokens++;
  };

  while (finished < requests.length) {
    while (next < requests.length && free.length > 0) {
      const r = requests[next];
      const arrival = mode === "open" ? r.arrivalNs! : now;
      if (arrival > now) break;
      const slot = free.shift()!;
      const out: ServedRequest = {
        id: r.id,
        slot,
        arrivalNs: arrival,
        admitNs: now,
        firstTokenNs: NaN,
        finishNs: NaN,
        tokens: [],
        tokenNs: [],
        wallAdmitNs: wall(),
        wallFirstTokenNs: NaN,
        wallFinishNs: NaN,
        prefillChunks: 0,
      };
      live.push({ r, out, prefilled: 0 });
      next++;
    }
    run.maxActive = Math.max(run.maxActive, live.length);
    if (live.length === 0) {
      now = Math.max(now, requests[next].arrivalNs!); // open loop: idle until the next arrival
      continue;
    }

    let left = budget;
    for (const l of live.filter((l) => l.prefilled < l.r.prompt.length)) {
      if (left === 0) break;
      const n = Math.min(left, l.r.prompt.length - l.prefilled);
      let ns: number;
      try {
        ns = await engine.prefill(l.out.slot, l.r.prompt.slice(l.prefilled, l.prefilled + n));
      } catch (e) {
        if (!(e instanceof EngineError)) throw e;
        l.out.error = e.message;
        finish(l);
        continue;
      }
      now += ns;
      run.prefillNs += ns;
      run.engineNs += ns;
      left -= n;
      l.prefilled += n;
      l.out.prefillChunks++;
      run.promptTokens += n;
      if (l.prefilled === l.r.prompt.length) {
        const s = engine.sample(l.out.slot);
        now += s.ns;
        run.firstSampleNs += s.ns;
        run.engineNs += s.ns;
        pushToken(l, s.token);
        l.out.firstTokenNs = now;
        l.out.wallFirstTokenNs = wall();
        if (l.out.tokens.length >= l.r.decodeTokens) finish(l);
      }
    }
    run.peakUsedBlocks = Math.max(run.peakUsedBlocks, engine.usedBlocks?.() ?? 0);

    const batch = live.filter((l) =>
      l.prefilled === l.r.prompt.length && l.out.tokens.length < l.r.decodeTokens
    );
    if (batch.length > 0) {
      const ns = await engine.decode(
        batch.map((l) => l.out.slot),
        batch.map((l) => l.out.tokens[l.out.tokens.length - 1]),
      );
      now += ns;
      run.decodeForwardNs += ns;
      run.engineNs += ns;
      run.decodeSteps++;
      run.decodeTokens += batch.length;
      run.batchSizes.push(batch.length);
      run.stepNs.push(ns);
      run.peakUsedBlocks = Math.max(run.peakUsedBlocks, engine.usedBlocks?.() ?? 0);
      for (const l of batch) {
        const s = engine.sample(l.out.slot);
        now += s.ns;
        run.decodeSampleNs += s.ns;
        run.engineNs += s.ns;
        pushToken(l, s.token);
        if (l.out.tokens.length >= l.r.decodeTokens) finish(l);
      }
    }
    if (options.onStep?.(finished, requests.length) === true) {
      for (const l of live) engine.reset(l.out.slot); // stopped: free the blocks of the rest
      break;
    }
  }
  run.requests.sort((a, b) => a.id - b.id);
  const first = Math.min(...run.requests.map((r) => r.arrivalNs));
  run.makespanNs = run.requests.length > 0
    ? Math.max(...run.requests.map((r) => r.finishNs)) - first
    : 0;
  run.wallNs = (performance.now() - t0) * 1e6;
  return run;
}
