/** One target over another within a side-by-side record, case by case. */
import type { Case, ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/mod.ts";
import { hashSeed } from "./_prng.ts";
import { type BootstrapOptions, bootstrapRatio } from "./bootstrap_ratio.ts";

/** The ratio of one case on two targets. */
export interface TargetRatio {
  /** The case id without its `@target` suffix. */
  caseId: string;
  /** The reference target (lmrig when it ran) and the other one. */
  base: string;
  other: string;
  /** The figure compared: decode TPS, or prefill TPS for a case without decode steps. */
  metric: "decodeTps" | "prefillTps";
  /** Medians of that figure on each target. */
  baseValue: number;
  otherValue: number;
  /** other / base with its bootstrap interval (above 1: the other target is faster). */
  ratio: number;
  low: number;
  high: number;
}

const baseId = (c: Case) => (c.target && c.target !== "lmrig" ? c.id.replace(/@[^@]*$/, "") : c.id);

/**
 * For a record whose cases ran on several targets (`case.target`), the throughput ratio of each
 * other target over the base target (lmrig when it ran, else the first) per case: decode TPS
 * where both measured it, else prefill TPS, with a bootstrap interval of the ratio of medians
 * over the raw per-run samples, as backend speedups are computed.
 *
 * @param record A record of a side-by-side run.
 * @param options Bootstrap settings.
 * @returns One row per case and other target, in the record's case order (empty when the cases
 *   ran on one target).
 * @throws {RangeError} When a bootstrap option is out of range, or a base median is 0.
 * @example
 * ```ts
 * import { targetRatios } from "./target_ratios.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const r = await readRecord("tests/fixtures/records/grid-targets.json");
 * targetRatios(r)[0].other; // "llama.cpp"
 * ```
 */
export function targetRatios(
  record: ResultRecord,
  options: BootstrapOptions = {},
): TargetRatio[] {
  const names = [...new Set(record.cases.map((c) => c.target ?? "lmrig"))];
  if (names.length < 2) return [];
  const base = names.includes("lmrig") ? "lmrig" : names[0];
  const rows: TargetRatio[] = [];
  for (const c of record.cases) {
    if ((c.target ?? "lmrig") !== base) continue;
    const id = baseId(c);
    for (const o of record.cases) {
      const other = o.target ?? "lmrig";
      if (other === base || baseId(o) !== id) continue;
      const metric = c.metrics.decodeTps?.samples.length && o.metrics.decodeTps?.samples.length
        ? "decodeTps"
        : "prefillTps";
      const a = c.metrics[metric]?.samples ?? [];
      const b = o.metrics[metric]?.samples ?? [];
      if (a.length === 0 || b.length === 0) continue;
      const r = bootstrapRatio(a, b, {
        ...options,
        seed: hashSeed(`${id}|${other}`, options.seed ?? 1),
      });
      rows.push({
        caseId: id,
        base,
        other,
        metric,
        baseValue: quantile(a, 0.5),
        otherValue: quantile(b, 0.5),
        ratio: r.ratio,
        low: r.low,
        high: r.high,
      });
    }
  }
  return rows;
}
