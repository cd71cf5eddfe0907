/**
 * The workers scenario through the HTTP target: `workers-N` closed loops of N users,
 * `sequential-K` (K requests one user after another, then K users at once) and `open-...`
 * open-loop arrivals (a rate sweep), with the same case ids and params as the in-process
 * runner so that compare matches them.
 */
import { readDataset } from "../dataset/read_dataset.ts";
import type { Case } from "../results/types.ts";
import { randomTokens } from "../runner/random_tokens.ts";
import { repeatRuns } from "../runner/repeat_runs.ts";
import type { WorkersScenario } from "../scenario/types.ts";
import { quantile } from "../stats/quantile.ts";
import { HttpCaseRuns } from "./_http_case.ts";
import type { HttpKindContext, HttpKindOutcome } from "./_http_context.ts";
import { type HttpRunFigures, httpRunFigures } from "./http_run_figures.ts";
import type { LoadShape } from "./run_http_load.ts";

/** A run's figures for the progress line: the per-run ones and the median TTFT. */
function progressFigures(f: HttpRunFigures): Record<string, number> {
  const t = f.requests.ttftNs;
  return t && t.length > 0 ? { ...f.run, ttftNs: quantile(t, 0.5) } : f.run;
}

/** Random prompt ids are drawn from [16, 256): valid in every vocabulary. */
const PROMPT_VOCAB = 256;

