/** The bench's human-readable output of a grid record (also `--format md`). */
import type { Case, ResultRecord } from "../results/types.ts";
import { quantile } from "../stats/quantile.ts";
import { formatTable } from "./format_table.ts";
import { renderTargetSection } from "./render_target_section.ts";
import { sparkline } from "./sparkline.ts";

const fmt = (v: number, digits: number) =>
  v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pm = (median: number, sd: number, digits: number) =>
  `${fmt(median, digits)} ± ${fmt(sd, digits)}`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
/** A share of a limit; above 100% the limit model or the probe is wrong, and the table says so. */
const share = (v: number) => `${pct(v)}${v > 1 ? " (over 100%!)" : ""}`;

/** The record's one ceiling, exactly as the limits used it, with the probe's spread. */
function ceilingText(record: ResultRecord): string {
  const p = record.environment.probes;
  const s = p.bandwidthBps.summary;
  return `${fmt(p.ceilingBps / 1e9, 1)} GB/s (median of ${s.n} probe passes; spread ` +
    `${fmt(s.min / 1e9, 1)}-${fmt(s.max / 1e9, 1)}, CV ${pct(s.cv)})`;
}

function caseRow(c: Case): string[] {
  const m = c.metrics;
  const ttft = m.ttftNs ? pm(m.ttftNs.summary.median / 1e6, m.ttftNs.summary.stddev / 1e6, 1) : "-";
  const tps = m.decodeTps ? pm(m.decodeTps.summary.median, m.decodeTps.summary.stddev, 1) : "-";
  const u = m.decodeTps?.utilisation;
  const prefill = m.prefillTps ? fmt(m.prefillTps.summary.median, 0) : "-";
  return [
    c.id,
    String(c.params.promptTokens),
    String(c.params.decodeTokens),
    ttft,
    tps,
    prefill,
    u !== undefined ? share(u) : "-",
  ];
}

/** Per-step TPS of the longest decode case: the run whose decode TPS is the median one. */
function stepSection(record: ResultRecord): string[] {
  const withSteps = record.cases.filter((c) => c.metrics.decodeTps && c.series.stepNs?.length);
  if (withSteps.length === 0) return [];
  const c = withSteps.reduce((
    a,
    b,
  ) => (Number(b.params.decodeTokens) > Number(a.params.decodeTokens) ? b : a));
  const samples = c.metrics.decodeTps.samples;
  const order = samples.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const run = order[Math.floor((order.length - 1) / 2)][1];
  const tps = c.series.stepNs[run].slice(1).map((ns) => 1e9 / ns);
  const lines = [
    `Per-step decode TPS, ${c.id} (longest decode; run ${
      run + 1
    } of ${samples.length}, the median one): ` +
    `min ${fmt(Math.min(...tps), 1)}, median ${fmt(quantile(tps, 0.5), 1)}, max ${
      fmt(Math.max(...tps), 1)
    }`,
    `  ${sparkline(tps)}`,
  ];
  const bin = 64;
  if (tps.length > bin) {
    const medians: string[] = [];
    for (let i = 0; i < tps.length; i += bin) {
      medians.push(fmt(quantile(tps.slice(i, i + bin), 0.5), 1));
    }
    lines.push(`  median per ${bin} steps: ${medians.join(" ")}`);
  }
  return lines;
}

/**
 * Render a grid record as the seed report's tables: per case (ID, Prompt, Decode, TTFT ms ± sd,
 * Decode TPS ± sd, Prefill TPS), the run figures (load, capture, peak memory, prefill scaling,
 * decode TPS spread across cases, GPU utilisation and kernel overhead when measured, the run's
 * one bandwidth ceiling with the probe's spread, the bandwidth-limited decode TPS and each
 * case's share, flagged above 100%), for a side-by-side run (`--target a,b`) each case on both
 * targets with their ratio and each target's facts, the per-step TPS of the longest decode case, warnings.
 *
 * @param record A grid record.
 * @returns Markdown text ending with a newline.
 * @example
 * ```ts ignore
 * console.log(renderGridReport(record));
 * ```
 */
export function renderGridReport(record: ResultRecord): string {
  const d = record.derived;
  const out: string[] = [];
  const e = record.engine;
  out.push(
    `## ${record.scenario.name}: ${record.model.spec} (${record.model.dtype}) on ${e.backend}/${e.executor}, ` +
      `${e.threads} thread(s), ${record.environment.cpu.name}` +
      (record.status === "complete" ? "" : ` [${record.status}]`),
    "",
  );
  out.push(
    formatTable(
      ["ID", "Prompt", "Decode", "TTFT (ms)", "Decode TPS", "Prefill TPS", "Share of limit"],
      record.cases.map(caseRow),
    ),
    "",
  );
  out.push(...renderTargetSection(record, "alternating run by run within each case"));
  const rows: string[][] = [];
  rows.push(["Weight load time", `${fmt(record.model.loadNs / 1e9, 2)} s`]);
  if (d.captureNs) rows.push(["Compile/capture time", `${fmt(d.captureNs.value / 1e9, 3)} s`]);
  if (d.peakBytes) rows.push(["Peak memory (engine)", `${fmt(d.peakBytes.value / 1e6, 0)} MB`]);
  const types = record.model.weightTypes ? ` (${record.model.weightTypes})` : "";
  rows.push(["Weights", `${fmt(record.model.weightBytes / 1e6, 0)} MB${types}`]);
  if (d.prefillScalingMsPerToken) {
    rows.push(["Prefill scaling", `${fmt(d.prefillScalingMsPerToken.value, 3)} ms/token`]);
  }
  if (d.decodeTpsCv) {
    rows.push(["Decode TPS spread across cases (CV of case medians)", pct(d.decodeTpsCv.value)]);
  }
  rows.push([
    "GPU utilisation (est)",
    d.gpuUtilisation ? pct(d.gpuUtilisation.value) : "not measured (needs --profile on a GPU)",
  ]);
  rows.push([
    "Kernel overhead",
    d.kernelOverheadNs
      ? `${fmt(d.kernelOverheadNs.value / 1e3, 1)} us/kernel`
      : "not measured (needs --profile)",
  ]);
  rows.push(["Read bandwidth ceiling (every limit uses it)", ceilingText(record)]);
  if (d.maxDecodeTps) rows.push(["Bandwidth-limited max decode TPS", fmt(d.maxDecodeTps.value, 1)]);
  const shares = record.cases.filter((c) => c.metrics.decodeTps?.utilisation !== undefined)
    .map((c) => `${c.id} ${share(c.metrics.decodeTps.utilisation!)}`);
  if (shares.length) rows.push(["Share of bandwidth limit", shares.join(", ")]);
  out.push(formatTable(["Metric", "Value"], rows), "");
  const steps = stepSection(record);
  if (steps.length) out.push(...steps, "");
  if (record.warnings.length) {
    out.push("Warnings:", ...record.warnings.map((w) => `- ${w}`), "");
  }
  return out.join("\n");
}
