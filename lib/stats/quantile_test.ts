import assert from "node:assert/strict";
import { quantile } from "./quantile.ts";

Deno.test("quantile interpolates linearly between ranks (numpy default)", () => {
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([4, 1, 3, 2], 0), 1);
  assert.equal(quantile([4, 1, 3, 2], 1), 4);
  // numpy.percentile([10, 20, 30, 40, 50], 90) == 46.0
  assert.equal(quantile([10, 20, 30, 40, 50], 0.9), 46);
  // numpy.percentile(range(1, 11), 99) == 9.91
  assert.ok(Math.abs(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99) - 9.91) < 1e-12);
});

Deno.test("quantile rejects p outside [0, 1]", () => {
  assert.throws(() => quantile([1], 1.5), {
    name: "RangeError",
    message: /p must be in \[0, 1\], got 1.5/,
  });
  assert.throws(() => quantile([1], NaN), { name: "RangeError" });
});
