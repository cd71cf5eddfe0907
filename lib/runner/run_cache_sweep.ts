/** The cache-sweep runner: one decode step timed at KV-cache positions, per executor. */
import { makeMetric } from "../results/make_metric.ts";
import type { Case } from "../results/types.ts";
import type { CacheSweepScenario } from "../scenario/types.ts";
import { cacheSweepPositions } from "./cache_sweep_positions.ts";
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { deriveCacheSweepFigures } from "./derive_cache_sweep_figures.ts";
import { fitCacheSweepPositions } from "./fit_cache_sweep_positions.ts";
import { randomTokens } from "./random_tokens.ts";
import { availableMemory } from "../env/available_memory.ts";
import { type CaseRuns, repeatRuns } from "./repeat_runs.ts";
import { openRunTargets, type RunTarget, type RunTargets } from "./open_run_targets.ts";
import { targetWarnings } from "./target_warnings.ts";
import { lmrigSessionTarget } from "../targets/lmrig_session_target.ts";
import type { TargetEnvironment } from "../results/types.ts";
import type { KindContext, KindOutcome } from "./types.ts";

type Engine = KindContext["engine"];
type Model = KindContext["model"];
type ExecutorName = Parameters<KindContext["openEngine"]>[0];

/** GPU memory kept free beside weights and KV (workspace, graphs, the driver), bytes. */
const GPU_RESERVE_BYTES = 2 * 2 ** 30;

function positionSeed(seed: number, position: number): number {
  return (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x01000193) + position) >>> 0;
}

/**
 * Time single decode steps at KV-cache positions for every executor of the scenario that the
 * context's backend has (an executor the backend lacks is skipped with a warning: timing the
 * same executor twice would publish a ratio of noise). Per executor: an engine of its own (the
 * bench's engine when it runs that executor), one session of max_ctx = last position + 1
 * (checked against the free memory first: the sweep stops at the largest position that fits,
 * with a warning), then the positions as the cases of one measure loop (repeatRuns, so every
 * runner setting applies: warm-ups, --runs steps per position or the adaptive rule, interleave
 * across positions, cool-down). One step is `lmr_session_fill_kv(seq, P - 1, seed)` (the same
 * random data every time) and one untimed `lmr_session_decode` (seq length P), then the timed
 * decode of one token, which attends over P + 1 entries: the timed step follows a decode step as
 * in generation, not the fill (at 32640 positions the first step after writing 383 MiB of KV took
 * 10-25% longer than the next on the CPU); at P = 1 the fill is to 1 and no untimed step. Other targets (`--target`, `--quant`) run beside the first executor that
 * runs, alternating step by step at each position: a target without a random KV fill
 * (llama.cpp) fills each position once by a real prefill and then drops each step's token again
 * (`truncate`), which the record's warnings say; its cases are `pos-P-<executor>@<label>` with
 * params.executor = the label. The engine's own wall time of that decode call (counters.last_call_ns:
 * forward pass incl. the lm_head and device sync, no sampling, no fill) is the step time.
 *
 * @param ctx The bench's open engine, model, probes and record.
 * @param scenario The resolved sweep.
 * @returns One case per (position, executor) with params { position, executor, backend }, the
 *   derived figures (executor ratios, step growth vs KV prediction) and warnings.
 * @throws {RangeError} When no position fits in memory or the model.
 * @throws {EngineError} When the engine fails.
 * @example
 * Not run as a doc test: it needs the bench's whole context (open engine, record, checkpoints);
 * tests/cache_sweep_e2e_test.ts runs it end to end through `deno task bench`.
 * ```ts ignore
 * const out = await runCacheSweep(ctx, scenario);
 * out.cases[0].params; // { position: 1, executor: "eager", backend: "cpu" }
 * ```
 */
