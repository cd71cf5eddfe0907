/** Options and hooks of the runner. */
import type { Case } from "../results/types.ts";

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
