import assert from "node:assert/strict";
import { mulberry32 } from "./_rng.ts";
import { sampleLogits } from "./sample_logits.ts";

const logits = new Float32Array([2, 1, 0, -1, 3]);
const softmax = (l: ArrayLike<number>, t: number) => {
  const e = Array.from(l, (x) => Math.exp(x / t));
  const z = e.reduce((a, b) => a + b);
  return e.map((x) => x / z);
};
function frequencies(params: { temperature: number; topK: number; topP: number }, n = 40_000) {
  const rng = mulberry32(12345);
  const f = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) f[sampleLogits(logits, params, rng)]++;
  return f.map((x) => x / n);
}

Deno.test("sampleLogits: temperature 0 is the argmax, banned ids are skipped", () => {
  const g = { temperature: 0, topK: 0, topP: 1 };
  assert.equal(sampleLogits(logits, g, Math.random), 4);
  assert.equal(sampleLogits(logits, g, Math.random, new Set([4])), 0);
  assert.equal(sampleLogits(new Float32Array([1, 1, 0]), g, Math.random), 0); // lowest id on ties
  assert.throws(() => sampleLogits(logits, g, Math.random, new Set([0, 1, 2, 3, 4])), RangeError);
});

Deno.test("sampleLogits: frequencies follow softmax(logits / T) within 0.01", () => {
  for (const t of [1, 0.5]) {
    const want = softmax(logits, t);
    const got = frequencies({ temperature: t, topK: 0, topP: 1 });
    got.forEach((p, i) =>
      assert.ok(Math.abs(p - want[i]) < 0.01, `T=${t} id ${i}: ${p} vs ${want[i]}`)
    );
  }
  // Negative control: the same draws do not match another temperature.
  const other = softmax(logits, 2);
  const got = frequencies({ temperature: 1, topK: 0, topP: 1 });
  assert.ok(got.some((p, i) => Math.abs(p - other[i]) > 0.05));
});

Deno.test("sampleLogits: top-k and top-p keep the most likely tokens, renormalised", () => {
  const k2 = frequencies({ temperature: 1, topK: 2, topP: 1 });
  const p = softmax([3, 2], 1); // ids 4 and 0
  assert.ok(Math.abs(k2[4] - p[0]) < 0.01 && Math.abs(k2[0] - p[1]) < 0.01);
  assert.equal(k2[1] + k2[2] + k2[3], 0);
  // softmax: id4 0.636, id0 0.234 (sum 0.870): top_p 0.8 keeps both, 0.5 keeps id 4 only.
  const p8 = frequencies({ temperature: 1, topK: 0, topP: 0.8 });
  assert.equal(p8[1] + p8[2] + p8[3], 0);
  assert.ok(Math.abs(p8[4] - p[0]) < 0.01);
  const p5 = frequencies({ temperature: 1, topK: 0, topP: 0.5 }, 1000);
  assert.equal(p5[4], 1);
});

Deno.test("sampleLogits: the same seed draws the same tokens", () => {
  const params = { temperature: 1, topK: 0, topP: 1 };
  const draw = (seed: number) => {
    const r = mulberry32(seed);
    return Array.from({ length: 32 }, () => sampleLogits(logits, params, r));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
});
