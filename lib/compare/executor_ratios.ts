/** Graph / eager throughput at each cache position of a cache-sweep record. */
import type { ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/mod.ts";
import { hashSeed } from "./_prng.ts";
import { type BootstrapOptions, bootstrapRatio } from "./bootstrap_ratio.ts";
import { caseFigure } from "./case_figure.ts";

/** The executor ratio at one cache position. */
export interface ExecutorRatio {
  position: number;
  /** Median decode TPS per executor. */
  graphTps: number;
  eagerTps: number;
  /** graph / eager, with its bootstrap interval. */
  ratio: number;
  low: number;
  high: number;
}

/**
 * For a record whose cases carry params `{ position, executor }`, the ratio of graph to eager
 * decode throughput at every position measured with both executors, in position order. A
 * "graph" case that ran as eager (`counters.executorGraph === 0`, older records on the CPU) is
 * not a second executor, so it gives no ratio.
 *
 * @param record A cache-sweep record.
 * @param options Bootstrap settings.
 * @returns One row per position that has both executors (empty when none does).
 * @throws {RangeError} When a bootstrap option is out of range, or an eager median is 0 (see
 *   bootstrapRatio).
 * @example
 * ```ts
 * import { executorRatios } from "./executor_ratios.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const r = await readRecord("tests/fixtures/records/cache-sweep.json");
 * executorRatios(r)[0].position; // 1
 * ```
 */
export function executorRatios(
  record: ResultRecord,
  options: BootstrapOptions = {},
): ExecutorRatio[] {
  const at = new Map<number, { graph?: number[]; eager?: number[] }>();
  for (const c of record.cases) {
    const position = Number(c.params.position);
    const executor = c.params.executor;
    if (!Number.isFinite(position) || (executor !== "graph" && executor !== "eager")) continue;
    if (executor === "graph" && c.counters.executorGraph === 0) continue; // ran as eager
    const tps = caseFigure(c, "tps");
    if (!tps) continue;
    const entry = at.get(position) ?? {};
    entry[executor] = tps.samples;
    at.set(position, entry);
  }
  const rows: ExecutorRatio[] = [];
  for (const [position, { graph, eager }] of [...at].sort(([a], [b]) => a - b)) {
    if (!graph || !eager) continue;
    const seed = hashSeed(`executor|${position}`, options.seed ?? 1);
    const r = bootstrapRatio(eager, graph, { ...options, seed });
    rows.push({ position, graphTps: quantile(graph, 0.5), eagerTps: quantile(eager, 0.5), ...r });
  }
  return rows;
}
