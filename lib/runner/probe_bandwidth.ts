/** Measure read bandwidth once per bench run, as a Metric for the record. */
import type { Engine } from "../ffi/engine.ts";
import { makeMetric } from "../results/make_metric.ts";
import type { Metric } from "../results/types.ts";

/**
 * Stream a buffer `reps` times through lmr_probe_bandwidth (after one untimed pass) and return
 * the samples as a bytes/s Metric. The buffer should be far larger than the last-level cache
 * (default 512 MiB, or a quarter of host memory when smaller).
 *
 * @param engine The engine.
 * @param bytes Buffer size.
 * @param reps Timed passes (default 5).
 * @returns The bandwidth metric (its median is the figure limits use).
 * @throws {EngineError} When the engine cannot allocate or stream the buffer.
 * @example
 * ```ts
 * import { probeBandwidth } from "./probe_bandwidth.ts";
 * import { Engine } from "../ffi/engine.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * const bw = await probeBandwidth(engine, 64 * 2 ** 20, 2);
 * console.log(bw.summary.median / 1e9, "GB/s");
 * ```
 */
export async function probeBandwidth(engine: Engine, bytes?: number, reps = 5): Promise<Metric> {
  const host = engine.info().hostMemoryBytes;
  const size = bytes ?? Math.min(512 * 2 ** 20, Math.max(64 * 2 ** 20, Math.floor(host / 4)));
  const samples = await engine.probeBandwidth(size, reps);
  return makeMetric("bytes/s", "higher", samples);
}
