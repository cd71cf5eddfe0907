/** Validation of a scenario's `http` block (settings of runs through the HTTP target). */
import type { Fields } from "./_fields.ts";
import type { HttpScenarioOptions } from "./types.ts";

/** Check `http` field by field; undefined when absent. */
export function validateHttp(f: Fields, v: unknown): HttpScenarioOptions | undefined {
  if (v === undefined) return undefined;
  const o = f.object(v, "http");
  f.known(o, "http", [
    "slo",
    "arrival",
    "durationS",
    "maxConcurrency",
    "isolates",
    "timeoutsMs",
    "exactTokens",
    "dataset",
  ]);
  const out: HttpScenarioOptions = {};
  if (o.slo !== undefined) {
    const s = f.object(o.slo, "http.slo");
    f.known(s, "http.slo", ["ttftMs", "tpotMs", "e2eMs"]);
    out.slo = {};
    for (const k of ["ttftMs", "tpotMs", "e2eMs"] as const) {
      if (s[k] !== undefined) out.slo[k] = f.number(s[k], `http.slo.${k}`, 0);
    }
  }
  if (o.arrival !== undefined) {
    out.arrival = f.oneOf(o.arrival, "http.arrival", ["poisson", "constant"] as const);
  }
  if (o.durationS !== undefined) out.durationS = f.number(o.durationS, "http.durationS", 0);
  out.maxConcurrency = f.optInt(o.maxConcurrency, "http.maxConcurrency", 1);
  out.isolates = f.optInt(o.isolates, "http.isolates", 1, 64);
  if (o.timeoutsMs !== undefined) {
    const t = f.object(o.timeoutsMs, "http.timeoutsMs");
    f.known(t, "http.timeoutsMs", ["connect", "firstToken", "idle", "total"]);
    out.timeoutsMs = {};
    for (const k of ["connect", "firstToken", "idle", "total"] as const) {
      if (t[k] !== undefined) out.timeoutsMs[k] = f.number(t[k], `http.timeoutsMs.${k}`, 0);
    }
  }
  if (o.exactTokens !== undefined) {
    if (typeof o.exactTokens !== "boolean") {
      f.fail("http.exactTokens", "true or false", o.exactTokens);
    }
    out.exactTokens = o.exactTokens;
  }
  if (o.dataset !== undefined) {
    const d = f.object(o.dataset, "http.dataset");
    f.known(d, "http.dataset", ["path", "promptField", "outputField", "maxRecords"]);
    out.dataset = { path: f.string(d.path, "http.dataset.path") };
    const pf = f.optString(d.promptField, "http.dataset.promptField");
    const of = f.optString(d.outputField, "http.dataset.outputField");
    const mr = f.optInt(d.maxRecords, "http.dataset.maxRecords", 1);
    if (pf !== undefined) out.dataset.promptField = pf;
    if (of !== undefined) out.dataset.outputField = of;
    if (mr !== undefined) out.dataset.maxRecords = mr;
  }
  for (const k of Object.keys(out) as (keyof HttpScenarioOptions)[]) {
    if (out[k] === undefined) delete out[k];
  }
  return out;
}
