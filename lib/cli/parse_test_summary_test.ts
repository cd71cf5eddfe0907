import assert from "node:assert/strict";
import { parseCtestSummary } from "./parse_ctest_summary.ts";
import { parseDenoTestSummary } from "./parse_deno_test_summary.ts";

Deno.test("parseCtestSummary reads passed and failed out of the total", () => {
  const out = "1/3 Test #1: kv_test ... Passed\n\n67% tests passed, 1 tests failed out of 3\n";
  assert.deepEqual(parseCtestSummary(out), { passed: 2, failed: 1, skipped: 0 });
  assert.deepEqual(parseCtestSummary("100% tests passed, 0 tests failed out of 1"), {
    passed: 1,
    failed: 0,
    skipped: 0,
  });
  assert.deepEqual(parseCtestSummary("No tests were found!!!"), {
    passed: 0,
    failed: 0,
    skipped: 0,
  });
  assert.equal(parseCtestSummary("make: *** error"), null);
});

Deno.test("parseCtestSummary counts skipped tests apart from passed ones", () => {
  // ctest's own words: skipped tests are inside "100% tests passed".
  const out = [
    "13/21 Test #13: cuda_bench_test ..................***Skipped   0.01 sec",
    "",
    "100% tests passed, 0 tests failed out of 21",
    "",
    "Total Test time (real) =  32.74 sec",
    "",
    "The following tests did not run:",
    "\t 13 - cuda_bench_test (Skipped)",
    "\t 15 - cuda_parity_test (Skipped)",
    "",
  ].join("\n");
  assert.deepEqual(parseCtestSummary(out), { passed: 19, failed: 0, skipped: 2 });
  const mixed = "90% tests passed, 1 tests failed out of 10\n\nThe following tests did not run:\n" +
    "\t  4 - cuda_parity_test (Skipped)\n\nThe following tests FAILED:\n\t  2 - api_test (Failed)\n";
  assert.deepEqual(parseCtestSummary(mixed), { passed: 8, failed: 1, skipped: 1 });
});

Deno.test("parseDenoTestSummary reads the last summary, steps aside, ignored as skipped", () => {
  assert.deepEqual(parseDenoTestSummary("ok | 10 passed (3 steps) | 0 failed | 2 ignored (1s)"), {
    passed: 10,
    failed: 0,
    skipped: 2,
  });
  const twoRuns = "ok | 1 passed | 0 failed\n...\nFAILED | 8 passed | 2 failed (4s)\n";
  assert.deepEqual(parseDenoTestSummary(twoRuns), { passed: 8, failed: 2, skipped: 0 });
  assert.deepEqual(
    parseDenoTestSummary("FAILED | 3 passed (1 step) | 1 failed (2 steps) | 4 ignored (2s)"),
    { passed: 3, failed: 1, skipped: 4 },
  );
  assert.equal(parseDenoTestSummary("error: Module not found"), null);
});
