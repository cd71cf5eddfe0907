/** Path-tracking field checks for scenario validation; every message names file and field. */

/** Fields every scenario kind accepts (ScenarioBase plus the kind). */
export const BASE_FIELDS = [
  "kind",
  "name",
  "description",
  "model",
  "warmup",
  "runs",
  "maxCtx",
  "targets",
  "quants",
  "http",
] as const;

/** Render a value for "got ..." in a message. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  return String(v);
}

/** Field readers bound to one file. */
export class Fields {
  constructor(readonly file: string) {}

  fail(path: string, what: string, got: unknown, range = false): never {
    const msg = `${this.file}: ${path} must be ${what}, got ${show(got)}`;
    throw range ? new RangeError(msg) : new TypeError(msg);
  }

  object(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, "an object", v);
    return v as Record<string, unknown>;
  }

  /** Reject keys the declaration does not know (typos would otherwise be silently ignored). */
  known(obj: Record<string, unknown>, path: string, keys: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) {
        const at = path ? `${path}.${k}` : k;
        throw new TypeError(`${this.file}: ${at} is not a known field (known: ${keys.join(", ")})`);
      }
    }
  }

  int(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    // Large maxima are sanity caps, not the field's domain: name them only when exceeded.
    const capped = max >= 1 << 20;
    const what = !capped
      ? `an integer in [${min}, ${max}]`
      : min === 1
      ? "a positive integer"
      : `an integer >= ${min}`;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(path, what, v);
    if (v < min) this.fail(path, what, v, true);
    if (v > max) this.fail(path, capped ? `at most ${max}` : what, v, true);
    return v;
  }

  optInt(v: unknown, path: string, min: number, max?: number): number | undefined {
    return v === undefined ? undefined : this.int(v, path, min, max);
  }

  number(v: unknown, path: string, min: number): number {
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(path, `a number > ${min}`, v);
    if (v <= min) this.fail(path, `a number > ${min}`, v, true);
    return v;
  }

  string(v: unknown, path: string, pattern?: RegExp, patternText?: string): string {
    if (typeof v !== "string" || v.length === 0) this.fail(path, "a non-empty string", v);
    if (pattern && !pattern.test(v)) this.fail(path, patternText ?? `a match of ${pattern}`, v);
    return v;
  }

  optString(v: unknown, path: string): string | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "string") this.fail(path, "a string", v);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    if (typeof v !== "string" || !options.includes(v as T)) {
      this.fail(path, `one of ${options.map((o) => `"${o}"`).join(", ")}`, v);
    }
    return v as T;
  }

  array(v: unknown, path: string, minLength = 1): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `an array`, v);
    if (v.length < minLength) {
      throw new RangeError(
        `${this.file}: ${path} must have at least ${minLength} entr${
          minLength === 1 ? "y" : "ies"
        }`,
      );
    }
    return v;
  }

  unique(ids: string[], path: string, field: string): void {
    const seen = new Map<string, number>();
    ids.forEach((id, i) => {
      const prev = seen.get(id);
      if (prev !== undefined) {
        throw new RangeError(
          `${this.file}: ${path}[${i}].${field} repeats "${id}" (also ${path}[${prev}].${field})`,
        );
      }
      seen.set(id, i);
    });
  }
}
