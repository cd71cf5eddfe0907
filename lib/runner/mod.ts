/**
 * The runner: expands a scenario into runs, warms up, repeats, and derives run figures.
 * @module
 */
export * from "./types.ts";
export { resolveRunnerOptions } from "./resolve_runner_options.ts";
export { randomTokens } from "./random_tokens.ts";
export { type GenerateTimings, gridRunMetrics } from "./grid_run_metrics.ts";
export { decodeLimitTps } from "./decode_limit_tps.ts";
export { type GridContext, type GridOutcome, runGrid } from "./run_grid.ts";
export { deriveGridFigures, type GridRunFacts } from "./derive_grid_figures.ts";
export { probeBandwidth } from "./probe_bandwidth.ts";
export { chooseDefaultModel } from "./choose_default_model.ts";
export { type BenchOptions, runBench } from "./run_bench.ts";
