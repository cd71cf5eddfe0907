/**
 * Compare result records: match cases, ratios with bootstrap intervals, verdicts, regressions,
 * and the backend / executor / workers views. Reads records only.
 * @module
 */
export { type BootstrapOptions, bootstrapRatio, type RatioInterval } from "./bootstrap_ratio.ts";
export { type CaseFigure, caseFigure, type FigureName } from "./case_figure.ts";
export { type CompareOptions, compareRecords } from "./compare_records.ts";
export { type ComparisonViews, comparisonViews } from "./comparison_views.ts";
export { type BackendSpeedup, backendSpeedups } from "./backend_speedups.ts";
export { type ExecutorRatio, executorRatios } from "./executor_ratios.ts";
export { type TargetRatio, targetRatios } from "./target_ratios.ts";
export { formatTargetRatios } from "./format_target_ratios.ts";
export { type WorkersPoint, workersScaling } from "./workers_scaling.ts";
export { findRegressions, type Regression } from "./find_regressions.ts";
export { type ComparisonFormat, formatComparison } from "./format_comparison.ts";
export { formatValue } from "./format_value.ts";
export { metricLabel } from "./metric_label.ts";
export { recordLabels } from "./record_labels.ts";
export type * from "./types.ts";
