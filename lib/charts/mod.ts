/**
 * Charts from result records: one function per chart kind returning a Vega-Lite spec, renderers
 * to SVG and PNG (shipped fonts), and a notebook display helper. Reads records only.
 * @module
 */
export type { ChartOptions, ChartSpec } from "./_spec.ts";
export { ttftChart } from "./ttft_chart.ts";
export { stepTpsChart } from "./step_tps_chart.ts";
export { throughputChart } from "./throughput_chart.ts";
export { cacheChart } from "./cache_chart.ts";
export { executorRatioChart } from "./executor_ratio_chart.ts";
export { backendSpeedupChart } from "./backend_speedup_chart.ts";
export { workersChart } from "./workers_chart.ts";
export { targetsChart } from "./targets_chart.ts";
export { latencyChart } from "./latency_chart.ts";
export { breakdownChart } from "./breakdown_chart.ts";
export {
  datasetHistogramChart,
  type DatasetHistogramOptions,
  type DatasetLengths,
} from "./dataset_histogram_chart.ts";
export { allCharts, type NamedChart } from "./all_charts.ts";
export { renderSvg } from "./render_svg.ts";
export { type PngOptions, renderPng } from "./render_png.ts";
export { type Displayable, displayChart } from "./display_chart.ts";
