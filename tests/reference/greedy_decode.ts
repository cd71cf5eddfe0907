// Greedy generation with the reference forward pass, keeping each step's logits and the gap
// between the best and second-best logit, so a caller can tell a real mismatch from a near tie.

import { forward } from "./forward.ts";
import type { ReferenceModel } from "./load_reference_model.ts";

/** The outcome of a greedy run. */
export interface GreedyResult {
  /** Generated tokens: tokens[i] is the argmax after prompt + tokens[0..i-1]. */
  tokens: number[];
  /** Per step: logit of the chosen token minus the best other logit (>= 0). */
  margins: number[];
  /** Per step: the logits the token was chosen from, [vocab]. */
  logits: Float64Array[];
}

/**
 * Generates `nGen` tokens by argmax (lowest id on ties), recomputing the whole sequence at each
 * step so the result does not depend on any cache.
 *
 * @param m the model
 * @param prompt token ids (at least one)
 * @param nGen tokens to generate
 * @returns tokens, margins and logits of each step
 * @example
 * ```ts
 * import { loadReferenceModel } from "./load_reference_model.ts";
 * import { randomWeights } from "./random_weights.ts";
 * import { tinyConfig } from "./tiny_config.ts";
 * import { writeHfFolder } from "./write_hf_folder.ts";
 * const dir = await Deno.makeTempDir();
 * const config = tinyConfig("llama", { num_hidden_layers: 1 });
 * await writeHfFolder(dir, config, randomWeights(config, 1), { dtype: "F32" });
 * const model = await loadReferenceModel(dir);
 * const { tokens } = greedyDecode(model, [1, 5, 9], 4);
 * if (tokens.length !== 4) throw new Error("one token per step");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function greedyDecode(
  m: ReferenceModel,
  prompt: readonly number[],
  nGen: number,
): GreedyResult {
  const seq = [...prompt];
  const result: GreedyResult = { tokens: [], margins: [], logits: [] };
  for (let step = 0; step < nGen; step++) {
    const all = forward(m, seq);
    const logits = all.slice((seq.length - 1) * m.vocab);
    let best = 0;
    for (let t = 1; t < logits.length; t++) if (logits[t] > logits[best]) best = t;
    let second = -Infinity;
    for (let t = 0; t < logits.length; t++) if (t !== best) second = Math.max(second, logits[t]);
    result.tokens.push(best);
    result.margins.push(logits[best] - second);
    result.logits.push(logits);
    seq.push(best);
  }
  return result;
}
