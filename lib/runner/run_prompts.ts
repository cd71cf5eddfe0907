/** The prompts runner: real text prompts streamed one at a time, context-length scaling, breakdown. */
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { loadTokenizer } from "../tokenizer/load_tokenizer.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";
import type { Case } from "../results/types.ts";
import type { PromptsScenario } from "../scenario/types.ts";
import { quantile } from "../stats/quantile.ts";
import type { KindContext, KindOutcome } from "./types.ts";
import { derivePromptsFigures } from "./run_prompts_derived.ts";
import { type PromptInput, runPromptsRequest } from "./run_prompts_request.ts";
import { buildServingCase } from "./run_workers_case.ts";
import { type CaseRuns, repeatRuns } from "./repeat_runs.ts";

/** The breakdown's parts must add up to the request's wall time within this share. */
export const BREAKDOWN_MARGIN = 0.05;

const DTYPE = { bf16: "bf16", f16: "f16", f32: "f32" } as const;

interface Planned {
  id: string;
  description: string;
  params: Record<string, number | string>;
  input: PromptInput;
  promptTokens: number;
}

/** Prompt ids as the request will see them (for sizing the session). */
function promptIds(tok: TextTokenizer, text: string, chat: boolean): number[] {
  const t = chat && tok.hasChatTemplate
    ? tok.applyChatTemplate([{ role: "user", content: text }])
    : text;
  return tok.encode(t, { addSpecialTokens: !chat });
}

/**
 * Run a prompts scenario: the model's tokenizer (lib/tokenizer: a folder's own, or the bundled
 * one of a synthetic preset's family), then per prompt text a case (id = the prompt's id) and per
 * context length L a case `ctx-L` whose prompt is the first L tokens of the longest text
 * (repeated when shorter), each run as a streamed request (runPromptsRequest), the cases
 * through the one measure loop (repeatRuns: warm-ups, fixed or adaptive runs with TTFT as the
 * key figure, interleave, cool-down). Per run: TTFT, TPOT (median step), decode TPS (with its bandwidth limit), E2E (sum
 * of the timed parts) and the breakdown (tokenizeNs, prefillNs, decodeForwardNs, samplingNs,
 * detokenizeNs, ffiOverheadNs, wallNs, unaccountedNs = wall - parts - FFI and its share; a
 * warning when the share is over BREAKDOWN_MARGIN).
 *
 * @param ctx The bench's open engine, model, probes and record.
 * @param scenario The resolved prompts scenario.
 * @returns Cases, derived figures (TTFT/TPOT fits over context length, breakdown shares, memory
 *   and limits) and warnings.
 * @throws {RangeError} When a prompt does not fit the model's positions.
 * @throws {EngineError} When the engine fails.
 * @example
 * ```ts ignore
 * const out = await runPrompts(ctx, scenario);
 * ```
 */
