/**
 * Find a figure in a case under the names the scenarios use, deriving throughput from step time
 * when only one of the two was recorded (cache-sweep and workers records).
 */
import type { Case } from "../results/types.ts";

/** Figures that other stages ask for by meaning rather than by metric key. */
export type FigureName = "tps" | "stepNs";

/** A figure's raw samples and where they came from. */
export interface CaseFigure {
  /** Raw samples, one per measured run. */
  samples: number[];
  /** The metric key read (e.g. "decodeTps"), with " (derived)" when converted. */
  source: string;
}

const TPS_KEYS = ["totalTps", "decodeTps", "tps"];
const STEP_KEYS = ["stepNs", "tpotNs"];

/**
 * Decode throughput (tokens/s) or decode step time (ns) of a case. Throughput prefers
 * `totalTps`, then `decodeTps`, `tps`; step time prefers `stepNs`, then `tpotNs`; when one is
 * missing it is derived from the other sample by sample (1e9 / x).
 *
 * @param kase The case.
 * @param figure "tps" or "stepNs".
 * @returns The samples and their source, or undefined when the case has neither figure.
 * @throws Nothing; a case without the figure gives undefined.
 * @example
 * ```ts
 * import { caseFigure } from "./case_figure.ts";
 * const kase = { id: "pos-1", description: "", params: {}, warmup: {}, series: {}, counters: {},
 *   metrics: { stepNs: { unit: "ns" as const, better: "lower" as const, samples: [1e6, 2e6],
 *     summary: { n: 2, median: 1.5e6, mean: 1.5e6, stddev: 0, cv: 0, min: 1e6, max: 2e6,
 *       p50: 1.5e6, p90: 1.9e6, p99: 2e6 } } } };
 * caseFigure(kase, "tps")?.samples; // [1000, 500]
 * ```
 */
export function caseFigure(kase: Case, figure: FigureName): CaseFigure | undefined {
  const [own, other] = figure === "tps" ? [TPS_KEYS, STEP_KEYS] : [STEP_KEYS, TPS_KEYS];
  const direct = own.find((k) => (kase.metrics[k]?.samples.length ?? 0) > 0);
  if (direct) return { samples: [...kase.metrics[direct].samples], source: direct };
  const key = other.find((k) => (kase.metrics[k]?.samples.length ?? 0) > 0);
  if (!key) return undefined;
  const samples = kase.metrics[key].samples;
  if (samples.some((x) => x <= 0)) return undefined;
  return { samples: samples.map((x) => 1e9 / x), source: `${key} (derived)` };
}
