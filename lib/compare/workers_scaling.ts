/** Throughput, speedup and efficiency per worker count of a workers record. */
import type { ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/mod.ts";
import { caseFigure } from "./case_figure.ts";

/** Scaling at one worker count. */
export interface WorkersPoint {
  workers: number;
  /** Median total decode throughput (tokens/s). */
  tps: number;
  /** Sample standard deviation of it. */
  tpsStddev: number;
  /** tps / tps at the fewest workers. */
  speedup: number;
  /** speedup / (workers / fewest workers): 1 is perfect scaling. */
  efficiency: number;
}

/**
 * Scaling of total decode throughput with the number of sequences decoding together, for cases
 * with params `{ workers }` (throughput from `totalTps`, else `decodeTps`). The smallest worker
 * count is the reference (speedup 1, efficiency 1).
 *
 * @param record A workers record.
 * @returns Points in worker order (empty when no case has a workers param and a throughput).
 * @throws Nothing; cases without a workers param or a throughput are skipped.
 * @example
 * ```ts
 * import { workersScaling } from "./workers_scaling.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const r = await readRecord("tests/fixtures/records/workers.json");
 * workersScaling(r)[0].efficiency; // 1
 * ```
 */
export function workersScaling(record: ResultRecord): WorkersPoint[] {
  const points: { workers: number; samples: number[] }[] = [];
  for (const c of record.cases) {
    const workers = Number(c.params.workers);
    const tps = caseFigure(c, "tps");
    if (!Number.isFinite(workers) || workers <= 0 || !tps) continue;
    points.push({ workers, samples: tps.samples });
  }
  points.sort((a, b) => a.workers - b.workers);
  if (points.length === 0) return [];
  const ref = points[0];
  const refTps = quantile(ref.samples, 0.5);
  return points.map(({ workers, samples }) => {
    const tps = quantile(samples, 0.5);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const sd = samples.length > 1
      ? Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1))
      : 0;
    const speedup = tps / refTps;
    return { workers, tps, tpsStddev: sd, speedup, efficiency: speedup / (workers / ref.workers) };
  });
}
