/** The side-by-side section of a bench table: per case, each target's figure and their ratio. */
import { targetRatios } from "../compare/target_ratios.ts";
import type { ResultRecord } from "../results/types.ts";
import { formatTable } from "./format_table.ts";

const fmt = (v: number, digits: number) =>
  Number.isFinite(v)
    ? v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "-";

/**
 * For a record whose cases ran on several targets: a table of each case's decode (or prefill)
 * TPS on the base target and the other, with the ratio of medians and its 95% bootstrap
 * interval, then one line of facts per target (version, build, backend, threads, KV fill,
 * weights). Empty for a one-target record.
 *
 * @param record A record of any kind.
 * @param what How the cases were run, for the heading (e.g. "alternating run by run").
 * @returns Lines to print (empty when there is one target).
 * @example
 * ```ts
 * import { renderTargetSection } from "./render_target_section.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const r = await readRecord("tests/fixtures/records/grid-targets.json");
 * const lines = renderTargetSection(r, "alternating run by run within each case");
 * if (!lines.some((l) => l.includes("llama.cpp / lmrig"))) throw new Error("no ratio column");
 * ```
 */
export function renderTargetSection(record: ResultRecord, what: string): string[] {
  const rows = targetRatios(record);
  if (rows.length === 0) return [];
  const { base, other } = rows[0];
  const out = [
    `Targets side by side (same weights and token ids, ${what}; ratio of medians with a 95% ` +
    `bootstrap interval):`,
    "",
    formatTable(
      ["ID", "Figure", base, other, `${other} / ${base}`],
      rows.map((r) => [
        r.other === other ? r.caseId : `${r.caseId} (${r.other})`,
        r.metric === "decodeTps" ? "decode TPS" : "prefill TPS",
        fmt(r.baseValue, 1),
        fmt(r.otherValue, 1),
        `${fmt(r.ratio, 2)}x [${fmt(r.low, 2)}, ${fmt(r.high, 2)}]`,
      ]),
    ),
    "",
  ];
  const facts = record.environment.targets ?? [];
  for (const t of facts) {
    out.push(
      `- ${t.label ?? t.name} ${t.version}: ${t.build}; ${t.backend}, ${t.threads} thread(s), ` +
        `KV fill by ${t.kvFill}; weights ${t.model.dtype}, ${fmt(t.model.weightBytes / 1e6, 1)} MB`,
    );
  }
  if (facts.length) out.push("");
  return out;
}
