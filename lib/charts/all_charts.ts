/** Every chart that applies to a set of records, named for files and report sections. */
import type { ResultRecord } from "../results/types.ts";
import type { ChartOptions, ChartSpec } from "./_spec.ts";
import { backendSpeedupChart } from "./backend_speedup_chart.ts";
import { breakdownChart } from "./breakdown_chart.ts";
import { cacheChart } from "./cache_chart.ts";
import { executorRatioChart } from "./executor_ratio_chart.ts";
import { latencyChart } from "./latency_chart.ts";
import { stepTpsChart } from "./step_tps_chart.ts";
import { targetsChart } from "./targets_chart.ts";
import { throughputChart } from "./throughput_chart.ts";
import { ttftChart } from "./ttft_chart.ts";
import { workersChart } from "./workers_chart.ts";

/** One drawn chart. */
export interface NamedChart {
  /** File stem, e.g. "ttft-vs-prompt". */
  name: string;
  /** What it shows, one sentence for the report. */
  caption: string;
  spec: ChartSpec;
}

type Draw = (records: ResultRecord[], options: ChartOptions) => ChartSpec;

const KINDS: [string, string, Draw][] = [
  [
    "ttft-vs-prompt",
    "TTFT against prompt length: linear growth is what chunked prefill should give.",
    ttftChart,
  ],
  [
    "step-tps",
    "Decode TPS at every step of the longest decode case: a flat line means no slowdown as the cache fills.",
    stepTpsChart,
  ],
  ["throughput", "Prefill and decode throughput of every case.", throughputChart],
  ["latency-percentiles", "p50 / p90 / p99 of TTFT and decode step time per case.", latencyChart],
  [
    "breakdown",
    "Where the request time goes: prefill, decode forward, sampling, tokenisation.",
    breakdownChart,
  ],
  [
    "cache-tps",
    "Decode TPS against KV-cache position (log2), both executors overlaid.",
    (r, o) => cacheChart(r, "tps", o),
  ],
  [
    "cache-step",
    "Decode step time against KV-cache position (log2), with error bars.",
    (r, o) => cacheChart(r, "stepNs", o),
  ],
  [
    "executor-ratio",
    "Graph / eager TPS at each cache position: above 1 the graph executor is faster.",
    executorRatioChart,
  ],
  [
    "backend-speedup",
    "Decode TPS of each other backend over the first record's, per case.",
    backendSpeedupChart,
  ],
  [
    "targets-side-by-side",
    "Each case's throughput on every target of a side-by-side run, with the ratio to the base target.",
    targetsChart,
  ],
  [
    "workers-scaling",
    "Total decode TPS and efficiency (speedup / workers) against the number of sequences.",
    workersChart,
  ],
];

/**
 * Draw every chart kind that the records support; kinds whose data is missing are skipped (the
 * chart functions signal that with a RangeError starting "Cannot draw").
 *
 * @param records The records.
 * @param options Labels and size passed to every chart.
 * @returns The charts, in a fixed order.
 * @throws {RangeError} When options.labels does not give one label per record; a chart that does
 *   not apply is left out, not thrown.
 * @example
 * ```ts
 * import { allCharts } from "./all_charts.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const charts = allCharts([await readRecord("tests/fixtures/records/workers.json")]);
 * charts.map((c) => c.name); // ["latency-percentiles", "workers-scaling"]
 * ```
 */
export function allCharts(records: ResultRecord[], options: ChartOptions = {}): NamedChart[] {
  const out: NamedChart[] = [];
  for (const [name, caption, draw] of KINDS) {
    try {
      out.push({ name, caption, spec: draw(records, options) });
    } catch (e) {
      if (!(e instanceof RangeError && e.message.startsWith("Cannot draw"))) throw e;
    }
  }
  return out;
}
