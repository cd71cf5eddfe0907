/**
 * Compare result records case by case: match cases by their params, then give each figure's
 * median per record, the ratio to the baseline with a bootstrap interval, and a verdict.
 */
import type { Case, ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/mod.ts";
import { hashSeed } from "./_prng.ts";
import { bootstrapRatio } from "./bootstrap_ratio.ts";
import type { Comparison, ComparisonRow, RatioCell, Unmatched, Verdict } from "./types.ts";
import { recordLabels } from "./record_labels.ts";

/** What to compare and how strict to be. */
export interface CompareOptions {
  /** Index of the baseline record (default 0). */
  baseline?: number;
  /** Metric keys to compare (default: the main figures present, else every metric). */
  metrics?: string[];
  /** Keep only cases whose id is in this list, or matches this pattern. */
  cases?: string[] | RegExp;
  /** Changes smaller than this (percent) are "within noise" (default 2). */
  thresholdPct?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Bootstrap seed (default 1). */
  seed?: number;
  /** Interval coverage (default 0.95). */
  confidence?: number;
  /** File names for labels (default "record 1", ...). */
  files?: string[];
}

const MAIN_METRICS = ["ttftNs", "prefillTps", "decodeTps", "tpotNs", "stepNs", "totalTps"];

/** The main figures of a case measured through the HTTP target (it has per-request rows). */
const HTTP_MAIN_METRICS = [
  "requestsPerSecond",
  "outputTps",
  "goodputRps",
  "ttftNs",
  "tpotNs",
  "itlNs",
  "e2eNs",
  "transportNs",
];

/**
 * Compare records against a baseline. Cases match when their params are equal; `backend` and
 * `executor` params are left out of the match when the records' engines differ in them (that
 * difference is what is being compared). Cases found in some records only are listed in
 * `unmatched`; records of another scenario or model are compared where cases match, with a
 * warning.
 *
 * @param records Two or more records (from readRecord).
 * @param options Baseline, metrics, case filter, noise threshold, bootstrap settings.
 * @returns Rows per matched case and metric, unmatched cases and warnings.
 * @throws {RangeError} When fewer than two records are given, the baseline index is out of
 *   range, or the threshold is negative.
 * @example
 * ```ts
 * import { compareRecords } from "./compare_records.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const a = await readRecord("tests/fixtures/records/grid-a.json");
 * const b = await readRecord("tests/fixtures/records/grid-b.json");
 * const c = compareRecords([a, b], { metrics: ["decodeTps"] });
 * c.rows[0].cells[1]?.verdict; // "faster"
 * ```
 */
export function compareRecords(records: ResultRecord[], options: CompareOptions = {}): Comparison {
  if (records.length < 2) {
    throw new RangeError(`Cannot compare records: need at least two, got ${records.length}`);
  }
  const baseline = options.baseline ?? 0;
  if (!Number.isInteger(baseline) || baseline < 0 || baseline >= records.length) {
    throw new RangeError(
      `Cannot compare records: baseline ${baseline} is out of range 0..${records.length - 1}`,
    );
  }
  const thresholdPct = options.thresholdPct ?? 2;
  if (!(thresholdPct >= 0)) {
    throw new RangeError(
      `Cannot compare records: threshold must be >= 0 percent, got ${thresholdPct}`,
    );
  }
  const confidence = options.confidence ?? 0.95;
  const labels = recordLabels(records, options.files);
  const warnings = mismatchWarnings(records, baseline, labels);
  // A param the engines differ in is what is being compared, so it must not split the match;
  // but a record whose cases vary in it (a cache sweep over both executors) keeps it.
  const ignore = (["backend", "executor"] as const).filter((k) =>
    new Set(records.map((r) => r.engine[k])).size > 1 &&
    records.every((r) =>
      new Set(r.cases.map((c) => c.params[k]).filter((v) => v !== undefined)).size <= 1
    )
  );
  const keep = (c: Case) =>
    !options.cases ||
    (Array.isArray(options.cases) ? options.cases.includes(c.id) : options.cases.test(c.id));
  const byKey = records.map((r) => {
    const map = new Map<string, Case>();
    for (const c of r.cases.filter(keep)) map.set(caseKey(c, ignore), c);
    return map;
  });
  const unmatched: Unmatched[] = [];
  records.forEach((_, i) => {
    if (i === baseline) return;
    for (const [key, c] of byKey[i]) {
      if (!byKey[baseline].has(key)) {
        unmatched.push({
          record: labels[i],
          caseId: c.id,
          params: paramsText(c, ignore),
          reason: `not in baseline ${labels[baseline]}`,
        });
      }
    }
    for (const [key, c] of byKey[baseline]) {
      if (!byKey[i].has(key)) {
        unmatched.push({
          record: labels[baseline],
          caseId: c.id,
          params: paramsText(c, ignore),
          reason: `not in ${labels[i]}`,
        });
      }
    }
  });
  const rows: ComparisonRow[] = [];
  for (const [key, baseCase] of byKey[baseline]) {
    const found = byKey.map((m) => m.get(key));
    if (found.filter(Boolean).length < 2) continue;
    for (const metric of metricsOf(baseCase, options.metrics)) {
      const base = baseCase.metrics[metric];
      if (!base || base.samples.length === 0) continue;
      const row: ComparisonRow = {
        key,
        params: paramsText(baseCase, ignore),
        caseIds: found.map((c) => c?.id ?? null),
        metric,
        unit: base.unit,
        better: base.better,
        medians: [],
        stddevs: [],
        cells: [],
      };
      found.forEach((c, i) => {
        const m = c?.metrics[metric];
        const has = m !== undefined && m.samples.length > 0;
        row.medians.push(has ? quantile(m.samples, 0.5) : null);
        row.stddevs.push(has ? m.summary.stddev : null);
        if (i === baseline || !has) return row.cells.push(null);
        // A ratio to a median of 0 (an HTTP ITL when a server sends every token in one write)
        // has no meaning: the medians are shown, the cell stays empty.
        if (quantile(base.samples, 0.5) === 0) {
          warnings.push(`${baseCase.id} ${metric}: the baseline median is 0, no ratio`);
          return row.cells.push(null);
        }
        if (c && m.better !== base.better) {
          warnings.push(
            `${
              labels[i]
            } ${c.id} ${metric}: better is "${m.better}", baseline says "${base.better}"`,
          );
        }
        const seed = hashSeed(`${key}|${metric}|${i}`, options.seed ?? 1);
        const r = bootstrapRatio(base.samples, m.samples, {
          resamples: options.resamples,
          seed,
          confidence,
        });
        row.cells.push({
          ...r,
          ...judge(r.ratio, r.low, r.high, base.better, base.unit, thresholdPct),
        });
      });
      if (row.medians.filter((x) => x !== null).length >= 2) rows.push(row);
    }
  }
  if (options.metrics && rows.length === 0 && byKey[baseline].size > 0) {
    warnings.push(`No matched case has the metrics ${options.metrics.join(", ")}`);
  }
  return {
    labels,
    baseline,
    thresholdPct,
    confidence,
    ignoredParams: ignore,
    rows,
    unmatched,
    warnings,
  };
}

/** The params that identify a case across records, as sorted `k=v` pairs. */
function caseKey(c: Case, ignore: string[]): string {
  const entries = Object.entries(c.params).filter(([k]) => !ignore.includes(k));
  if (entries.length === 0) return `id=${c.id}`;
  return entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(", ");
}

/** The params in the record's own order, for display. */
function paramsText(c: Case, ignore: string[]): string {
  const entries = Object.entries(c.params).filter(([k]) => !ignore.includes(k));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(", ") : `id=${c.id}`;
}

function metricsOf(c: Case, wanted?: string[]): string[] {
  if (wanted) return wanted;
  const main = (c.requests ? HTTP_MAIN_METRICS : MAIN_METRICS).filter((k) => k in c.metrics);
  return main.length > 0
    ? Object.keys(c.metrics).filter((k) => main.includes(k))
    : Object.keys(c.metrics);
}

/** Verdict of a ratio: better/worse only when the interval excludes 1 and the change is large. */
function judge(
  ratio: number,
  low: number,
  high: number,
  better: "lower" | "higher",
  unit: string,
  thresholdPct: number,
): Pick<RatioCell, "changePct" | "verdict" | "improvementPct"> {
  const changePct = (ratio - 1) * 100;
  // Improvement in the metric's own direction: +10 means 10% better whichever way is better.
  const improvementPct = better === "higher" ? changePct : (1 / ratio - 1) * 100;
  const speed = unit === "ns" || unit === "tokens/s";
  let verdict: Verdict = "within noise";
  if (!(low <= 1 && 1 <= high) && Math.abs(changePct) >= thresholdPct) {
    const improved = better === "higher" ? ratio > 1 : ratio < 1;
    verdict = improved ? (speed ? "faster" : "better") : (speed ? "slower" : "worse");
  }
  return { changePct, improvementPct, verdict };
}

function mismatchWarnings(records: ResultRecord[], baseline: number, labels: string[]): string[] {
  const out: string[] = [];
  const b = records[baseline];
  records.forEach((r, i) => {
    if (i === baseline) return;
    if (r.scenario.name !== b.scenario.name || r.scenario.kind !== b.scenario.kind) {
      out.push(
        `${labels[i]} is scenario "${r.scenario.name}" (${r.scenario.kind}), baseline ${
          labels[baseline]
        } is "${b.scenario.name}" (${b.scenario.kind}): comparing matching cases only`,
      );
    }
    if (r.model.name !== b.model.name || r.model.dtype !== b.model.dtype) {
      out.push(
        `${labels[i]} measured model ${r.model.name} (${r.model.dtype}), baseline ${
          labels[baseline]
        } measured ${b.model.name} (${b.model.dtype})`,
      );
    }
    if (r.status !== "complete") out.push(`${labels[i]} is ${r.status}, not complete`);
  });
  if (b.status !== "complete") {
    out.push(`${labels[baseline]} (baseline) is ${b.status}, not complete`);
  }
  return out;
}
