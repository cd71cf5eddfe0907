import assert from "node:assert/strict";
import { poissonArrivals } from "./poisson_arrivals.ts";

Deno.test("poissonArrivals: seeded, ascending, starting at 0", () => {
  const a = poissonArrivals(50, 4, 11);
  assert.deepEqual(a, poissonArrivals(50, 4, 11));
  assert.notDeepEqual(a, poissonArrivals(50, 4, 12));
  assert.equal(a[0], 0);
  for (let i = 1; i < a.length; i++) assert.ok(a[i] > a[i - 1]);
});

Deno.test("poissonArrivals: gaps have the exponential mean and spread of the rate", () => {
  for (const [rate, seed] of [[2, 1], [250, 9]]) {
    const n = 20001;
    const t = poissonArrivals(n, rate, seed);
    const gaps = t.slice(1).map((v, i) => v - t[i]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1));
    const expected = 1e9 / rate;
    // Standard error of the mean is expected / sqrt(20000) = 0.7%: 3% is over 4 sigma.
    assert.ok(Math.abs(mean / expected - 1) < 0.03, `mean gap ${mean} vs ${expected}`);
    // Exponential: stddev = mean; P(gap > mean) = 1/e.
    assert.ok(Math.abs(sd / expected - 1) < 0.05, `stddev ${sd} vs ${expected}`);
    const over = gaps.filter((g) => g > expected).length / gaps.length;
    assert.ok(Math.abs(over - Math.exp(-1)) < 0.02, `share over the mean ${over}`);
  }
});

Deno.test("poissonArrivals: refuses bad input", () => {
  assert.throws(() => poissonArrivals(-1, 1, 0), RangeError);
  assert.throws(() => poissonArrivals(3, 0, 0), { message: /requestsPerSecond must be/ });
  assert.deepEqual(poissonArrivals(0, 1, 0), []);
});
