/**
 * TypeScript types of a result record, schema version 2 (docs/results-format.md).
 * Every later stage (compare, charts, report) reads records through these types only.
 * @module
 */

/** The schema version this toolkit writes and reads. */
export const SCHEMA_VERSION = 2 as const;

/** The `schema` tag every record carries. */
export const SCHEMA_NAME = "lmrig.result" as const;

/**
 * Lifecycle of a record: rewritten while running, then complete, interrupted (the user stopped
 * it) or failed (an error ended it; `error` says which, `cases` hold what completed).
 */
export type RecordStatus = "running" | "complete" | "interrupted" | "failed";

/** Unit of a metric; durations are always nanoseconds. */
export type MetricUnit =
  | "ns"
  | "tokens/s"
  | "requests/s"
  | "bytes"
  | "bytes/s"
  | "ratio"
  | "count";

/** Whether a larger or a smaller value is the better one. */
export type Better = "lower" | "higher";

/** Summary statistics of raw samples (sample standard deviation, n-1). */
export interface Summary {
  n: number;
  median: number;
  mean: number;
  stddev: number;
  /** stddev / mean (0 when the mean is 0). */
  cv: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}

/** One measured figure: raw samples, their summary and its hardware bound when known. */
export interface Metric {
  unit: MetricUnit;
  better: Better;
  /** One per measured run, raw, exactly as measured. */
  samples: number[];
  summary: Summary;
  /** The hardware bound of this figure, same unit. */
  limit?: number;
  /** median / limit (higher-better) or limit / median (lower-better). */
  utilisation?: number;
}

/** A run-level figure computed from the cases. */
export interface Derived {
  value: number;
  unit: string;
  description: string;
}

/** One case of a scenario (e.g. S1) with its measured and warm-up samples. */
export interface Case {
  /** "S1", "pos-1024", "workers-8", ...; `S1@llama.cpp` for a case run on a target not lmrig. */
  id: string;
  /** The target (engine) that ran the case; absent in records before targets: lmrig. */
  target?: string;
  description: string;
  /** What identifies the case across records, e.g. `{ promptTokens: 16, decodeTokens: 32 }`. */
  params: Record<string, number | string>;
  /** Measured runs. */
  metrics: Record<string, Metric>;
  /** Warm-up samples, same keys as metrics, reported apart. */
  warmup: Record<string, number[]>;
  /** Per-run sequences, e.g. `stepNs[run][step]`. */
  series: Record<string, number[][]>;
  /** Engine counters for the case (kernels per step, ...). */
  counters: Record<string, number>;
  /**
   * HTTP target only: one row per request of the measured runs (warm-up requests are counted
   * in `warmup` figures, not kept as rows). See {@link RequestRow}.
   */
  requests?: RequestRow[];
}

/**
 * One request of an HTTP run as the client saw it (the detail vLLM's `--save-detailed` keeps).
 * Times are ns on the client's monotonic clock; `dueNs`, `sentNs`, `doneNs` from the run start,
 * the others from the moment the request was sent.
 */
export interface RequestRow {
  /** 1-based measured run of the case. */
  run: number;
  /** Request index in its run; the prompt and endpoint follow from it (round-robin). */
  index: number;
  /** Index into `http.endpoints`. */
  endpoint: number;
  /** Load isolate that sent it (0 = the main one). */
  isolate: number;
  ok: boolean;
  /** lib/http HttpErrorKind: connect-refused, http-5xx, stream-cut, idle-timeout, ... */
  errorKind?: string;
  /** What failed and why (the server's message for HTTP errors). */
  error?: string;
  status?: number;
  /** Due (open loop: the arrival), sent, and result in; sent - due = client-side wait. */
  dueNs: number;
  sentNs: number;
  doneNs: number;
  ttftNs?: number;
  e2eNs?: number;
  /** (E2E - TTFT) / (tokens - 1), tokens > 1 only. */
  tpotNs?: number;
  /** Gaps between content chunks (0 where two came in one read). */
  itlNs?: number[];
  outputTokens: number;
  /** Where outputTokens came from: the usage block, the tokenizer, or the chunk count. */
  tokenSource: "usage" | "tokenizer" | "chunks";
  /** usage.prompt_tokens, null when the server sent no usage. */
  promptTokens: number | null;
  /** Exact-length requests: whether the server made exactly max_tokens (null: not asked). */
  honoured: boolean | null;
  /** The server's own timings, ms as sent (lmrig serve's `lmrig` field, llama-server's `timings`). */
  server?: {
    source: string;
    queueMs?: number;
    prefillMs?: number;
    decodeMs?: number;
    firstTokenMs?: number;
    tokens?: number;
    promptTokens?: number;
  };
}

