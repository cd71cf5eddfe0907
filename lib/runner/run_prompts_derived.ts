/** Run-level figures of a prompts record: context-length fits, the breakdown, memory and limits. */
import { memoryDerived, type MemoryDerivedFacts } from "../memory/memory_derived.ts";
import type { Case, Derived } from "../results/types.ts";
import { linearFit } from "../stats/linear_fit.ts";
import { quantile } from "../stats/quantile.ts";

/** The parts of the timing breakdown: metric key and label. */
export const BREAKDOWN_PARTS: readonly [string, string][] = [
  ["tokenizeNs", "Tokenization"],
  ["prefillNs", "Prefill"],
  ["decodeForwardNs", "Decode forward"],
  ["samplingNs", "Sampling"],
  ["detokenizeNs", "Detokenization"],
];

/**
 * Derived figures: `ttftSlopeNsPerToken`, `ttftInterceptNs`, `ttftFitR2` and the same for
 * `tpot...` (least squares of the median TTFT / TPOT of the `ctx-L` cases over L, when there
 * are two or more), the breakdown over the text prompts' requests (all measured runs pooled):
 * `breakdown{Part}Ns` (median) and `breakdown{Part}Share` (that median / the sum of the part
 * medians), `breakdownUnaccountedShare` (median of (wall - parts) / wall) and
 * `breakdownMarginShare` (the margin it is held to), plus memoryDerived's entries.
 *
 * @param cases The prompts cases.
 * @param f Memory facts and the breakdown margin.
 * @returns Derived figures by key.
 * @example
 * ```ts ignore
 * const d = derivePromptsFigures(cases, { ...facts, marginShare: 0.05 });
 * d.breakdownPrefillShare.value;
 * ```
 */
export function derivePromptsFigures(
  cases: Case[],
  f: MemoryDerivedFacts & { marginShare: number },
): Record<string, Derived> {
  const out = memoryDerived(f);
  const ctx = cases
    .filter((c) => c.params.contextTokens !== undefined)
    .sort((a, b) => Number(a.params.contextTokens) - Number(b.params.contextTokens));
  if (ctx.length >= 2) {
    const xs = ctx.map((c) => Number(c.params.contextTokens));
    for (const [key, name] of [["ttftNs", "ttft"], ["tpotNs", "tpot"]] as const) {
      if (!ctx.every((c) => c.metrics[key])) continue;
      const fit = linearFit(xs, ctx.map((c) => c.metrics[key].summary.median));
      const label = key === "ttftNs" ? "TTFT" : "TPOT";
      out[`${name}SlopeNsPerToken`] = {
        value: fit.slope,
        unit: "ns",
        description: `Least-squares slope of median ${label} over context length (ns per token)`,
      };
      out[`${name}InterceptNs`] = {
        value: fit.intercept,
        unit: "ns",
        description: `Intercept of that ${label} fit (context length 0)`,
      };
      out[`${name}FitR2`] = {
        value: fit.r2,
        unit: "ratio",
        description: `R^2 of the ${label} fit`,
      };
    }
  }
  const text = cases.filter((c) => c.params.contextTokens === undefined);
  const pooled = (key: string) => text.flatMap((c) => c.metrics[key]?.samples ?? []);
  const medians = BREAKDOWN_PARTS.map(([key]) => {
    const s = pooled(key);
    return s.length > 0 ? quantile(s, 0.5) : NaN;
  });
  if (medians.every(Number.isFinite)) {
    const sum = medians.reduce((a, b) => a + b, 0);
    BREAKDOWN_PARTS.forEach(([key, label], i) => {
      const name = key[0].toUpperCase() + key.slice(1, -2);
      out[`breakdown${name}Ns`] = {
        value: medians[i],
        unit: "ns",
        description: `${label}: median per request over the text prompts`,
      };
      out[`breakdown${name}Share`] = {
        value: medians[i] / sum,
        unit: "ratio",
        description: `${label}: share of the sum of the part medians`,
      };
    });
    const ffi = pooled("ffiOverheadNs");
    if (ffi.length > 0) {
      out.breakdownFfiOverheadNs = {
        value: quantile(ffi, 0.5),
        unit: "ns",
        description: "FFI overhead per request, measured (JS wall around engine calls - engine " +
          "time), median; outside the parts and their shares",
      };
    }
    out.breakdownUnaccountedShare = {
      value: quantile(pooled("unaccountedShare"), 0.5),
      unit: "ratio",
      description: "(wall time - parts - measured FFI overhead) / wall time, median per " +
        "request: the JS loop between calls",
    };
    out.breakdownMarginShare = {
      value: f.marginShare,
      unit: "ratio",
      description: "The parts must add up to the wall time within this share",
    };
  }
  return out;
}
