/** Decode throughput of one backend over another, case by case. */
import type { ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/mod.ts";
import { hashSeed } from "./_prng.ts";
import { type BootstrapOptions, bootstrapRatio } from "./bootstrap_ratio.ts";
import { caseFigure } from "./case_figure.ts";

/** The speedup of one case. */
export interface BackendSpeedup {
  caseId: string;
  /** Median decode TPS on the base and the other backend. */
  baseTps: number;
  otherTps: number;
  /** otherTps / baseTps with its bootstrap interval. */
  speedup: number;
  low: number;
  high: number;
}

/**
 * Speedup of `other`'s backend over `base`'s on the same scenario: decode TPS ratio per case,
 * cases matched by id and params (a `backend` param is ignored).
 *
 * @param base The reference record (e.g. cpu).
 * @param other The record measured on another backend (e.g. cuda).
 * @param options Bootstrap settings.
 * @returns One row per case both records measured, in the base record's order.
 * @throws {RangeError} When both records ran on the same backend.
 * @example
 * ```ts
 * import { backendSpeedups } from "./backend_speedups.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const cpu = await readRecord("tests/fixtures/records/grid-a.json");
 * const cuda = await readRecord("tests/fixtures/records/grid-cuda.json");
 * backendSpeedups(cpu, cuda)[0].speedup > 1; // true
 * ```
 */
export function backendSpeedups(
  base: ResultRecord,
  other: ResultRecord,
  options: BootstrapOptions = {},
): BackendSpeedup[] {
  if (base.engine.backend === other.engine.backend) {
    throw new RangeError(
      `Cannot compute backend speedup: both records ran on backend "${base.engine.backend}"`,
    );
  }
  const key = (p: Record<string, unknown>) =>
    JSON.stringify(Object.entries(p).filter(([k]) => k !== "backend").sort());
  const rows: BackendSpeedup[] = [];
  for (const c of base.cases) {
    const o = other.cases.find((x) => x.id === c.id && key(x.params) === key(c.params));
    const a = caseFigure(c, "tps");
    const b = o && caseFigure(o, "tps");
    if (!a || !b) continue;
    const r = bootstrapRatio(a.samples, b.samples, {
      ...options,
      seed: hashSeed(c.id, options.seed ?? 1),
    });
    rows.push({
      caseId: c.id,
      baseTps: quantile(a.samples, 0.5),
      otherTps: quantile(b.samples, 0.5),
      speedup: r.ratio,
      low: r.low,
      high: r.high,
    });
  }
  return rows;
}
