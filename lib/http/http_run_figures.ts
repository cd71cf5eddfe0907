/**
 * One HTTP load run -> the figures vLLM's `bench serve` and GuideLLM report: request, output
 * and total token throughput, goodput against SLOs, per-request TTFT / TPOT / E2E, pooled ITL,
 * error counts by kind, and (when the server reports its own timings) E2E split into server
 * queue, engine and transport.
 */
import type { RequestRow } from "../results/types.ts";
import type { HttpLoadRun } from "./run_http_load.ts";
import type { HttpErrorKind } from "./types.ts";

/** Goodput SLOs, ms (a request is good when it completed and meets every one given). */
export interface Slo {
  ttftMs?: number;
  tpotMs?: number;
  e2eMs?: number;
}

/** The figures of one run. */
export interface HttpRunFigures {
  /** One value per run (throughputs, counts, shares). */
  run: Record<string, number>;
  /** One value per completed request (ITL: per gap), pooled over runs by the caller. */
  requests: Record<string, number[]>;
  /** Failed requests by kind. */
  errors: Partial<Record<HttpErrorKind, number>>;
  /** The first reason seen per kind. */
  reasons: Partial<Record<HttpErrorKind, string>>;
  /** Completed requests by token source. */
  tokenSources: Record<string, number>;
  /** One row per request. */
  rows: Omit<RequestRow, "run">[];
}

/**
 * Figures of one run. Duration = run start to the last result (vLLM's benchmark duration).
 * Per run: `requestsPerSecond` (completed / duration), `outputTps` (output tokens / duration),
 * `overallTps` (prompt + output tokens / duration: vLLM's total token throughput; prompt tokens
 * from usage, else `promptTokensOf`), `completed`, `failures`, `peakInFlight`, and with SLOs
 * `goodputRps` (good / duration) and `goodputShare` (good / sent); with exact-length requests
 * `honouredShare` (share that made exactly max_tokens); the client's own cost:
 * `clientCpuCores` (its CPU time / duration: cores the load generator kept busy) and
 * `clientCpuNsPerChunk` (CPU time per streamed chunk). Per completed request: `ttftNs`,
 * `tpotNs` ((E2E - TTFT) / (tokens - 1), tokens > 1), `e2eNs`, `queueNs` (client-side wait:
 * sent - due), `itlNs` (every content-chunk gap), and with server timings `serverQueueNs`,
 * `serverEngineNs` (prefill + decode), `transportNs` (E2E - queue - engine: HTTP, JSON, SSE,
 * detokenization and scheduling outside the engine), `serverTtftNs` and `ttftTransportNs`.
 * For goodput a request with one token has TPOT 0 (vLLM's rule).
 *
 * @param run The load run.
 * @param options SLOs, and the prompt length of request i when no usage says it.
 * @returns The figures.
 * @example
 * ```ts ignore
 * const f = httpRunFigures(await runHttpLoad(plan), { slo: { ttftMs: 500 } });
 * f.run.goodputRps; f.requests.ttftNs;
 * ```
 */
