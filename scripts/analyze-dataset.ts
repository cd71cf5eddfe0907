/**
 * Dataset-driven benchmark parameters: tokenise a dataset's prompts and outputs with the
 * model's tokenizer, report their length percentiles, the coverage of n-predict values and the
 * conservative / recommended / comprehensive settings; optionally write a grid scenario and a
 * histogram (PNG, SVG or the Vega-Lite spec, by the file's extension).
 * `deno run -A scripts/analyze-dataset.ts DATASET [options]`
 * Exit status: 0 ok, 1 records were skipped under --strict, 2 bad arguments or unreadable data.
 * @module
 */
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  analyzeDataset,
  type DatasetAnalysis,
  type DatasetFormat,
  datasetScenarioSource,
  formatAnalysisMarkdown,
} from "../lib/dataset/mod.ts";
import { datasetHistogramChart, renderPng, renderSvg } from "../lib/charts/mod.ts";
import { repoRoot } from "../lib/env/repo_root.ts";
import { loadTokenizer } from "../lib/tokenizer/mod.ts";

const USAGE = `Usage: deno run -A scripts/analyze-dataset.ts DATASET [options]

DATASET is .jsonl/.ndjson, .json (one top-level array) or .csv (header row); all are streamed,
one record in memory at a time. Shapes: ShareGPT {conversations: [{from, value}]}, {messages: [{role, content}]}, Alpaca
{instruction, input, output}, {prompt|question|text|input, output|response|completion|answer}.

Options:
  --model SPEC           tokenizer: a Hugging Face folder, synthetic:NAME or whitespace
                         (default synthetic:qwen2.5-1.5b)
  --prompt-field NAME    field (CSV column) holding the prompt; overrides shape detection
  --output-field NAME    field holding the output (needs --prompt-field)
  --input-format FMT     jsonl, json or csv (default from the extension)
  --chat-template        count prompts wrapped in the model's chat template (one user turn)
  --candidates LIST      n-predict values (default 512,1024,2048,4096,8192)
  --limit N              analyze the first N usable records
  --max-issues N         list at most N skipped records (default 100; all are counted)
  --format FMT           md (default) or json
  --include-lengths      json: add per-record token lengths
  --out FILE             write the report to FILE instead of stdout
  --write-scenario FILE  write a grid scenario module (typical + the three settings)
  --scenario-name NAME   its name (default dataset-<file stem>)
  --chart FILE           write a histogram of the lengths with the chosen settings marked:
                         .png or .svg renders it, .json writes the Vega-Lite spec
  --strict               exit 1 when any record was skipped
  --help                 this text
`;

class UsageError extends Error {}

function count(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === "" || !Number.isInteger(v) || v < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${text}"`);
  }
  return v;
}

function candidates(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  return text.split(",").map((t) => {
    const v = Number(t);
    if (t.trim() === "" || !Number.isInteger(v) || v <= 0) {
      throw new UsageError(
        `--candidates must be positive integers separated by commas, got "${t}"`,
      );
    }
    return v;
  });
}

function jsonReport(a: DatasetAnalysis, includeLengths: boolean): string {
  const { promptTokens, outputTokens, ...rest } = a;
  const doc = {
    schema: "lmrig.dataset-analysis",
    schemaVersion: 1,
    ...rest,
    ...(includeLengths ? { promptTokens, outputTokens } : {}),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

async function writeChart(path: string, analysis: DatasetAnalysis): Promise<void> {
  const spec = datasetHistogramChart(analysis);
  const ext = extname(path).toLowerCase();
  if (ext === ".png") await Deno.writeFile(path, await renderPng(spec));
  else if (ext === ".svg") await Deno.writeTextFile(path, await renderSvg(spec));
  else await Deno.writeTextFile(path, JSON.stringify(spec, null, 2) + "\n");
  console.error(`Wrote histogram ${path}`);
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string", default: "synthetic:qwen2.5-1.5b" },
      "prompt-field": { type: "string" },
      "output-field": { type: "string" },
      "input-format": { type: "string" },
      "chat-template": { type: "boolean", default: false },
      candidates: { type: "string" },
      limit: { type: "string" },
      "max-issues": { type: "string" },
      format: { type: "string", default: "md" },
      "include-lengths": { type: "boolean", default: false },
      out: { type: "string" },
      "write-scenario": { type: "string" },
      "scenario-name": { type: "string" },
      chart: { type: "string" },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("give exactly one dataset file");
  const format = values.format;
  if (format !== "md" && format !== "json") {
    throw new UsageError(`--format must be md or json, got "${format}"`);
  }
  const inputFormat = values["input-format"];
  if (inputFormat !== undefined && !["jsonl", "json", "csv"].includes(inputFormat)) {
    throw new UsageError(`--input-format must be jsonl, json or csv, got "${inputFormat}"`);
  }
  const chartExt = values.chart === undefined ? null : extname(values.chart).toLowerCase();
  if (chartExt !== null && ![".png", ".svg", ".json"].includes(chartExt)) {
    throw new UsageError(`--chart must end in .png, .svg or .json, got "${values.chart}"`);
  }
  const file = positionals[0];
  const tokenizer = await loadTokenizer(values.model);
  const analysis = await analyzeDataset(file, {
    tokenizer,
    format: inputFormat as DatasetFormat | undefined,
    promptField: values["prompt-field"],
    outputField: values["output-field"],
    chatTemplate: values["chat-template"],
    candidates: candidates(values.candidates),
    limit: count("limit", values.limit, 1),
    maxIssues: count("max-issues", values["max-issues"], 0),
  });
  const report = format === "md"
    ? formatAnalysisMarkdown(analysis)
    : jsonReport(analysis, values["include-lengths"]);
  if (values.out !== undefined) await Deno.writeTextFile(values.out, report);
  else await Deno.stdout.write(new TextEncoder().encode(report));
  const scenarioPath = values["write-scenario"];
  if (scenarioPath !== undefined) {
    const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, "-");
    const name = values["scenario-name"] ?? `dataset-${stem}`;
    let spec = relative(dirname(resolve(scenarioPath)), join(repoRoot(), "lib/scenario/mod.ts"));
    spec = spec.split("\\").join("/");
    if (!spec.startsWith(".")) spec = `./${spec}`;
    await Deno.writeTextFile(scenarioPath, datasetScenarioSource(analysis, name, spec));
    console.error(`Wrote scenario ${scenarioPath} (run: deno task bench ${scenarioPath})`);
  }
  if (values.chart !== undefined) await writeChart(values.chart, analysis);
  if (analysis.skipped > 0) {
    const first = analysis.issues[0];
    console.error(
      `Skipped ${analysis.skipped} of ${analysis.skipped + analysis.records} records` +
        (first ? `; first: ${file}:${first.line}: ${first.reason}` : ""),
    );
    if (values.strict) return 1;
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    const usage = e instanceof UsageError ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`analyze-dataset: ${(e as Error).message}`);
    if (usage) console.error("Run with --help for usage");
    Deno.exit(2);
  }
}
