/** Check a scenario declaration field by field and fill its defaults. */
import { BASE_FIELDS, Fields } from "./_fields.ts";
import { validateHttp } from "./_validate_http.ts";
import { validatePrompts } from "./_validate_prompts.ts";
import { validateWorkers } from "./_validate_workers.ts";
import type {
  CacheSweepScenario,
  GridCase,
  GridScenario,
  ResolvedScenario,
  Scenario,
} from "./types.ts";

const KINDS = ["grid", "cache-sweep", "workers", "prompts"] as const;

const NAME = /^[A-Za-z0-9._-]+$/;
const NAME_TEXT = 'a name of letters, digits, ".", "_" or "-"';
/** Most tokens a scenario may ask for per sequence (engine sessions cap near this). */
export const MAX_TOKENS = 1 << 20;

/**
 * Validate a scenario declaration and fill its defaults (description "", maxCtx from the
 * longest request rounded up to a multiple of 256). Every error names the file, the field path
 * and the problem, e.g. `scenarios/bad.ts: cases[2].promptTokens must be a positive integer,
 * got -4`.
 *
 * @param value What the file exported.
 * @param file The file's path as the user wrote it (used in messages).
 * @returns The resolved scenario.
 * @throws {TypeError} A field is missing or has the wrong type, or an unknown field is present.
 * @throws {RangeError} A value is out of its range, or ids repeat.
 * @example
 * ```ts
 * import { validateScenario } from "./validate_scenario.ts";
 * const s = validateScenario({
 *   kind: "grid",
 *   name: "one",
 *   cases: [{ id: "A", promptTokens: 4, decodeTokens: 4 }],
 * }, "one.ts");
 * s.maxCtx; // 256
 * ```
 */
export function validateScenario(value: unknown, file: string): ResolvedScenario {
  const f = new Fields(file);
  const o = f.object(value, "the default export");
  const kind = f.oneOf(o.kind, "kind", KINDS);
  const base = {
    name: f.string(o.name, "name", NAME, NAME_TEXT),
    description: f.optString(o.description, "description") ?? "",
    model: f.optString(o.model, "model"),
    warmup: f.optInt(o.warmup, "warmup", 0, 1000),
    runs: f.optInt(o.runs, "runs", 1, 100000),
    file,
  };
  if (base.model === undefined) delete base.model;
  if (base.warmup === undefined) delete base.warmup;
  if (base.runs === undefined) delete base.runs;
  const targets = validateTargets(f, o.targets);
  const quants = validateQuants(f, o.quants);
  const http = validateHttp(f, o.http);
  const maxCtxGiven = f.optInt(o.maxCtx, "maxCtx", 1, MAX_TOKENS);
  let s: Scenario;
  let longest: number;
  if (kind === "grid") {
    s = grid(f, o, base);
    longest = Math.max(...s.cases.map((c) => c.promptTokens + c.decodeTokens));
  } else if (kind === "cache-sweep") {
    s = cacheSweep(f, o, base);
    longest = s.maxCacheLen;
  } else if (kind === "workers") {
    s = validateWorkers(f, o, base);
    const cpu = { ...s, ...s.cpu };
    longest = Math.max(s.promptTokens + s.decodeTokens, cpu.promptTokens + cpu.decodeTokens);
  } else {
    s = validatePrompts(f, o, base);
    longest = s.decodeTokens + Math.max(0, ...s.contextLengths ?? []);
  }
  if (maxCtxGiven !== undefined && maxCtxGiven < longest) {
    throw new RangeError(
      `${file}: maxCtx must hold the longest request (${longest} tokens), got ${maxCtxGiven}`,
    );
  }
  const maxCtx = maxCtxGiven ?? Math.ceil(longest / 256) * 256;
  return {
    ...s,
    ...(targets ? { targets } : {}),
    ...(quants ? { quants } : {}),
    ...(http ? { http } : {}),
    description: base.description,
    file,
    maxCtx,
  };
}

/** Target names a scenario may list (the bench checks each kind's needs before running). */
const TARGET_NAMES = ["lmrig", "llama.cpp"];

/** Weight variants a scenario may list (llama.cpp's quantiser names, lower case). */
const QUANT_NAMES = ["f32", "f16", "bf16", "q4_0", "q8_0", "q4_k_s", "q4_k_m", "q5_k_m", "q6_k"];

