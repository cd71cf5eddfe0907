/** Adapts any target to the scheduler's calls (the workers and prompts runners' engine side). */
import type { Target } from "../targets/types.ts";
import type { ServeEngine } from "./run_workers_load.ts";

/**
 * The {@link ServeEngine} of a target: every call returns the target's own engine time of that
 * call (measured around the engine's synchronising call, no JS inside). KV blocks in use are
 * unknown to a generic target, so `usedBlocks` is left out (peak KV blocks read 0).
 *
 * @param target The target whose sequences the scheduler uses.
 * @returns The adapter.
 * @example
 * ```ts
 * import { targetServeEngine } from "./target_serve_engine.ts";
 * import { openLmrigTarget } from "../targets/lmrig.ts";
 * using t = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxCtx: 64 });
 * const serve = targetServeEngine(t);
 * const ns = await serve.prefill(0, [1, 2, 3]);
 * if (!(ns > 0) || serve.sample(0).token < 0) throw new Error("unexpected");
 * ```
 */
export function targetServeEngine(target: Target): ServeEngine {
  return {
    prefill: (seq, tokens) => target.prefill(seq, tokens),
    decode: (seqs, tokens) => target.decode(seqs, tokens),
    sample: (seq) => target.sample(seq),
    reset: (seq) => target.reset(seq),
  };
}
