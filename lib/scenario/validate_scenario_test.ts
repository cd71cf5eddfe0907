import assert from "node:assert/strict";
import { validateScenario } from "./validate_scenario.ts";

const grid = (cases: unknown[], extra: Record<string, unknown> = {}) => ({
  kind: "grid",
  name: "g",
  cases,
  ...extra,
});
const ok = { id: "A", promptTokens: 4, decodeTokens: 8 };

Deno.test("grid: defaults are filled and maxCtx rounds the longest request up to 256", () => {
  const s = validateScenario(grid([ok, { id: "B", promptTokens: 300, decodeTokens: 10 }]), "g.ts");
  assert.equal(s.kind, "grid");
  assert.equal(s.description, "");
  assert.equal(s.file, "g.ts");
  assert.equal(s.maxCtx, 512);
  if (s.kind !== "grid") throw new Error("unreachable");
  assert.equal(s.cases[0].description, "");
  assert.equal(s.cases[1].promptTokens, 300);
});

Deno.test("grid: a bad case field names file, path and value", () => {
  const bad = grid([ok, ok, { id: "C", promptTokens: -4, decodeTokens: 1 }]);
  assert.throws(() => validateScenario(bad, "scenarios/bad.ts"), {
    name: "RangeError",
    message: "scenarios/bad.ts: cases[2].promptTokens must be a positive integer, got -4",
  });
  assert.throws(
    () => validateScenario(grid([{ id: "A", promptTokens: "16", decodeTokens: 1 }]), "x.ts"),
    {
      name: "TypeError",
      message: 'x.ts: cases[0].promptTokens must be a positive integer, got "16"',
    },
  );
  assert.throws(() => validateScenario(grid([{ id: "A", promptTokens: 1 }]), "x.ts"), {
    message: "x.ts: cases[0].decodeTokens must be a positive integer, got nothing",
  });
});

Deno.test("grid: repeated ids, unknown fields, empty cases and a too small maxCtx are refused", () => {
  assert.throws(() => validateScenario(grid([ok, ok]), "x.ts"), {
    message: 'x.ts: cases[1].id repeats "A" (also cases[0].id)',
  });
  assert.throws(() => validateScenario(grid([{ ...ok, promptToken: 3 }]), "x.ts"), {
    message: /x.ts: cases\[0\].promptToken is not a known field/,
  });
  assert.throws(() => validateScenario(grid([]), "x.ts"), {
    message: "x.ts: cases must have at least 1 entry",
  });
  assert.throws(() => validateScenario(grid([ok], { maxCtx: 8 }), "x.ts"), {
    message: "x.ts: maxCtx must hold the longest request (12 tokens), got 8",
  });
});

Deno.test("the kind and the export itself are checked", () => {
  assert.throws(() => validateScenario(42, "x.ts"), {
    message: "x.ts: the default export must be an object, got 42",
  });
  assert.throws(() => validateScenario({ kind: "grids", name: "a" }, "x.ts"), {
    message: 'x.ts: kind must be one of "grid", "cache-sweep", "workers", "prompts", got "grids"',
  });
  assert.throws(() => validateScenario(grid([ok], { name: "a b" }), "x.ts"), {
    message: /x.ts: name must be a name of letters/,
  });
});

Deno.test("cache-sweep, workers and prompts validate their fields", () => {
  const sweep = validateScenario(
    { kind: "cache-sweep", name: "c", positions: "log2", maxCacheLen: 4096, prefillLen: 64 },
    "c.ts",
  );
  assert.equal(sweep.maxCtx, 4096);
  if (sweep.kind !== "cache-sweep") throw new Error("unreachable");
  assert.deepEqual(sweep.executors, ["eager"]);
  assert.equal(sweep.kvDtypeCpu, undefined, "no kvDtypeCpu: the backend's default");
  const bf16 = validateScenario(
    { kind: "cache-sweep", name: "c", positions: "log2", maxCacheLen: 4096, kvDtypeCpu: "bf16" },
    "c.ts",
  );
  assert.equal(bf16.kind === "cache-sweep" && bf16.kvDtypeCpu, "bf16");
  assert.throws(
    () =>
      validateScenario(
        { kind: "cache-sweep", name: "c", positions: "log2", maxCacheLen: 4096, kvDtypeCpu: "q8" },
        "c.ts",
      ),
    { message: /^c\.ts: kvDtypeCpu must be one of "f32", "f16", "bf16", got "q8"$/ },
  );
  assert.throws(
    () =>
      validateScenario(
        { kind: "cache-sweep", name: "c", positions: [1, 5000], maxCacheLen: 4096 },
        "c.ts",
      ),
    { message: "c.ts: positions[1] must be an integer in [1, 4095], got 5000" },
  );
  const w = { kind: "workers", name: "w", parallel: [1, 2], promptTokens: 8, decodeTokens: 8 };
  assert.equal(validateScenario(w, "w.ts").kind, "workers");
  assert.throws(
    () => validateScenario({ ...w, open: { requestsPerSecond: [0], maxInFlight: 2 } }, "w.ts"),
    { message: "w.ts: open.requestsPerSecond[0] must be a number > 0, got 0" },
  );
  assert.throws(
    () =>
      validateScenario(
        { kind: "prompts", name: "p", prompts: [{ id: "a" }], decodeTokens: 4 },
        "p.ts",
      ),
    { message: "p.ts: prompts[0].text must be a non-empty string, got nothing" },
  );
});

Deno.test("targets: a list of distinct known targets, kept in the resolved scenario", () => {
  const s = validateScenario(grid([ok], { targets: ["lmrig", "llama.cpp"] }), "t.ts");
  assert.deepEqual(s.targets, ["lmrig", "llama.cpp"]);
  assert.equal(validateScenario(grid([ok]), "t.ts").targets, undefined);
  assert.throws(
    () => validateScenario(grid([ok], { targets: ["lmrig", "vllm"] }), "t.ts"),
    { message: 't.ts: targets[1] must be one of lmrig, llama.cpp, got "vllm"' },
  );
  assert.throws(
    () => validateScenario(grid([ok], { targets: ["lmrig", "lmrig"] }), "t.ts"),
    /targets\[1\] must be a target not listed before/,
  );
  assert.throws(
    () => validateScenario(grid([ok], { targets: [] }), "t.ts"),
    /targets must be a non-empty array/,
  );
  assert.throws(
    () => validateScenario(grid([ok], { targets: "lmrig" }), "t.ts"),
    /targets must be a non-empty array/,
  );
});

Deno.test("quants: a list of distinct known variants, lower-cased, kept in the resolved scenario", () => {
  const s = validateScenario(grid([ok], { quants: ["BF16", "q4_k_m"] }), "t.ts");
  assert.deepEqual(s.quants, ["bf16", "q4_k_m"]);
  assert.equal(validateScenario(grid([ok]), "t.ts").quants, undefined);
  assert.throws(
    () => validateScenario(grid([ok], { quants: ["q3_x"] }), "t.ts"),
    /t\.ts: quants\[0\] must be one of f32, f16, bf16, .*, got "q3_x"/,
  );
  assert.throws(
    () => validateScenario(grid([ok], { quants: ["q8_0", "Q8_0"] }), "t.ts"),
    /quants\[1\] must be a variant not listed before/,
  );
  assert.throws(() => validateScenario(grid([ok], { quants: [] }), "t.ts"), /non-empty array/);
});