function validateQuants(f: Fields, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const what = `a non-empty array of distinct variants (${QUANT_NAMES.join(", ")})`;
  if (!Array.isArray(v) || v.length === 0) f.fail("quants", what, v);
  const list = (v as unknown[]).map((q) => typeof q === "string" ? q.toLowerCase() : q);
  list.forEach((q, i) => {
    if (typeof q !== "string" || !QUANT_NAMES.includes(q)) {
      f.fail(`quants[${i}]`, `one of ${QUANT_NAMES.join(", ")}`, (v as unknown[])[i]);
    }
    if (list.indexOf(q) !== i) f.fail(`quants[${i}]`, "a variant not listed before", q);
  });
  return list as string[];
}

function validateTargets(f: Fields, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const what = `a non-empty array of distinct target names (${TARGET_NAMES.join(", ")})`;
  if (!Array.isArray(v) || v.length === 0) f.fail("targets", what, v);
  const list = v as unknown[];
  list.forEach((t, i) => {
    if (typeof t !== "string" || !TARGET_NAMES.includes(t)) {
      f.fail(`targets[${i}]`, `one of ${TARGET_NAMES.join(", ")}`, t);
    }
    if (list.indexOf(t) !== i) f.fail(`targets[${i}]`, "a target not listed before", t);
  });
  return list as string[];
}

type Base = Omit<Scenario, "kind" | "description"> & { description: string; file: string };

function grid(f: Fields, o: Record<string, unknown>, base: Base): GridScenario {
  f.known(o, "", [...BASE_FIELDS, "cases"]);
  const cases = f.array(o.cases, "cases").map((c, i): GridCase => {
    const p = `cases[${i}]`;
    const co = f.object(c, p);
    f.known(co, p, ["id", "description", "promptTokens", "decodeTokens", "prompt"]);
    const out: GridCase = {
      id: f.string(co.id, `${p}.id`, NAME, NAME_TEXT),
      description: f.optString(co.description, `${p}.description`) ?? "",
      promptTokens: f.int(co.promptTokens, `${p}.promptTokens`, 1, MAX_TOKENS),
      decodeTokens: f.int(co.decodeTokens, `${p}.decodeTokens`, 1, MAX_TOKENS),
    };
    const prompt = f.optString(co.prompt, `${p}.prompt`);
    if (prompt !== undefined) out.prompt = prompt;
    return out;
  });
  f.unique(cases.map((c) => c.id), "cases", "id");
  return { ...base, kind: "grid", cases };
}

function cacheSweep(f: Fields, o: Record<string, unknown>, base: Base): CacheSweepScenario {
  f.known(o, "", [
    ...BASE_FIELDS,
    "positions",
    "maxCacheLen",
    "maxCacheLenCpu",
    "kvDtypeCpu",
    "prefillLen",
    "steps",
    "executors",
    "backends",
  ]);
  const maxCacheLen = f.int(o.maxCacheLen, "maxCacheLen", 2, MAX_TOKENS);
  const maxCacheLenCpu = f.int(o.maxCacheLenCpu ?? maxCacheLen, "maxCacheLenCpu", 2, MAX_TOKENS);
  const kvDtypeCpu = o.kvDtypeCpu === undefined
    ? undefined
    : f.oneOf(o.kvDtypeCpu, "kvDtypeCpu", ["f32", "f16", "bf16"] as const);
  const prefillLen = f.int(
    o.prefillLen ?? 0,
    "prefillLen",
    0,
    Math.min(maxCacheLen, maxCacheLenCpu) - 1,
  );
  let positions: number[] | "log2";
  if (o.positions === "log2") positions = "log2";
  else {
    positions = f.array(o.positions, "positions").map((v, i) =>
      f.int(v, `positions[${i}]`, 1, maxCacheLen - 1)
    );
  }
  const executors = f.array(o.executors ?? ["eager"], "executors").map((v, i) =>
    f.oneOf(v, `executors[${i}]`, ["eager", "graph"] as const)
  );
  const backends = f.array(o.backends ?? ["cpu"], "backends").map((v, i) =>
    // There is no Metal backend (a Mac runs the cpu backend): not offered here either.
    f.oneOf(v, `backends[${i}]`, ["cpu", "cuda"] as const)
  );
  if (o.runs !== undefined) {
    throw new TypeError(
      `${f.file}: runs is not a field of a cache sweep: give "steps" (measured steps per ` +
        `position, the default of --runs)`,
    );
  }
  // 10 samples per position: with 3, the long-context step time was mostly noise.
  const steps = f.int(o.steps ?? 10, "steps", 1, 100000);
  return {
    ...base,
    kind: "cache-sweep",
    positions,
    maxCacheLen,
    maxCacheLenCpu,
    ...(kvDtypeCpu ? { kvDtypeCpu } : {}),
    prefillLen,
    steps,
    executors,
    backends,
  };
}
