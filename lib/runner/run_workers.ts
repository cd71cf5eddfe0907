/** The workers runner: closed-loop scaling per N, sequential vs concurrent, open-loop arrivals. */
import type { Case } from "../results/types.ts";
import type { WorkersScenario } from "../scenario/types.ts";
import { limitsTable } from "../memory/limits_table.ts";
import { quantile } from "../stats/quantile.ts";
import { poissonArrivals } from "./poisson_arrivals.ts";
import { randomTokens } from "./random_tokens.ts";
import type { KindContext, KindOutcome } from "./run_bench.ts";
import { buildServingCase } from "./run_workers_case.ts";
import { deriveWorkersFigures } from "./run_workers_derived.ts";
import { sessionServeEngine } from "./run_workers_engine.ts";
import { runWorkersLoad, type ServeRequest, type ServeRun } from "./run_workers_load.ts";
import { workersRunMetrics } from "./run_workers_metrics.ts";

const DTYPE = { bf16: "bf16", f16: "f16", f32: "f32" } as const;

type Effective = Required<Omit<WorkersScenario, "cpu" | "model" | "warmup" | "runs" | "maxCtx">>;

/** The scenario as the backend runs it: the cpu overrides applied on the cpu backend. */
function effective(s: WorkersScenario, backend: string): Effective {
  const base = {
    ...s,
    requestsPerWorker: s.requestsPerWorker ?? 2,
    prefillBudgetTokens: s.prefillBudgetTokens ?? 256,
    sequentialRequests: s.sequentialRequests ?? 5,
    open: s.open ?? null,
    description: s.description ?? "",
  };
  return backend === "cpu" ? { ...base, ...s.cpu } : base;
}

/**
 * Run a workers scenario on the bench's engine: one session with as many sequence slots as the
 * largest load, served by the continuous-batching scheduler (runWorkersLoad) with the engine's
 * own call times on a virtual clock. Cases: `workers-N` per N in `parallel` (closed loop, N in
 * flight, N x requestsPerWorker requests), `sequential-K` (K requests one at a time, then all
 * at once), and `open-...` per open-loop rate (seeded Poisson arrivals, maxInFlight slots; a
 * rate given as a capacity fraction scales the request throughput measured at maxInFlight).
 * Throughputs are one sample per run; latencies one sample per request (all measured runs).
 *
 * @param ctx The bench's open engine, model, probes and record.
 * @param scenario The resolved workers scenario.
 * @returns Cases, derived figures (speedup, efficiency, memory, limits) and warnings.
 * @throws {RangeError} When a request does not fit the model's positions.
 * @throws {EngineError} When the engine fails.
 * @example
 * ```ts ignore
 * const out = await runWorkers(ctx, scenario);
 * out.cases[0].metrics.decodeTps.summary.median;
 * ```
 */
