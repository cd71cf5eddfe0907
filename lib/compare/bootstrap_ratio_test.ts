import assert from "node:assert/strict";
import { bootstrapRatio } from "./bootstrap_ratio.ts";

const base = [100, 101, 99, 100.5, 99.5, 102, 98];

Deno.test("bootstrapRatio: scaled samples give the exact ratio inside the interval", () => {
  const r = bootstrapRatio(base, base.map((x) => x * 1.1));
  assert.ok(Math.abs(r.ratio - 1.1) < 1e-12);
  assert.ok(r.low < 1.1 && r.high > 1.1, `${r.low}..${r.high}`);
  assert.ok(r.low > 1.0, "10% with 1% noise must exclude 1");
});

Deno.test("bootstrapRatio: equal samples give an interval around 1", () => {
  const r = bootstrapRatio(base, [...base].reverse());
  assert.equal(r.ratio, 1);
  assert.ok(r.low < 1 && r.high > 1);
});

Deno.test("bootstrapRatio: seeded, reproducible, and wider with more noise", () => {
  assert.deepEqual(
    bootstrapRatio(base, base, { seed: 7 }),
    bootstrapRatio(base, base, { seed: 7 }),
  );
  const noisy = base.map((x, i) => x * (1 + (i % 2 ? 0.1 : -0.1)));
  const narrow = bootstrapRatio(base, base);
  const wide = bootstrapRatio(base, noisy);
  assert.ok(wide.high - wide.low > narrow.high - narrow.low);
});

Deno.test("bootstrapRatio: single samples give a point; bad input throws", () => {
  assert.deepEqual(bootstrapRatio([2], [3]), { ratio: 1.5, low: 1.5, high: 1.5 });
  assert.throws(() => bootstrapRatio([], [1]), /baseline samples are empty/);
  assert.throws(() => bootstrapRatio([0, 0], [1]), /baseline median is 0/);
  assert.throws(
    () => bootstrapRatio([1], [1], { confidence: 1 }),
    /confidence must be in \(0, 1\), got 1/,
  );
});
