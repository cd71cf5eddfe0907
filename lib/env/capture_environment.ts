/** Environment facts for a result record: OS, CPU, memory, GPU, build flags, probes. */
import type { EngineInfo } from "../ffi/engine.ts";
import type { Environment, Metric } from "../results/types.ts";

const cudaVersion = (v: number) => (v > 0 ? `${Math.floor(v / 1000)}.${(v % 1000) / 10}` : "");

/**
 * The record's `environment`: OS and release from Deno, CPU/GPU facts and build flags from
 * lmr_engine_info, host memory, and the probe results.
 *
 * @param info The engine's info.
 * @param probes Bandwidth metric and launch overheads.
 * @returns The environment section.
 * @throws Nothing; host memory falls back to the engine's figure when the OS gives none.
 * @example
 * ```ts
 * import { captureEnvironment } from "./capture_environment.ts";
 * import { Engine } from "../ffi/engine.ts";
 * import { makeMetric } from "../results/make_metric.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * const bandwidthBps = makeMetric("bytes/s", "higher", [2.1e10, 2.0e10]);
 * const env = captureEnvironment(engine.info(), {
 *   bandwidthBps,
 *   launchEagerNs: 900,
 *   launchGraphNs: 900,
 * });
 * if (env.gpu !== null) throw new Error("a CPU engine records no GPU");
 * ```
 */
export function captureEnvironment(
  info: EngineInfo,
  probes: { bandwidthBps: Metric; launchEagerNs: number; launchGraphNs: number },
): Environment {
  const gpu = info.backend === "cpu" ? null : {
    name: info.deviceName,
    smCount: info.smCount,
    computeCapability: info.computeCapability > 0
      ? `${Math.floor(info.computeCapability / 10)}.${info.computeCapability % 10}`
      : "",
    memoryBytes: info.deviceMemoryBytes,
    clockKhz: info.clockKhz,
    memClockKhz: info.memClockKhz,
    memBusBits: info.memBusBits,
    driverVersion: cudaVersion(info.driverVersion),
    runtimeVersion: cudaVersion(info.runtimeVersion),
  };
  let memoryBytes = info.hostMemoryBytes;
  try {
    memoryBytes = Deno.systemMemoryInfo().total || memoryBytes;
  } catch {
    // systemMemoryInfo needs --allow-sys; the engine's figure stands in.
  }
  return {
    os: Deno.build.os,
    osRelease: Deno.osRelease(),
    arch: Deno.build.arch,
    cpu: { name: info.cpuName, cores: info.cores, simd: info.simd, simdUsed: info.simdName },
    memoryBytes,
    gpu,
    buildFlags: info.buildFlags,
    probes: { ceilingBps: probes.bandwidthBps.summary.median, ...probes }, // the one ceiling
  };
}
