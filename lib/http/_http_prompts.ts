/**
 * The prompts scenario (scenarios/latency.ts) through the HTTP target: each text one request at
 * a time (chat API: the server applies its own chat template), and the ctx-L cases as token-id
 * prompts cut from the longest text (completions API; needs --model for the tokenizer).
 */
import type { Case } from "../results/types.ts";
import { repeatRuns } from "../runner/repeat_runs.ts";
import type { PromptsScenario } from "../scenario/types.ts";
import { HttpCaseRuns } from "./_http_case.ts";
import type { HttpKindContext, HttpKindOutcome } from "./_http_context.ts";
import { httpRunFigures } from "./http_run_figures.ts";
import type { HttpApi } from "./types.ts";

interface Planned {
  id: string;
  description: string;
  params: Record<string, number | string>;
  prompt: string | number[];
  api: HttpApi;
}

/** Run a prompts scenario against the HTTP target. */
export async function httpPrompts(
  ctx: HttpKindContext,
  scenario: PromptsScenario,
): Promise<HttpKindOutcome> {
  const o = ctx.options;
  const warnings: string[] = [];
  const chat = (scenario.chatTemplate ?? true) && ctx.http.api !== "completions";
  const api: HttpApi = chat ? "chat" : "completions";
  const plan: Planned[] = scenario.prompts.map((p) => ({
    id: p.id,
    description: p.text.length > 60 ? `${p.text.slice(0, 57)}...` : p.text,
    params: { prompt: p.id, chatTemplate: chat ? 1 : 0 },
    prompt: p.text,
    api,
  }));
  const lengths = o.backend === "cpu"
    ? scenario.contextLengthsCpu ?? scenario.contextLengths ?? []
    : scenario.contextLengths ?? [];
  if (lengths.length > 0 && !ctx.tokenizer) {
    warnings.push(
      "The ctx-L cases were skipped: they cut token ids from the document, which needs the " +
        "model's tokenizer (pass --model SPEC)",
    );
  } else if (lengths.length > 0 && ctx.tokenizer) {
    const longest = scenario.prompts.reduce((a, p) => (p.text.length > a.text.length ? p : a));
    const ids = ctx.tokenizer.encode(longest.text, { addSpecialTokens: false });
    for (const n of lengths) {
      plan.push({
        id: `ctx-${n}`,
        description: `${n} tokens of "${longest.id}" (repeated when shorter)`,
        params: { contextTokens: n, promptTokens: n },
        prompt: Array.from({ length: n }, (_, i) => ids[i % ids.length]),
        api: "completions",
      });
    }
  }
  for (const p of plan) p.params.decodeTokens = scenario.decodeTokens;
  const exact = ctx.http.exactTokens ?? false;
  const collected = plan.map(() => new HttpCaseRuns());
  const out = await repeatRuns({
    ids: plan.map((p) => p.id),
    options: o.runner,
    key: "e2eNs",
    shouldStop: ctx.stopped,
    onProgress: o.onProgress,
  }, async (index, phase) => {
    const p = plan[index];
    const run = await ctx.load({
      api: p.api,
      exactTokens: exact,
      prompts: [p.prompt],
      maxTokens: [scenario.decodeTokens],
      shape: { kind: "closed", users: 1 },
      maxRequests: 1,
    });
    if (ctx.stopped()) return null;
    const f = httpRunFigures(run, {
      slo: ctx.http.slo,
      promptTokensOf: () => (typeof p.prompt === "string" ? null : p.prompt.length),
    });
    collected[index].add(f, phase);
    return { ...f.run, e2eNs: f.requests.e2eNs?.[0] ?? 0, ttftNs: f.requests.ttftNs?.[0] ?? 0 };
  });
  const cases: Case[] = [];
  for (const [i, p] of plan.entries()) {
    if (collected[i].runs === 0) continue;
    warnings.push(...collected[i].errorWarnings(p.id));
    cases.push(collected[i].toCase(p.id, p.description, p.params));
  }
  await ctx.checkpoint(cases);
  return { cases, warnings, interrupted: out.interrupted };
}