/** Run a workers scenario against the HTTP target. */
export async function httpWorkers(
  ctx: HttpKindContext,
  scenario: WorkersScenario,
): Promise<HttpKindOutcome> {
  const o = ctx.options;
  const runner = o.runner;
  const cfg = {
    requestsPerWorker: 2,
    sequentialRequests: 5,
    open: null,
    ...scenario,
    ...(o.backend === "cpu" ? scenario.cpu : {}),
  };
  if (o.backend === "cpu" && scenario.cpu) {
    ctx.log(`--backend cpu: the scenario's cpu figures (${cfg.parallel.join(", ")} users)`);
  }
  const api = ctx.http.api ?? "completions";
  const exact = ctx.http.exactTokens ?? true;
  const tok = ctx.tokenizer;
  const warnings: string[] = [];
  if (api === "chat") {
    warnings.push(
      tok
        ? "Chat API: the random prompt ids are decoded to text and re-tokenized by the server " +
          "(its chat template adds tokens): prompt lengths are the usage block's, not exact"
        : "Chat API without --model: prompts are words, not exact token counts",
    );
  }
  const data = ctx.http.dataset ? await datasetPrompts(ctx) : null;
  if (data) {
    ctx.log(`dataset: ${data.texts.length} prompts from ${ctx.http.dataset!.path}`);
  }
  const prompt = (seed: number): string | number[] => {
    const ids = randomTokens(cfg.promptTokens, PROMPT_VOCAB, seed >>> 0);
    if (api === "completions") return ids;
    return tok
      ? tok.decode(ids)
      : Array.from({ length: cfg.promptTokens }, () => "hello").join(" ");
  };
  // A dataset's records are taken in order from a per-run offset, with their own max_tokens.
  const offsets = new Map<(string | number[])[], number>();
  const prompts = (n: number, salt: number) => {
    if (!data) {
      return Array.from({ length: n }, (_, i) => prompt(runner.seed * 7919 + salt * 131 + i));
    }
    const at = (runner.seed * 7919 + salt * 131) % data.texts.length;
    const list = Array.from({ length: n }, (_, i) => data.texts[(at + i) % data.texts.length]);
    offsets.set(list, at);
    return list;
  };
  const promptTokensOf = (i: number) =>
    data ? data.promptTokens[i] ?? null : api === "completions" ? cfg.promptTokens : null;
  const base = { api, exactTokens: data ? false : exact };
  const load = async (shape: LoadShape, list: (string | number[])[], cap?: number) => {
    const at = offsets.get(list);
    const maxTokens = data && at !== undefined
      ? list.map((_, i) => data.maxTokens[(at + i) % data.texts.length])
      : [cfg.decodeTokens];
    const r = await ctx.load({
      ...base,
      maxTokens,
      prompts: list,
      shape,
      maxRequests: list.length,
      durationMs: ctx.http.durationMs,
      maxConcurrency: cap ?? ctx.http.maxConcurrency,
    });
    return httpRunFigures(r, {
      slo: ctx.http.slo,
      promptTokensOf: (i) =>
        data && at !== undefined ? promptTokensOf((at + i) % data.texts.length) : promptTokensOf(i),
    });
  };
  const cases: Case[] = [];
  const options = { ...runner, interleave: true };
  let interrupted = false;
  const measure = async (
    ids: string[],
    once: (index: number, phase: "warmup" | "measure", run: number, into: HttpCaseRuns) => Promise<
      Record<string, number> | null
    >,
  ) => {
    const collected = ids.map(() => new HttpCaseRuns());
    const out = await repeatRuns({
      ids,
      options,
      key: "outputTps",
      shouldStop: ctx.stopped,
      onProgress: o.onProgress,
    }, async (index, phase, n) => {
      const f = await once(
        index,
        phase,
        n + (phase === "warmup" ? 0 : runner.warmup) - 1,
        collected[index],
      );
      return f === null || ctx.stopped() ? null : f;
    });
    if (out.interrupted) interrupted = true;
    return collected;
  };
  const params = (extra: Record<string, number | string>): Record<string, number | string> =>
    data
      ? { ...extra, dataset: ctx.http.dataset!.path.split("/").pop()! }
      : { ...extra, promptTokens: cfg.promptTokens, decodeTokens: cfg.decodeTokens };

  const closed = await measure(
    cfg.parallel.map((n) => `workers-${n}`),
    async (i, phase, k, into) => {
      const n = cfg.parallel[i];
      const f = await load(
        { kind: "closed", users: n },
        prompts(n * cfg.requestsPerWorker, n * 1000 + k),
      );
      into.add(f, phase);
      return progressFigures(f);
    },
  );
  for (const [i, n] of cfg.parallel.entries()) {
    if (closed[i].runs === 0) continue;
    const count = n * cfg.requestsPerWorker;
    warnings.push(...closed[i].errorWarnings(`workers-${n}`));
    cases.push(closed[i].toCase(
      `workers-${n}`,
      `${n} user(s), closed loop, ${count} requests of ${cfg.promptTokens} + ` +
        `${cfg.decodeTokens} tokens over HTTP`,
      params({ workers: n, load: "closed", requests: count }),
    ));
  }
  await ctx.checkpoint(cases);

  const k = cfg.sequentialRequests;
  if (k > 0 && !interrupted) {
    const [m] = await measure([`sequential-${k}`], async (_, phase, run, into) => {
      const list = prompts(k, 900000 + run);
      const seq = await load({ kind: "closed", users: 1 }, list);
      if (ctx.stopped()) return null;
      const con = await load({ kind: "closed", users: k }, list);
      const figures = {
        sequentialTps: seq.run.overallTps,
        concurrentTps: con.run.overallTps,
        concurrentSpeedup: con.run.overallTps / seq.run.overallTps,
      };
      if (phase === "measure") {
        for (const [key, v] of Object.entries(figures)) (into.samples[key] ??= []).push(v);
        into.runs++;
      }
      return figures;
    });
    if (m.runs > 0) {
      const c = m.toCase(
        `sequential-${k}`,
        `${k} requests one at a time, then all ${k} at once (total tokens/s)`,
        params({ requests: k }),
      );
      delete c.requests;
      cases.push(c);
      await ctx.checkpoint(cases);
    }
  }

  const open = cfg.open;
  let plan: { rate: number; fraction: number | null }[] = [];
  if (open?.requestsPerSecond) {
    plan = open.requestsPerSecond.map((r) => ({ rate: r, fraction: null }));
  } else if (open?.capacityFractions) {
    const ref = cases.find((c) => c.params.workers === open.maxInFlight);
    const capacity = ref?.metrics.requestsPerSecond?.summary.median ?? NaN;
    if (capacity > 0) {
      plan = open.capacityFractions.map((f) => ({ rate: f * capacity, fraction: f }));
    } else if (!interrupted) {
      warnings.push(`Open loop skipped: no closed-loop throughput at ${open.maxInFlight} users`);
    }
  }
  if (open && plan.length > 0 && !interrupted) {
    const ids = plan.map(({ rate, fraction }) =>
      fraction !== null ? `open-${Math.round(fraction * 100)}pct` : `open-${rate}rps`
    );
    const runs = await measure(ids, async (i, phase, run, into) => {
      const f = await load({
        kind: "open",
        requestsPerSecond: plan[i].rate,
        arrival: ctx.http.arrival,
        seed: (runner.seed + 31 * run + 7) >>> 0,
      }, prompts(open.requests, 500000 + run));
      into.add(f, phase);
      return progressFigures(f);
    });
    for (const [i, m] of runs.entries()) {
      if (m.runs === 0) continue;
      const { rate, fraction } = plan[i];
      warnings.push(...m.errorWarnings(ids[i]));
      const p: Record<string, number | string> = {
        load: "open",
        requestsPerSecond: Number(rate.toPrecision(4)),
        maxInFlight: open.maxInFlight,
        requests: open.requests,
      };
      if (fraction !== null) p.capacityFraction = fraction;
      cases.push(m.toCase(
        ids[i],
        `${ctx.http.arrival === "poisson" ? "Poisson" : "Constant-rate"} arrivals at ` +
          `${rate.toPrecision(3)} requests/s` +
          (fraction !== null
            ? ` (${fraction} x the closed-loop capacity at ${open.maxInFlight})`
            : ""),
        params(p),
      ));
    }
    await ctx.checkpoint(cases);
  }
  for (const c of cases) {
    const honoured = c.metrics.honouredShare?.summary.min;
    if (honoured !== undefined && honoured < 1) {
      warnings.push(
        `${c.id}: the server made a different token count than max_tokens in ` +
          `${((1 - c.metrics.honouredShare.summary.mean) * 100).toFixed(0)}% of requests ` +
          `(ignore_eos / min_tokens not honoured): output lengths vary`,
      );
    }
    const ttft = c.metrics.ttftNs?.samples;
    if (ttft && ttft.length > 0 && quantile(ttft, 0.5) <= 0) {
      warnings.push(`${c.id}: a median TTFT of 0 (the server sent everything at once?)`);
    }
  }
  return { cases, warnings, interrupted };
}

