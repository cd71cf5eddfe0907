/** Types of the dataset reader and the length analysis. */

/** File formats the reader knows. */
export type DatasetFormat = "jsonl" | "json" | "csv";

/** Record shapes the reader recognises (or "fields" when named by the caller). */
export type DatasetShape = "sharegpt" | "openai-messages" | "alpaca" | "prompt-output" | "fields";

/** Where to find the texts; all optional. */
export interface ReadDatasetOptions {
  /** Format; default from the file extension (.jsonl/.ndjson, .json, .csv). */
  format?: DatasetFormat;
  /** Field (or CSV column) holding the prompt; overrides shape detection. */
  promptField?: string;
  /** Field (or CSV column) holding the output; with promptField, required in every record. */
  outputField?: string;
}

/** One readable record: the texts of a prompt and its reference output (null: none given). */
export interface DatasetRecord {
  ok: true;
  /** 1-based line where the record starts. */
  line: number;
  shape: DatasetShape;
  prompt: string;
  output: string | null;
}

/** A record that could not be used, with why. */
export interface DatasetIssue {
  ok: false;
  /** 1-based line where the record starts. */
  line: number;
  reason: string;
}

/** What the reader yields for each record, in file order. */
export type DatasetItem = DatasetRecord | DatasetIssue;

/** Summary of a set of token lengths. Percentiles are nearest-rank (see `lengthStats`). */
export interface LengthStats {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** Share of outputs that fit in `nPredict` tokens. */
export interface Coverage {
  nPredict: number;
  /** Outputs with length <= nPredict. */
  covered: number;
  /** covered / outputs, in [0, 1]. */
  share: number;
}

/** One recommended benchmark setting. */
export interface Recommendation {
  name: "conservative" | "recommended" | "comprehensive";
  /** Coverage target in [0, 1] (0.75, 0.90, 0.99). */
  target: number;
  nPrompt: number;
  nPredict: number;
  /** Share of outputs covered by nPredict. */
  share: number;
  /** False when no candidate reaches the target (the largest candidate is used). */
  reached: boolean;
  useCase: string;
}
