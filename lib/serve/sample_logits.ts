/** Token sampling on a logits row in JavaScript: greedy, temperature, top-k, top-p, banned ids. */

/** Sampling settings of one request (OpenAI / vLLM semantics). */
export interface SamplingParams {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens; 0 or -1 = off. */
  topK: number;
  /** Keep the smallest set whose probability reaches p; 1 = off. */
  topP: number;
}

/**
 * Tokens whose probability is below this share of the most likely one are left out before the
 * top-p sort: over a 152k vocabulary they hold under 2e-7 of the mass, and skipping them keeps a
 * sample under a millisecond.
 */
const NEGLIGIBLE = 1e-12;

/**
 * Draw the next token from `logits`. Temperature 0 takes the argmax (lowest id on ties, as the
 * engines do); otherwise softmax(logits / temperature) restricted to the top-k tokens and then to
 * the top-p nucleus, drawn with `random`. `banned` ids get no probability (min_tokens keeps the
 * end-of-sequence ids out this way).
 *
 * @param logits One row of logits (length vocab).
 * @param params Temperature, top-k, top-p.
 * @param random Uniform [0, 1) source (seeded per request).
 * @param banned Token ids that must not be drawn.
 * @returns The token id.
 * @throws {RangeError} When every token is banned or the logits are empty.
 * @example
 * ```ts
 * import { sampleLogits } from "./sample_logits.ts";
 * const logits = new Float32Array([0.1, 3, 0.2]);
 * sampleLogits(logits, { temperature: 0, topK: 0, topP: 1 }, Math.random); // 1
 * sampleLogits(logits, { temperature: 0, topK: 0, topP: 1 }, Math.random, new Set([1])); // 2
 * ```
 */
export function sampleLogits(
  logits: ArrayLike<number>,
  params: SamplingParams,
  random: () => number,
  banned: ReadonlySet<number> = new Set(),
): number {
  const n = logits.length;
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (banned.has(i)) continue;
    if (best < 0 || logits[i] > logits[best]) best = i;
  }
  if (best < 0) throw new RangeError("Cannot sample: every token is banned or there are none");
  if (params.temperature <= 0) return best;
  const invT = 1 / params.temperature;
  const max = logits[best];
  const floor = Math.log(NEGLIGIBLE) / invT; // logit offset below which exp() < NEGLIGIBLE
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!banned.has(i) && logits[i] - max >= floor) ids.push(i);
  }
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  const k = params.topK > 0 ? Math.min(params.topK, ids.length) : ids.length;
  const weights = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) total += weights[j] = Math.exp((logits[ids[j]] - max) * invT);
  let keep = k;
  if (params.topP < 1) {
    let acc = 0;
    for (let j = 0; j < k; j++) {
      acc += weights[j] / total;
      if (acc >= params.topP) {
        keep = j + 1;
        break;
      }
    }
  }
  let mass = 0;
  for (let j = 0; j < keep; j++) mass += weights[j];
  let r = random() * mass;
  for (let j = 0; j < keep; j++) {
    r -= weights[j];
    if (r < 0) return ids[j];
  }
  return ids[keep - 1];
}
