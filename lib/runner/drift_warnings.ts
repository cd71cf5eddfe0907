/** What a run's moved read bandwidth means for its figures, as record warnings. */

/** The after-run probe median may differ from the ceiling by this share before a warning. */
export const DRIFT_TOLERANCE = 0.1;

/**
 * Warnings for a read bandwidth that moved between the probes before and after the cases: the
 * shares of the limit are uncertain by as much, and where the cases ran one after another (a
 * grid or a cache sweep without --interleave) a figure compared across cases, such as a cache
 * sweep's step-time growth from its first position, carries the drift too.
 *
 * @param ceilingBps Median of the probe before the cases (the run's ceiling).
 * @param afterBps Median of the probe after them.
 * @param kind The scenario kind.
 * @param interleaved Whether the runner took the cases round-robin.
 * @returns Zero, one or two warnings.
 * @example
 * ```ts
 * import { driftWarnings } from "./drift_warnings.ts";
 * console.log(driftWarnings(40e9, 80e9, "cache-sweep", false));
 * ```
 */
export function driftWarnings(
  ceilingBps: number,
  afterBps: number,
  kind: string,
  interleaved: boolean,
): string[] {
  const drift = afterBps / ceilingBps - 1;
  if (!(Math.abs(drift) > DRIFT_TOLERANCE)) return [];
  const pct = `${drift > 0 ? "+" : ""}${(drift * 100).toFixed(0)}%`;
  const out = [
    `Read bandwidth moved during the run: median ${(ceilingBps / 1e9).toFixed(1)} GB/s before ` +
    `the cases (the ceiling every limit uses), ${(afterBps / 1e9).toFixed(1)} GB/s after ` +
    `(${pct}): shares of the limit are uncertain by as much`,
  ];
  if (!interleaved && (kind === "cache-sweep" || kind === "grid")) {
    const what = kind === "cache-sweep"
      ? "the step-time growth from the first position and its verdict"
      : "ratios between cases";
    out.push(
      `The cases ran one after another while the bandwidth moved ${pct}: ${what} carry that ` +
        `drift too; rerun with --interleave to spread it over all of them`,
    );
  }
  return out;
}
