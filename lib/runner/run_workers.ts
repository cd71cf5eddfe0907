/** The workers runner: closed-loop scaling per N, sequential vs concurrent, open-loop arrivals. */
import type { Case } from "../results/types.ts";
import type { WorkersScenario } from "../scenario/types.ts";
import { limitsTable } from "../memory/limits_table.ts";
import { quantile } from "../stats/quantile.ts";
import { poissonArrivals } from "./poisson_arrivals.ts";
import { randomTokens } from "./random_tokens.ts";
import { repeatRuns } from "./repeat_runs.ts";
import type { KindContext, KindOutcome } from "./types.ts";
import { buildServingCase } from "./run_workers_case.ts";
import { deriveWorkersFigures } from "./run_workers_derived.ts";
import { sessionServeEngine } from "./run_workers_engine.ts";
import { runWorkersLoad, type ServeRequest, type ServeRun } from "./run_workers_load.ts";
import { workersRunMetrics } from "./run_workers_metrics.ts";

const DTYPE = { bf16: "bf16", f16: "f16", f32: "f32" } as const;

type Effective = Required<
  Omit<WorkersScenario, "cpu" | "model" | "warmup" | "runs" | "maxCtx" | "targets" | "http">
>;

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
 * Every group of cases goes through the one measure loop (repeatRuns) with the runner's
 * settings, always interleaved, so the fewest-sequences baseline is measured in turns with the
 * others. Throughputs are one sample per run (virtual clock and wall clock); latencies one
 * sample per request (all measured runs); an efficiency over 100% gets a warning.
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
  // Every group runs its cases round-robin: the fewest-sequences baseline is measured in turns
  // with the others, so drift (thermal, background load) cannot make a baseline slower than it
  // is and push an efficiency over 100%.
  const options = { ...runner, interleave: true };
  const progress = { done: 0, total: plan * (runner.warmup + runner.minRuns) };
  const requests = (n: number, salt: number, arrivals?: number[]): ServeRequest[] =>
    Array.from({ length: n }, (_, i) => ({
      id: i,
      prompt: randomTokens(cfg.promptTokens, mi.vocab, (runner.seed * 7919 + salt * 131 + i) >>> 0),
      decodeTokens: cfg.decodeTokens,
      arrivalNs: arrivals?.[i],
    }));
  let cut = false;
  const serveRun = async (reqs: ServeRequest[], n: number, mode: "closed" | "open") => {
    const raw = await runWorkersLoad(serve, reqs, {
      slots: n,
      prefillBudgetTokens: cfg.prefillBudgetTokens,
      mode,
      onStep: () => (cut = stop()),
    });
    checkFree();
    return raw;
  };
  const checkFree = () => {
    const free = session.info().freeBlocks;
    if (free !== si.blocks) {
      throw new Error(`The scheduler left ${si.blocks - free} KV blocks held after a run`);
    }
  };

  /** Per-case extras of the measured runs: step series and the KV blocks in use. */
  interface Extras {
    series: Record<string, number[][]>;
    peakBlocks: number;
  }
  /**
   * One group of cases through the measure loop; `once` returns the run's figures and its raw
   * scheduler run (null when a stop request cut it short).
   */
  const measure = async (
    ids: string[],
    once: (
      index: number,
      run: number,
    ) => Promise<{ figures: Record<string, number | number[]>; raw?: ServeRun } | null>,
  ) => {
    const extras: Extras[] = ids.map(() => ({
      series: { decodeStepNs: [], batchSize: [] },
      peakBlocks: 0,
    }));
    const out = await repeatRuns({
      ids,
      options,
      key: "decodeTps",
      shouldStop: stop,
      onProgress: (e) => {
        progress.done = e.done;
        o.onProgress?.(e);
      },
      progressOffset: progress,
    }, async (index, phase, run) => {
      const r = await once(index, run + (phase === "warmup" ? 0 : runner.warmup) - 1);
      if (r === null || cut) return null;
      if (phase === "measure" && r.raw) {
        const x = extras[index];
        x.series.decodeStepNs.push(r.raw.stepNs);
        x.series.batchSize.push(r.raw.batchSizes);
        x.peakBlocks = Math.max(x.peakBlocks, r.raw.peakUsedBlocks);
      }
      return r.figures;
    });
    if (out.interrupted) interrupted = true;
    return out.cases.map((c, i) => {
      const series = extras[i].series;
      if (series.decodeStepNs.length === 0) {
        delete series.decodeStepNs;
        delete series.batchSize;
      }
      return { samples: c.samples, warm: c.warmup, series, peakBlocks: extras[i].peakBlocks };
    });
  };
  const bandwidthLimit = (batch: number) =>
    limitsTable(ctx.bandwidthBps, mi.decodeBytes, si.kvBytesPerToken, [{
      label: "",
      sequences: batch,
      meanPosition: cfg.promptTokens + cfg.decodeTokens / 2,
      tps: 1,
    }])[0].maxTps;

  const closedRuns = await measure(
    cfg.parallel.map((n) => `workers-${n}`),
    async (index, run) => {
      const n = cfg.parallel[index];
      const raw = await serveRun(requests(n * cfg.requestsPerWorker, n * 1000 + run), n, "closed");
      const f = workersRunMetrics(raw);
      return { figures: { ...f.run, ...f.requests }, raw };
    },
  );
  for (const [i, n] of cfg.parallel.entries()) {
    const m = closedRuns[i];
    if (!m.samples.decodeTps) continue;
    const count = n * cfg.requestsPerWorker;
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
  }
  await ctx.checkpoint(cases);

  const k = cfg.sequentialRequests;
  if (k > 0 && !interrupted) {
    const [m] = await measure([`sequential-${k}`], async (_, run) => {
      const seq = workersRunMetrics(await serveRun(requests(k, 900000 + run), 1, "closed"));
      if (cut) return null;
      const con = workersRunMetrics(await serveRun(requests(k, 900000 + run), k, "closed"));
      return {
        figures: {
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
  const openIds = openPlan.map(({ rate, fraction }) =>
    fraction !== null ? `open-${Math.round(fraction * 100)}pct` : `open-${rate}rps`
  );
  const openRuns = open && openPlan.length > 0 && !interrupted
    ? await measure(openIds, async (index, run) => {
      const { rate } = openPlan[index];
      const arrivals = poissonArrivals(open.requests, rate, (runner.seed + 31 * run + 7) >>> 0);
      const raw = await serveRun(
        requests(open.requests, 500000 + run, arrivals),
        open.maxInFlight,
        "open",
      );
      const f = workersRunMetrics(raw);
      return { figures: { ...f.run, ...f.requests }, raw };
    })
    : [];
  for (const [i, m] of openRuns.entries()) {
    if (!open || !m.samples.requestsPerSecond) continue;
    const { rate, fraction } = openPlan[i];
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
      id: openIds[i],
      description: `Poisson arrivals at ${rate.toPrecision(3)} requests/s` +
        (fraction !== null ? ` (${fraction} x the closed-loop capacity)` : "") +
        `, up to ${open.maxInFlight} in flight`,
      params,
      samples: m.samples,
      warmup: m.warm,
      series: m.series,
    }));
  }
  if (openRuns.length > 0) await ctx.checkpoint(cases);

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
    const eff = derived[`efficiencyWorkers${c.params.workers}`]?.value;
    if (c.params.load === "closed" && eff !== undefined && eff > 1) {
      warnings.push(
        `${c.id}: scaling efficiency ${(eff * 100).toFixed(0)}% is over 100% (the batch decodes ` +
          `faster per sequence than the baseline): the baseline was measured interleaved with ` +
          `it, so look at its spread (CV) and the machine's load before trusting either`,
      );
    }
  }
  return { cases, derived, warnings, interrupted, ran: { interleave: true } };
}
