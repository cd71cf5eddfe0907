/** The one measure loop of every scenario kind: warm-ups, measured runs, stop rule, interleave. */
import { summarize } from "../stats/summarize.ts";
import type { ProgressEvent, RunnerOptions } from "./types.ts";

/** What {@link repeatRuns} runs: the cases (by id), the settings and the hooks. */
export interface RepeatPlan {
  /** Case ids, in order. */
  ids: readonly string[];
  /** Repetition settings (warm-ups, fixed or adaptive runs, interleave, cool-down). */
  options: RunnerOptions;
  /**
   * The figure whose CV the adaptive rule (targetCv) watches, e.g. "decodeTps", or a function
   * giving it per case (by index).
   */
  key: string | ((index: number) => string);
  /** True when the user asked to stop; checked before every run. */
  shouldStop?: () => boolean;
  /** Called after every run. */
  onProgress?: (e: ProgressEvent) => void;
  /** Called after each case (or each round when interleaving) with the runs so far. */
  onCheckpoint?: (runs: readonly CaseRuns[]) => Promise<void> | void;
  /** Progress counts already done before this plan (several plans in one kind), and in all. */
  progressOffset?: { done: number; total: number };
}

/** One case's figures as {@link repeatRuns} collected them. */
export interface CaseRuns {
  id: string;
  /** Measured figures, one entry per run (a run may return several values per figure). */
  samples: Record<string, number[]>;
  /** Warm-up figures, kept apart. */
  warmup: Record<string, number[]>;
  /** Wall time of the measured runs, ms. */
  measuredMs: number;
  /** Measured runs. */
  runs: number;
  /** True once the stop rule held (false when interrupted first). */
  done: boolean;
}

/**
 * One run's figures: a value (or several, e.g. one per request) per figure name; null when the
 * run was cut short because the user asked to stop (its figures are dropped).
 */
export type RunFigures = Record<string, number | number[]> | null;

/** The outcome of {@link repeatRuns}. */
export interface RepeatOutcome {
  cases: CaseRuns[];
  interrupted: boolean;
}

function put(into: Record<string, number[]>, figures: Record<string, number | number[]>) {
  for (const [k, v] of Object.entries(figures)) {
    const list = (into[k] ??= []);
    if (typeof v === "number") list.push(v);
    else list.push(...v);
  }
}

/**
 * Run every case of a plan: per case `options.warmup` warm-up runs (kept apart), then measured
 * runs until the stop rule holds: at least `minRuns` runs and `minTimeMs` of measuring, and,
 * when `targetCv` is set, the CV of the key figure at most targetCv; never more than `maxRuns`
 * (without targetCv and minTimeMs that is exactly `runs`). With `options.interleave` the
 * warm-ups run first, then the cases take turns one measured run each (round-robin), which
 * spreads drift (thermal, background load) over all cases alike. `options.cooldownMs` pauses
 * before every run but the first. Each run is one call of `once(index, phase, run)`, which
 * returns the run's figures (or null when it was cut short by a stop request: dropped, and the
 * loop ends); the target that runs it (engine, server) is the caller's business.
 * Stops between runs when `plan.shouldStop()` turns true, keeping what was measured.
 *
 * @param plan Cases, settings, key figure and hooks.
 * @param once Runs case `index` once; `run` is 1-based within its phase.
 * @returns Every case's figures (cases never run have no samples) and whether it was stopped.
 * @throws {Error} `Case <id> failed: <why>` when a run throws (the first error ends the loop;
 *   the original error is its `cause`).
 * @example
 * ```ts
 * import { repeatRuns } from "./repeat_runs.ts";
 * import { resolveRunnerOptions } from "./resolve_runner_options.ts";
 * const options = resolveRunnerOptions({ warmup: 1, runs: 3, interleave: true });
 * const order: string[] = [];
 * const out = await repeatRuns({ ids: ["a", "b"], options, key: "x" }, (i, phase) => {
 *   order.push(`${["a", "b"][i]}:${phase}`);
 *   return Promise.resolve({ x: i + 1 });
 * });
 * out.cases[1].samples.x; // [2, 2, 2]
 * order.slice(0, 4); // ["a:warmup", "b:warmup", "a:measure", "b:measure"]
 * ```
 */
