/** The bench's human-readable output of a prompts record (also `--format md`). */
import type { MeasuredDecode } from "../memory/limits_table.ts";
import type { Case, ResultRecord } from "../results/types.ts";
import { formatTable } from "./format_table.ts";
import { memoryAndLimits, ms } from "./_serving_tables.ts";

const med = (c: Case, k: string) => c.metrics[k]?.summary.median;
const PARTS: [string, string][] = [
  ["Prefill", "Prefill"],
  ["DecodeForward", "Decode forward"],
  ["Sampling", "Sampling"],
  ["Tokenize", "Tokenization"],
  ["Detokenize", "Detokenization"],
];

/**
 * Render a prompts record: per prompt (tokens, TTFT, TPOT, decode tok/s, E2E: medians in ms),
 * context-length scaling with the least-squares fits, the timing breakdown (median ms and share
 * of the parts' sum, with the measured FFI overhead and the unaccounted share against its
 * margin), memory, limits and warnings.
 *
 * @param record A prompts record.
 * @returns Markdown text ending with a newline.
 * @example
 * ```ts ignore
 * console.log(renderPromptsReport(record));
 * ```
 */
export function renderPromptsReport(record: ResultRecord): string {
  const e = record.engine;
  const d = record.derived;
  const out = [
    `${record.scenario.name}: ${record.model.name} ${record.model.dtype} on ${e.backend}/` +
    `${e.executor}, ${e.threads} thread(s); ${record.environment.cpu.name}`,
    "",
  ];
  const texts = record.cases.filter((c) => c.params.contextTokens === undefined);
  const ctx = record.cases.filter((c) => c.params.contextTokens !== undefined);
  const row = (c: Case, first: string) => [
    first,
    String(c.params.promptTokens),
    ms(med(c, "ttftNs")),
    ms(med(c, "tpotNs")),
    med(c, "decodeTps")?.toFixed(1) ?? "-",
    ms(med(c, "e2eNs")),
  ];
  if (texts.length > 0) {
    out.push(
      formatTable(
        ["Prompt", "Tokens", "TTFT ms", "TPOT ms", "tok/s", "E2E ms"],
        texts.map((c) => row(c, c.id)),
      ),
      "",
      `${texts[0].params.decodeTokens} generated tokens per request` +
        (texts[0].params.chatTemplate ? ", chat template applied" : "") +
        "; medians of the measured runs; E2E = tokenize + prefill + decode + sampling + " +
        "detokenize (engine and JS times, FFI overhead excluded).",
    );
  }
  if (ctx.length > 0) {
    out.push(
      "",
      formatTable(
        ["Context", "Tokens", "TTFT ms", "TPOT ms", "Decode tok/s", "E2E ms"],
        ctx.map((c) => row(c, String(c.params.contextTokens))),
      ),
      "",
    );
    for (const [name, label] of [["ttft", "TTFT"], ["tpot", "TPOT"]]) {
      const slope = d[`${name}SlopeNsPerToken`];
      if (slope) {
        const perToken = Math.abs(slope.value) >= 1e5
          ? `${(slope.value / 1e6).toFixed(3)} ms`
          : `${(slope.value / 1e3).toFixed(2)} us`;
        out.push(
          `${label} fit: ${ms(d[`${name}InterceptNs`].value)} ms + ${perToken} per context ` +
            `token (R^2 ${d[`${name}FitR2`].value.toFixed(3)})`,
        );
      }
    }
  }
  if (d.breakdownPrefillNs) {
    out.push(
      "",
      "Timing breakdown (median per request over the text prompts)",
      "",
      formatTable(
        ["Operation", "Median (ms)", "% of total"],
        PARTS.map(([key, label]) => [
          label,
          (d[`breakdown${key}Ns`].value / 1e6).toFixed(3),
          `${(d[`breakdown${key}Share`].value * 100).toFixed(1)}%`,
        ]),
      ),
      "",
      `FFI overhead (measured, outside the parts): ${ms(d.breakdownFfiOverheadNs?.value)} ms ` +
        `per request; wall time not covered by the parts or the FFI overhead: ` +
        `${(d.breakdownUnaccountedShare.value * 100).toFixed(2)}% (margin ` +
        `${(d.breakdownMarginShare.value * 100).toFixed(0)}%).`,
    );
  }
  const measured: MeasuredDecode[] = record.cases.flatMap((c) =>
    c.metrics.decodeTps
      ? [{
        label: c.id,
        sequences: 1,
        meanPosition: Number(c.params.promptTokens) + Number(c.params.decodeTokens) / 2,
        tps: med(c, "decodeTps")!,
      }]
      : []
  );
  out.push(...memoryAndLimits(record, measured));
  if (record.warnings.length > 0) {
    out.push("", "Warnings:", ...record.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}