/** The prompts of a dataset file, with max_tokens from each record's output where known. */
async function datasetPrompts(
  ctx: HttpKindContext,
): Promise<{ texts: string[]; maxTokens: number[]; promptTokens: (number | null)[] }> {
  const d = ctx.http.dataset!;
  const limit = d.maxRecords ?? 1000;
  const tok = ctx.tokenizer;
  const out = {
    texts: [] as string[],
    maxTokens: [] as number[],
    promptTokens: [] as (number | null)[],
  };
  let skipped = 0;
  for await (
    const item of readDataset(d.path, { promptField: d.promptField, outputField: d.outputField })
  ) {
    if (!item.ok || item.prompt === "") {
      skipped++;
      continue;
    }
    out.texts.push(item.prompt);
    const n = item.output !== null && tok
      ? tok.encode(item.output, { addSpecialTokens: false }).length
      : 0;
    out.maxTokens.push(
      n > 0
        ? n
        : ctx.options.scenario.kind === "workers"
        ? (ctx.options.scenario as WorkersScenario).decodeTokens
        : 16,
    );
    out.promptTokens.push(tok ? tok.encode(item.prompt, { addSpecialTokens: false }).length : null);
    if (out.texts.length >= limit) break;
  }
  if (out.texts.length === 0) {
    throw new Error(`Cannot use dataset "${d.path}": it has no usable prompt (${skipped} skipped)`);
  }
  return out;
}
