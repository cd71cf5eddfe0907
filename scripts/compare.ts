/**
 * Compare result records side by side: `deno task compare A.json B.json [C.json ...]`.
 * Exit status: 0 ok; 1 with --fail-above when a figure regressed past it, no case matched or a
 * record is not complete; 2 bad arguments or records (a record that is not complete is refused
 * unless --include-partial is given).
 * @module
 */
import { parseArgs } from "node:util";
import {
  compareRecords,
  comparisonViews,
  findRegressions,
  formatComparison,
  formatTargetRatios,
  targetRatios,
} from "../lib/compare/mod.ts";
import { checkOutPath } from "../lib/results/check_out_path.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { refusePartial } from "../lib/results/refuse_partial.ts";
import { writeFileAtomic } from "../lib/results/write_file_atomic.ts";
import { runMain } from "./_run_main.ts";

const USAGE = `Usage: deno task compare A.json B.json [C.json ...] [options]
       deno task compare SIDE-BY-SIDE.json   (one --target a,b record: target ratios)

Options:
  --baseline N|FILE  baseline record: index (0-based) or file name (default 0)
  --metric LIST      figures to compare, e.g. ttftNs,decodeTps (default: the main figures)
  --case LIST|RE     cases to keep: ids (S1,S5) or a regular expression (/^pos-/ or pos-.*)
  --threshold PCT    changes under PCT percent are "within noise" (default 2)
  --format FMT       markdown (default), csv or json
  --fail-above PCT   exit 1 when any figure got worse by more than PCT percent (beyond noise),
                     when no case matched, or when a record is not complete
  --include-partial  accept records that are not complete (running, interrupted, failed)
  --resamples N      bootstrap resamples (default 2000)
  --seed N           bootstrap seed (default 1)
  --out FILE         write the output to FILE instead of stdout
`;

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) {
    throw new RangeError(`Cannot compare: --${name} must be a number, got "${text}"`);
  }
  return v;
}

function caseFilter(text: string | undefined): string[] | RegExp | undefined {
  if (text === undefined) return undefined;
  const slashed = /^\/(.*)\/([a-z]*)$/.exec(text);
  if (slashed) return new RegExp(slashed[1], slashed[2]);
  if (/^[\w.-]+(,[\w.-]+)*$/.test(text)) return text.split(",");
  try {
    return new RegExp(text);
  } catch (e) {
    throw new RangeError(
      `Cannot compare: --case "${text}" is not a list or a regular expression: ${
        (e as Error).message
      }`,
    );
  }
}

/** One record of a side-by-side run: its target ratios (other / base) with bootstrap CIs. */
async function sideBySide(
  path: string,
  values: { format?: string; resamples?: string; seed?: string; out?: string },
): Promise<number> {
  const record = await readRecord(path);
  const rows = targetRatios(record, {
    resamples: number("resamples", values.resamples, 2000),
    seed: number("seed", values.seed, 1),
  });
  if (rows.length === 0) {
    throw new RangeError(
      `Cannot compare: need at least two record files, got 1 (${path} ran on one target; ` +
        `one record is enough only from a side-by-side run, --target lmrig,llama.cpp)\n\n${USAGE}`,
    );
  }
  const format = values.format ?? "markdown";
  const text = format === "json"
    ? JSON.stringify({ record: path, targetRatios: rows }, null, 2) + "\n"
    : format === "csv"
    ? [
      "case,base,other,metric,baseValue,otherValue,ratio,low,high",
      ...rows.map((r) =>
        [r.caseId, r.base, r.other, r.metric, r.baseValue, r.otherValue, r.ratio, r.low, r.high]
          .join(",")
      ),
    ].join("\n") + "\n"
    : format === "markdown"
    ? formatTargetRatios(path, rows).join("\n")
    : (() => {
      throw new RangeError(
        `Cannot compare: --format must be markdown, csv or json, got "${format}"`,
      );
    })();
  if (values.out) await writeFileAtomic(values.out, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
  return 0;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      baseline: { type: "string" },
      metric: { type: "string" },
      case: { type: "string" },
      threshold: { type: "string" },
      format: { type: "string", default: "markdown" },
      "fail-above": { type: "string" },
      resamples: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "include-partial": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 1) return await sideBySide(positionals[0], values);
  if (positionals.length < 2) {
    throw new RangeError(
      `Cannot compare: need at least two record files, got ${positionals.length}\n\n${USAGE}`,
    );
  }
  const format = values.format;
  if (format !== "markdown" && format !== "csv" && format !== "json") {
    throw new RangeError(`Cannot compare: --format must be markdown, csv or json, got "${format}"`);
  }
  if (values.out !== undefined) checkOutPath(values.out, "--out");
  const records = await Promise.all(positionals.map((p) => readRecord(p)));
  const partial = refusePartial(
    records.map((record, i) => ({ path: positionals[i], record })),
    values["include-partial"] === true,
    "compare",
  );
  for (const note of partial) console.error(`warning: ${note}`);
  let baseline = 0;
  if (values.baseline !== undefined) {
    const byFile = positionals.findIndex((p) =>
      p === values.baseline || p.endsWith(`/${values.baseline}`)
    );
    if (byFile < 0 && !/^\d+$/.test(values.baseline)) {
      throw new RangeError(
        `Cannot compare: --baseline "${values.baseline}" is neither an index nor one of the files`,
      );
    }
    baseline = byFile >= 0 ? byFile : Number(values.baseline);
  }
  const bootstrap = {
    resamples: number("resamples", values.resamples, 2000),
    seed: number("seed", values.seed, 1),
  };
  const comparison = compareRecords(records, {
    ...bootstrap,
    baseline,
    files: positionals,
    metrics: values.metric?.split(",").map((s) => s.trim()).filter(Boolean),
    cases: caseFilter(values.case),
    thresholdPct: number("threshold", values.threshold, 2),
  });
  const views = comparisonViews(records, comparison.labels, baseline, bootstrap);
  const text = formatComparison(comparison, views, format);
  if (values.out) await writeFileAtomic(values.out, text);
  else await Deno.stdout.write(new TextEncoder().encode(text));
  for (const w of comparison.warnings) console.error(`warning: ${w}`);
  if (values["fail-above"] !== undefined) {
    const limit = number("fail-above", values["fail-above"], 0);
    const regressions = findRegressions(comparison, limit);
    for (const r of regressions) {
      console.error(
        `regression: ${r.record} ${r.caseId} ${r.metric} is ${
          r.worsePct.toFixed(1)
        }% worse (limit ${limit}%)`,
      );
    }
    if (regressions.length > 0) return 1;
    // A gate must not pass on nothing: no figure compared, or records that are not complete.
    if (comparison.rows.length === 0) {
      console.error("error: --fail-above: no case matched in the records, nothing was compared");
      return 1;
    }
    if (partial.length > 0) {
      console.error(
        `error: --fail-above: ${partial.length} record(s) are not complete; a gate needs ` +
          "complete records",
      );
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) await runMain(() => main(Deno.args));