/** How an HTTP run reached its server(s) and shaped its load (records of `--target http://`). */
export interface HttpRunInfo {
  /** Base URLs (`.../v1`), requests round-robin over them. */
  endpoints: string[];
  api: "completions" | "chat";
  /** The `model` field sent. */
  modelName: string;
  /** The environment variable the API key was read from (never the key), or null. */
  apiKeyEnv: string | null;
  /** Load-generating isolates (1 = the main event loop; more are Deno workers). */
  isolates: number;
  timeoutsMs: { connect: number; firstToken: number; idle: number; total: number };
  /** ignore_eos and min_tokens were sent (random prompts of exact lengths). */
  exactTokens: boolean;
  /** Goodput SLOs, ms (absent: none given). */
  slo?: { ttftMs?: number; tpotMs?: number; e2eMs?: number };
  arrival: "poisson" | "constant";
  durationS: number | null;
  maxConcurrency: number | null;
  /** The tokenizer used to count output tokens when a server sent no usage (a model spec), or null. */
  tokenizer: string | null;
  /** What /v1/models listed (ids), when it answered. */
  serverModels: string[];
  /** Workers: the dataset file the prompts came from (absent: random token ids). */
  dataset?: string;
}

/** GPU facts of the environment (null on CPU-only runs). */
export interface GpuInfo {
  name: string;
  smCount: number;
  computeCapability: string;
  memoryBytes: number;
  clockKhz: number;
  memClockKhz: number;
  memBusBits: number;
  driverVersion: string;
  runtimeVersion: string;
}

/**
 * One target (engine) of a run, as the target reported itself (lib/targets `facts()`), with
 * the weights it ran. Written by runs given targets (`--target`); absent in older records.
 */
export interface TargetEnvironment {
  /** `lmrig` or `llama.cpp`. */
  name: string;
  /** The name of its cases (`case.target`) when it differs: a weight variant, `llama.cpp:q4_k_m`. */
  label?: string;
  /** The engine's own version string. */
  version: string;
  /** How the engine was built or obtained (flags; llama.cpp: npm package and version, or user build). */
  build: string;
  /** The library file that ran. */
  libraryPath: string;
  /** Compute threads the target uses. */
  threads: number;
  /** Backend actually in use (`cpu`, `cuda`, ...; for llama.cpp the ggml device and variant). */
  backend: string;
  /** How a KV fill to a position is done. */
  kvFill: "random" | "prefill";
  /** Every setting that changes the figures, as set (not as defaulted). */
  settings: Record<string, string | number | boolean>;
  /** Engine-specific facts (llama.cpp: npm package and version, release, CPU variant loaded). */
  extra: Record<string, string | number | boolean>;
  model: {
    arch: string;
    layers: number;
    vocab: number;
    /** Bytes of weights as loaded (quantised size for a quantised GGUF). */
    weightBytes: number;
    /** Element type of the weights (`bf16`, `f32`, `q4_k_m`, ...). */
    dtype: string;
    /** lmrig: every weight type and its tensor count, largest share of bytes first
     * (`q4_K:169,q6_K:29,f32:57`); absent for other targets and records before ABI 3. */
    weightTypes?: string;
    /** Where the weights came from: preset name, folder or file. */
    source: string;
    /** The GGUF file the target read (llama.cpp), else absent. */
    file?: string;
    /** That file's size on disk, bytes (weights, metadata and tokenizer). */
    fileBytes?: number;
    /** sha256 of the source weights converted to that file (null: synthetic, not hashed). */
    contentHash: string | null;
  };
}

