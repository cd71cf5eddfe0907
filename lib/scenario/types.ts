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
  /**
   * Targets every case runs on, alternating within each case (`["lmrig", "llama.cpp"]`);
   * default lmrig only; `--target` overrides. Every kind drives llama.cpp.
   */
  targets?: string[];
  /**
   * Weight variants every target runs (`["bf16", "q4_k_m"]`): each is quantised from the model's
   * GGUF by llama.cpp's quantiser and is a target of its own in the record
   * (`llama.cpp:q4_k_m`); default the model's own dtype only; `--quant` overrides.
   */
  quants?: string[];
  /** How the scenario runs against an HTTP target (`--target http://...`); ignored otherwise. */
  http?: HttpScenarioOptions;
}

/**
 * Settings of a workers or prompts scenario run through the HTTP target (docs/serving.md):
 * service-level objectives for goodput, the open-loop arrival process, bounds and the client.
 */
export interface HttpScenarioOptions {
  /**
   * Goodput SLOs, ms: a request is good when it completed and meets every one given (vLLM's
   * `--goodput ttft:MS tpot:MS e2el:MS`). Default none (no goodput figures).
   */
  slo?: { ttftMs?: number; tpotMs?: number; e2eMs?: number };
  /** Open-loop arrivals: "poisson" (default) or "constant" (evenly spaced). */
  arrival?: "poisson" | "constant";
  /** Each load run also stops sending after this many seconds (default: no time bound). */
  durationS?: number;
  /** Requests in flight at once in every load (default: the load's own, e.g. N users). */
  maxConcurrency?: number;
  /** Load-generating isolates (default 1; more are Deno workers). */
  isolates?: number;
  /** Per-request bounds, ms (defaults: connect 10,000, first token 60,000, idle 30,000, total 600,000). */
  timeoutsMs?: { connect?: number; firstToken?: number; idle?: number; total?: number };
  /**
   * Ask for exactly decodeTokens tokens (`ignore_eos`, `min_tokens`); default true for workers
   * (random prompts of exact lengths), false for prompts (real texts end where the model stops).
   */
  exactTokens?: boolean;
  /**
   * Workers over HTTP: prompts from a dataset file (JSONL, JSON array or CSV; lib/dataset reads
   * it) instead of random token ids, cycled from a per-run offset; max_tokens is each record's
   * output length in tokens when it has an output and --model gives the tokenizer, else
   * decodeTokens. `--dataset PATH` sets `path`.
   */
  dataset?: { path: string; promptField?: string; outputField?: string; maxRecords?: number };
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
  /**
   * KV cache dtype on the cpu backend (default: the backend's, F32). BF16 halves the KV bytes a
   * step reads; the AVX-512 attention kernel also runs faster on it.
   */
  kvDtypeCpu?: "f32" | "f16" | "bf16";
  prefillLen: number;
  /** Measured decode steps per position (default 10): the default of `--runs` for this kind. */
  steps: number;
  executors: ("eager" | "graph")[];
  backends: ("cpu" | "cuda" | "metal")[];
}

/**
 * Open loop: requests arrive as a seeded Poisson process at each rate (one case per rate), and
 * up to maxInFlight of them are served at once; the rest wait in a FIFO queue (the wait counts
 * in their TTFT).
 */
export interface OpenLoad {
  /** Arrival rates, requests per second (give this or capacityFractions). */
  requestsPerSecond?: number[];
  /**
   * Arrival rates as fractions of the request throughput the closed loop measured at
   * maxInFlight sequences (which must be one of `parallel`), so one file fits any machine.
   */
  capacityFractions?: number[];
  /** Requests per run. */
  requests: number;
  /** Sequences served at once. */
  maxInFlight: number;
}

/** The fields of a workers scenario the cpu backend may replace (its runs are far slower). */
export interface WorkersOverrides {
  parallel?: number[];
  promptTokens?: number;
  decodeTokens?: number;
  requestsPerWorker?: number;
  prefillBudgetTokens?: number;
  sequentialRequests?: number;
  open?: OpenLoad | null;
}

/**
 * Concurrent sequences served by a continuous-batching scheduler: per N in `parallel`, a closed
 * loop with N requests in flight (a finished request is replaced at once), plus the same
 * requests one at a time vs together, plus open-loop Poisson arrivals.
 */
export interface WorkersScenario extends ScenarioBase {
  kind: "workers";
  /** Sequence counts, e.g. [1, 2, 4, 8]. */
  parallel: number[];
  promptTokens: number;
  /** Tokens each request generates, the first one included. */
  decodeTokens: number;
  /** Closed loop: requests per sequence slot in one run (default 2: each is replaced once). */
  requestsPerWorker?: number;
  /** Prompt tokens prefilled per scheduler step, across sequences (default 256). */
  prefillBudgetTokens?: number;
  /** Requests run one after another and then together (0 = off; default 5). */
  sequentialRequests?: number;
  /** Open-loop cases (default none). */
  open?: OpenLoad | null;
  /** Replacements on the cpu backend. */
  cpu?: WorkersOverrides;
}

/** A prompt given as text. */
export interface PromptText {
  id: string;
  text: string;
}

/**
 * Given prompt texts, each tokenized with the model's tokenizer (chat template applied when it
 * has one) and generating decodeTokens with streamed detokenization; plus prompts of given
 * context lengths cut from the longest text, for the TTFT/TPOT scaling fit.
 */
export interface PromptsScenario extends ScenarioBase {
  kind: "prompts";
  prompts: PromptText[];
  decodeTokens: number;
  /** Wrap each text in the model's chat template as a user turn (default true). */
  chatTemplate?: boolean;
  /** Prompt lengths in tokens for the context-length scaling cases (default none). */
  contextLengths?: number[];
  /** contextLengths on the cpu backend. */
  contextLengthsCpu?: number[];
}

/** Any scenario declaration. */
export type Scenario = GridScenario | CacheSweepScenario | WorkersScenario | PromptsScenario;

/** A validated scenario with its defaults filled and the file it came from. */
export type ResolvedScenario = Scenario & {
  description: string;
  file: string;
  maxCtx: number;
};
