/** Renders a dataset analysis as Markdown: lengths, coverage, recommended settings, issues. */
import type { DatasetAnalysis } from "./analyze_dataset.ts";
import type { LengthStats } from "./types.ts";

/**
 * Markdown report of an analysis, in the layout of a parameter-choice write-up: the
 * recommended n-prompt / n-predict and why, the options table, length percentiles, coverage of
 * each candidate, and the skipped records with file:line and reason.
 *
 * @param a The analysis.
 * @returns Markdown text ending in a newline.
 * @example
 * ```ts
 * import { analyzeDataset } from "./analyze_dataset.ts";
 * import { formatAnalysisMarkdown } from "./format_analysis_markdown.ts";
 * import { createWhitespaceTokenizer } from "../tokenizer/mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"prompt": "a b c", "output": "d e"}\n');
 * const md = formatAnalysisMarkdown(await analyzeDataset(path, { tokenizer: createWhitespaceTokenizer() }));
 * md.startsWith("# Dataset analysis"); // true
 * ```
 */
export function formatAnalysisMarkdown(a: DatasetAnalysis): string {
  const out: string[] = [];
  const shapes = Object.entries(a.shapes).map(([s, n]) => `${s} ${n}`).join(", ");
  out.push(`# Dataset analysis: ${a.file}`, "");
  out.push(`- Records: ${a.records} used (${shapes}), ${a.withOutput} with an output`);
  out.push(`- Skipped: ${a.skipped}${a.skipped > 0 ? " (listed below)" : ""}`);
  out.push(`- Tokenizer: ${a.tokenizer.name} for \`${a.tokenizer.source}\``);
  for (const note of a.tokenizer.notes) out.push(`  - ${note}`);
  out.push(`- Prompt tokens counted as: ${a.promptCounting}; outputs without special tokens`);
  out.push(`- Percentiles: nearest-rank (pXX is a length that occurs; XX% of lengths are <= it)`);
  out.push("");
  const rec = a.recommendations.find((r) => r.name === "recommended");
  out.push("## Recommended parameters", "");
  out.push(`**Prompt length (\`--n-prompt\`):** ${a.nPrompt} tokens`);
  if (rec) out.push(`**Output length (\`--n-predict\`):** ${rec.nPredict} tokens`);
  out.push("", "### Rationale", "");
  out.push(
    `- Prompts average ${fmt(a.prompt.mean)} tokens (p50 ${a.prompt.p50}); ${a.nPrompt} ` +
      `(the next power of two) covers ${pct(a.promptShare)} of prompts`,
  );
  if (rec && a.output) {
    out.push(
      `- ${rec.nPredict} tokens covers ${pct(rec.share)} of outputs (p90 ${a.output.p90}, ` +
        `p99 ${a.output.p99}, max ${a.output.max})` +
        (rec.reached ? "" : `: no candidate reaches ${pct(rec.target)}`),
    );
  } else {
    out.push("- No record has a reference output: n-predict cannot be chosen from this dataset");
  }
  if (a.recommendations.length > 0) {
    out.push("", "## Parameter options", "");
    out.push("| Scenario | n-prompt | n-predict | Coverage | Target | Use case |");
    out.push("|---|---:|---:|---:|---:|---|");
    for (const r of a.recommendations) {
      const name = r.name[0].toUpperCase() + r.name.slice(1);
      const mark = r.reached ? "" : " (not reached)";
      out.push(
        `| **${name}** | ${r.nPrompt} | ${r.nPredict} | ${pct(r.share)} of outputs | ` +
          `${pct(r.target)}${mark} | ${r.useCase} |`,
      );
    }
  }
  out.push("", "## Token lengths", "");
  out.push("| | count | mean | min | p50 | p75 | p90 | p95 | p99 | max |");
  out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  out.push(statsRow("Prompt", a.prompt));
  if (a.output) out.push(statsRow("Output", a.output));
  if (a.coverage.length > 0) {
    out.push("", "## Coverage of n-predict values", "");
    out.push("| n-predict | outputs <= n-predict | share |");
    out.push("|---:|---:|---:|");
    for (const c of a.coverage) out.push(`| ${c.nPredict} | ${c.covered} | ${pct(c.share)} |`);
  }
  if (a.skipped > 0) {
    out.push("", `## Skipped records (${a.skipped})`, "");
    for (const i of a.issues) out.push(`- \`${a.file}:${i.line}\`: ${i.reason}`);
    const rest = a.skipped - a.issues.length;
    if (rest > 0) out.push(`- ... and ${rest} more`);
  }
  return out.join("\n") + "\n";
}

function statsRow(label: string, s: LengthStats): string {
  const cells = [s.count, fmt(s.mean), s.min, s.p50, s.p75, s.p90, s.p95, s.p99, s.max];
  return `| ${label} | ${cells.join(" | ")} |`;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
