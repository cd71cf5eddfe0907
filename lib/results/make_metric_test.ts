import assert from "node:assert/strict";
import { makeMetric } from "./make_metric.ts";

Deno.test("makeMetric keeps raw samples and computes utilisation both ways", () => {
  const samples = [110, 90, 100];
  const up = makeMetric("tokens/s", "higher", samples, 200);
  assert.deepEqual(up.samples, [110, 90, 100]);
  assert.notEqual(up.samples, samples);
  assert.equal(up.summary.median, 100);
  assert.equal(up.utilisation, 0.5);
  const down = makeMetric("ns", "lower", [4e6, 5e6, 6e6], 2e6);
  assert.equal(down.utilisation, 0.4);
  const none = makeMetric("ns", "lower", [1]);
  assert.equal("limit" in none, false);
  assert.equal("utilisation" in none, false);
});

Deno.test("makeMetric rejects a non-positive limit", () => {
  assert.throws(() => makeMetric("ns", "lower", [1], 0), {
    name: "RangeError",
    message: "Cannot attach a limit: it must be a positive number, got 0",
  });
});
