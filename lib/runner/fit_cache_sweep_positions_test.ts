import assert from "node:assert/strict";
import { fitCacheSweepPositions } from "./fit_cache_sweep_positions.ts";

Deno.test("a sweep that fits is kept whole and sized last position + 1", () => {
  const fit = fitCacheSweepPositions([1, 2, 4, 1000], 100, 100 * 1001, "test memory");
  assert.deepStrictEqual(fit.positions, [1, 2, 4, 1000]);
  assert.equal(fit.maxCtx, 1001);
  assert.equal(fit.kvBytes, 100_100);
  assert.equal(fit.warning, undefined);
});

Deno.test("a sweep that does not fit stops at the largest position that does, and says so", () => {
  const fit = fitCacheSweepPositions([1, 2, 4, 8, 16, 32640], 24576, 24576 * 21, "free memory");
  assert.deepStrictEqual(fit.positions, [1, 2, 4, 8, 16, 20]);
  assert.equal(fit.maxCtx, 21);
  assert.ok(fit.warning?.includes("position 32640"), fit.warning);
  assert.ok(fit.warning?.includes("stops at position 20"), fit.warning);
  assert.ok(fit.warning?.includes("free memory"), fit.warning);
  // The largest fitting position that is already a point is not repeated.
  assert.deepStrictEqual(fitCacheSweepPositions([1, 2, 4, 8], 10, 50, "m").positions, [1, 2, 4]);
});

Deno.test("nothing fits, or bad positions: a RangeError naming the sizes or the index", () => {
  assert.throws(
    () => fitCacheSweepPositions([4, 8], 2 ** 30, 2 ** 31, "GPU memory"),
    (e: Error) =>
      e instanceof RangeError && e.message.includes("position 4 needs 5.00 GiB") &&
      e.message.includes("2.00 GiB of GPU memory"),
  );
  assert.throws(() => fitCacheSweepPositions([], 1, 1, "m"), RangeError);
  assert.throws(
    () => fitCacheSweepPositions([1, 4, 2], 1, 100, "m"),
    (e: Error) => e.message.includes("positions[2] is 2"),
  );
  assert.throws(() => fitCacheSweepPositions([1], 0, 100, "m"), RangeError);
});
