/**
 * Scenario declarations: what a scenario file (scenarios/*.ts) default-exports.
 * Four kinds, one question each; `grid` runs cases of prompt/decode lengths (S1-S6),
 * `cache-sweep` times single decode steps at cache positions, `workers` decodes N sequences
 * together, `prompts` runs given texts. The runner fills defaults (see validate_scenario.ts).
 * @module
 */

/** Fields every kind shares. */
export interface ScenarioBase {
  /** Short name used in result file names, e.g. "s1-s6". Letters, digits, "-", "_", ".". */
  name: string;
  description?: string;
  /** Default model spec: "synthetic:<preset>" or a Hugging Face folder (the CLI may override). */
  model?: string;
  /** Default warm-up runs per case. */
  warmup?: number;
  /** Default measured runs per case. */
  runs?: number;
  /** Default KV cache capacity per sequence (tokens); default: the longest case, rounded up. */
  maxCtx?: number;
}

/** One case of a grid: a request of promptTokens (or a text) generating decodeTokens. */
export interface GridCase {
  /** Stable id across records, e.g. "S1". */
  id: string;
  description?: string;
  /** Prompt length in tokens (random ids from the runner's seed unless `prompt` is given). */
  promptTokens: number;
  /** Tokens to generate, the first one included. */
  decodeTokens: number;
  /** A prompt text, tokenized by the tokenizer hook; promptTokens then caps its length. */
  prompt?: string;
}

/** A grid of generate requests (S1-S6). */
export interface GridScenario extends ScenarioBase {
  kind: "grid";
  cases: GridCase[];
}

/** Decode step time at cache positions with the KV filled by random data. */
export interface CacheSweepScenario extends ScenarioBase {
  kind: "cache-sweep";
  /** Positions to time; "log2" = 1, 2, 4, ... up to maxCacheLen - prefillLen. */
  positions: number[] | "log2";
  maxCacheLen: number;
  /** maxCacheLen on the cpu backend, where each step is far slower (default: maxCacheLen). */
  maxCacheLenCpu?: number;
  prefillLen: number;
  /** Timed decode steps per position and run. */
  steps: number;
  executors: ("eager" | "graph")[];
  backends: ("cpu" | "cuda" | "metal")[];
}

/** Closed loop: every worker sends its next request when the last one ends; open: at a rate. */
export type LoadMode = { mode: "closed" } | { mode: "open"; requestsPerSecond: number };

/** N sequences decoding together. */
export interface WorkersScenario extends ScenarioBase {
  kind: "workers";
  /** Sequence counts, e.g. [1, 2, 4, 8]. */
  parallel: number[];
  promptTokens: number;
  decodeTokens: number;
  load: LoadMode;
}

/** A prompt given as text. */
export interface PromptText {
  id: string;
  text: string;
}

/** Given prompt texts, each generating decodeTokens. */
export interface PromptsScenario extends ScenarioBase {
  kind: "prompts";
  prompts: PromptText[];
  decodeTokens: number;
}

/** Any scenario declaration. */
export type Scenario = GridScenario | CacheSweepScenario | WorkersScenario | PromptsScenario;

/** A validated scenario with its defaults filled and the file it came from. */
export type ResolvedScenario = Scenario & {
  description: string;
  file: string;
  maxCtx: number;
};
