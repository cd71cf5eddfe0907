/**
 * Terminal output: tables, sparklines, progress, the bench report.
 * @module
 */
export { formatTable } from "./format_table.ts";
export { sparkline } from "./sparkline.ts";
export { renderGridReport } from "./render_grid_report.ts";
export { Progress } from "./progress.ts";
export { BENCH_USAGE, type BenchArgs, parseBenchArgs } from "./parse_bench_args.ts";
export { parseCtestSummary } from "./parse_ctest_summary.ts";
export { parseDenoTestSummary } from "./parse_deno_test_summary.ts";
export { renderCacheSweepReport } from "./render_cache_sweep_report.ts";
export { renderWorkersReport } from "./render_workers_report.ts";
export { renderPromptsReport } from "./render_prompts_report.ts";
export { renderHttpReport } from "./render_http_report.ts";