export function httpRunFigures(
  run: HttpLoadRun,
  options: { slo?: Slo; promptTokensOf?: (index: number) => number | null } = {},
): HttpRunFigures {
  const s = run.durationNs / 1e9;
  const per = (v: number) => (s > 0 ? v / s : 0);
  const requests: Record<string, number[]> = {
    ttftNs: [],
    tpotNs: [],
    e2eNs: [],
    queueNs: [],
    itlNs: [],
  };
  const push = (k: string, v: number) => (requests[k] ??= []).push(v);
  const errors: HttpRunFigures["errors"] = {};
  const reasons: HttpRunFigures["reasons"] = {};
  const tokenSources: Record<string, number> = {};
  const rows: HttpRunFigures["rows"] = [];
  let completed = 0, good = 0, output = 0, prompt = 0, exact = 0, honoured = 0, chunks = 0;
  const slo = options.slo;
  for (const r of run.requests) {
    const tpot = r.ok && r.outputTokens > 1 && r.ttftNs !== undefined && r.e2eNs !== undefined
      ? (r.e2eNs - r.ttftNs) / (r.outputTokens - 1)
      : undefined;
    chunks += r.chunks;
    rows.push({
      index: r.index,
      endpoint: r.endpoint,
      isolate: r.isolate,
      ok: r.ok,
      ...(r.errorKind ? { errorKind: r.errorKind, error: r.error } : {}),
      ...(r.status !== undefined ? { status: r.status } : {}),
      dueNs: Math.round(r.dueNs),
      sentNs: Math.round(r.sentNs),
      doneNs: Math.round(r.doneNs),
      ...(r.ttftNs !== undefined ? { ttftNs: Math.round(r.ttftNs) } : {}),
      ...(r.e2eNs !== undefined && r.ok ? { e2eNs: Math.round(r.e2eNs) } : {}),
      ...(tpot !== undefined ? { tpotNs: Math.round(tpot) } : {}),
      itlNs: r.itlNs.map(Math.round),
      outputTokens: r.outputTokens,
      tokenSource: r.tokenSource,
      promptTokens: r.promptTokens,
      honoured: r.honoured,
      ...(r.server ? { server: { ...r.server } } : {}),
    });
    if (r.honoured !== null) {
      exact++;
      if (r.honoured) honoured++;
    }
    if (!r.ok) {
      const k = r.errorKind ?? "stream-cut";
      errors[k] = (errors[k] ?? 0) + 1;
      reasons[k] ??= r.error;
      continue;
    }
    completed++;
    tokenSources[r.tokenSource] = (tokenSources[r.tokenSource] ?? 0) + 1;
    output += r.outputTokens;
    prompt += r.promptTokens ?? options.promptTokensOf?.(r.index) ?? 0;
    push("queueNs", Math.max(0, r.sentNs - r.dueNs));
    if (r.ttftNs === undefined || r.e2eNs === undefined) continue; // no content at all
    push("ttftNs", r.ttftNs);
    push("e2eNs", r.e2eNs);
    if (tpot !== undefined) push("tpotNs", tpot);
    for (const g of r.itlNs) requests.itlNs.push(g);
    if (slo) {
      const ok = (slo.ttftMs === undefined || r.ttftNs <= slo.ttftMs * 1e6) &&
        (slo.tpotMs === undefined || (tpot ?? 0) <= slo.tpotMs * 1e6) &&
        (slo.e2eMs === undefined || r.e2eNs <= slo.e2eMs * 1e6);
      if (ok) good++;
    }
    const sv = r.server;
    if (sv && sv.prefillMs !== undefined && sv.decodeMs !== undefined) {
      const queue = (sv.queueMs ?? 0) * 1e6;
      const engine = (sv.prefillMs + sv.decodeMs) * 1e6;
      if (sv.queueMs !== undefined) push("serverQueueNs", queue);
      push("serverEngineNs", engine);
      push("transportNs", r.e2eNs - queue - engine);
      if (sv.firstTokenMs !== undefined) {
        push("serverTtftNs", sv.firstTokenMs * 1e6);
        push("ttftTransportNs", r.ttftNs - sv.firstTokenMs * 1e6);
      }
    }
  }
  const figures: Record<string, number> = {
    requestsPerSecond: per(completed),
    outputTps: per(output),
    overallTps: per(prompt + output),
    completed,
    failures: run.requests.length - completed,
    peakInFlight: run.peakInFlight,
  };
  if (slo) {
    figures.goodputRps = per(good);
    figures.goodputShare = run.requests.length > 0 ? good / run.requests.length : 0;
  }
  if (exact > 0) figures.honouredShare = honoured / exact;
  if (run.clientCpuNs > 0) {
    figures.clientCpuCores = run.durationNs > 0 ? run.clientCpuNs / run.durationNs : 0;
    if (chunks > 0) figures.clientCpuNsPerChunk = run.clientCpuNs / chunks;
  }
  for (const k of Object.keys(requests)) if (requests[k].length === 0) delete requests[k];
  return { run: figures, requests, errors, reasons, tokenSources, rows };
}
