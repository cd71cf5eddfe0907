import assert from "node:assert/strict";
import { cacheSweepBackends } from "./cache_sweep_backends.ts";

Deno.test("auto runs the listed backends that are available, in order", () => {
  const has = (b: string) => b !== "metal";
  assert.deepStrictEqual(cacheSweepBackends(["cuda", "metal", "cpu"], "auto", has), {
    run: ["cuda", "cpu"],
    skipped: ["metal"],
  });
  assert.deepStrictEqual(cacheSweepBackends(["cuda", "cpu"], "cpu", () => false).run, ["cpu"]);
  assert.throws(
    () => cacheSweepBackends(["cuda"], "auto", () => false),
    (e: Error) => e instanceof RangeError && e.message.includes("none of its backends (cuda)"),
  );
});
