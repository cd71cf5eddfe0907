/** Tokenises a dataset's prompts and outputs and summarises their lengths. */
import type { TextTokenizer } from "../tokenizer/mod.ts";
import { lengthStats } from "./length_stats.ts";
import { readDataset } from "./read_dataset.ts";
import { DEFAULT_N_PREDICT_CANDIDATES, recommendParameters } from "./recommend_parameters.ts";
import type {
  Coverage,
  DatasetIssue,
  DatasetShape,
  LengthStats,
  ReadDatasetOptions,
  Recommendation,
} from "./types.ts";

/** Options of {@link analyzeDataset}. */
export interface AnalyzeDatasetOptions extends ReadDatasetOptions {
  /** Tokenizer for both prompts and outputs. */
  tokenizer: TextTokenizer;
  /** n-predict candidates (default 512, 1024, 2048, 4096, 8192). */
  candidates?: readonly number[];
  /** Count the prompt as the model sees it: wrapped in the chat template as one user turn. */
  chatTemplate?: boolean;
  /** Read at most this many usable records (default: all). */
  limit?: number;
  /** Keep at most this many issues in `issues` (default 100); `skipped` counts them all. */
  maxIssues?: number;
}

/** What {@link analyzeDataset} found. */
export interface DatasetAnalysis {
  file: string;
  tokenizer: { name: string; source: string; notes: readonly string[] };
  /** How prompt tokens were counted. */
  promptCounting: "text with special tokens" | "chat template, one user turn";
  percentileMethod: "nearest-rank";
  /** Usable records. */
  records: number;
  /** Records per recognised shape. */
  shapes: Partial<Record<DatasetShape, number>>;
  /** Records with a reference output. */
  withOutput: number;
  /** Records that could not be used. */
  skipped: number;
  /** The first `maxIssues` of them, with line and reason. */
  issues: DatasetIssue[];
  prompt: LengthStats;
  /** Null when no record has a reference output. */
  output: LengthStats | null;
  /** Recommended prompt length (see recommendParameters). */
  nPrompt: number;
  /** Share of prompts with length <= nPrompt. */
  promptShare: number;
  coverage: Coverage[];
  recommendations: Recommendation[];
  /** Per-record lengths in file order (prompt), and of the records with outputs (output). */
  promptTokens: number[];
  outputTokens: number[];
}

/**
 * Reads a dataset file, counts the tokens of each prompt (special tokens the tokenizer adds,
 * such as Llama's BOS, included) and each reference output (without special tokens: what the
 * model would generate), and summarises them with coverage of n-predict candidates and the
 * recommended settings. Records that cannot be used are counted and listed with their line.
 *
 * @param file Dataset path (JSONL, JSON array or CSV).
 * @param options Tokenizer, field names, candidates.
 * @returns The analysis.
 * @throws {TypeError} When the file cannot be read as a dataset (see readDataset).
 * @throws {RangeError} When no record is usable, or limit/maxIssues are not valid counts.
 * @example
 * ```ts
 * import { analyzeDataset } from "./analyze_dataset.ts";
 * import { createWhitespaceTokenizer } from "../tokenizer/mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"prompt": "a b c", "output": "d e"}\n');
 * const a = await analyzeDataset(path, { tokenizer: createWhitespaceTokenizer() });
 * [a.prompt.p50, a.output?.max, a.recommendations[0].nPredict]; // [3, 2, 512]
 * ```
 */
export async function analyzeDataset(
  file: string,
  options: AnalyzeDatasetOptions,
): Promise<DatasetAnalysis> {
  const { tokenizer, limit = Infinity, maxIssues = 100 } = options;
  checkCount(limit, "limit", 1);
  checkCount(maxIssues, "maxIssues", 0);
  const useTemplate = options.chatTemplate ?? false;
  if (useTemplate && !tokenizer.hasChatTemplate) {
    throw new TypeError(
      `Cannot analyze "${file}" with the chat template: ${tokenizer.source} has no chat template`,
    );
  }
  const promptTokens: number[] = [];
  const outputTokens: number[] = [];
  const shapes: Partial<Record<DatasetShape, number>> = {};
  const issues: DatasetIssue[] = [];
  let skipped = 0;
  const skip = (issue: DatasetIssue) => {
    skipped++;
    if (issues.length < maxIssues) issues.push(issue);
  };
  for await (const item of readDataset(file, options)) {
    if (!item.ok) {
      skip(item);
      continue;
    }
    if (item.prompt.trim() === "") {
      skip({ ok: false, line: item.line, reason: "empty prompt" });
      continue;
    }
    const promptText = useTemplate
      ? tokenizer.applyChatTemplate([{ role: "user", content: item.prompt }])
      : item.prompt;
    // A rendered template already holds its special tokens as text.
    promptTokens.push(tokenizer.encode(promptText, { addSpecialTokens: !useTemplate }).length);
    if (item.output !== null) {
      outputTokens.push(tokenizer.encode(item.output, { addSpecialTokens: false }).length);
    }
    shapes[item.shape] = (shapes[item.shape] ?? 0) + 1;
    if (promptTokens.length >= limit) break;
  }
  if (promptTokens.length === 0) {
    const first = issues[0] ? `; first: ${file}:${issues[0].line}: ${issues[0].reason}` : "";
    throw new RangeError(
      `Cannot analyze "${file}": no usable record (${skipped} skipped${first})`,
    );
  }
  const prompt = lengthStats(promptTokens);
  const output = outputTokens.length > 0 ? lengthStats(outputTokens) : null;
  const choice = recommendParameters(
    promptTokens,
    prompt,
    outputTokens,
    options.candidates ?? DEFAULT_N_PREDICT_CANDIDATES,
  );
  return {
    file,
    tokenizer: { name: tokenizer.name, source: tokenizer.source, notes: tokenizer.notes },
    promptCounting: useTemplate ? "chat template, one user turn" : "text with special tokens",
    percentileMethod: "nearest-rank",
    records: promptTokens.length,
    shapes,
    withOutput: outputTokens.length,
    skipped,
    issues,
    prompt,
    output,
    nPrompt: choice.nPrompt,
    promptShare: choice.promptShare,
    coverage: choice.coverage,
    recommendations: choice.recommendations,
    promptTokens,
    outputTokens,
  };
}

function checkCount(value: number, name: string, min: number): void {
  if (value !== Infinity && !(Number.isInteger(value) && value >= min)) {
    throw new RangeError(
      `Cannot analyze a dataset: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
}