export async function runWorkers(
  ctx: KindContext,
  scenario: WorkersScenario & { maxCtx: number },
): Promise<KindOutcome> {
  const { engine, model, modelInfo: mi, record, log, options: o } = ctx;
  const runner = o.runner;
  const cfg = effective(scenario, ctx.engineInfo.backend);
  if (ctx.engineInfo.backend === "cpu" && scenario.cpu) {
    log(
      `cpu: ${cfg.parallel.join(", ")} sequences, ${cfg.promptTokens} prompt + ` +
        `${cfg.decodeTokens} generated tokens per request (the scenario's cpu figures)`,
    );
  }
  const perRequest = cfg.promptTokens + cfg.decodeTokens;
  if (perRequest > mi.maxPositions) {
    throw new RangeError(
      `Cannot run "${o.scenario.file}": a request needs ${perRequest} positions but model ` +
        `${mi.name} allows ${mi.maxPositions}`,
    );
  }
  const slots = Math.max(...cfg.parallel, cfg.sequentialRequests, cfg.open?.maxInFlight ?? 1);
  using session = model.createSession({ maxSeqs: slots, maxCtx: perRequest });
  const si = session.info();
  record.model.kvBytesPerToken = si.kvBytesPerToken;
  Object.assign(record.engine, {
    kvDtype: DTYPE[si.kvDtype as keyof typeof DTYPE] ?? "f32",
    maxCtx: si.maxCtx,
    maxSeqs: si.maxSeqs,
    prefillChunk: si.prefillChunk,
  });
  const serve = sessionServeEngine(engine, session);
  const warnings: string[] = [];
  const cases: Case[] = [];
  const stop = () => o.shouldStop?.() ?? false;
  let interrupted = false;
  const plan = cfg.parallel.length + (cfg.sequentialRequests > 0 ? 1 : 0) +
    (cfg.open?.requestsPerSecond ?? cfg.open?.capacityFractions ?? []).length;
  const total = plan * (runner.warmup + runner.runs);
  let done = 0;
  const requests = (n: number, salt: number, arrivals?: number[]): ServeRequest[] =>
    Array.from({ length: n }, (_, i) => ({
      id: i,
      prompt: randomTokens(cfg.promptTokens, mi.vocab, (runner.seed * 7919 + salt * 131 + i) >>> 0),
      decodeTokens: cfg.decodeTokens,
      arrivalNs: arrivals?.[i],
    }));
  const serveRun = (reqs: ServeRequest[], n: number, mode: "closed" | "open") =>
    runWorkersLoad(serve, reqs, {
      slots: n,
      prefillBudgetTokens: cfg.prefillBudgetTokens,
      mode,
      onStep: stop,
    });
  const checkFree = () => {
    const free = session.info().freeBlocks;
    if (free !== si.blocks) {
      throw new Error(`The scheduler left ${si.blocks - free} KV blocks held after a run`);
    }
  };

  /** Warm-ups then measured runs of one case; `once` returns per-run and per-request figures. */
  const measure = async (
    id: string,
    once: (
      run: number,
    ) => Promise<{ run: Record<string, number>; req?: Record<string, number[]>; raw?: ServeRun }>,
  ) => {
    const samples: Record<string, number[]> = {}, warm: Record<string, number[]> = {};
    const series: Record<string, number[][]> = { decodeStepNs: [], batchSize: [] };
    let peakBlocks = 0;
    for (let i = 0; i < runner.warmup + runner.runs && !interrupted; i++) {
      const phase = i < runner.warmup ? "warmup" : "measure";
      const r = await once(i);
      if (stop()) {
        interrupted = true;
        break;
      }
      checkFree();
      const into = phase === "warmup" ? warm : samples;
      for (const [k, v] of Object.entries(r.run)) (into[k] ??= []).push(v);
      if (phase === "measure") {
        for (const [k, v] of Object.entries(r.req ?? {})) (samples[k] ??= []).push(...v);
        if (r.raw) {
          series.decodeStepNs.push(r.raw.stepNs);
          series.batchSize.push(r.raw.batchSizes);
          peakBlocks = Math.max(peakBlocks, r.raw.peakUsedBlocks);
        }
      }
      done++;
      o.onProgress?.({
        caseId: id,
        phase,
        run: phase === "warmup" ? i + 1 : i + 1 - runner.warmup,
        planned: phase === "warmup" ? runner.warmup : runner.runs,
        done,
        total,
        etaMs: null,
        last: r.run,
      });
    }
    if (series.decodeStepNs.length === 0) {
      delete series.decodeStepNs;
      delete series.batchSize;
    }
    return { samples, warm, series, peakBlocks };
  };
  const bandwidthLimit = (batch: number) =>
    limitsTable(ctx.bandwidthBps, mi.decodeBytes, si.kvBytesPerToken, [{
      label: "",
      sequences: batch,
      meanPosition: cfg.promptTokens + cfg.decodeTokens / 2,
      tps: 1,
    }])[0].maxTps;

  for (const n of cfg.parallel) {
    if (interrupted) break;
    const count = n * cfg.requestsPerWorker;
    const m = await measure(`workers-${n}`, async (run) => {
      const raw = await serveRun(requests(count, n * 1000 + run), n, "closed");
      const f = workersRunMetrics(raw);
      return { run: f.run, req: f.requests, raw };
    });
    if (!m.samples.decodeTps) break;
    const batch = quantile(m.samples.meanBatch, 0.5);
    cases.push(buildServingCase({
      id: `workers-${n}`,
      description: `${n} sequence(s) in flight, closed loop, ${count} requests of ` +
        `${cfg.promptTokens} + ${cfg.decodeTokens} tokens`,
      params: {
        workers: n,
        load: "closed",
        requests: count,
        promptTokens: cfg.promptTokens,
        decodeTokens: cfg.decodeTokens,
      },
      samples: m.samples,
      warmup: m.warm,
      series: m.series,
      counters: {
        kvCells: n * perRequest,
        kvBytes: n * perRequest * si.kvBytesPerToken,
        peakKvBlocks: m.peakBlocks,
        peakKvBytes: m.peakBlocks * si.blockTokens * si.kvBytesPerToken,
        peakBytes: engine.counters().peakBytes,
      },
      limits: { decodeTps: bandwidthLimit(batch) },
    }));
    await ctx.checkpoint(cases);
  }

  const k = cfg.sequentialRequests;
  if (k > 0 && !interrupted) {
    const m = await measure(`sequential-${k}`, async (run) => {
      const seq = workersRunMetrics(await serveRun(requests(k, 900000 + run), 1, "closed"));
      const con = workersRunMetrics(await serveRun(requests(k, 900000 + run), k, "closed"));
      return {
        run: {
          sequentialTps: seq.run.overallTps,
          concurrentTps: con.run.overallTps,
          concurrentSpeedup: con.run.overallTps / seq.run.overallTps,
        },
      };
    });
    if (m.samples.concurrentSpeedup) {
      cases.push(buildServingCase({
        id: `sequential-${k}`,
        description: `${k} requests one at a time, then all ${k} at once (overall tokens/s)`,
        params: { requests: k, promptTokens: cfg.promptTokens, decodeTokens: cfg.decodeTokens },
        samples: m.samples,
        warmup: m.warm,
      }));
      await ctx.checkpoint(cases);
    }
  }

  const open = cfg.open;
  const rates = open?.requestsPerSecond?.map((r) => ({ rate: r, fraction: null as number | null }));
  const fractions = open?.capacityFractions ?? [];
  let capacity = NaN;
  if (fractions.length > 0 && open) {
    const ref = cases.find((c) => c.params.workers === open.maxInFlight);
    capacity = ref?.metrics.requestsPerSecond?.summary.median ?? NaN;
    if (!(capacity > 0) && !interrupted) {
      warnings.push(
        `Open loop skipped: no closed-loop throughput at ${open.maxInFlight} sequences`,
      );
    }
  }
  const openPlan = rates ??
    (capacity > 0
      ? fractions.map((f) => ({ rate: f * capacity, fraction: f as number | null }))
      : []);
  for (const { rate, fraction } of openPlan) {
    if (interrupted || !open) break;
    const id = fraction !== null ? `open-${Math.round(fraction * 100)}pct` : `open-${rate}rps`;
    const m = await measure(id, async (run) => {
      const arrivals = poissonArrivals(open.requests, rate, (runner.seed + 31 * run + 7) >>> 0);
      const raw = await serveRun(
        requests(open.requests, 500000 + run, arrivals),
        open.maxInFlight,
        "open",
      );
      const f = workersRunMetrics(raw);
      return { run: f.run, req: f.requests, raw };
    });
    if (!m.samples.requestsPerSecond) break;
    const params: Record<string, number | string> = {
      load: "open",
      requestsPerSecond: Number(rate.toPrecision(4)),
      maxInFlight: open.maxInFlight,
      requests: open.requests,
      promptTokens: cfg.promptTokens,
      decodeTokens: cfg.decodeTokens,
    };
    if (fraction !== null) params.capacityFraction = fraction;
    cases.push(buildServingCase({
      id,
      description: `Poisson arrivals at ${rate.toPrecision(3)} requests/s` +
        (fraction !== null ? ` (${fraction} x the closed-loop capacity)` : "") +
        `, up to ${open.maxInFlight} in flight`,
      params,
      samples: m.samples,
      warmup: m.warm,
      series: m.series,
    }));
    await ctx.checkpoint(cases);
  }

  const derived = deriveWorkersFigures(cases, {
    bandwidthBps: ctx.bandwidthBps,
    decodeBytes: mi.decodeBytes,
    weightBytes: mi.weightBytes,
    kvBytesPerToken: si.kvBytesPerToken,
    kvPoolBytes: si.kvBytes,
    peakBytes: engine.counters().peakBytes,
    tokensPerSequence: perRequest,
  });
  for (const c of cases) {
    const share = c.metrics.hostOverheadShare?.summary.median;
    if (share !== undefined && share > 0.1) {
      warnings.push(
        `${c.id}: FFI/JS overhead is ${(share * 100).toFixed(0)}% of the wall time (left out of ` +
          `the latencies, which use engine times)`,
      );
    }
    const cv = c.metrics.decodeTps?.summary.cv ?? 0;
    if (cv > 0.1) {
      warnings.push(`${c.id}: decode TPS varies by ${(cv * 100).toFixed(0)}% (CV) across runs`);
    }
    const fails = c.metrics.failures?.summary.max ?? 0;
    if (fails > 0) warnings.push(`${c.id}: up to ${fails} failed request(s) per run`);
  }
  return { cases, derived, warnings, interrupted };
}
