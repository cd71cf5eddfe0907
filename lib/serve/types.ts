/** Types shared by lmrig serve's scheduler, HTTP handler and server. */
import type { SamplingParams } from "./sample_logits.ts";

/** One generation request as the scheduler runs it (the HTTP layer has validated it). */
export interface GenerationParams {
  /** Prompt token ids, each below the model's vocabulary size (at least one). */
  prompt: readonly number[];
  /** Tokens to generate at most (at least 1). */
  maxTokens: number;
  /** End-of-sequence ids are not drawn before this many tokens exist (vLLM's min_tokens). */
  minTokens: number;
  /** Keep generating past an end-of-sequence token (it is kept in the output). */
  ignoreEos: boolean;
  sampling: SamplingParams;
  /** Seed of the request's sampler (temperature > 0); random when absent. */
  seed?: number;
}

/** Engine timings of a sequence so far, as lmrig serve's `lmrig` extension field carries them. */
export interface LmrigTimings {
  /** Request arrival to the start of its prefill (wall clock), ms. */
  queue_ms: number;
  /** Engine time of its prefill calls, ms. */
  prefill_ms: number;
  /** Engine time of the decode steps (forward + its sample) that made its tokens so far, ms. */
  decode_ms: number;
  /** Engine time of the step that made the latest token (the first: prefill + sample), ms. */
  step_ms: number;
  /** Tokens generated so far. */
  tokens: number;
}

/** Why a sequence ended. */
export type FinishReason = "stop" | "length" | "cancelled" | "error";

/** One generated token with the sequence's timings after it. */
export interface TokenEvent {
  token: number;
  /** "stop" or "length" on the sequence's last token, else null. */
  finishReason: "stop" | "length" | null;
  timings: LmrigTimings;
}

/** How a sequence ended. */
export interface GenerationResult {
  tokens: number[];
  finishReason: FinishReason;
  timings: LmrigTimings;
  /** The engine's message (finishReason "error") or why it was cancelled. */
  error?: string;
}

/** A submitted request: its result, and a way to cancel it (frees its slot at once). */
export interface GenerationHandle {
  readonly done: Promise<GenerationResult>;
  cancel(reason?: string): void;
}

/** Counters of a scheduler since it started (GET /metrics prints them). */
export interface SchedulerStats {
  slots: number;
  maxQueue: number;
  active: number;
  queued: number;
  requestsSubmitted: number;
  requestsFinished: number;
  requestsCancelled: number;
  requestsFailed: number;
  requestsRejected: number;
  promptTokens: number;
  generatedTokens: number;
  prefillCalls: number;
  decodeSteps: number;
  /** Sum over decode steps of the sequences in each (so mean batch = this / decodeSteps). */
  decodeSequences: number;
  /** Largest batch one decode step has advanced. */
  maxBatch: number;
  /** Engine time of prefill calls, decode forwards and samples, ns. */
  prefillNs: number;
  decodeNs: number;
  sampleNs: number;
}
