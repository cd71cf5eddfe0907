/** Fill and check the runner's repetition settings. */
import type { RunnerOptions } from "./types.ts";

function int(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new RangeError(`Runner option ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

/**
 * Runner options with defaults: 3 warm-ups, 5 measured runs, no adaptive repetition, no
 * interleaving, no cool-down, seed 0. With targetCv or minTimeMs set, runs are repeated
 * between minRuns (default runs) and maxRuns (default 5 x minRuns).
 *
 * @param given Partial options (undefined fields take defaults).
 * @returns Complete options.
 * @throws {RangeError} When a value is out of range (e.g. maxRuns < minRuns).
 * @example
 * ```ts
 * import { resolveRunnerOptions } from "./resolve_runner_options.ts";
 * resolveRunnerOptions({ runs: 10 }).minRuns; // 10
 * ```
 */
export function resolveRunnerOptions(given: Partial<RunnerOptions> = {}): RunnerOptions {
  const runs = int("runs", given.runs ?? 5, 1);
  const warmup = int("warmup", given.warmup ?? 3, 0);
  const minRuns = int("minRuns", given.minRuns ?? runs, 1);
  const minTimeMs = given.minTimeMs ?? 0;
  if (!(minTimeMs >= 0 && Number.isFinite(minTimeMs))) {
    throw new RangeError(`Runner option minTimeMs must be a number >= 0, got ${minTimeMs}`);
  }
  const targetCv = given.targetCv ?? null;
  if (targetCv !== null && !(targetCv > 0 && targetCv < 1)) {
    throw new RangeError(`Runner option targetCv must be in (0, 1), got ${targetCv}`);
  }
  const adaptive = targetCv !== null || minTimeMs > 0;
  const maxRuns = int("maxRuns", given.maxRuns ?? (adaptive ? 5 * minRuns : minRuns), 1);
  if (maxRuns < minRuns) {
    throw new RangeError(`Runner option maxRuns (${maxRuns}) must be >= minRuns (${minRuns})`);
  }
  const cooldownMs = given.cooldownMs ?? 0;
  if (!(cooldownMs >= 0 && Number.isFinite(cooldownMs))) {
    throw new RangeError(`Runner option cooldownMs must be a number >= 0, got ${cooldownMs}`);
  }
  const seed = int("seed", given.seed ?? 0, 0);
  return {
    warmup,
    runs,
    minRuns,
    minTimeMs,
    targetCv,
    maxRuns,
    interleave: given.interleave ?? false,
    cooldownMs,
    seed,
  };
}
