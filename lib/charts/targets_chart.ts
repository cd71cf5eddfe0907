/** Targets side by side: each case's throughput on every target of a side-by-side record. */
import type { ResultRecord } from "../results/types.ts";
import { targetRatios } from "../compare/target_ratios.ts";
import {
  type ChartOptions,
  type ChartSpec,
  colorBy,
  labelsFor,
  notApplicable,
  spread,
  topLevel,
} from "./_spec.ts";

/**
 * Grouped bars of every side-by-side record (cases run on several targets, `--target a,b` or
 * `--quant`): per case, one bar per target of its median decode TPS (prefill TPS for a case
 * without decode steps), error bars median +- sd of the runs, and over each other target's bar
 * its ratio to the base target (the bootstrap interval is in the data, field `interval`, and in
 * the tables of compare and report).
 *
 * @param records Records; the ones with one target are skipped.
 * @param options Labels and size.
 * @returns A Vega-Lite spec.
 * @throws {RangeError} "Cannot draw targets chart: ..." when no record ran on two targets.
 * @example
 * ```ts
 * import { targetsChart } from "./targets_chart.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const spec = targetsChart([await readRecord("tests/fixtures/records/grid-targets.json")]);
 * ```
 */
export function targetsChart(records: ResultRecord[], options: ChartOptions = {}): ChartSpec {
  const labels = labelsFor(records, options);
  const many = records.filter((r) => targetRatios(r).length > 0).length > 1;
  const values = records.flatMap((r, k) => {
    const ratios = targetRatios(r);
    if (ratios.length === 0) return [];
    const base = ratios[0].base;
    const metric = (id: string) => ratios.find((x) => x.caseId === id)?.metric ?? "decodeTps";
    const caseOf = (id: string) => (many ? `${labels[k]}: ${id}` : id);
    return r.cases.flatMap((c) => {
      const target = c.target ?? "lmrig";
      const id = target === base ? c.id : c.id.replace(/@[^@]*$/, "");
      const m = c.metrics[metric(id)];
      if (!m || !ratios.some((x) => x.caseId === id)) return [];
      const s = spread(m.samples);
      const ratio = ratios.find((x) => x.caseId === id && x.other === target);
      return [{
        caseId: caseOf(id),
        target,
        figure: metric(id) === "decodeTps" ? "decode" : "prefill",
        ...s,
        lo: Math.max(0, s.lo),
        text: ratio ? `${ratio.ratio.toFixed(2)}x` : "",
        interval: ratio ? `${ratio.low.toFixed(2)}-${ratio.high.toFixed(2)}x` : "",
      }];
    });
  });
  if (values.length === 0) notApplicable("targets", "no record ran its cases on two targets");
  const x = {
    field: "caseId",
    type: "nominal",
    title: "Case",
    sort: null,
    axis: { labelAngle: 0 },
  };
  const off = { xOffset: { field: "target", sort: null } };
  const color = colorBy("target", "Target", values.map((v) => v.target));
  return topLevel(
    `Targets side by side: ${[...new Set(values.map((v) => v.target))].join(" vs ")}`,
    "median decode TPS (prefill TPS without decode steps) +- sd; labels: ratio to the base " +
      "target (95% intervals: the tables)",
    {
      width: options.widthPx ?? 560,
      height: options.heightPx ?? 300,
      data: { values },
      layer: [
        {
          mark: "bar",
          encoding: {
            x,
            ...off,
            y: { field: "y", type: "quantitative", title: "Tokens/s" },
            color,
          },
        },
        {
          mark: { type: "rule", color: "#333" },
          encoding: { x, ...off, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
        },
        {
          mark: { type: "text", dy: -8, fontSize: 10, angle: 0 },
          encoding: {
            x,
            ...off,
            y: { field: "hi", type: "quantitative" },
            text: { field: "text" },
          },
        },
      ],
    },
  );
}
