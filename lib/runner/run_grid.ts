/** The grid runner: warm-ups, measured runs (fixed or adaptive), interleaving, limits. */
import type { Engine } from "../ffi/engine.ts";
import type { Session } from "../ffi/session.ts";
import { makeMetric } from "../results/make_metric.ts";
import type { Case, MetricUnit } from "../results/types.ts";
import type { GridCase, GridScenario } from "../scenario/types.ts";
import { summarize } from "../stats/summarize.ts";
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { gridRunMetrics } from "./grid_run_metrics.ts";
import { randomTokens } from "./random_tokens.ts";
import type { RunnerHooks, RunnerOptions } from "./types.ts";

/** What the grid runner needs of the engine side. */
export interface GridContext {
  engine: Engine;
  session: Session;
  vocab: number;
  decodeBytes: number;
  kvBytesPerToken: number;
  /** Read-bandwidth ceiling measured before the run (null: no limits attached). */
  bandwidthBps: number | null;
  /**
   * A short bandwidth probe returning its best sample, bytes/s. When given, the runner probes
   * right before and after each case (each round when interleaving) and a case's limits use the
   * best figure seen up to its end: a shared host's bandwidth moves within minutes.
   */
  probeBps?: () => Promise<number>;
}

/** The outcome of {@link runGrid}. */
export interface GridOutcome {
  cases: Case[];
  warnings: string[];
  interrupted: boolean;
}

const SPECS: Record<string, [MetricUnit, "lower" | "higher"]> = {
  ttftNs: ["ns", "lower"],
  prefillNs: ["ns", "lower"],
  prefillTps: ["tokens/s", "higher"],
  decodeTps: ["tokens/s", "higher"],
  tpotNs: ["ns", "lower"],
  e2eNs: ["ns", "lower"],
};

/** Noisy when the decode TPS (or TTFT) CV across runs is above this. */
const NOISY_CV = 0.05;

interface CaseState {
  spec: GridCase;
  prompt: number[];
  samples: Record<string, number[]>;
  warmup: Record<string, number[]>;
  stepNs: number[][];
  counters: Record<string, number>;
  measuredMs: number;
  done: boolean;
  /** Best read bandwidth seen up to this case's end, bytes/s (0 when none was measured). */
  ceilingBps: number;
}

