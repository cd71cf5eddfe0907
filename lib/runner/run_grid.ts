/** The grid runner: warm-ups, measured runs (fixed or adaptive), interleaving, limits. */
import type { Engine } from "../ffi/engine.ts";
import type { Session } from "../ffi/session.ts";
import { makeMetric } from "../results/make_metric.ts";
import type { Case, MetricUnit } from "../results/types.ts";
import type { GridCase, GridScenario } from "../scenario/types.ts";
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { gridRunMetrics } from "./grid_run_metrics.ts";
import { randomTokens } from "./random_tokens.ts";
import { type CaseRuns, repeatRuns } from "./repeat_runs.ts";
import type { RunnerHooks, RunnerOptions } from "./types.ts";

/** What the grid runner needs of the engine side. */
export interface GridContext {
  engine: Engine;
  session: Session;
  vocab: number;
  decodeBytes: number;
  kvBytesPerToken: number;
  /** The run's read-bandwidth ceiling, bytes/s (null: no limits attached). */
  bandwidthBps: number | null;
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
  stepNs: number[][];
  counters: Record<string, number>;
}

function idSeed(seed: number, id: string): number {
  let h = seed >>> 0;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
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
    states.push({ spec, prompt, stepNs: [], counters: {} });
  }

  const once = async (index: number, phase: "warmup" | "measure") => {
    const s = states[index];
    ctx.session.reset(0);
    ctx.engine.resetCounters();
    const r = await ctx.session.generate(0, s.prompt, s.spec.decodeTokens);
    const c = ctx.engine.counters();
    if (r.stats.generatedTokens !== s.spec.decodeTokens) {
      throw new RangeError(
        `the engine generated ${r.stats.generatedTokens} tokens, expected ${s.spec.decodeTokens}`,
      );
    }
    if (phase === "measure") {
      s.stepNs.push(r.stepNs);
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
    return gridRunMetrics({ ...r.stats, stepNs: r.stepNs });
  };

  const build = (runs: readonly CaseRuns[]) =>
    runs.flatMap((r, i) => (r.runs > 0 ? [toCase(states[i], r, ctx)] : []));
  const out = await repeatRuns({
    ids: states.map((s) => s.spec.id),
    options,
    key: (i) => (states[i].spec.decodeTokens > 1 ? "decodeTps" : "ttftNs"),
    shouldStop: hooks.shouldStop,
    onProgress: hooks.onProgress,
    onCheckpoint: async (runs) => await hooks.onCheckpoint?.(build(runs)),
  }, once);

  const cases = build(out.cases);
  const warnings: string[] = [];
  for (const r of out.cases) {
    if (r.runs === 0) warnings.push(`Case ${r.id} was not measured (interrupted)`);
    else if (!r.done) {
      warnings.push(
        `Case ${r.id} has ${r.runs} measured run(s), fewer than planned (interrupted)`,
      );
    }
  }
  for (const c of cases) warnings.push(...caseWarnings(c, options));
  return { cases, warnings, interrupted: out.interrupted };
}

function toCase(s: CaseState, runs: CaseRuns, ctx: GridContext): Case {
  const metrics: Case["metrics"] = {};
  const promptTokens = s.prompt.length;
  let decodeLimit: number | undefined;
  if (ctx.bandwidthBps !== null && s.spec.decodeTokens > 1) {
    // Decode step i (1..n-1) reads the KV of promptTokens + i - 1 earlier tokens plus its own.
    const meanPosition = promptTokens + s.spec.decodeTokens / 2;
    decodeLimit = decodeLimitTps(
      ctx.bandwidthBps,
      ctx.decodeBytes,
      ctx.kvBytesPerToken,
      meanPosition,
    );
  }
  for (const [key, samples] of Object.entries(runs.samples)) {
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
    warmup: structuredClone(runs.warmup),
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
