/** Counts from ctest's output, for the test command's total. */

/**
 * Read ctest's summary line ("83% tests passed, 2 tests failed out of 12").
 *
 * @param text ctest's output.
 * @returns Passed and failed counts; zeros when ctest found no tests; null without a summary.
 * @example
 * ```ts
 * import { parseCtestSummary } from "./parse_ctest_summary.ts";
 * parseCtestSummary("100% tests passed, 0 tests failed out of 7"); // { passed: 7, failed: 0 }
 * ```
 */
export function parseCtestSummary(text: string): { passed: number; failed: number } | null {
  const m = text.match(/(\d+)% tests passed, (\d+) tests? failed out of (\d+)/);
  if (!m) return /No tests were found/.test(text) ? { passed: 0, failed: 0 } : null;
  const failed = Number(m[2]), total = Number(m[3]);
  return { passed: total - failed, failed };
}
