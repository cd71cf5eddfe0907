/**
 * Read one result record file and check it against docs/results-format.md, so compare, charts
 * and the report can trust every field they touch. Errors name the file and the JSON path.
 * @module
 */
import { type ResultRecord, SCHEMA_NAME, SCHEMA_VERSION } from "./types.ts";

/**
 * Upgrades from an older schema version to the next one, keyed by the version they read.
 * 1 -> 2: version 1 had no single bandwidth ceiling (grid limits used a per-case ceiling that
 * rose with probes between cases, other kinds the best pre-run sample), so the upgrade sets
 * `environment.probes.ceilingBps` to the best pre-run sample and says so in a warning; the
 * limits stored in the cases are left as they were measured.
 */
const UPGRADES: Record<number, (record: Record<string, unknown>) => Record<string, unknown>> = {
  1: (r) => {
    const out = structuredClone(r);
    const env = out.environment as Record<string, unknown> | undefined;
    const probes = isObject(env) ? env.probes : undefined;
    if (isObject(probes) && isObject(probes.bandwidthBps)) {
      const summary = (probes.bandwidthBps as Record<string, unknown>).summary;
      const max = isObject(summary) ? summary.max : undefined;
      if (typeof max === "number" && probes.ceilingBps === undefined) {
        probes.ceilingBps = max;
        if (Array.isArray(out.warnings)) {
          out.warnings.push(
            "Schema 1 record: its limits used the best bandwidth sample (grids: a ceiling that " +
              "rose between cases), not one median ceiling; shares across cases may not compare",
          );
        }
      }
    }
    out.schemaVersion = 2;
    return out;
  },
};

/**
 * Read and validate a result record (JSON) from a file.
 *
 * @param path The record file, e.g. `results/s1-s6-cpu-20250101T000000Z.json`.
 * @returns The record, upgraded to the current schema version when it was older.
 * @throws {TypeError} When the file is missing, is not JSON (with line, column and position),
 *   is not an lmrig record, or a field has the wrong type (named by its JSON path).
 * @throws {RangeError} When the schema version is newer than this tool reads, or older with no
 *   upgrade.
 * @example
 * ```ts
 * import { readRecord } from "./read_record.ts";
 * const record = await readRecord("tests/fixtures/records/grid-a.json");
 * record.cases.length; // 6
 * ```
 */
export async function readRecord(path: string): Promise<ResultRecord> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "file not found" : (e as Error).message;
    throw new TypeError(`Cannot read record "${path}": ${why}`);
  }
  return parseRecord(text, path);
}

/** Parse and validate record text; `name` is what error messages call it. */
function parseRecord(text: string, name: string): ResultRecord {
  const fail = (why: string): never => {
    throw new TypeError(`Cannot read record "${name}": ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(malformedMessage(text, (e as Error).message));
  }
  if (!isObject(value)) return fail("not a JSON object");
  if (value.schema !== SCHEMA_NAME) {
    fail(
      `schema is ${JSON.stringify(value.schema)}, expected "${SCHEMA_NAME}" (not an lmrig record)`,
    );
  }
  let version = value.schemaVersion;
  if (typeof version !== "number" || !Number.isInteger(version)) {
    fail(`schemaVersion is ${JSON.stringify(version)}, expected an integer`);
  }
  if ((version as number) > SCHEMA_VERSION) {
    throw new RangeError(
      `Cannot read record "${name}": schema version ${version} is newer than this tool's ` +
        `${SCHEMA_VERSION}; update lmrig to read it`,
    );
  }
  let record = value;
  while ((version as number) < SCHEMA_VERSION) {
    const upgrade = UPGRADES[version as number];
    if (!upgrade) {
      throw new RangeError(
        `Cannot read record "${name}": schema version ${version} is older than this tool's ` +
          `${SCHEMA_VERSION} and cannot be upgraded; re-run the scenario to measure it again`,
      );
    }
    record = upgrade(record);
    version = record.schemaVersion;
  }
  checkShape(record, fail);
  return record as unknown as ResultRecord;
}

