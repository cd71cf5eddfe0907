/** Options, hooks and the shared kind-runner types of the runner (no runtime code). */
import type { BackendName, ExecutorName } from "../ffi/constants.ts";
import type { Engine, EngineInfo } from "../ffi/engine.ts";
import type { Library } from "../ffi/load_library.ts";
import type { Model, ModelInfo } from "../ffi/model.ts";
import type { Case, Derived, ResultRecord } from "../results/types.ts";
import type { ResolvedScenario } from "../scenario/types.ts";
import type { HttpTargetOptions } from "../http/types.ts";

/** Repetition settings (defaults in resolve_runner_options.ts). */
export interface RunnerOptions {
  /** Warm-up runs per case, reported apart (default 3). */
  warmup: number;
  /** Measured runs per case when not adaptive (default 5). */
  runs: number;
  /** Adaptive: at least this many measured runs (default = runs). */
  minRuns: number;
  /** Adaptive: go on until the case has been measured this long (default 0). */
  minTimeMs: number;
  /** Adaptive: stop once the CV of the case's key figure is at most this (null = off). */
  targetCv: number | null;
  /** Adaptive: never more than this many measured runs (default = runs, or 5 x minRuns). */
  maxRuns: number;
  /** Round-robin the cases run by run to spread drift (thermal, background load). */
  interleave: boolean;
  /** Pause between runs, ms (default 0). */
  cooldownMs: number;
  /** Seed of the random prompt token ids. */
  seed: number;
}

/** A progress event: one run finished. */
export interface ProgressEvent {
  caseId: string;
  phase: "warmup" | "measure";
  /** 1-based index within the phase. */
  run: number;
  /** Runs planned for this case and phase (adaptive: the maximum). */
  planned: number;
  /** Runs finished over the whole scenario, and planned in all. */
  done: number;
  total: number;
  /** Estimated remaining wall time, ms (null until known). */
  etaMs: number | null;
  /** Last run's figures, for display. */
  last: Record<string, number>;
}

/** Turns a prompt text into token ids (the tokenizer lib plugs in here). */
export type Tokenize = (text: string) => number[] | Promise<number[]>;

/** Hooks the caller passes to a runner. */
export interface RunnerHooks {
  onProgress?: (e: ProgressEvent) => void;
  /** Called with the cases measured so far after each case (or round when interleaving). */
  onCheckpoint?: (cases: Case[]) => Promise<void> | void;
  /** True when the user asked to stop (Ctrl-C); checked between runs. */
  shouldStop?: () => boolean;
  /** Needed by cases that give a prompt text. */
  tokenize?: Tokenize;
}

/** Everything a bench run needs. */
export interface BenchOptions {
  scenario: ResolvedScenario;
  /** Model spec; default the scenario's, else chooseDefaultModel. */
  model?: string;
  backend: BackendName;
  executor: ExecutorName;
  threads?: number;
  profile: boolean;
  runner: RunnerOptions;
  /** Record path; default results/<scenario>-<backend>-<stamp>.json under `resultsDir`. */
  out?: string;
  resultsDir: string;
  /** The command line, for the record. */
  command: string[];
  toolVersion: string;
  library?: Library;
  /**
   * Targets every case runs on, in order (`lmrig`, `llama.cpp`); default the scenario's
   * `targets`, else lmrig only.
   */
  targets?: string[];
  /**
   * Weight variants (`--quant bf16,q4_k_m`): each quantised by llama.cpp's quantiser, cached next
   * to the model's GGUF, and run as a target of its own (`llama.cpp:q4_k_m`); default the
   * scenario's `quants`, else the model's own dtype.
   */
  quants?: string[];
  /** A user's llama.cpp build folder instead of the npm prebuilt (else $LMRIG_LLAMA_LIB). */
  llamaLib?: string;
  /**
   * llama.cpp's ggml backend, `cpu`, `cuda`, `vulkan` or `metal` (`--llama-backend`; else
   * $LMRIG_LLAMA_BACKEND, else metal on macOS arm64 and cpu elsewhere): picks the npm package.
   */
  llamaBackend?: string;
  /** An OpenAI-compatible HTTP target instead of an engine (`--target http://...`; lib/http). */
  http?: HttpTargetOptions;
  /** Bandwidth probe buffer, bytes (default: see probeBandwidth). */
  probeBytes?: number;
  log?: (message: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  shouldStop?: () => boolean;
  /** Builds a tokenizer for the model spec (only called when a case gives a prompt text). */
  tokenizerFor?: (modelSpec: string) => Promise<Tokenize>;
}

/** What every kind runner gets from runBench: the open engine, model and probes. */
export interface KindContext {
  options: BenchOptions;
  engine: Engine;
  model: Model;
  engineInfo: EngineInfo;
  modelInfo: ModelInfo;
  /** The model spec actually used (CLI, scenario or default). */
  modelSpec: string;
  /**
   * The run's one read-bandwidth ceiling, bytes/s: the median of the probe samples taken before
   * the cases (`environment.probes.ceilingBps`). Every limit and share of the record uses it.
   */
  bandwidthBps: number;
  /** The record being written; a kind runner may fill in `engine` fields it knows better. */
  record: ResultRecord;
  /** Save these cases as the run's progress (status "running"; see runBench for where). */
  checkpoint: (cases: Case[]) => Promise<void>;
  /** A fresh engine and model on the same backend with another executor (same spec and seed). */
  openEngine: (executor: ExecutorName) => Promise<{ engine: Engine; model: Model }>;
  log: (message: string) => void;
}

/** What a kind runner hands back to runBench. */
export interface KindOutcome {
  cases: Case[];
  derived: Record<string, Derived>;
  warnings: string[];
  interrupted: boolean;
  /** Repetition settings as this kind actually ran them, where they differ from the options. */
  ran?: Partial<RunnerOptions>;
}
