/** The agreement verdict of the rig's llama.cpp figures against llama-bench's own. */
import { quantile } from "../stats/quantile.ts";

/** One test's comparison. */
export interface AgreementRow {
  /** `pp128`, `tg32`, ... */
  test: string;
  /** Medians of every repetition of every round, tokens/s. */
  rig: number;
  bench: number;
  /** Spread: the lowest and highest repetition of each. */
  rigRange: [number, number];
  benchRange: [number, number];
  /** rig / bench - 1. */
  difference: number;
  /** |difference| <= tolerance. */
  agrees: boolean;
}

/**
 * Compare the rig's and llama-bench's tokens/s for each test: medians over every repetition of
 * every round, the relative difference, and whether it is within `tolerance`.
 *
 * @param tests Per test name, the rig's and llama-bench's samples (tokens/s).
 * @param tolerance Largest |rig / bench - 1| that agrees (default 0.05).
 * @returns One row per test with samples on both sides.
 * @throws {RangeError} When a test has no samples on one side.
 * @example
 * ```ts
 * import { agreementRows } from "./agreement_rows.ts";
 * const [row] = agreementRows({ pp128: { rig: [100, 102], bench: [101, 99] } });
 * if (!row.agrees || Math.abs(row.difference - 0.01) > 1e-9) throw new Error("unexpected");
 * ```
 */
export function agreementRows(
  tests: Record<string, { rig: number[]; bench: number[] }>,
  tolerance = 0.05,
): AgreementRow[] {
  return Object.entries(tests).map(([test, { rig, bench }]) => {
    if (rig.length === 0 || bench.length === 0) {
      throw new RangeError(
        `Cannot compare ${test}: no samples from the ${rig.length ? "bench" : "rig"}`,
      );
    }
    const a = quantile(rig, 0.5), b = quantile(bench, 0.5);
    const difference = a / b - 1;
    return {
      test,
      rig: a,
      bench: b,
      rigRange: [Math.min(...rig), Math.max(...rig)],
      benchRange: [Math.min(...bench), Math.max(...bench)],
      difference,
      agrees: Math.abs(difference) <= tolerance,
    };
  });
}
