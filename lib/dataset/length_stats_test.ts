import assert from "node:assert/strict";
import { lengthStats } from "./length_stats.ts";

Deno.test("nearest-rank percentiles of 1..100 are the ranks themselves", () => {
  const lengths = Array.from({ length: 100 }, (_, i) => 100 - i); // reversed: order must not matter
  assert.deepEqual(lengthStats(lengths), {
    count: 100,
    mean: 50.5,
    min: 1,
    p50: 50,
    p75: 75,
    p90: 90,
    p95: 95,
    p99: 99,
    max: 100,
  });
});

Deno.test("nearest-rank picks the smallest length with at least XX% at or below it", () => {
  // n = 7: ranks ceil(3.5)=4, ceil(5.25)=6, ceil(6.3)=7, ceil(6.65)=7, ceil(6.93)=7.
  assert.deepEqual(lengthStats([5, 1, 9, 3, 7, 2, 100]), {
    count: 7,
    mean: 127 / 7,
    min: 1,
    p50: 5,
    p75: 9,
    p90: 100,
    p95: 100,
    p99: 100,
    max: 100,
  });
  assert.equal(lengthStats([3]).p99, 3);
});

Deno.test("bad lengths are refused with their index", () => {
  assert.throws(() => lengthStats([]), RangeError);
  assert.throws(
    () => lengthStats([1, 2.5]),
    /lengths\[1\] must be a non-negative integer, got 2.5/,
  );
  assert.throws(() => lengthStats([-1]), TypeError);
});
