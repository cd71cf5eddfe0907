/**
 * The target interface: what every runner calls to drive an engine, whichever engine it is, and
 * the facts and capabilities a target declares about itself.
 */
import type { TargetEnvironment } from "../results/types.ts";

/**
 * What a target can do. A scenario kind names the ones it needs, and
 * {@link requireCapabilities} refuses the run before anything starts when one is missing.
 *
 * - `prefill-timed`: the engine times each prefill itself (no FFI/JS time inside).
 * - `step-timed`: the engine times each decode step itself.
 * - `batched-decode`: one decode call advances N sequences by one token each.
 * - `kv-fill-random`: the KV cache of a sequence can be put at a position with random data
 *   (no forward pass; lmrig).
 * - `kv-fill-prefill`: the KV cache is put at a position by a real prefill (llama-bench -d style).
 * - `per-step-times`: a time for every decode step, not only totals.
 * - `counters`: engine counters (tokens, times) readable between calls.
 * - `peak-memory`: the engine reports its peak allocation.
 * - `executors`: eager vs captured-graph execution can be chosen.
 * - `sampling`: the engine samples (argmax) on its own logits, timed apart.
 * - `logits`: the full logits of a sequence's last token can be read.
 */
export type Capability =
  | "prefill-timed"
  | "step-timed"
  | "batched-decode"
  | "kv-fill-random"
  | "kv-fill-prefill"
  | "per-step-times"
  | "counters"
  | "peak-memory"
  | "executors"
  | "sampling"
  | "logits";

/** Every capability name, for validation and listings. */
export const CAPABILITIES: readonly Capability[] = [
  "prefill-timed",
  "step-timed",
  "batched-decode",
  "kv-fill-random",
  "kv-fill-prefill",
  "per-step-times",
  "counters",
  "peak-memory",
  "executors",
  "sampling",
  "logits",
];

/** Facts a target reports for the environment manifest of a record (the record's own type). */
export type TargetFacts = Omit<TargetEnvironment, "model">;

/** Engine counters a target can report (since open or the last reset); absent fields are null. */
export interface TargetCounters {
  prefillNs: number;
  decodeNs: number;
  prefillTokens: number;
  decodeTokens: number;
  /** Peak bytes the engine allocated; null where the engine does not say. */
  peakBytes: number | null;
}

/** One generate run's engine-timed figures (see {@link Target.generate}). */
export interface TargetGenerate {
  /** stepNs[0] = TTFT (prefill + first sample), stepNs[i] = decode step i (forward + sample). */
  stepNs: number[];
  ttftNs: number;
  prefillNs: number;
  totalNs: number;
  promptTokens: number;
  generatedTokens: number;
  /** Engine counters of this run (names as the engine gives them), empty when it has none. */
  counters: Record<string, number>;
}

/** The weights a target runs and their provenance. */
export type TargetModelInfo = Omit<TargetEnvironment["model"], "file" | "contentHash">;

/**
 * One engine with one model and a KV cache for `maxSeqs` sequences. Times are engine-timed
 * nanoseconds: measured around the engine's synchronising call with no JS work inside.
 */
export interface Target {
  /** `lmrig` or `llama.cpp`. */
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Sequences the KV cache holds. */
  readonly maxSeqs: number;
  /** Tokens per sequence. */
  readonly maxCtx: number;
  facts(): TargetFacts;
  model(): TargetModelInfo;
  /**
   * Append `tokens` to sequence `seq` and compute the last token's logits.
   * @returns The engine time of the prefill in ns.
   */
  prefill(seq: number, tokens: ArrayLike<number>): Promise<number>;
  /**
   * One decode step: append `tokens[i]` to `seqs[i]` for every i, in one engine call.
   * @returns The engine time of the step in ns.
   */
  decode(seqs: ArrayLike<number>, tokens: ArrayLike<number>): Promise<number>;
  /** The logits of the last computed token of `seq` (length vocab), copied out. */
  logits(seq: number): Float32Array;
  /** Greedy next token of `seq` from its current logits, with the time it took in ns. */
  sample(seq: number): { token: number; ns: number };
  /**
   * Put `seq` at position `pos` (random KV data or a real prefill, see `facts().kvFill`).
   * @returns The time it took in ns (a prefill time when done by prefill).
   */
  fillKv(seq: number, pos: number, seed?: number): Promise<number>;
  /** Tokens `seq` holds. */
  seqLen(seq: number): number;
  /** Forget `seq`'s tokens. */
  reset(seq: number): void;
  /**
   * Optional: keep only the first `len` tokens of `seq` (drop the rest of its KV). Lets a runner
   * fill a position once by prefill and then repeat single steps there (llama.cpp).
   */
  truncate?(seq: number, len: number): void;
  /** Engine counters, or null when the target has none. */
  counters(): TargetCounters | null;
  /** Messages the engine logged (warnings and errors), oldest first. */
  warnings(): string[];
  /**
   * Optional: the engine's own generate loop on `seq` (prefill, then decode until `nGen` tokens
   * exist, sampling greedily), with its per-step times. Targets without one are driven step by
   * step by {@link generateOnTarget}. Resets `seq` first.
   */
  generate?(seq: number, prompt: readonly number[], nGen: number): Promise<TargetGenerate>;
  /** Release the engine, model and KV cache. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}
