/** Counts from `deno test` output, for the test command's total. */

/**
 * Read the last summary line of `deno test` ("ok | 10 passed (2 steps) | 0 failed | 1 ignored",
 * or "FAILED | 8 passed | 2 failed"). Output must be uncoloured (NO_COLOR=1).
 *
 * @param text deno test's output.
 * @returns Passed, failed and skipped (ignored) test counts (steps not counted), or null without
 *   a summary.
 * @throws Nothing.
 * @example
 * ```ts
 * import { parseDenoTestSummary } from "./parse_deno_test_summary.ts";
 * parseDenoTestSummary("FAILED | 8 passed | 2 failed (1s)"); // { passed: 8, failed: 2, skipped: 0 }
 * ```
 */
export function parseDenoTestSummary(
  text: string,
): { passed: number; failed: number; skipped: number } | null {
  const lines = text.split("\n").filter((l) => /\d+ passed.*\| \d+ failed/.test(l));
  if (lines.length === 0) return null;
  const last = lines[lines.length - 1];
  const m = last.match(/(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?/);
  if (!m) return null;
  const ignored = last.match(/\| (\d+) ignored/);
  return { passed: Number(m[1]), failed: Number(m[2]), skipped: ignored ? Number(ignored[1]) : 0 };
}
