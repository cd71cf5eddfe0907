import assert from "node:assert/strict";
import { lengthStats } from "./length_stats.ts";
import { recommendParameters } from "./recommend_parameters.ts";

Deno.test("n-predict is the smallest candidate covering 75% / 90% / 99% of outputs", () => {
  // 100 outputs: 70 of 400 tokens, 15 of 900, 10 of 1800, 4 of 3000, 1 of 9000.
  const outputs = [
    ...Array(70).fill(400),
    ...Array(15).fill(900),
    ...Array(10).fill(1800),
    ...Array(4).fill(3000),
    9000,
  ];
  const prompts = [50, 60, 70, 100];
  const c = recommendParameters(prompts, lengthStats(prompts), outputs);
  assert.equal(c.nPrompt, 128); // mean 70, p50 60 -> 128
  assert.equal(c.promptShare, 1);
  assert.deepEqual(c.coverage, [
    { nPredict: 512, covered: 70, share: 0.70 },
    { nPredict: 1024, covered: 85, share: 0.85 },
    { nPredict: 2048, covered: 95, share: 0.95 },
    { nPredict: 4096, covered: 99, share: 0.99 },
    { nPredict: 8192, covered: 99, share: 0.99 },
  ]);
  assert.deepEqual(
    c.recommendations.map((r) => [r.name, r.nPrompt, r.nPredict, r.share, r.reached]),
    [
      ["conservative", 128, 1024, 0.85, true],
      ["recommended", 128, 2048, 0.95, true],
      ["comprehensive", 128, 4096, 0.99, true],
    ],
  );
});

Deno.test("an unreachable target takes the largest candidate and says so", () => {
  const outputs = [100, 5000, 6000, 7000];
  const c = recommendParameters([20], lengthStats([20]), outputs, [1024, 512]);
  assert.equal(c.nPrompt, 32);
  assert.deepEqual(c.coverage.map((x) => x.nPredict), [512, 1024]);
  assert.deepEqual(c.recommendations.map((r) => [r.nPredict, r.share, r.reached]), [
    [1024, 0.25, false],
    [1024, 0.25, false],
    [1024, 0.25, false],
  ]);
});

Deno.test("n-prompt follows the larger of mean and p50; no outputs, no n-predict", () => {
  const prompts = [100, 200, 300, 10000]; // mean 2650 -> 4096; p50 200
  const c = recommendParameters(prompts, lengthStats(prompts), []);
  assert.equal(c.nPrompt, 4096);
  assert.equal(c.promptShare, 0.75);
  assert.deepEqual(c.coverage, []);
  assert.deepEqual(c.recommendations, []);
  assert.throws(() => recommendParameters([1], lengthStats([1]), [1], [0]), /got 0/);
  assert.throws(() => recommendParameters([1], lengthStats([1]), [1], []), RangeError);
});