export async function runPrompts(
  ctx: KindContext,
  scenario: PromptsScenario & { maxCtx: number; file: string },
): Promise<KindOutcome> {
  const { engine, model, modelInfo: mi, record, log, options: o } = ctx;
  const runner = o.runner;
  const tok = await loadTokenizer(ctx.modelSpec);
  const warnings = tok.notes.map((n) => `Tokenizer: ${n}`);
  log(`tokenizer: ${tok.name}${tok.hasChatTemplate ? " (chat template)" : ""}`);
  const chat = (scenario.chatTemplate ?? true) && tok.hasChatTemplate;
  if ((scenario.chatTemplate ?? true) && !tok.hasChatTemplate) {
    warnings.push("The tokenizer has no chat template: prompts are tokenized as plain text");
  }
  const plan: Planned[] = scenario.prompts.map((p) => ({
    id: p.id,
    description: p.text.length > 60 ? `${p.text.slice(0, 57)}...` : p.text,
    params: { prompt: p.id, chatTemplate: chat ? 1 : 0 },
    input: { text: p.text, chatTemplate: chat },
    promptTokens: promptIds(tok, p.text, chat).length,
  }));
  const lengths = ctx.engineInfo.backend === "cpu"
    ? scenario.contextLengthsCpu ?? scenario.contextLengths ?? []
    : scenario.contextLengths ?? [];
  if (lengths.length > 0) {
    const longest = scenario.prompts.reduce((a, p) => (p.text.length > a.text.length ? p : a));
    const ids = tok.encode(longest.text, { addSpecialTokens: false });
    for (const n of lengths) {
      const tokens = Array.from({ length: n }, (_, i) => ids[i % ids.length]);
      plan.push({
        id: `ctx-${n}`,
        description: `${n} tokens of "${longest.id}" (repeated when shorter)`,
        params: { contextTokens: n, promptTokens: n },
        input: { tokens },
        promptTokens: n,
      });
    }
  }
  for (const p of plan) p.params.decodeTokens = scenario.decodeTokens;
  const need = Math.max(...plan.map((p) => p.promptTokens)) + scenario.decodeTokens;
  if (need > mi.maxPositions) {
    throw new RangeError(
      `Cannot run "${scenario.file}": the longest prompt needs ${need} positions but model ` +
        `${mi.name} allows ${mi.maxPositions}`,
    );
  }
  using session = model.createSession({ maxSeqs: 1, maxCtx: Math.ceil(need / 16) * 16 });
  const si = session.info();
  record.model.kvBytesPerToken = si.kvBytesPerToken;
  Object.assign(record.engine, {
    kvDtype: DTYPE[si.kvDtype as keyof typeof DTYPE] ?? "f32",
    maxCtx: si.maxCtx,
    maxSeqs: si.maxSeqs,
    prefillChunk: si.prefillChunk,
  });

  const stepNs: number[][][] = plan.map(() => []);
  const sample: string[] = plan.map(() => "");
  const build = (runs: readonly CaseRuns[]): Case[] =>
    runs.flatMap((r, i) => {
      if (r.runs === 0) return [];
      const p = plan[i];
      const meanPosition = p.promptTokens + scenario.decodeTokens / 2;
      return [buildServingCase({
        id: p.id,
        description: p.description,
        params: { ...p.params, promptTokens: p.promptTokens },
        samples: r.samples,
        warmup: r.warmup,
        series: { stepNs: stepNs[i] },
        counters: { generatedChars: sample[i].length },
        limits: r.samples.decodeTps
          ? {
            decodeTps: decodeLimitTps(
              ctx.bandwidthBps,
              mi.decodeBytes,
              si.kvBytesPerToken,
              meanPosition,
            ),
          }
          : {},
      })];
    });
  const out = await repeatRuns({
    ids: plan.map((p) => p.id),
    options: runner,
    key: "ttftNs",
    shouldStop: o.shouldStop,
    onProgress: o.onProgress,
    onCheckpoint: async (runs) => await ctx.checkpoint(build(runs)),
  }, async (index, phase) => {
    const p = plan[index];
    const r = await runPromptsRequest(
      engine,
      session,
      tok,
      p.input,
      scenario.decodeTokens,
      mi.vocab,
    );
    const decodeSteps = r.stepNs.slice(1);
    const figures: Record<string, number> = {
      promptTokens: r.promptTokens,
      ttftNs: r.ttftNs,
      e2eNs: r.breakdownSumNs,
      tokenizeNs: r.tokenizeNs,
      prefillNs: r.prefillNs,
      decodeForwardNs: r.decodeForwardNs,
      samplingNs: r.samplingNs,
      detokenizeNs: r.detokenizeNs,
      breakdownSumNs: r.breakdownSumNs,
      ffiOverheadNs: r.ffiOverheadNs,
      wallNs: r.wallNs,
      unaccountedNs: r.unaccountedNs,
      unaccountedShare: r.unaccountedNs / r.wallNs,
      prefillTps: r.promptTokens * 1e9 / r.prefillNs,
    };
    if (decodeSteps.length > 0) {
      figures.tpotNs = quantile(decodeSteps, 0.5);
      figures.decodeTps = decodeSteps.length * 1e9 / decodeSteps.reduce((a, b) => a + b, 0);
    }
    if (phase === "measure") {
      stepNs[index].push(r.stepNs);
      sample[index] = r.text;
    }
    return figures;
  });
  const interrupted = out.interrupted;
  const cases = build(out.cases);
  for (const c of cases) {
    const share = c.metrics.unaccountedShare.summary.median;
    if (Math.abs(share) > BREAKDOWN_MARGIN) {
      warnings.push(
        `${c.id}: the breakdown and the measured FFI overhead leave ${(share * 100).toFixed(1)}% ` +
          `of the request's wall time unaccounted, over the ${BREAKDOWN_MARGIN * 100}% margin`,
      );
    }
  }
  const derived = derivePromptsFigures(cases, {
    bandwidthBps: ctx.bandwidthBps,
    decodeBytes: mi.decodeBytes,
    weightBytes: mi.weightBytes,
    kvBytesPerToken: si.kvBytesPerToken,
    kvPoolBytes: si.kvBytes,
    peakBytes: engine.counters().peakBytes,
    loads: [{ sequences: 1, tokens: need }],
    marginShare: BREAKDOWN_MARGIN,
  });
  return { cases, derived, warnings, interrupted };
}