/** The machine and build the record was measured on. */
export interface Environment {
  /** The targets the cases ran on, in run order (absent: lmrig only, older records). */
  targets?: TargetEnvironment[];
  os: string;
  osRelease: string;
  arch: string;
  cpu: { name: string; cores: number; simd: string[]; simdUsed: string };
  memoryBytes: number;
  gpu: GpuInfo | null;
  buildFlags: string;
  probes: {
    /** lmr_probe_bandwidth samples before the cases (their spread is the ceiling's). */
    bandwidthBps: Metric;
    /**
     * The run's one read-bandwidth ceiling, bytes/s: the median of `bandwidthBps`. Every limit,
     * share and bandwidth-limited figure of the record uses exactly this value.
     */
    ceilingBps: number;
    /** The same probe after the cases (absent when the run was interrupted); a drift check only. */
    bandwidthAfterBps?: Metric;
    /** Schema 1 only: short probes between grid cases, raw bytes/s (no longer written). */
    bandwidthDuringBps?: number[];
    /** lmr_probe_launch, eager. */
    launchEagerNs: number;
    /** lmr_probe_launch, graph. */
    launchGraphNs: number;
  };
}

/** The tool that wrote the record. */
export interface ToolInfo {
  name: "lmrig";
  version: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  abiVersion: number;
  libraryVersion: string;
  deno: string;
  command: string[];
}

/** Weight element type names used in records. */
export type DtypeName = "bf16" | "f16" | "f32";
/** Weight element types a model may hold (a GGUF adds ggml's quantised block types). */
export type WeightDtypeName = DtypeName | "q8_0" | "q4_K" | "q6_K";

/** The model that was measured. */
export interface RecordModel {
  /** "synthetic:qwen2.5-1.5b" or a folder path (HTTP: the model name sent). */
  spec: string;
  name: string;
  arch: string;
  /** The weight dtype holding the most bytes (`weightTypes` gives the whole mix); "unknown" on
   * HTTP records (the server holds the weights). */
  dtype: WeightDtypeName | "unknown";
  /** Every weight type and its tensor count, largest share of bytes first
   * (`q4_K:169,q6_K:29,f32:57`); absent in records written before it existed. */
  weightTypes?: string;
  synthetic: boolean;
  seed: number | null;
  contentHash: string | null;
  params: number;
  /** Bytes of the weights as stored (quantised: their blocks), from the real tensor sizes. */
  weightBytes: number;
  /** Weight bytes one decode step reads; every bandwidth limit uses it. */
  decodeBytes: number;
  kvBytesPerToken: number;
  /** Layers, hidden, heads, ... */
  config: Record<string, number | string | boolean>;
  loadNs: number;
}

/** Engine settings the run used (as the engine reports them). */
export interface EngineSettings {
  /** "http" on records of an HTTP target (the engine is on the server). */
  backend: "cpu" | "cuda" | "metal" | "http";
  executor: "eager" | "graph";
  threads: number;
  kvDtype: DtypeName;
  maxCtx: number;
  maxSeqs: number;
  prefillChunk: number;
  profile: boolean;
}

/** Scenario kinds a record can hold. */
export type ScenarioKind = "grid" | "cache-sweep" | "workers" | "prompts";

/** The scenario as run. */
export interface ScenarioInfo {
  kind: ScenarioKind;
  name: string;
  file: string;
  description: string;
  /** The validated declaration, defaults filled in. */
  resolved: unknown;
}

/** Repetition settings of the runner. */
export interface RunnerInfo {
  warmup: number;
  runs: number;
  minRuns: number;
  /** At most this many measured runs (schema 2; equals minRuns when not adaptive). */
  maxRuns?: number;
  minTimeMs: number;
  targetCv: number | null;
  interleave: boolean;
  cooldownMs: number;
  seed: number;
}

/** One result record: one JSON document per benchmark run. */
export interface ResultRecord {
  schema: typeof SCHEMA_NAME;
  schemaVersion: typeof SCHEMA_VERSION;
  /** "<UTC stamp>-<8 hex>". */
  id: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  status: RecordStatus;
  /** Why the run failed (status "failed" only): the error message. */
  error?: string;
  tool: ToolInfo;
  environment: Environment;
  model: RecordModel;
  engine: EngineSettings;
  scenario: ScenarioInfo;
  runner: RunnerInfo;
  cases: Case[];
  /** Run-level figures (prefillScalingMsPerToken, decodeTpsCv, maxDecodeTps, ...). */
  derived: Record<string, Derived>;
  /** Noisy cases, outliers, figures over their limits, ... */
  warnings: string[];
  /**
   * Present when the run drove an HTTP target: the endpoints and load settings. The engine is
   * then on the server: `model` holds what the client knows (numeric facts 0, dtype "unknown"),
   * `engine.backend` is "http" and `environment` describes the client machine, with no probes.
   */
  http?: HttpRunInfo;
}
