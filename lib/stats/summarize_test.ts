import assert from "node:assert/strict";
import { summarize } from "./summarize.ts";

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

Deno.test("summarize matches hand-computed values", () => {
  // mean 5; squared deviations sum 32; sample variance 32/7.
  const s = summarize([9, 2, 4, 4, 5, 4, 5, 7]);
  assert.equal(s.n, 8);
  assert.equal(s.mean, 5);
  assert.equal(s.median, 4.5);
  assert.equal(s.p50, 4.5);
  near(s.stddev, Math.sqrt(32 / 7));
  near(s.cv, Math.sqrt(32 / 7) / 5);
  assert.equal(s.min, 2);
  assert.equal(s.max, 9);
  // sorted [2,4,4,4,5,5,7,9]: p90 at rank 6.3 -> 7 + 0.3*2; p99 at rank 6.93 -> 7 + 0.93*2.
  near(s.p90, 7.6);
  near(s.p99, 8.86);
});

Deno.test("summarize of one sample has zero spread", () => {
  assert.deepEqual(summarize([42]), {
    n: 1,
    median: 42,
    mean: 42,
    stddev: 0,
    cv: 0,
    min: 42,
    max: 42,
    p50: 42,
    p90: 42,
    p99: 42,
  });
});

Deno.test("summarize uses |mean| for cv and 0 when the mean is 0", () => {
  near(summarize([-1, -3]).cv, Math.SQRT2 / 2);
  assert.equal(summarize([-1, 1]).cv, 0);
});

Deno.test("summarize does not reorder its input", () => {
  const xs = [3, 1, 2];
  summarize(xs);
  assert.deepEqual(xs, [3, 1, 2]);
});

Deno.test("summarize rejects empty and non-finite samples naming the index", () => {
  assert.throws(() => summarize([]), { name: "RangeError", message: /samples is empty/ });
  assert.throws(() => summarize([1, NaN]), {
    name: "TypeError",
    message: /samples\[1\] must be a finite number, got NaN/,
  });
  assert.throws(() => summarize([1, 2, Infinity]), { name: "TypeError", message: /samples\[2\]/ });
});
