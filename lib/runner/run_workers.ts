/** The workers runner: closed-loop scaling per N, sequential vs concurrent, open-loop arrivals. */
import type { Case, Derived } from "../results/types.ts";
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
import { openRunTargets, type RunTarget } from "./open_run_targets.ts";
import { targetWarnings } from "./target_warnings.ts";
import { targetServeEngine } from "./target_serve_engine.ts";

const DTYPE = { bf16: "bf16", f16: "f16", f32: "f32" } as const;

type Effective = Required<
  Omit<
    WorkersScenario,
    "cpu" | "model" | "warmup" | "runs" | "maxCtx" | "targets" | "quants" | "http"
  >
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
 * others. With several targets (`--target`, `--quant`) every case runs on each, targets adjacent
 * in the round-robin, on the same requests (token ids); a case on another target is
 * `<id>@<label>` with `target` set, and its run-level figures are prefixed `<label>.`.
 * Throughputs are one sample per run (virtual clock and wall clock); latencies one
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
  const run = await openRunTargets(ctx, {
    kind: "workers",
    maxSeqs: slots,
    maxCtx: perRequest,
    lmrig: { engine, model, session },
  });
  try {
    record.environment.targets = run.environment;
    return await runOn(run.targets);
  } finally {
    run.close();
  }

  async function runOn(targets: RunTarget[]): Promise<KindOutcome> {
    const T = targets.length;
    const vocab = Math.min(mi.vocab, ...targets.map((t) => t.target.model().vocab));
    const serves = targets.map((t) =>
      t.label === "lmrig" ? sessionServeEngine(engine, session) : targetServeEngine(t.target)
    );
    const idOf = (id: string, t: RunTarget) => (t.label === "lmrig" ? id : `${id}@${t.label}`);
    const warnings: string[] = [...run.warnings];
    if (T > 1) {
      warnings.push(
        `Side by side: ${targets.map((t) => t.label).join(", ")} serve the same requests ` +
          `(same token ids), taking turns run by run within each case`,
      );
    }
    const cases: Case[] = [];
    const stop = () => o.shouldStop?.() ?? false;
    let interrupted = false;
    const plan = cfg.parallel.length + (cfg.sequentialRequests > 0 ? 1 : 0) +
      (cfg.open?.requestsPerSecond ?? cfg.open?.capacityFractions ?? []).length;
    // Every group runs its cases round-robin (targets adjacent): the fewest-sequences baseline is
    // measured in turns with the others, so drift (thermal, background load) cannot make a
    // baseline slower than it is and push an efficiency over 100%.
    const options = { ...runner, interleave: true };
    const progress = { done: 0, total: T * plan * (runner.warmup + runner.minRuns) };
    const requests = (n: number, salt: number, arrivals?: number[]): ServeRequest[] =>
      Array.from({ length: n }, (_, i) => ({
        id: i,
        prompt: randomTokens(cfg.promptTokens, vocab, (runner.seed * 7919 + salt * 131 + i) >>> 0),
        decodeTokens: cfg.decodeTokens,
        arrivalNs: arrivals?.[i],
      }));
    let cut = false;
    const serveRun = async (
      t: number,
      reqs: ServeRequest[],
      n: number,
      mode: "closed" | "open",
    ) => {
      const raw = await runWorkersLoad(serves[t], reqs, {
        slots: n,
        prefillBudgetTokens: cfg.prefillBudgetTokens,
        mode,
        onStep: () => (cut = stop()),
      });
      if (targets[t].label === "lmrig") checkFree();
      else for (let q = 0; q < n; q++) targets[t].target.reset(q);
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
     * One group of cases through the measure loop, every case on every target (targets
     * adjacent); `once` returns the run's figures and its raw scheduler run (null when a stop
     * request cut it short). Results come back per case, then per target.
     */
    const measure = async (
      ids: string[],
      once: (
        index: number,
        run: number,
        t: number,
      ) => Promise<{ figures: Record<string, number | number[]>; raw?: ServeRun } | null>,
    ) => {
      const states = ids.flatMap((id, index) => targets.map((rt, t) => ({ id, index, t, rt })));
      const extras: Extras[] = states.map(() => ({
        series: { decodeStepNs: [], batchSize: [] },
        peakBlocks: 0,
      }));
      const out = await repeatRuns({
        ids: states.map((x) => idOf(x.id, x.rt)),
        options,
        key: "decodeTps",
        shouldStop: stop,
        onProgress: (e) => {
          progress.done = e.done;
          o.onProgress?.(e);
        },
        progressOffset: progress,
      }, async (k, phase, run) => {
        const x = states[k];
        const r = await once(x.index, run + (phase === "warmup" ? 0 : runner.warmup) - 1, x.t);
        if (r === null || cut) return null;
        if (phase === "measure" && r.raw) {
          const e = extras[k];
          e.series.decodeStepNs.push(r.raw.stepNs);
          e.series.batchSize.push(r.raw.batchSizes);
          e.peakBlocks = Math.max(e.peakBlocks, r.raw.peakUsedBlocks);
        }
        return r.figures;
      });
      if (out.interrupted) interrupted = true;
      return ids.map((_, index) =>
        targets.map((_, t) => {
          const k = index * T + t;
          const c = out.cases[k];
          const series = extras[k].series;
          if (series.decodeStepNs.length === 0) {
            delete series.decodeStepNs;
            delete series.batchSize;
          }
          return { samples: c.samples, warm: c.warmup, series, peakBlocks: extras[k].peakBlocks };
        })
      );
    };
    const bandwidthLimit = (rt: RunTarget, batch: number) =>
      limitsTable(ctx.bandwidthBps, rt.decodeBytes, rt.kvBytesPerToken, [{
        label: "",
        sequences: batch,
        meanPosition: cfg.promptTokens + cfg.decodeTokens / 2,
        tps: 1,
      }])[0].maxTps;
    const tag = (rt: RunTarget) => (T > 1 ? { target: rt.label } : {});

    const closedRuns = await measure(
      cfg.parallel.map((n) => `workers-${n}`),
      async (index, run, t) => {
        const n = cfg.parallel[index];
        const reqs = requests(n * cfg.requestsPerWorker, n * 1000 + run);
        const raw = await serveRun(t, reqs, n, "closed");
        const f = workersRunMetrics(raw);
        return { figures: { ...f.run, ...f.requests }, raw };
      },
    );
    for (const [t, rt] of targets.entries()) {
      for (const [i, n] of cfg.parallel.entries()) {
        const m = closedRuns[i][t];
        if (!m.samples.decodeTps) continue;
        const count = n * cfg.requestsPerWorker;
        const batch = quantile(m.samples.meanBatch, 0.5);
        const lmrig = rt.label === "lmrig";
        cases.push({
          ...buildServingCase({
            id: idOf(`workers-${n}`, rt),
            description: `${n} sequence(s) in flight, closed loop, ${count} requests of ` +
              `${cfg.promptTokens} + ${cfg.decodeTokens} tokens` + (lmrig ? "" : ` (${rt.label})`),
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
              kvBytes: n * perRequest * rt.kvBytesPerToken,
              ...(lmrig
                ? {
                  peakKvBlocks: m.peakBlocks,
                  peakKvBytes: m.peakBlocks * si.blockTokens * si.kvBytesPerToken,
                  peakBytes: engine.counters().peakBytes,
                }
                : {}),
            },
            limits: { decodeTps: bandwidthLimit(rt, batch) },
          }),
          ...tag(rt),
        });
      }
    }
    await ctx.checkpoint(cases);

    const k = cfg.sequentialRequests;
    if (k > 0 && !interrupted) {
      const [ms] = await measure([`sequential-${k}`], async (_, run, t) => {
        const seq = workersRunMetrics(await serveRun(t, requests(k, 900000 + run), 1, "closed"));
        if (cut) return null;
        const con = workersRunMetrics(await serveRun(t, requests(k, 900000 + run), k, "closed"));
        return {
          figures: {
            sequentialTps: seq.run.overallTps,
            concurrentTps: con.run.overallTps,
            concurrentSpeedup: con.run.overallTps / seq.run.overallTps,
          },
        };
      });
      for (const [t, rt] of targets.entries()) {
        const m = ms[t];
        if (!m.samples.concurrentSpeedup) continue;
        cases.push({
          ...buildServingCase({
            id: idOf(`sequential-${k}`, rt),
            description: `${k} requests one at a time, then all ${k} at once (overall tokens/s)`,
            params: { requests: k, promptTokens: cfg.promptTokens, decodeTokens: cfg.decodeTokens },
            samples: m.samples,
            warmup: m.warm,
          }),
          ...tag(rt),
        });
      }
      await ctx.checkpoint(cases);
    }

    const open = cfg.open;
    const fractions = open?.capacityFractions ?? [];
    // Rates per target: given, or fractions of that target's closed-loop capacity.
    const rateOf = (index: number, t: number): number => {
      if (open?.requestsPerSecond) return open.requestsPerSecond[index];
      const ref = cases.find((c) =>
        c.params.workers === open?.maxInFlight && (c.target ?? "lmrig") === targets[t].label
      );
      return fractions[index] * (ref?.metrics.requestsPerSecond?.summary.median ?? NaN);
    };
    const openIds = open?.requestsPerSecond
      ? open.requestsPerSecond.map((r) => `open-${r}rps`)
      : fractions.map((f) => `open-${Math.round(f * 100)}pct`);
    const capacityKnown = targets.every((_, t) => fractions.length === 0 || rateOf(0, t) > 0);
    if (open && fractions.length > 0 && !capacityKnown && !interrupted) {
      warnings.push(
        `Open loop skipped: no closed-loop throughput at ${open.maxInFlight} sequences`,
      );
    }
    const openRuns = open && openIds.length > 0 && capacityKnown && !interrupted
      ? await measure(openIds, async (index, run, t) => {
        const arrivals = poissonArrivals(
          open.requests,
          rateOf(index, t),
          (runner.seed + 31 * run + 7) >>> 0,
        );
        const raw = await serveRun(
          t,
          requests(open.requests, 500000 + run, arrivals),
          open.maxInFlight,
          "open",
        );
        const f = workersRunMetrics(raw);
        return { figures: { ...f.run, ...f.requests }, raw };
      })
      : [];
    for (const [t, rt] of targets.entries()) {
      for (const [i, per] of openRuns.entries()) {
        const m = per[t];
        if (!open || !m.samples.requestsPerSecond) continue;
        const rate = rateOf(i, t);
        const fraction = open.requestsPerSecond ? null : fractions[i];
        const params: Record<string, number | string> = {
          load: "open",
          requestsPerSecond: Number(rate.toPrecision(4)),
          maxInFlight: open.maxInFlight,
          requests: open.requests,
          promptTokens: cfg.promptTokens,
          decodeTokens: cfg.decodeTokens,
        };
        if (fraction !== null) params.capacityFraction = fraction;
        cases.push({
          ...buildServingCase({
            id: idOf(openIds[i], rt),
            description: `Poisson arrivals at ${rate.toPrecision(3)} requests/s` +
              (fraction !== null ? ` (${fraction} x the closed-loop capacity)` : "") +
              `, up to ${open.maxInFlight} in flight`,
            params,
            samples: m.samples,
            warmup: m.warm,
            series: m.series,
          }),
          ...tag(rt),
        });
      }
    }
    if (openRuns.length > 0) await ctx.checkpoint(cases);

    // Run-level figures per target: lmrig's under their plain keys, another's prefixed by its
    // label (`llama.cpp:q4_k_m.efficiencyWorkers8`).
    const derived: Record<string, Derived> = {};
    for (const rt of targets) {
      const own = cases.filter((c) => (c.target ?? "lmrig") === rt.label);
      const lmrig = rt.label === "lmrig";
      const d = deriveWorkersFigures(own, {
        bandwidthBps: ctx.bandwidthBps,
        decodeBytes: rt.decodeBytes,
        weightBytes: lmrig ? mi.weightBytes : rt.target.model().weightBytes,
        kvBytesPerToken: rt.kvBytesPerToken,
        kvPoolBytes: lmrig ? si.kvBytes : slots * perRequest * rt.kvBytesPerToken,
        peakBytes: lmrig ? engine.counters().peakBytes : 0,
        tokensPerSequence: perRequest,
      });
      for (const [key, v] of Object.entries(d)) derived[lmrig ? key : `${rt.label}.${key}`] = v;
    }
    for (const c of cases) {
      const share = c.metrics.hostOverheadShare?.summary.median;
      if (share !== undefined && share > 0.1) {
        warnings.push(
          `${c.id}: FFI/JS overhead is ${(share * 100).toFixed(0)}% of the wall time (left out ` +
            `of the latencies, which use engine times)`,
        );
      }
      const cv = c.metrics.decodeTps?.summary.cv ?? 0;
      if (cv > 0.1) {
        warnings.push(`${c.id}: decode TPS varies by ${(cv * 100).toFixed(0)}% (CV) across runs`);
      }
      const fails = c.metrics.failures?.summary.max ?? 0;
      if (fails > 0) warnings.push(`${c.id}: up to ${fails} failed request(s) per run`);
      const prefix = (c.target ?? "lmrig") === "lmrig" ? "" : `${c.target}.`;
      const eff = derived[`${prefix}efficiencyWorkers${c.params.workers}`]?.value;
      if (c.params.load === "closed" && eff !== undefined && eff > 1) {
        warnings.push(
          `${c.id}: scaling efficiency ${(eff * 100).toFixed(0)}% is over 100% (the batch ` +
            `decodes faster per sequence than the baseline): the baseline was measured ` +
            `interleaved with it, so look at its spread (CV) and the machine's load before ` +
            `trusting either`,
        );
      }
    }
    warnings.push(...targetWarnings(targets));
    return { cases, derived, warnings, interrupted, ran: { interleave: true } };
  }
}