function idSeed(seed: number, id: string): number {
  let h = seed >>> 0;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function push(into: Record<string, number[]>, figures: Record<string, number>) {
  for (const [k, v] of Object.entries(figures)) (into[k] ??= []).push(v);
}

/**
 * Run a grid scenario on one sequence of `ctx.session`: per case, warm-up runs (kept apart),
 * then measured runs until the stop rule holds; each run resets the sequence and calls the
 * engine's generate loop, which times every step itself. Stops early (keeping what was measured)
 * when hooks.shouldStop() turns true between runs.
 *
 * @param ctx Engine, session and the facts the limits need.
 * @param scenario The resolved grid.
 * @param options Repetition settings.
 * @param hooks Progress, checkpoint, stop and tokenizer hooks.
 * @returns Cases with at least one measured run, warnings, and whether it was interrupted.
 * @throws {EngineError} When the engine fails.
 * @throws {TypeError} When a case has a prompt text but no tokenize hook is given.
 * @example
 * ```ts
 * import { runGrid } from "./run_grid.ts";
 * import { resolveRunnerOptions } from "./resolve_runner_options.ts";
 * import { Engine } from "../ffi/engine.ts";
 * import { validateScenario } from "../scenario/validate_scenario.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * using model = await engine.synthesize("tiny-qwen2", { seed: 1 });
 * using session = model.createSession({ maxCtx: 64 });
 * const info = model.info();
 * const scenario = validateScenario({
 *   kind: "grid",
 *   name: "tiny",
 *   cases: [{ id: "A", promptTokens: 8, decodeTokens: 8 }],
 * }, "tiny.ts");
 * if (scenario.kind !== "grid") throw new Error("a grid");
 * const ctx = {
 *   engine,
 *   session,
 *   vocab: info.vocab,
 *   decodeBytes: info.decodeBytes,
 *   kvBytesPerToken: info.kvBytesPerToken,
 *   bandwidthBps: null,
 * };
 * const out = await runGrid(ctx, scenario, resolveRunnerOptions({ warmup: 1, runs: 3 }), {});
 * console.log(out.cases[0].metrics.decodeTps.summary.median);
 * ```
 */
export async function runGrid(
  ctx: GridContext,
  scenario: GridScenario,
  options: RunnerOptions,
  hooks: RunnerHooks = {},
): Promise<GridOutcome> {
  const states: CaseState[] = [];
  for (const spec of scenario.cases) {
    let prompt: number[];
    if (spec.prompt !== undefined) {
      if (!hooks.tokenize) {
        throw new TypeError(`Case ${spec.id} gives a prompt text but no tokenizer was provided`);
      }
      prompt = (await hooks.tokenize(spec.prompt)).slice(0, spec.promptTokens);
    } else prompt = randomTokens(spec.promptTokens, ctx.vocab, idSeed(options.seed, spec.id));
    states.push({
      spec,
      prompt,
      samples: {},
      warmup: {},
      stepNs: [],
      counters: {},
      measuredMs: 0,
      done: false,
      ceilingBps: ctx.bandwidthBps ?? 0,
    });
  }

  const total = states.length * (options.warmup + options.minRuns);
  let done = 0;
  const rate = { promptNs: 0, promptTokens: 0, decodeNs: 0, decodeTokens: 0 };
  const eta = (): number | null => {
    if (rate.promptTokens === 0) return null;
    let ns = 0;
    for (const s of states) {
      if (s.done) continue;
      const measured = s.samples.ttftNs?.length ?? 0;
      const warm = s.warmup.ttftNs?.length ?? 0;
      const left = Math.max(0, options.warmup - warm) + Math.max(0, options.minRuns - measured);
      const perRun = s.prompt.length * rate.promptNs / rate.promptTokens +
        (rate.decodeTokens > 0 ? (s.spec.decodeTokens - 1) * rate.decodeNs / rate.decodeTokens : 0);
      ns += left * (perRun + options.cooldownMs * 1e6);
    }
    return ns / 1e6;
  };
  const stop = () => hooks.shouldStop?.() ?? false;

  const runOnce = async (s: CaseState, phase: "warmup" | "measure", index: number) => {
    if (options.cooldownMs > 0 && done > 0) {
      await new Promise((r) => setTimeout(r, options.cooldownMs));
    }
    ctx.session.reset(0);
    ctx.engine.resetCounters();
    const t0 = performance.now();
    const r = await ctx.session.generate(0, s.prompt, s.spec.decodeTokens);
    const wallMs = performance.now() - t0;
    const c = ctx.engine.counters();
    if (r.stats.generatedTokens !== s.spec.decodeTokens) {
      throw new RangeError(
        `Case ${s.spec.id}: the engine generated ${r.stats.generatedTokens} tokens, ` +
          `expected ${s.spec.decodeTokens}`,
      );
    }
    const figures = gridRunMetrics({ ...r.stats, stepNs: r.stepNs });
    rate.promptNs += r.stats.prefillNs;
    rate.promptTokens += s.prompt.length;
    rate.decodeNs += r.stepNs.slice(1).reduce((a, b) => a + b, 0);
    rate.decodeTokens += r.stepNs.length - 1;
    if (phase === "warmup") push(s.warmup, figures);
    else {
      push(s.samples, figures);
      s.stepNs.push(r.stepNs);
      s.measuredMs += wallMs;
      const k = s.counters;
      k.runs = (k.runs ?? 0) + 1;
      k.kernels = (k.kernels ?? 0) + c.kernels;
      k.kernelNs = (k.kernelNs ?? 0) + c.kernelNs;
      k.prefillNs = (k.prefillNs ?? 0) + c.prefillNs;
      k.decodeNs = (k.decodeNs ?? 0) + c.decodeNs;
      k.sampleNs = (k.sampleNs ?? 0) + c.sampleNs;
      k.decodeSteps = (k.decodeSteps ?? 0) + c.decodeSteps;
      k.kernelsPerStep = c.kernelsLastStep;
      k.peakBytes = Math.max(k.peakBytes ?? 0, c.peakBytes);
      k.graphCaptureNs = (k.graphCaptureNs ?? 0) + c.graphCaptureNs;
      if (c.energyNs > 0) { // the device reads its energy (NVML): the run's share
        k.energyMj = (k.energyMj ?? 0) + c.energyMj;
        k.energyNs = (k.energyNs ?? 0) + c.energyNs;
        k.energyTokens = (k.energyTokens ?? 0) + r.stats.generatedTokens;
      }
    }
    done++;
    hooks.onProgress?.({
      caseId: s.spec.id,
      phase,
      run: index,
      planned: phase === "warmup" ? options.warmup : options.minRuns,
      done,
      total: Math.max(total, done),
      etaMs: eta(),
      last: figures,
    });
  };

  const finished = (s: CaseState): boolean => {
    const key = s.samples.decodeTps ?? s.samples.ttftNs ?? [];
    const n = key.length;
    if (n >= options.maxRuns) return true;
    if (n < options.minRuns || s.measuredMs < options.minTimeMs) return false;
    return options.targetCv === null || summarize(key).cv <= options.targetCv;
  };

  const build = () =>
    states.filter((s) => (s.samples.ttftNs?.length ?? 0) > 0).map((s) => toCase(s, ctx));

  let interrupted = false;
  let bestBps = ctx.bandwidthBps ?? 0;
  /** Probe (when the context can) and raise the ceiling of the given cases to the best seen. */
  const reprobe = async (list: CaseState[]) => {
    if (!ctx.probeBps || ctx.bandwidthBps === null) return;
    bestBps = Math.max(bestBps, await ctx.probeBps());
    for (const s of list) s.ceilingBps = Math.max(s.ceilingBps, bestBps);
  };
  const warmupAll = async (list: CaseState[]) => {
    for (const s of list) {
      for (let i = 1; i <= options.warmup; i++) {
        if (stop()) return false;
        await runOnce(s, "warmup", i);
      }
    }
    return true;
  };
  if (options.interleave) {
    interrupted = !(await warmupAll(states));
    while (!interrupted && states.some((s) => !s.done)) {
      await reprobe(states);
      for (const s of states) {
        if (s.done) continue;
        if (stop()) {
          interrupted = true;
          break;
        }
        await runOnce(s, "measure", (s.samples.ttftNs?.length ?? 0) + 1);
        s.done = finished(s);
      }
      await reprobe(states);
      await hooks.onCheckpoint?.(build());
    }
  } else {
    for (const s of states) {
      await reprobe([s]);
      if (interrupted || !(await warmupAll([s]))) {
        interrupted = true;
        break;
      }
      while (!s.done) {
        if (stop()) {
          interrupted = true;
          break;
        }
        await runOnce(s, "measure", (s.samples.ttftNs?.length ?? 0) + 1);
        s.done = finished(s);
      }
      await reprobe([s]);
      await hooks.onCheckpoint?.(build());
      if (interrupted) break;
    }
  }

  const cases = build();
  const warnings: string[] = [];
  for (const s of states) {
    const n = s.samples.ttftNs?.length ?? 0;
    if (n === 0) warnings.push(`Case ${s.spec.id} was not measured (interrupted)`);
    else if (!s.done) {
      warnings.push(`Case ${s.spec.id} has ${n} measured run(s), fewer than planned (interrupted)`);
    }
  }
  for (const c of cases) warnings.push(...caseWarnings(c, options));
  return { cases, warnings, interrupted };
}

function toCase(s: CaseState, ctx: GridContext): Case {
  const metrics: Case["metrics"] = {};
  const promptTokens = s.prompt.length;
  let decodeLimit: number | undefined;
  if (ctx.bandwidthBps !== null && s.spec.decodeTokens > 1) {
    // Decode step i (1..n-1) reads the KV of promptTokens + i - 1 earlier tokens plus its own.
    const meanPosition = promptTokens + s.spec.decodeTokens / 2;
    decodeLimit = decodeLimitTps(
      s.ceilingBps,
      ctx.decodeBytes,
      ctx.kvBytesPerToken,
      meanPosition,
    );
  }
  for (const [key, samples] of Object.entries(s.samples)) {
    const [unit, better] = SPECS[key];
    const limit = decodeLimit === undefined
      ? undefined
      : key === "decodeTps"
      ? decodeLimit
      : key === "tpotNs"
      ? 1e9 / decodeLimit
      : undefined;
    metrics[key] = makeMetric(unit, better, samples, limit);
  }
  const counters = { ...s.counters };
  if (s.ceilingBps > 0) counters.bandwidthCeilingBps = s.ceilingBps;
  if (counters.energyNs > 0 && counters.energyTokens > 0) {
    counters.joulesPerToken = counters.energyMj / 1e3 / counters.energyTokens;
    counters.avgWatts = counters.energyMj * 1e6 / counters.energyNs;
  }
  if (counters.kernelNs > 0) {
    const busyNs = counters.prefillNs + counters.decodeNs;
    counters.gpuUtilisation = counters.kernelNs / busyNs;
    counters.kernelOverheadNs = (busyNs - counters.kernelNs) / counters.kernels;
  }
  return {
    id: s.spec.id,
    description: s.spec.description ?? "",
    params: { promptTokens, decodeTokens: s.spec.decodeTokens },
    metrics,
    warmup: structuredClone(s.warmup),
    series: { stepNs: s.stepNs.map((r) => [...r]) },
    counters,
  };
}

function caseWarnings(c: Case, options: RunnerOptions): string[] {
  const out: string[] = [];
  for (const [key, m] of Object.entries(c.metrics)) {
    if (m.limit === undefined || m.utilisation === undefined || m.utilisation <= 1) continue;
    out.push(
      `Case ${c.id}: ${key} median ${m.summary.median.toPrecision(4)} ${m.unit} beats its ` +
        `bandwidth limit ${m.limit.toPrecision(4)} ${m.unit} (${
          (m.utilisation * 100).toFixed(0)
        }%): ` +
        `the working set may fit in cache or the bandwidth probe underestimates`,
    );
  }
  const key = c.metrics.decodeTps ?? c.metrics.ttftNs;
  if (key.summary.n >= 3 && key.summary.cv > NOISY_CV) {
    const name = c.metrics.decodeTps ? "decodeTps" : "ttftNs";
    const hint = options.targetCv === null ? "; try --runs higher or a quieter machine" : "";
    out.push(`Case ${c.id}: ${name} is noisy (CV ${(key.summary.cv * 100).toFixed(1)}%)${hint}`);
  }
  return out;
}
