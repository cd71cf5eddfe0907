/**
 * The runner: expands a scenario into runs, warms up, repeats, and derives run figures.
 * @module
 */
export * from "./types.ts";
export { resolveRunnerOptions } from "./resolve_runner_options.ts";
export { randomTokens } from "./random_tokens.ts";
export { type GenerateTimings, gridRunMetrics } from "./grid_run_metrics.ts";
export { decodeLimitTps } from "./decode_limit_tps.ts";
export { type GridContext, type GridOutcome, type GridTarget, runGrid } from "./run_grid.ts";
export { checkTargets, KIND_CAPABILITIES, TARGET_CAPABILITIES } from "./check_targets.ts";
export { deriveGridFigures, type GridRunFacts } from "./derive_grid_figures.ts";
export { probeBandwidth } from "./probe_bandwidth.ts";
export { chooseDefaultModel } from "./choose_default_model.ts";
export { type BenchOptions, runBench } from "./run_bench.ts";
export { cacheSweepPositions } from "./cache_sweep_positions.ts";
export { type CacheSweepFit, fitCacheSweepPositions } from "./fit_cache_sweep_positions.ts";
export { cacheSweepBackends } from "./cache_sweep_backends.ts";
export { type CacheSweepFacts, deriveCacheSweepFigures } from "./derive_cache_sweep_figures.ts";
export { runCacheSweep } from "./run_cache_sweep.ts";
export {
  type CaseRuns,
  type RepeatOutcome,
  type RepeatPlan,
  repeatRuns,
  type RunFigures,
} from "./repeat_runs.ts";
export { poissonArrivals } from "./poisson_arrivals.ts";
export {
  runWorkersLoad,
  type ServedRequest,
  type ServeEngine,
  type ServeOptions,
  type ServeRequest,
  type ServeRun,
} from "./run_workers_load.ts";
export { sessionServeEngine } from "./run_workers_engine.ts";
export { type WorkersRunFigures, workersRunMetrics } from "./run_workers_metrics.ts";
export { runWorkers } from "./run_workers.ts";
export { BREAKDOWN_MARGIN, runPrompts } from "./run_prompts.ts";
export {
  type PromptInput,
  type PromptRequestFigures,
  runPromptsRequest,
} from "./run_prompts_request.ts";
