/** Run-level figures of a grid: prefill scaling, decode TPS CV, limits, memory, load. */
import type { Case, Derived } from "../results/types.ts";
import { linearFit } from "../stats/linear_fit.ts";
import { summarize } from "../stats/summarize.ts";

/** Facts of the run the derived figures need besides the cases. */
export interface GridRunFacts {
  /** Median measured read bandwidth (null when not probed). */
  bandwidthBps: number | null;
  decodeBytes: number;
  loadNs: number;
}

/**
 * The record's `derived` figures for a grid: prefillScalingMsPerToken (least-squares slope of
 * median TTFT over prompt length), decodeTpsCv (stddev / mean of the cases' median decode TPS),
 * maxDecodeTps (bandwidth / decode bytes, position 0), peakBytes, loadNs, captureNs, and
 * gpuUtilisation / kernelOverheadNs when kernels were timed (--profile).
 *
 * @param cases Measured cases.
 * @param facts Bandwidth, decode bytes, load time.
 * @returns Figures by name; those that cannot be computed are left out.
 * @throws Nothing; figures that cannot be computed are left out.
 * @example
 * ```ts
 * import { deriveGridFigures } from "./derive_grid_figures.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const { cases } = await readRecord("tests/fixtures/records/grid-a.json");
 * const derived = deriveGridFigures(cases, { bandwidthBps: 2e10, decodeBytes: 1e9, loadNs: 1e9 });
 * console.log(derived.maxDecodeTps?.value); // 20 tokens/s: 2e10 B/s over 1e9 B a step
 * ```
 */
export function deriveGridFigures(
  cases: readonly Case[],
  facts: GridRunFacts,
): Record<string, Derived> {
  const out: Record<string, Derived> = {};
  const withTtft = cases.filter((c) =>
    c.metrics.ttftNs && typeof c.params.promptTokens === "number"
  );
  const lengths = new Set(withTtft.map((c) => c.params.promptTokens));
  if (lengths.size >= 2) {
    const fit = linearFit(
      withTtft.map((c) => c.params.promptTokens as number),
      withTtft.map((c) => c.metrics.ttftNs.summary.median / 1e6),
    );
    out.prefillScalingMsPerToken = {
      value: fit.slope,
      unit: "ms/token",
      description: `Least-squares slope of median TTFT over prompt length (r2 ${
        fit.r2.toFixed(3)
      })`,
    };
  }
  const decode = cases.filter((c) => c.metrics.decodeTps).map((c) =>
    c.metrics.decodeTps.summary.median
  );
  if (decode.length >= 2) {
    out.decodeTpsCv = {
      value: summarize(decode).cv,
      unit: "ratio",
      description: "Stddev / mean of the cases' median decode TPS",
    };
  }
  if (facts.bandwidthBps !== null && facts.decodeBytes > 0) {
    out.maxDecodeTps = {
      value: facts.bandwidthBps / facts.decodeBytes,
      unit: "tokens/s",
      description: "Bandwidth limit of decode at position 0: read bandwidth / decode bytes",
    };
  }
  const peak = Math.max(0, ...cases.map((c) => c.counters.peakBytes ?? 0));
  if (peak > 0) {
    out.peakBytes = {
      value: peak,
      unit: "bytes",
      description: "Peak bytes allocated by the engine",
    };
  }
  out.loadNs = { value: facts.loadNs, unit: "ns", description: "Weight load (or synthesis) time" };
  const capture = cases.reduce((a, c) => a + (c.counters.graphCaptureNs ?? 0), 0);
  out.captureNs = {
    value: capture,
    unit: "ns",
    description: "Graph capture/instantiation time (0: eager executor or CPU)",
  };
  let kernelNs = 0, busyNs = 0, kernels = 0;
  for (const c of cases) {
    kernelNs += c.counters.kernelNs ?? 0;
    busyNs += (c.counters.prefillNs ?? 0) + (c.counters.decodeNs ?? 0);
    kernels += c.counters.kernels ?? 0;
  }
  if (kernelNs > 0 && busyNs > 0 && kernels > 0) {
    out.gpuUtilisation = {
      value: kernelNs / busyNs,
      unit: "ratio",
      description: "Sum of timed kernels / forward-pass wall time (profile mode)",
    };
    out.kernelOverheadNs = {
      value: (busyNs - kernelNs) / kernels,
      unit: "ns",
      description: "(Forward wall time - kernel time) / kernels launched (profile mode)",
    };
  }
  return out;
}