/** Turn V8's JSON.parse message into one with line, column and position. */
function malformedMessage(text: string, message: string): string {
  const match = /position (\d+)/.exec(message);
  const detail = message.replace(/\s*\(line \d+ column \d+\)/, "").replace(
    / in JSON at position \d+/,
    "",
  );
  if (!match) return `malformed JSON: ${detail}`;
  const position = Number(match[1]);
  const before = text.slice(0, position).split("\n");
  const line = before.length;
  const column = before[before.length - 1].length + 1;
  return `malformed JSON at line ${line}, column ${column} (position ${position}): ${detail}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type Fail = (why: string) => never;
type Kind = "string" | "number" | "boolean" | "object" | "array" | "numbers";

/** Check the fields every later stage reads; other fields pass through untouched. */
function checkShape(r: Record<string, unknown>, fail: Fail): void {
  const need = (
    obj: Record<string, unknown>,
    key: string,
    kind: Kind,
    at: string,
    nullable = false,
  ) => {
    const v = obj[key];
    const path = at ? `${at}.${key}` : key;
    if (v === null && nullable) return;
    const ok = kind === "array"
      ? Array.isArray(v)
      : kind === "numbers"
      ? Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x))
      : kind === "object"
      ? isObject(v)
      : kind === "number"
      ? typeof v === "number" && Number.isFinite(v)
      : kind === "string"
      ? typeof v === "string"
      : typeof v === "boolean";
    if (!ok) {
      const got = v === undefined ? "missing" : `${JSON.stringify(v)?.slice(0, 40)}`;
      fail(`${path} must be ${kindName(kind)}${nullable ? " or null" : ""}, got ${got}`);
    }
  };
  need(r, "id", "string", "");
  need(r, "createdAt", "string", "");
  if (!["running", "complete", "interrupted", "failed"].includes(r.status as string)) {
    fail(
      `status must be "running", "complete", "interrupted" or "failed", got ` +
        JSON.stringify(r.status),
    );
  }
  if (r.error !== undefined) need(r, "error", "string", "");
  for (const k of ["tool", "environment", "model", "engine", "scenario", "runner", "derived"]) {
    need(r, k, "object", "");
  }
  const env = r.environment as Record<string, unknown>;
  need(env, "cpu", "object", "environment");
  need(env, "gpu", "object", "environment", true);
  need(env, "probes", "object", "environment");
  const probes = env.probes as Record<string, unknown>;
  if (probes.bandwidthBps !== undefined) {
    checkMetric(probes.bandwidthBps, "environment.probes.bandwidthBps", fail);
    need(probes, "ceilingBps", "number", "environment.probes");
    if (!((probes.ceilingBps as number) > 0)) {
      fail(`environment.probes.ceilingBps must be > 0, got ${probes.ceilingBps}`);
    }
  }
  if (
    probes.bandwidthDuringBps !== undefined &&
    !(Array.isArray(probes.bandwidthDuringBps) &&
      probes.bandwidthDuringBps.every((x) => typeof x === "number" && Number.isFinite(x)))
  ) {
    fail("environment.probes.bandwidthDuringBps must be an array of finite numbers");
  }
  if (probes.bandwidthAfterBps !== undefined) {
    checkMetric(probes.bandwidthAfterBps, "environment.probes.bandwidthAfterBps", fail);
  }
  const engine = r.engine as Record<string, unknown>;
  need(engine, "backend", "string", "engine");
  need(engine, "executor", "string", "engine");
  const scenario = r.scenario as Record<string, unknown>;
  need(scenario, "kind", "string", "scenario");
  need(scenario, "name", "string", "scenario");
  need(r.model as Record<string, unknown>, "name", "string", "model");
  need(r, "warnings", "array", "");
  need(r, "cases", "array", "");
  const ids = new Set<string>();
  (r.cases as unknown[]).forEach((c, i) => {
    const at = `cases[${i}]`;
    if (!isObject(c)) fail(`${at} must be an object`);
    const kase = c as Record<string, unknown>;
    need(kase, "id", "string", at);
    if (ids.has(kase.id as string)) fail(`${at}.id "${kase.id}" is used by two cases`);
    ids.add(kase.id as string);
    need(kase, "params", "object", at);
    for (const [k, v] of Object.entries(kase.params as object)) {
      if (typeof v !== "number" && typeof v !== "string") {
        fail(`${at}.params.${k} must be a number or a string, got ${JSON.stringify(v)}`);
      }
    }
    need(kase, "metrics", "object", at);
    for (const [k, m] of Object.entries(kase.metrics as object)) {
      checkMetric(m, `${at}.metrics.${k}`, fail);
    }
    for (const k of ["warmup", "series", "counters"]) {
      if (kase[k] === undefined) kase[k] = {};
      need(kase, k, "object", at);
    }
    for (const [k, s] of Object.entries(kase.series as object)) {
      if (!Array.isArray(s)) fail(`${at}.series.${k} must be an array of runs`);
      (s as unknown[]).forEach((run, j) =>
        need({ run }, "run", "numbers", `${at}.series.${k}[${j}]`)
      );
    }
  });
}

function checkMetric(m: unknown, at: string, fail: Fail): void {
  if (!isObject(m)) fail(`${at} must be an object`);
  const metric = m as Record<string, unknown>;
  if (metric.better !== "lower" && metric.better !== "higher") {
    fail(`${at}.better must be "lower" or "higher", got ${JSON.stringify(metric.better)}`);
  }
  if (typeof metric.unit !== "string") fail(`${at}.unit must be a string`);
  const samples = metric.samples;
  if (
    !Array.isArray(samples) || !samples.every((x) => typeof x === "number" && Number.isFinite(x))
  ) {
    fail(`${at}.samples must be an array of finite numbers`);
  }
  if ((samples as number[]).length === 0) {
    fail(`${at}.samples is empty (a metric needs at least one measured sample)`);
  }
  if (!isObject(metric.summary)) fail(`${at}.summary must be an object`);
  for (const k of ["n", "median", "mean", "stddev", "min", "max", "p50", "p90", "p99"]) {
    const v = (metric.summary as Record<string, unknown>)[k];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      fail(`${at}.summary.${k} must be a finite number, got ${JSON.stringify(v)}`);
    }
  }
}

function kindName(kind: Kind): string {
  return kind === "numbers"
    ? "an array of finite numbers"
    : kind === "array"
    ? "an array"
    : kind === "object"
    ? "an object"
    : `a ${kind}`;
}
