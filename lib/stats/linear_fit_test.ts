import assert from "node:assert/strict";
import { linearFit } from "./linear_fit.ts";

Deno.test("linearFit recovers an exact line", () => {
  const fit = linearFit([16, 64, 256, 512], [3, 9, 33, 65]);
  assert.ok(Math.abs(fit.slope - 0.125) < 1e-12);
  assert.ok(Math.abs(fit.intercept - 1) < 1e-12);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
  assert.equal(fit.n, 4);
});

Deno.test("linearFit matches a hand-computed noisy fit", () => {
  // x mean 2, y mean 3; sxx = 2, sxy = 3 -> slope 1.5, intercept 0;
  // residuals (2-1.5, 2.5... ) computed: ys pred [1.5, 3, 4.5], res [0.5, -1, 0.5] -> SSres 1.5;
  // SStot = (2-3)^2 + (2-3)^2 + (5-3)^2 = 6 -> r2 = 0.75.
  const fit = linearFit([1, 2, 3], [2, 2, 5]);
  assert.ok(Math.abs(fit.slope - 1.5) < 1e-12);
  assert.ok(Math.abs(fit.intercept) < 1e-12);
  assert.ok(Math.abs(fit.r2 - 0.75) < 1e-12);
});

Deno.test("linearFit rejects degenerate input", () => {
  assert.throws(() => linearFit([1], [1]), { name: "RangeError", message: /at least 2 points/ });
  assert.throws(() => linearFit([1, 2], [1]), {
    name: "RangeError",
    message: /xs has 2 values but ys has 1/,
  });
  assert.throws(() => linearFit([3, 3], [1, 2]), {
    name: "RangeError",
    message: /all xs are equal/,
  });
});
