import assert from "node:assert/strict";
import { parseCtestSummary } from "./parse_ctest_summary.ts";
import { parseDenoTestSummary } from "./parse_deno_test_summary.ts";

Deno.test("parseCtestSummary reads passed and failed out of the total", () => {
  const out = "1/3 Test #1: kv_test ... Passed\n\n67% tests passed, 1 tests failed out of 3\n";
  assert.deepEqual(parseCtestSummary(out), { passed: 2, failed: 1 });
  assert.deepEqual(parseCtestSummary("100% tests passed, 0 tests failed out of 1"), {
    passed: 1,
    failed: 0,
  });
  assert.deepEqual(parseCtestSummary("No tests were found!!!"), { passed: 0, failed: 0 });
  assert.equal(parseCtestSummary("make: *** error"), null);
});

Deno.test("parseDenoTestSummary reads the last summary, steps and ignored aside", () => {
  assert.deepEqual(parseDenoTestSummary("ok | 10 passed (3 steps) | 0 failed | 2 ignored (1s)"), {
    passed: 10,
    failed: 0,
  });
  const twoRuns = "ok | 1 passed | 0 failed\n...\nFAILED | 8 passed | 2 failed (4s)\n";
  assert.deepEqual(parseDenoTestSummary(twoRuns), { passed: 8, failed: 2 });
  assert.equal(parseDenoTestSummary("error: Module not found"), null);
});
