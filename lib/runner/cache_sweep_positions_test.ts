import assert from "node:assert/strict";
import { cacheSweepPositions } from "./cache_sweep_positions.ts";

Deno.test("the seed's sweep ends exactly at maxCacheLen - prefillLen", () => {
  const p = cacheSweepPositions(32768, 128);
  assert.deepStrictEqual(p.length, 16);
  assert.deepStrictEqual(p.slice(0, 4), [1, 2, 4, 8]);
  assert.deepStrictEqual(p.slice(-3), [8192, 16384, 32640]);
});

Deno.test("positions are doubling powers of two below the limit, then the limit", () => {
  for (const [max, pre] of [[4096, 128], [100, 3], [3, 1], [2, 0], [4097, 0]]) {
    const p = cacheSweepPositions(max, pre);
    const limit = max - pre;
    assert.deepStrictEqual(p.at(-1), limit, `last point of ${max}/${pre}`);
    for (let i = 1; i < p.length; i++) {
      assert.deepStrictEqual(p[i] > p[i - 1], true, `ascending at ${i} of ${max}/${pre}`);
      if (i < p.length - 1) assert.deepStrictEqual(p[i], 2 * p[i - 1]);
    }
    assert.deepStrictEqual(p[0], 1);
  }
});

Deno.test("a power-of-two limit appears once", () => {
  assert.deepStrictEqual(cacheSweepPositions(4224, 128), [
    1,
    2,
    4,
    8,
    16,
    32,
    64,
    128,
    256,
    512,
    1024,
    2048,
    4096,
  ]);
  assert.deepStrictEqual(cacheSweepPositions(2, 1), [1]);
});

Deno.test("bad arguments are refused with the name and the value", () => {
  const refuses = (f: () => unknown, text: string) =>
    assert.throws(f, (e: Error) => e instanceof RangeError && e.message.includes(text));
  refuses(() => cacheSweepPositions(1, 0), "maxCacheLen must be an integer >= 2, got 1");
  refuses(() => cacheSweepPositions(1024.5, 0), "got 1024.5");
  refuses(() => cacheSweepPositions(128, 128), "prefillLen must be an integer in [0, 127]");
  refuses(() => cacheSweepPositions(128, -1), "got -1");
});
