/** One generate call's engine timings -> the grid's per-run figures. */
import { quantile } from "../stats/quantile.ts";

/** The engine's account of one generate run. */
export interface GenerateTimings {
  /** stepNs[0] = TTFT, stepNs[i] = decode step i (forward + sample). */
  stepNs: readonly number[];
  ttftNs: number;
  prefillNs: number;
  totalNs: number;
  promptTokens: number;
}

/**
 * Per-run figures of a generate call (docs/methodology.md): ttftNs, prefillNs, prefillTps =
 * promptTokens / prefillNs, decodeTps = (generated - 1) / sum(stepNs[1..]), tpotNs = median of
 * stepNs[1..], e2eNs. decodeTps and tpotNs are absent when only one token was generated.
 *
 * @param t The engine's timings.
 * @returns Figures by metric key.
 * @throws {RangeError} When stepNs is empty or a time is not positive.
 * @example
 * ```ts
 * import { gridRunMetrics } from "./grid_run_metrics.ts";
 * const m = gridRunMetrics({
 *   stepNs: [5e6, 1e6, 1e6], ttftNs: 5e6, prefillNs: 4e6, totalNs: 7e6, promptTokens: 16,
 * });
 * m.decodeTps; // 1000
 * m.prefillTps; // 4000
 * ```
 */
export function gridRunMetrics(t: GenerateTimings): Record<string, number> {
  if (t.stepNs.length === 0) throw new RangeError("Cannot derive run figures: stepNs is empty");
  if (!(t.prefillNs > 0) || !(t.ttftNs > 0) || !(t.totalNs > 0)) {
    throw new RangeError(
      `Cannot derive run figures: engine times must be positive, got ttftNs ${t.ttftNs}, ` +
        `prefillNs ${t.prefillNs}, totalNs ${t.totalNs}`,
    );
  }
  const out: Record<string, number> = {
    ttftNs: t.ttftNs,
    prefillNs: t.prefillNs,
    prefillTps: t.promptTokens / (t.prefillNs / 1e9),
    e2eNs: t.totalNs,
  };
  const decode = t.stepNs.slice(1);
  if (decode.length > 0) {
    const sum = decode.reduce((a, b) => a + b, 0);
    out.decodeTps = decode.length / (sum / 1e9);
    out.tpotNs = quantile(decode, 0.5);
  }
  return out;
}
