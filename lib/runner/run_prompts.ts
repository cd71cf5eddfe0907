/** The prompts runner: real text prompts streamed one at a time, context-length scaling, breakdown. */
import { decodeLimitTps } from "./decode_limit_tps.ts";
import { loadTokenizer } from "../tokenizer/load_tokenizer.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";
import type { Case, Derived } from "../results/types.ts";
import type { PromptsScenario } from "../scenario/types.ts";
import { quantile } from "../stats/quantile.ts";
import type { KindContext, KindOutcome } from "./types.ts";
import { derivePromptsFigures } from "./run_prompts_derived.ts";
import { type PromptInput, runPromptsRequest } from "./run_prompts_request.ts";
import { buildServingCase } from "./run_workers_case.ts";
import { type CaseRuns, repeatRuns } from "./repeat_runs.ts";
import { openRunTargets, type RunTarget } from "./open_run_targets.ts";
import { targetWarnings } from "./target_warnings.ts";

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
 * warning when the share is over BREAKDOWN_MARGIN). With several targets (`--target`, `--quant`)
 * every case runs on each (the same prompt ids), the targets taking turns run by run within the
 * case; a case on another target is `<id>@<label>` and its run-level figures are prefixed
 * `<label>.`.
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

  const run = await openRunTargets(ctx, {
    kind: "prompts",
    maxSeqs: 1,
    maxCtx: si.maxCtx,
    lmrig: { engine, model, session },
  });
  record.environment.targets = run.environment;
  warnings.push(...run.warnings);
  try {
    return await measureOn(run.targets);
  } finally {
    run.close();
  }

  async function measureOn(targets: RunTarget[]): Promise<KindOutcome> {
    const T = targets.length;
    const vocab = Math.min(mi.vocab, ...targets.map((t) => t.target.model().vocab));
    // Case-major, targets adjacent: A@t1, A@t2, B@t1, B@t2, ...
    const states = plan.flatMap((p, i) => targets.map((rt) => ({ p, i, rt })));
    const idOf = (s: (typeof states)[number]) =>
      s.rt.label === "lmrig" ? s.p.id : `${s.p.id}@${s.rt.label}`;
    const stepNs: number[][][] = states.map(() => []);
    const sample: string[] = states.map(() => "");
    const build = (runs: readonly (CaseRuns | undefined)[]): Case[] =>
      runs.flatMap((r, k) => {
        if (!r || r.runs === 0) return [];
        const { p, rt } = states[k];
        const meanPosition = p.promptTokens + scenario.decodeTokens / 2;
        const c = buildServingCase({
          id: idOf(states[k]),
          description: p.description,
          params: { ...p.params, promptTokens: p.promptTokens },
          samples: r.samples,
          warmup: r.warmup,
          series: { stepNs: stepNs[k] },
          counters: { generatedChars: sample[k].length },
          limits: r.samples.decodeTps
            ? {
              decodeTps: decodeLimitTps(
                ctx.bandwidthBps,
                rt.decodeBytes,
                rt.kvBytesPerToken,
                meanPosition,
              ),
            }
            : {},
        });
        return [T > 1 ? { ...c, target: rt.label } : c];
      });
    const once = async (k: number, phase: "warmup" | "measure") => {
      const { p, rt } = states[k];
      const r = await runPromptsRequest(rt.target, tok, p.input, scenario.decodeTokens, vocab);
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
        stepNs[k].push(r.stepNs);
        sample[k] = r.text;
      }
      return figures;
    };
    // One plan per case whose targets take turns run by run (ABAB...), or with --interleave
    // one plan round-robining everything.
    const groups = runner.interleave || T === 1
      ? [states.map((_, k) => k)]
      : plan.map((_, i) => Array.from({ length: T }, (_, t) => i * T + t));
    const collected: (CaseRuns | undefined)[] = states.map(() => undefined);
    const progress = { done: 0, total: states.length * (runner.warmup + runner.minRuns) };
    let interrupted = false;
    for (const group of groups) {
      if (interrupted) break;
      const out = await repeatRuns({
        ids: group.map((k) => idOf(states[k])),
        options: T > 1 ? { ...runner, interleave: true } : runner,
        key: "ttftNs",
        shouldStop: o.shouldStop,
        onProgress: (e) => {
          progress.done = e.done;
          o.onProgress?.(e);
        },
        progressOffset: { ...progress },
        onCheckpoint: async (runs) => {
          runs.forEach((r, j) => (collected[group[j]] = r));
          await ctx.checkpoint(build(collected));
        },
      }, (j, phase) => once(group[j], phase));
      out.cases.forEach((r, j) => (collected[group[j]] = r));
      interrupted = out.interrupted;
    }
    const cases = build(collected);
    for (const c of cases) {
      const share = c.metrics.unaccountedShare.summary.median;
      if (Math.abs(share) > BREAKDOWN_MARGIN) {
        warnings.push(
          `${c.id}: the breakdown and the measured FFI overhead leave ` +
            `${(share * 100).toFixed(1)}% of the request's wall time unaccounted, over the ` +
            `${BREAKDOWN_MARGIN * 100}% margin`,
        );
      }
    }
    const derived: Record<string, Derived> = {};
    for (const rt of targets) {
      const lmrig = rt.label === "lmrig";
      const d = derivePromptsFigures(
        cases.filter((c) => (c.target ?? "lmrig") === rt.label),
        {
          bandwidthBps: ctx.bandwidthBps,
          decodeBytes: rt.decodeBytes,
          weightBytes: lmrig ? mi.weightBytes : rt.target.model().weightBytes,
          kvBytesPerToken: rt.kvBytesPerToken,
          kvPoolBytes: lmrig ? si.kvBytes : si.maxCtx * rt.kvBytesPerToken,
          peakBytes: lmrig ? engine.counters().peakBytes : 0,
          loads: [{ sequences: 1, tokens: need }],
          marginShare: BREAKDOWN_MARGIN,
        },
      );
      for (const [key, v] of Object.entries(d)) derived[lmrig ? key : `${rt.label}.${key}`] = v;
    }
    warnings.push(...targetWarnings(targets));
    return { cases, derived, warnings, interrupted };
  }
}