export async function repeatRuns(
  plan: RepeatPlan,
  once: (index: number, phase: "warmup" | "measure", run: number) => Promise<RunFigures>,
): Promise<RepeatOutcome> {
  const o = plan.options;
  const cases: CaseRuns[] = plan.ids.map((id) => ({
    id,
    samples: {},
    warmup: {},
    measuredMs: 0,
    runs: 0,
    done: false,
  }));
  const offset = plan.progressOffset ?? { done: 0, total: 0 };
  const total = offset.total || cases.length * (o.warmup + o.minRuns);
  let done = offset.done;
  let ranAny = false;
  let wallMs = 0, wallRuns = 0;
  const stop = () => plan.shouldStop?.() ?? false;

  const run = async (index: number, phase: "warmup" | "measure", n: number) => {
    const c = cases[index];
    if (o.cooldownMs > 0 && ranAny) await new Promise((r) => setTimeout(r, o.cooldownMs));
    ranAny = true;
    const t0 = performance.now();
    let got: RunFigures;
    try {
      got = await once(index, phase, n);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`Case ${c.id} failed: ${why}`, { cause: e });
    }
    if (got === null) return false;
    const figures = got;
    const ms = performance.now() - t0;
    wallMs += ms;
    wallRuns++;
    if (phase === "warmup") put(c.warmup, figures);
    else {
      put(c.samples, figures);
      c.measuredMs += ms;
      c.runs++;
    }
    done++;
    const left = Math.max(0, total - done);
    const last: Record<string, number> = {};
    for (const [k, v] of Object.entries(figures)) {
      last[k] = typeof v === "number" ? v : v.length ? v[v.length - 1] : 0;
    }
    plan.onProgress?.({
      caseId: c.id,
      phase,
      run: n,
      planned: phase === "warmup" ? o.warmup : o.minRuns,
      done,
      total: Math.max(total, done),
      etaMs: left * (wallMs / wallRuns + o.cooldownMs),
      last,
    });
    return true;
  };

  const keyOf = (index: number) => typeof plan.key === "string" ? plan.key : plan.key(index);
  const finished = (c: CaseRuns, index: number): boolean => {
    if (c.runs >= o.maxRuns) return true;
    if (c.runs < o.minRuns || c.measuredMs < o.minTimeMs) return false;
    const key = c.samples[keyOf(index)] ?? [];
    return o.targetCv === null || (key.length >= 2 && summarize(key).cv <= o.targetCv);
  };

  const warm = async (index: number): Promise<boolean> => {
    for (let i = 1; i <= o.warmup; i++) {
      if (stop() || !(await run(index, "warmup", i))) return false;
    }
    return true;
  };

  let interrupted = false;
  if (o.interleave) {
    for (let i = 0; i < cases.length && !interrupted; i++) interrupted = !(await warm(i));
    while (!interrupted && cases.some((c) => !c.done)) {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        if (c.done) continue;
        if (stop() || !(await run(i, "measure", c.runs + 1))) {
          interrupted = true;
          break;
        }
        c.done = finished(c, i);
      }
      await plan.onCheckpoint?.(cases);
    }
  } else {
    for (let i = 0; i < cases.length && !interrupted; i++) {
      const c = cases[i];
      if (!(await warm(i))) {
        interrupted = true;
        break;
      }
      while (!c.done) {
        if (stop() || !(await run(i, "measure", c.runs + 1))) {
          interrupted = true;
          break;
        }
        c.done = finished(c, i);
      }
      await plan.onCheckpoint?.(cases);
    }
  }
  return { cases, interrupted };
}
