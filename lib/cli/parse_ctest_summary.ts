/** Counts from ctest's output, for the test command's total. */

/**
 * Read ctest's summary ("83% tests passed, 2 tests failed out of 12") and its list of tests that
 * did not run ("13 - cuda_bench_test (Skipped)"; CTest counts those as passed, this does not).
 *
 * @param text ctest's output.
 * @returns Passed, failed and skipped counts; zeros when ctest found no tests; null without a
 *   summary.
 * @throws Nothing.
 * @example
 * ```ts
 * import { parseCtestSummary } from "./parse_ctest_summary.ts";
 * parseCtestSummary("100% tests passed, 0 tests failed out of 7"); // { passed: 7, failed: 0, skipped: 0 }
 * ```
 */
export function parseCtestSummary(
  text: string,
): { passed: number; failed: number; skipped: number } | null {
  const m = text.match(/(\d+)% tests passed, (\d+) tests? failed out of (\d+)/);
  if (!m) {
    return /No tests were found/.test(text) ? { passed: 0, failed: 0, skipped: 0 } : null;
  }
  const failed = Number(m[2]), total = Number(m[3]);
  const notRun = text.slice(m.index! + m[0].length).match(
    /The following tests did not run:\n((?:\s*\d+ - .*\n?)*)/,
  );
  const skipped = notRun
    ? notRun[1].split("\n").filter((l) => /^\s*\d+ - .*\((Skipped|Disabled)\)\s*$/.test(l)).length
    : 0;
  return { passed: total - failed - skipped, failed, skipped };
}
