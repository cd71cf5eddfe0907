/** The grid runner: warm-ups, measured runs (fixed or adaptive), interleaving, limits. */
import { generateOnTarget } from "../targets/generate_on_target.ts";
import type { Target } from "../targets/types.ts";
import { makeMetric } from "../results/make_metric.ts";
import type { Case, MetricUnit } from "../results/types.ts";
import type { GridCase, GridScenario } from "../scenario/types.ts";
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { gridRunMetrics } from "./grid_run_metrics.ts";
import { randomTokens } from "./random_tokens.ts";
import { type CaseRuns, repeatRuns } from "./repeat_runs.ts";
import type { RunnerHooks, RunnerOptions } from "./types.ts";

/** One target of a grid run, with the figures its bandwidth limits need. */
export interface GridTarget {
  target: Target;
  /** The name in case ids and `case.target` (default the target's name; `llama.cpp:q4_k_m`). */
  label?: string;
  /** Bytes one decode step reads (weights), and KV bytes per cached token. */
  decodeBytes: number;
  kvBytesPerToken: number;
}

/** What the grid runner needs of the engine side. */
export interface GridContext {
  /** The targets every case runs on (sequence 0 of each), alternating within a case. */
  targets: GridTarget[];
  /** Token ids are drawn below this (the smallest vocabulary of the targets). */
  vocab: number;
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

/** Counters summed over the measured runs of a case. */
const SUMMED = [
  "kernels",
  "kernelNs",
  "prefillNs",
  "decodeNs",
  "sampleNs",
  "decodeSteps",
  "graphCaptureNs",
];

/** Noisy when the decode TPS (or TTFT) CV across runs is above this. */
const NOISY_CV = 0.05;

interface CaseState {
  spec: GridCase;
  /** Index into ctx.targets, and the case id in the record (`<id>@<target>` but for lmrig). */
  target: number;
  id: string;
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
 * Run a grid scenario on sequence 0 of every target in `ctx.targets`: per case, warm-up runs
 * (kept apart), then measured runs until the stop rule holds; each run resets the sequence and
 * generates with {@link generateOnTarget} (lmrig's native loop, or engine-timed prefill and
 * steps), so every step is timed by the engine. With several targets a case runs on each with
 * the same token ids, the targets taking turns run by run within the case (ABAB...; with
 * `options.interleave` all cases and targets round-robin, targets adjacent). A case on a target
 * other than lmrig gets the id `<id>@<target>`; every case carries its `target`. Stops early
 * (keeping what every target measured) when hooks.shouldStop() turns true between runs.
 *
 * @param ctx The targets and the facts the limits need.
 * @param scenario The resolved grid.
 * @param options Repetition settings.
 * @param hooks Progress, checkpoint, stop and tokenizer hooks.
 * @returns Cases with at least one measured run, warnings, and whether it was interrupted.
 * @throws {EngineError} When the engine fails.
 * @throws {TypeError} When a case has a prompt text but no tokenize hook is given.
 * @throws {RangeError} When no target is given or two share a name.
 * @example
 * ```ts
 * import { runGrid } from "./run_grid.ts";
 * import { resolveRunnerOptions } from "./resolve_runner_options.ts";
 * import { openLmrigTarget } from "../targets/lmrig.ts";
 * import { validateScenario } from "../scenario/validate_scenario.ts";
 * using target = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxCtx: 64 });
 * const info = target.model();
 * const scenario = validateScenario({
 *   kind: "grid",
 *   name: "tiny",
 *   cases: [{ id: "A", promptTokens: 8, decodeTokens: 8 }],
 * }, "tiny.ts");
 * if (scenario.kind !== "grid") throw new Error("a grid");
 * const ctx = {
 *   targets: [{ target, decodeBytes: info.weightBytes, kvBytesPerToken: 0 }],
 *   vocab: info.vocab,
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
  if (ctx.targets.length === 0) throw new RangeError("Cannot run the grid: no target given");
  const names = ctx.targets.map((t) => t.label ?? t.target.name);
  if (new Set(names).size !== names.length) {
    throw new RangeError(`Cannot run the grid: a target is named twice (${names.join(", ")})`);
  }
  // Case-major: every case on every target, targets adjacent (A@t1, A@t2, B@t1, B@t2, ...).
  const states: CaseState[] = [];
  for (const spec of scenario.cases) {
    let prompt: number[];
    if (spec.prompt !== undefined) {
      if (!hooks.tokenize) {
        throw new TypeError(`Case ${spec.id} gives a prompt text but no tokenizer was provided`);
      }
      prompt = (await hooks.tokenize(spec.prompt)).slice(0, spec.promptTokens);
    } else prompt = randomTokens(spec.promptTokens, ctx.vocab, idSeed(options.seed, spec.id));
    ctx.targets.forEach((t, target) => {
      const name = t.label ?? t.target.name;
      const id = name === "lmrig" ? spec.id : `${spec.id}@${name}`;
      states.push({ spec, target, id, prompt, stepNs: [], counters: {} });
    });
  }

  const once = async (index: number, phase: "warmup" | "measure") => {
    const s = states[index];
    const r = await generateOnTarget(
      ctx.targets[s.target].target,
      0,
      s.prompt,
      s.spec.decodeTokens,
    );
    if (r.generatedTokens !== s.spec.decodeTokens) {
      throw new RangeError(
        `the engine generated ${r.generatedTokens} tokens, expected ${s.spec.decodeTokens}`,
      );
    }
    if (phase === "measure") {
      s.stepNs.push(r.stepNs);
      const k = s.counters, c = r.counters;
      k.runs = (k.runs ?? 0) + 1;
      for (const name of SUMMED) if (c[name] !== undefined) k[name] = (k[name] ?? 0) + c[name];
      if (c.kernelsLastStep !== undefined) k.kernelsPerStep = c.kernelsLastStep;
      if (c.peakBytes !== undefined) k.peakBytes = Math.max(k.peakBytes ?? 0, c.peakBytes);
      if ((c.energyNs ?? 0) > 0) { // the device reads its energy (NVML): the run's share
        k.energyMj = (k.energyMj ?? 0) + c.energyMj;
        k.energyNs = (k.energyNs ?? 0) + c.energyNs;
        k.energyTokens = (k.energyTokens ?? 0) + r.generatedTokens;
      }
    }
    return gridRunMetrics(r);
  };

  // Every run of a plan is recorded here, so a checkpoint holds all plans so far.
  const collected: (CaseRuns | undefined)[] = states.map(() => undefined);
  const build = () =>
    collected.flatMap((r, i) => (r && r.runs > 0 ? [toCase(states[i], r, ctx)] : []));
  const key = (i: number) => (states[i].spec.decodeTokens > 1 ? "decodeTps" : "ttftNs");
  // With --interleave one plan round-robins everything (targets adjacent within each case);
  // otherwise one plan per case whose targets take turns run by run (ABAB...).
  const per = ctx.targets.length;
  const groups = options.interleave || per === 1
    ? [states.map((_, i) => i)]
    : scenario.cases.map((_, c) => Array.from({ length: per }, (_, t) => c * per + t));
  const total = states.length * (options.warmup + options.minRuns);
  let doneRuns = 0;
  let interrupted = false;
  for (const group of groups) {
    if (interrupted) break;
    const plan = await repeatRuns({
      ids: group.map((i) => states[i].id),
      options: per > 1 ? { ...options, interleave: true } : options,
      key: (j) => key(group[j]),
      shouldStop: hooks.shouldStop,
      onProgress: (e) => {
        doneRuns = e.done;
        hooks.onProgress?.(e);
      },
      onCheckpoint: async (runs) => {
        runs.forEach((r, j) => (collected[group[j]] = r));
        await hooks.onCheckpoint?.(build());
      },
      progressOffset: { done: doneRuns, total },
    }, (j, phase) => once(group[j], phase));
    plan.cases.forEach((r, j) => (collected[group[j]] = r));
    interrupted = plan.interrupted;
  }
  const out = {
    cases: collected.map((r, i) =>
      r ?? { id: states[i].id, samples: {}, warmup: {}, measuredMs: 0, runs: 0, done: false }
    ),
  };

  const cases = build();
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
  return { cases, warnings, interrupted };
}

function toCase(s: CaseState, runs: CaseRuns, ctx: GridContext): Case {
  const t = ctx.targets[s.target];
  const metrics: Case["metrics"] = {};
  const promptTokens = s.prompt.length;
  let decodeLimit: number | undefined;
  if (ctx.bandwidthBps !== null && s.spec.decodeTokens > 1) {
    // Decode step i (1..n-1) reads the KV of promptTokens + i - 1 earlier tokens plus its own.
    const meanPosition = promptTokens + s.spec.decodeTokens / 2;
    decodeLimit = decodeLimitTps(
      ctx.bandwidthBps,
      t.decodeBytes,
      t.kvBytesPerToken,
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
    id: s.id,
    target: t.label ?? t.target.name,
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
