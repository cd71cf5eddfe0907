/** Benchmark settings chosen from a dataset's token lengths (n-prompt, n-predict, coverage). */
import type { Coverage, LengthStats, Recommendation } from "./types.ts";

/** The n-predict values considered, as llama-bench users pick them. */
export const DEFAULT_N_PREDICT_CANDIDATES: readonly number[] = [512, 1024, 2048, 4096, 8192];

const LEVELS = [
  { name: "conservative", target: 0.75, useCase: "Quick benchmarks" },
  { name: "recommended", target: 0.90, useCase: "Standard evaluation" },
  { name: "comprehensive", target: 0.99, useCase: "Thorough testing" },
] as const;

/** What {@link recommendParameters} returns. */
export interface ParameterChoice {
  /** Prompt length for the benchmark: the smallest power of two (>= 16) >= max(mean, p50). */
  nPrompt: number;
  /** Share of prompts with length <= nPrompt. */
  promptShare: number;
  /** Coverage of each candidate n-predict, ascending; empty without outputs. */
  coverage: Coverage[];
  /** Conservative (>= 75%), recommended (>= 90%), comprehensive (>= 99%); empty without outputs. */
  recommendations: Recommendation[];
}

/**
 * Chooses benchmark parameters as a person reading the length distribution would: n-prompt a
 * round size with headroom over the typical prompt, n-predict the smallest candidate covering
 * 75% / 90% / 99% of outputs (the largest candidate, marked `reached: false`, when none does).
 *
 * @param promptLengths Prompt lengths in tokens (non-empty).
 * @param promptStats `lengthStats(promptLengths)`.
 * @param outputLengths Output lengths in tokens (may be empty: prompt-only datasets).
 * @param candidates n-predict values to consider (positive integers).
 * @returns The choice, with the coverage behind it.
 * @throws {RangeError} When candidates is empty or holds a value that is not a positive integer.
 * @example
 * ```ts
 * import { lengthStats } from "./length_stats.ts";
 * import { recommendParameters } from "./recommend_parameters.ts";
 * const prompts = [40, 60, 70, 110];
 * const c = recommendParameters(prompts, lengthStats(prompts), [300, 400, 900, 1000], [512, 1024]);
 * c.nPrompt; // 128 (mean 70)
 * c.coverage.map((x) => x.share); // [0.5, 1]
 * c.recommendations.map((r) => r.nPredict); // [1024, 1024, 1024]
 * ```
 */
export function recommendParameters(
  promptLengths: readonly number[],
  promptStats: LengthStats,
  outputLengths: readonly number[],
  candidates: readonly number[] = DEFAULT_N_PREDICT_CANDIDATES,
): ParameterChoice {
  if (candidates.length === 0) {
    throw new RangeError("Cannot recommend parameters: no n-predict candidates given");
  }
  for (const c of candidates) {
    if (!Number.isInteger(c) || c <= 0) {
      throw new RangeError(
        `Cannot recommend parameters: n-predict candidates must be positive integers, got ${c}`,
      );
    }
  }
  const typical = Math.max(promptStats.mean, promptStats.p50);
  let nPrompt = 16;
  while (nPrompt < typical) nPrompt *= 2;
  const promptShare = promptLengths.filter((v) => v <= nPrompt).length / promptLengths.length;
  if (outputLengths.length === 0) {
    return { nPrompt, promptShare, coverage: [], recommendations: [] };
  }
  const sorted = [...new Set(candidates)].sort((a, b) => a - b);
  const coverage = sorted.map((nPredict) => {
    const covered = outputLengths.filter((v) => v <= nPredict).length;
    return { nPredict, covered, share: covered / outputLengths.length };
  });
  const recommendations = LEVELS.map((level) => {
    const hit = coverage.find((c) => c.share >= level.target);
    const pick = hit ?? coverage[coverage.length - 1];
    return {
      name: level.name,
      target: level.target,
      nPrompt,
      nPredict: pick.nPredict,
      share: pick.share,
      reached: hit !== undefined,
      useCase: level.useCase,
    };
  });
  return { nPrompt, promptShare, coverage, recommendations };
}
