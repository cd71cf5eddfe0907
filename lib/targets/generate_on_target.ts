/** One greedy generate run on any target: its native loop, or prefill, sample and decode steps. */
import type { Target, TargetGenerate } from "./types.ts";

/**
 * Generate `nGen` tokens on sequence `seq` of a target from `prompt`, greedily, with
 * engine-timed figures. A target with its own `generate` (lmrig's native loop) runs that;
 * otherwise the sequence is reset, the prompt prefilled, and each step is `decode` of the last
 * sampled token then `sample`, each engine-timed (no JS inside the timed calls; the JS between
 * calls is not counted). stepNs[0] = prefill + first sample (TTFT), stepNs[i] = decode step i +
 * its sample, as lmrig's generate reports them.
 *
 * @param target The target.
 * @param seq The sequence.
 * @param prompt Prompt token ids (at least one).
 * @param nGen Tokens to generate (at least one).
 * @returns The run's figures; `counters` holds the target's counters for the run where known.
 * @throws {RangeError} When the prompt is empty or nGen < 1.
 * @example
 * ```ts
 * import { generateOnTarget } from "./generate_on_target.ts";
 * import { openLmrigTarget } from "./lmrig.ts";
 * using t = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxCtx: 64 });
 * const r = await generateOnTarget(t, 0, [1, 2, 3], 4);
 * if (r.stepNs.length !== 4 || r.generatedTokens !== 4) throw new Error("unexpected");
 * ```
 */
export async function generateOnTarget(
  target: Target,
  seq: number,
  prompt: readonly number[],
  nGen: number,
): Promise<TargetGenerate> {
  if (prompt.length === 0) throw new RangeError("Cannot generate: the prompt is empty");
  if (!Number.isInteger(nGen) || nGen < 1) {
    throw new RangeError(`Cannot generate: nGen must be an integer >= 1, got ${nGen}`);
  }
  if (target.generate) return await target.generate(seq, prompt, nGen);
  target.reset(seq);
  const before = target.counters();
  const prefillNs = await target.prefill(seq, prompt);
  let s = target.sample(seq);
  const stepNs = [prefillNs + s.ns];
  for (let i = 1; i < nGen; i++) {
    const ns = await target.decode([seq], [s.token]);
    s = target.sample(seq);
    stepNs.push(ns + s.ns);
  }
  const after = target.counters();
  const counters: Record<string, number> = {};
  if (before && after) {
    counters.prefillNs = after.prefillNs - before.prefillNs;
    counters.decodeNs = after.decodeNs - before.decodeNs;
  }
  return {
    stepNs,
    ttftNs: stepNs[0],
    prefillNs,
    totalNs: stepNs.reduce((a, b) => a + b, 0),
    promptTokens: prompt.length,
    generatedTokens: nGen,
    counters,
  };
}
