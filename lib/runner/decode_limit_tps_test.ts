import assert from "node:assert/strict";
import { decodeLimitTps } from "./decode_limit_tps.ts";

Deno.test("decodeLimitTps divides bandwidth by the bytes one step reads", () => {
  assert.equal(decodeLimitTps(100e9, 4e9, 0, 0), 25);
  assert.equal(decodeLimitTps(100e9, 4e9, 1e6, 1000), 20); // + 1 GB of KV
  assert.throws(() => decodeLimitTps(0, 1, 0, 0), {
    name: "RangeError",
    message: "bandwidthBps must be > 0, got 0",
  });
  assert.throws(() => decodeLimitTps(1, 1, 0, -1), {
    message: "meanPosition must be >= 0, got -1",
  });
});
