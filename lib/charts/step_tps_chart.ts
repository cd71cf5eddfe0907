/** Per-step decode throughput of the longest decode case, from the engine's step times. */
import type { Case, ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/quantile.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  topLevel,
} from "./_spec.ts";

/** The case with the most decode steps in `series.stepNs`. */
function longest(r: ResultRecord): Case | undefined {
  let best: Case | undefined;
  let steps = 0;
  for (const c of r.cases) {
    const n = Math.max(0, ...(c.series.stepNs ?? []).map((run) => run.length));
    if (n > steps) [best, steps] = [c, n];
  }
  return steps > 1 ? best : undefined;
}

/**
 * Tokens per second at every decode step (1e9 / step ns; step 0, the TTFT, is left out) of each
 * record's longest decode case: the median over runs as a line and the min-max over runs as a
 * band. A flat line means no slowdown as the cache grows.
 *
 * @param records Records whose cases carry `series.stepNs[run][step]`.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} When no case has per-step times.
 * @example
 * ```ts
 * import { stepTpsChart } from "./step_tps_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = stepTpsChart([await readRecord("tests/fixtures/records/grid-a.json")]);
 * ```
 */
export function stepTpsChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const values: Record<string, unknown>[] = [];
  const cases: string[] = [];
  records.forEach((r, i) => {
    const c = longest(r);
    if (!c) return;
    cases.push(`${c.id} (${c.params.promptTokens ?? "?"} + ${c.params.decodeTokens ?? "?"})`);
    const runs = c.series.stepNs;
    const steps = Math.max(...runs.map((run) => run.length));
    for (let s = 1; s < steps; s++) {
      const tps = runs.filter((run) => run[s] > 0).map((run) => 1e9 / run[s]).sort((a, b) => a - b);
      if (tps.length === 0) continue;
      values.push({
        record: `${labels[i]} ${c.id}`,
        step: s,
        tps: quantile(tps, 0.5),
        lo: tps[0],
        hi: tps[tps.length - 1],
      });
    }
  });
  if (values.length === 0) {
    notApplicable("per-step TPS", "no case has series.stepNs with more than one step");
  }
  const color = colorBy("record", "Case", values.map((v) => v.record as string));
  const x = { field: "step", type: "quantitative", title: "Decode step" };
  return topLevel(
    "Per-step decode TPS",
    `longest decode case: ${cases.join(", ")}; band = min-max over runs`,
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? 300,
      data: { values },
      layer: [
        {
          mark: { type: "area", opacity: 0.2 },
          encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
        },
        {
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: {
            x,
            y: { field: "tps", type: "quantitative", title: "Tokens / s", scale: { zero: false } },
            color,
          },
        },
      ],
    },
  );
}
