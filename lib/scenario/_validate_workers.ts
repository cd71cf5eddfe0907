/** Field checks and defaults of workers scenarios (closed loop, sequential, open loop, cpu). */
import { BASE_FIELDS, type Fields } from "./_fields.ts";
import type { OpenLoad, WorkersOverrides, WorkersScenario } from "./types.ts";

/** Most tokens per sequence (kept in step with validate_scenario.ts). */
const MAX_TOKENS = 1 << 20;
const FIELDS = [
  "parallel",
  "promptTokens",
  "decodeTokens",
  "requestsPerWorker",
  "prefillBudgetTokens",
  "sequentialRequests",
  "open",
] as const;

function openLoad(f: Fields, v: unknown, path: string): OpenLoad | null {
  if (v === null) return null;
  const o = f.object(v, path);
  f.known(o, path, ["requestsPerSecond", "capacityFractions", "requests", "maxInFlight"]);
  if ((o.requestsPerSecond === undefined) === (o.capacityFractions === undefined)) {
    f.fail(path, "an object with one of requestsPerSecond or capacityFractions", v);
  }
  const rates = (key: string) =>
    f.array(o[key], `${path}.${key}`).map((r, i) => f.number(r, `${path}.${key}[${i}]`, 0));
  const out: OpenLoad = {
    requests: f.int(o.requests ?? 32, `${path}.requests`, 1, 1 << 20),
    maxInFlight: f.int(o.maxInFlight, `${path}.maxInFlight`, 1, 4096),
  };
  if (o.requestsPerSecond !== undefined) out.requestsPerSecond = rates("requestsPerSecond");
  else out.capacityFractions = rates("capacityFractions");
  return out;
}

function fields(f: Fields, o: Record<string, unknown>, path: string): WorkersOverrides {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  const out: WorkersOverrides = {};
  if (o.parallel !== undefined) {
    out.parallel = f.array(o.parallel, at("parallel")).map((v, i) =>
      f.int(v, `${at("parallel")}[${i}]`, 1, 4096)
    );
    f.unique(out.parallel.map(String), at("parallel"), "value");
  }
  if (o.promptTokens !== undefined) {
    out.promptTokens = f.int(o.promptTokens, at("promptTokens"), 1, MAX_TOKENS);
  }
  if (o.decodeTokens !== undefined) {
    out.decodeTokens = f.int(o.decodeTokens, at("decodeTokens"), 1, MAX_TOKENS);
  }
  if (o.requestsPerWorker !== undefined) {
    out.requestsPerWorker = f.int(o.requestsPerWorker, at("requestsPerWorker"), 1, 1000);
  }
  if (o.prefillBudgetTokens !== undefined) {
    out.prefillBudgetTokens = f.int(o.prefillBudgetTokens, at("prefillBudgetTokens"), 1, 1 << 16);
  }
  if (o.sequentialRequests !== undefined) {
    out.sequentialRequests = f.int(o.sequentialRequests, at("sequentialRequests"), 0, 4096);
  }
  if (o.open !== undefined) out.open = openLoad(f, o.open, at("open"));
  return out;
}

function checkOpen(f: Fields, s: WorkersOverrides, path: string): void {
  const open = s.open;
  if (open?.capacityFractions && !s.parallel?.includes(open.maxInFlight)) {
    f.fail(
      `${path}open.maxInFlight`,
      `one of ${path}parallel (capacityFractions scale the closed-loop throughput measured there)`,
      open.maxInFlight,
      true,
    );
  }
}

/**
 * Validate the workers fields of `o` (the scenario object) and fill their defaults:
 * requestsPerWorker 2, prefillBudgetTokens 256, sequentialRequests 5, open null.
 * @param f Field reader of the file.
 * @param o The declaration.
 * @param base The validated common fields.
 * @returns The workers scenario.
 */
export function validateWorkers<B extends { name: string }>(
  f: Fields,
  o: Record<string, unknown>,
  base: B,
): B & WorkersScenario {
  f.known(o, "", [
    ...BASE_FIELDS,
    ...FIELDS,
    "cpu",
  ]);
  const main = fields(f, o, "");
  for (const k of ["parallel", "promptTokens", "decodeTokens"] as const) {
    if (main[k] === undefined) {
      f.fail(k, k === "parallel" ? "an array" : "a positive integer", o[k]);
    }
  }
  const s = {
    ...base,
    kind: "workers" as const,
    parallel: main.parallel!,
    promptTokens: main.promptTokens!,
    decodeTokens: main.decodeTokens!,
    requestsPerWorker: main.requestsPerWorker ?? 2,
    prefillBudgetTokens: main.prefillBudgetTokens ?? 256,
    sequentialRequests: main.sequentialRequests ?? 5,
    open: main.open ?? null,
  };
  checkOpen(f, s, "");
  if (o.cpu !== undefined) {
    const co = f.object(o.cpu, "cpu");
    f.known(co, "cpu", FIELDS);
    const cpu = fields(f, co, "cpu");
    checkOpen(f, { ...s, ...cpu }, cpu.parallel ? "cpu." : "");
    return { ...s, cpu };
  }
  return s;
}