export async function runCacheSweep(
  ctx: KindContext,
  scenario: CacheSweepScenario & { maxCtx: number },
): Promise<KindOutcome> {
  const { modelInfo: mi, engineInfo: info, options: o, record, log } = ctx;
  const backend = info.backend;
  const warnings: string[] = [];
  const maxCacheLen = backend === "cpu"
    ? scenario.maxCacheLenCpu ?? scenario.maxCacheLen
    : scenario.maxCacheLen;
  let positions = scenario.positions === "log2"
    ? cacheSweepPositions(maxCacheLen, scenario.prefillLen)
    : [...new Set(scenario.positions)].sort((a, b) => a - b);
  if (backend === "cpu" && maxCacheLen < scenario.maxCacheLen) {
    log(
      `cpu: sweeping positions up to ${positions.at(-1)} (maxCacheLenCpu ${maxCacheLen}, not ` +
        `${scenario.maxCacheLen}: CPU steps are slow; set maxCacheLenCpu for a longer sweep)`,
    );
  }
  const kvDtype = backend === "cpu" ? scenario.kvDtypeCpu : undefined;
  // modelInfo's KV bytes are at the backend's default dtype (F32 on the cpu backend).
  const kvBytesPerToken = kvDtype && kvDtype !== "f32"
    ? mi.kvBytesPerToken / 2
    : mi.kvBytesPerToken;
  const tooLong = positions.filter((p) => p + 1 > mi.maxPositions);
  if (tooLong.length > 0) {
    positions = positions.filter((p) => p + 1 <= mi.maxPositions);
    warnings.push(
      `Positions ${tooLong.join(", ")} left out: model ${mi.name} allows ${mi.maxPositions} ` +
        `positions (max_position_embeddings)`,
    );
    if (positions.length === 0) {
      throw new RangeError(`Cannot run the cache sweep: no position fits model ${mi.name}`);
    }
  }
  const gpu = backend !== "cpu";
  const available = gpu
    ? info.deviceMemoryBytes - 2 * mi.weightBytes - GPU_RESERVE_BYTES
    : (availableMemory() ?? Deno.systemMemoryInfo().available) - mi.weightBytes;
  const where = gpu
    ? `GPU memory (${(info.deviceMemoryBytes / 2 ** 30).toFixed(1)} GiB less two model copies ` +
      `and ${GPU_RESERVE_BYTES / 2 ** 30} GiB reserve)`
    : "free host memory (less one more model copy)";
  // Every other target (and weight variant) holds a KV cache of the same size in host memory.
  const caches = (o.targets ?? scenario.targets ?? ["lmrig"]).length *
    Math.max(1, (o.quants ?? scenario.quants ?? []).length);
  const fit = fitCacheSweepPositions(positions, kvBytesPerToken * caches, available, where);
  if (fit.warning) {
    warnings.push(fit.warning);
    log(fit.warning);
  }
  positions = fit.positions;
  record.engine.maxCtx = fit.maxCtx;
  log(
    `cache sweep: ${positions.length} positions (${positions[0]} .. ${positions.at(-1)}), ` +
      `executors ${scenario.executors.join(", ")}, ${o.runner.warmup} warm-up + ` +
      `${o.runner.minRuns}${o.runner.maxRuns > o.runner.minRuns ? `-${o.runner.maxRuns}` : ""} ` +
      `measured steps each; KV ${(fit.kvBytes / 2 ** 20).toFixed(0)} MiB`,
  );

  const names = o.targets ?? scenario.targets ?? ["lmrig"];
  const cases: Case[] = [];
  const runner = o.runner;
  const passes = scenario.executors.length + names.length - 1;
  const total = passes * positions.length * (runner.warmup + runner.minRuns);
  let done = 0;
  let interrupted = false;
  let others: RunTargets | undefined;
  let token = -1;
  const environment: TargetEnvironment[] = [];

  try {
    for (const executor of scenario.executors) {
      if (interrupted) break;
      const own = executor === info.executor;
      const opened: { engine: Engine; model: Model } = own
        ? { engine: ctx.engine, model: ctx.model }
        : await ctx.openEngine(executor as ExecutorName);
      try {
        const ran = opened.engine.info().executor;
        if (ran !== executor) {
          // Measuring it would time the same executor twice and publish a ratio of pure noise.
          const note =
            `Executor "${executor}" skipped: the ${backend} backend has no ${executor} ` +
            `executor (it would run "${ran}"), so no ${executor} cases and no executor ratio`;
          warnings.push(note);
          log(note);
          continue;
        }
        using session = opened.model.createSession({
          maxSeqs: 1,
          maxCtx: fit.maxCtx,
          ...(kvDtype ? { kvDtype } : {}),
        });
        const si = session.info();
        record.engine.kvDtype = si.kvDtype as typeof record.engine.kvDtype;
        record.engine.prefillChunk = si.prefillChunk;
        record.model.kvBytesPerToken = si.kvBytesPerToken;
        const lmrig = { engine: opened.engine, model: opened.model, session };
        // The other targets run beside the first executor that runs, alternating per position.
        let pass: RunTarget[];
        if (!others) {
          others = await openRunTargets(ctx, {
            kind: "cache-sweep",
            maxSeqs: 1,
            maxCtx: fit.maxCtx,
            lmrig,
          });
          pass = others.targets;
          environment.push(...others.environment);
          warnings.push(...others.warnings);
          const vocab = Math.min(mi.vocab, ...pass.map((t) => t.target.model().vocab));
          token = randomTokens(1, vocab, o.runner.seed)[0];
          if (pass.some((t) => !t.target.capabilities.has("kv-fill-random"))) {
            warnings.push(
              `KV fill: ${
                pass.filter((t) => !t.target.capabilities.has("kv-fill-random"))
                  .map((t) => t.label).join(", ")
              } fill each position by a real prefill of seeded random tokens (once per ` +
                `position; each measured step then drops its token again), lmrig fills with ` +
                `random data (no forward pass)`,
            );
          }
        } else {
          const base = others.targets.find((t) => t.label === "lmrig");
          if (!base) break;
          const target = lmrigSessionTarget(opened.engine, opened.model, session, "", () => {});
          pass = [{ ...base, target }];
        }
        const out = await sweepPass(pass, executor, opened.engine);
        interrupted = out.interrupted;
        const c = opened.engine.counters();
        for (const k of cases.filter((x) => x.params.executor === executor)) {
          k.counters.peakBytes = c.peakBytes;
          k.counters.graphCaptureNs = c.graphCaptureNs;
        }
      } finally {
        if (!own) {
          opened.model.close();
          opened.engine.close();
        }
      }
    }
  } finally {
    warnings.push(...targetWarnings(others?.targets ?? []));
    others?.close();
  }
  record.environment.targets = environment;

  /**
   * One pass: every position on every target of `pass` (targets alternating step by step within
   * a position; with --interleave all positions round-robin, targets adjacent).
   */
  async function sweepPass(pass: RunTarget[], executor: string, engine: Engine) {
    const label = (t: RunTarget) => t.label === "lmrig" ? executor : t.label;
    const states = positions.flatMap((position) => pass.map((t) => ({ position, t })));
    const idOf = (s: { position: number; t: RunTarget }) =>
      s.t.label === "lmrig"
        ? `pos-${s.position}-${executor}`
        : `pos-${s.position}-${executor}@${s.t.label}`;
    const kernels = new Map<string, number>();
    const filled = new Map<RunTarget, number>();
    const build = (runs: readonly (CaseRuns | undefined)[]): Case[] =>
      runs.flatMap((r, i) => {
        if (!r || r.runs === 0) return [];
        const { position, t } = states[i];
        const limitTps = decodeLimitTps(
          ctx.bandwidthBps,
          t.decodeBytes,
          t.kvBytesPerToken,
          position + 1,
        );
        const lmrig = t.label === "lmrig";
        return [{
          id: idOf(states[i]),
          ...(pass.length > 1 || !lmrig ? { target: t.label } : {}),
          description: `one decode step with the KV cache filled to position ${position} ` +
            `(${lmrig ? executor : `${t.label}, KV filled by prefill`})`,
          params: { position, executor: label(t), backend },
          metrics: {
            stepNs: makeMetric("ns", "lower", r.samples.stepNs, 1e9 / limitTps),
            decodeTps: makeMetric("tokens/s", "higher", r.samples.decodeTps, limitTps),
          },
          warmup: {
            stepNs: r.warmup.stepNs ?? [],
            decodeTps: r.warmup.decodeTps ?? [],
          },
          series: {},
          counters: {
            ...(lmrig ? { kernelsPerStep: kernels.get(idOf(states[i])) ?? 0 } : {}),
            kvBytesRead: t.kvBytesPerToken * (position + 1),
            ...(lmrig ? { executorGraph: executor === "graph" ? 1 : 0 } : {}),
          },
        }];
      });
    const per = pass.length;
    const groups = runner.interleave || per === 1
      ? [states.map((_, i) => i)]
      : positions.map((_, p) => Array.from({ length: per }, (_, j) => p * per + j));
    const collected: (CaseRuns | undefined)[] = states.map(() => undefined);
    const before = cases.length;
    const flush = () => cases.splice(before, cases.length - before, ...build(collected));
    let stopped = false;
    for (const group of groups) {
      if (stopped) break;
      const out = await repeatRuns({
        ids: group.map((i) => idOf(states[i])),
        options: per > 1 ? { ...runner, interleave: true } : runner,
        key: "stepNs",
        shouldStop: o.shouldStop,
        onProgress: (e) => {
          done = e.done;
          o.onProgress?.(e);
        },
        onCheckpoint: async (runs) => {
          runs.forEach((r, j) => (collected[group[j]] = r));
          flush();
          await ctx.checkpoint(cases);
        },
        progressOffset: { done, total },
      }, async (j) => {
        const { position, t } = states[group[j]];
        const target = t.target;
        if (filled.get(t) === position && target.truncate) target.truncate(0, position);
        else if (target.capabilities.has("kv-fill-random") && position > 1) {
          // Filled to P - 1, then one untimed step to P: the timed step follows a decode step,
          // as in generation, not the fill (hundreds of MiB of KV written just before it). At
          // P = 1 the fill writes one position (and a step needs one to follow).
          await target.fillKv(0, position - 1, positionSeed(runner.seed, position));
          await target.decode([0], [token]);
        } else if (target.capabilities.has("kv-fill-random")) {
          await target.fillKv(0, position, positionSeed(runner.seed, position));
        } else {
          await target.fillKv(0, position, positionSeed(runner.seed, position));
          filled.set(t, position);
        }
        const ns = await target.decode([0], [token]);
        const len = target.seqLen(0);
        if (len !== position + 1) {
          throw new RangeError(
            `${t.label}: the sequence holds ${len} tokens after the step at position ` +
              `${position}, expected ${position + 1}`,
          );
        }
        if (t.label === "lmrig") {
          kernels.set(idOf(states[group[j]]), engine.counters().kernelsLastStep);
        }
        return { stepNs: ns, decodeTps: 1e9 / ns };
      });
      out.cases.forEach((r, j) => (collected[group[j]] = r));
      stopped = out.interrupted;
    }
    flush();
    return { interrupted: stopped };
  }
  if (interrupted) warnings.push("The sweep was interrupted; later positions were not measured");
  const figures = deriveCacheSweepFigures(cases, {
    decodeBytes: mi.decodeBytes,
    kvBytesPerToken: record.model.kvBytesPerToken,
    bandwidthBps: ctx.bandwidthBps,
  });
  for (const c of cases) {
    for (const [key, m] of Object.entries(c.metrics)) {
      if (m.utilisation !== undefined && m.utilisation > 1) {
        warnings.push(
          `Case ${c.id}: ${key} median ${m.summary.median.toPrecision(4)} ${m.unit} beats its ` +
            `bandwidth limit ${m.limit?.toPrecision(4)} (${(m.utilisation * 100).toFixed(0)}%): ` +
            `the working set may fit in cache or the bandwidth probe underestimates`,
        );
      }
    }
  }
  return {
    cases,
    derived: figures.derived,
    warnings: [...warnings, ...figures.warnings],
    interrupted,
  };
}
