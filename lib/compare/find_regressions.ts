/** The figures of a comparison that got worse by more than a limit (for CI gates). */
import type { Comparison } from "./types.ts";

/** One figure that regressed. */
export interface Regression {
  record: string;
  caseId: string;
  metric: string;
  /** How much worse, in percent, in the metric's better direction (positive). */
  worsePct: number;
}

/**
 * Figures whose verdict is slower/worse (so the interval excludes 1 and the change passes the
 * noise threshold) and that are worse than the baseline by more than `limitPct`, respecting each
 * metric's direction: a lower-better time that grew 5% or a higher-better rate that fell 5% are
 * both 5% worse.
 *
 * @param comparison From compareRecords.
 * @param limitPct The allowed regression in percent (>= 0).
 * @returns The regressions (empty when none).
 * @throws {RangeError} When limitPct is negative or not a number.
 * @example
 * ```ts
 * import { compareRecords, findRegressions } from "./mod.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const a = await readRecord("tests/fixtures/records/grid-a.json");
 * const b = await readRecord("tests/fixtures/records/grid-b.json");
 * findRegressions(compareRecords([b, a]), 5).length; // 12: a is ~9% slower on S1-S3
 * ```
 */
export function findRegressions(comparison: Comparison, limitPct: number): Regression[] {
  if (typeof limitPct !== "number" || !(limitPct >= 0)) {
    throw new RangeError(
      `Cannot check regressions: the limit must be >= 0 percent, got ${limitPct}`,
    );
  }
  const out: Regression[] = [];
  for (const row of comparison.rows) {
    row.cells.forEach((cell, i) => {
      if (!cell || (cell.verdict !== "slower" && cell.verdict !== "worse")) return;
      const worsePct = -cell.improvementPct;
      if (worsePct > limitPct) {
        out.push({
          record: comparison.labels[i],
          caseId: row.caseIds[i] ?? row.key,
          metric: row.metric,
          worsePct,
        });
      }
    });
  }
  return out;
}
