import assert from "node:assert/strict";
import { randomTokens } from "./random_tokens.ts";

Deno.test("randomTokens is deterministic per seed and stays in [low, vocab)", () => {
  const a = randomTokens(1000, 500, 7);
  assert.deepEqual(a, randomTokens(1000, 500, 7));
  assert.notDeepEqual(a, randomTokens(1000, 500, 8));
  assert.ok(a.every((t) => Number.isInteger(t) && t >= 16 && t < 500));
  assert.ok(new Set(a).size > 300, "ids spread over the range");
  assert.deepEqual(randomTokens(3, 2, 1), [1, 1, 1]);
  assert.throws(() => randomTokens(-1, 10, 0), { message: "n must be an integer >= 0, got -1" });
  assert.throws(() => randomTokens(1, 10, 0, 10), {
    message: "low must be an integer in [0, 9], got 10",
  });
});
