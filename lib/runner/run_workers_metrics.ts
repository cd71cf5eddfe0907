/** A scheduler run -> the workers figures: throughput per run, latencies per request. */
import { quantile } from "../stats/quantile.ts";
import type { ServeRun } from "./run_workers_load.ts";

/** The figures of one run. */
export interface WorkersRunFigures {
  /** One value per run: throughputs, failures, overhead. */
  run: Record<string, number>;
  /** One value per completed request (ITL: per token gap): the latency samples. */
  requests: Record<string, number[]>;
}

/**
 * Figures of one scheduler run. Per run: `prefillTps` (prompt tokens / prefill engine time),
 * `decodeTps` (tokens made by decode steps / their forward time: the batched-decode figure),
 * `generationTps` (the same over forward + sampling), `overallTps` (prompt + generated tokens /
 * makespan), `outputTps` (generated tokens / makespan), `requestsPerSecond` (completed /
 * makespan), `failures`, `meanBatch` (sequences per decode step), `decodeStepNs` (median decode
 * forward), `hostOverheadNs` (JS wall time - engine time: FFI, JS and counter reads, which the
 * virtual clock leaves out) and `hostOverheadShare`. Per request (virtual clock): `ttftNs`
 * (arrival to first token), `queueNs` (arrival to getting a slot), `tpotNs` ((finish - first
 * token) / (tokens - 1)), `e2eNs` (arrival to last token), and `itlNs` (every gap between
 * consecutive tokens of a request). Wall clock (JS time, FFI and JS overhead in) beside them:
 * per run `wallOverallTps`, `wallOutputTps` and `wallRequestsPerSecond` over the run's wall
 * time; per request, closed loop only (the open loop's arrivals are virtual, so its latencies
 * have no wall-clock counterpart), `wallTtftNs` and `wallE2eNs` from admission.
 *
 * @param run The scheduler's run.
 * @returns The figures.
 * @example
 * ```ts ignore
 * const f = workersRunMetrics(await runWorkersLoad(engine, requests, options));
 * f.run.decodeTps; f.requests.ttftNs;
 * ```
 */
export function workersRunMetrics(run: ServeRun): WorkersRunFigures {
  const done = run.requests.filter((r) => r.error === undefined && r.tokens.length > 0);
  const span = run.makespanNs;
  const perSecond = (v: number, ns: number) => (ns > 0 ? v * 1e9 / ns : 0);
  const figures: Record<string, number> = {
    prefillTps: perSecond(run.promptTokens, run.prefillNs),
    decodeTps: perSecond(run.decodeTokens, run.decodeForwardNs),
    generationTps: perSecond(run.decodeTokens, run.decodeForwardNs + run.decodeSampleNs),
    overallTps: perSecond(run.promptTokens + run.generatedTokens, span),
    outputTps: perSecond(run.generatedTokens, span),
    requestsPerSecond: perSecond(done.length, span),
    failures: run.requests.length - done.length,
    meanBatch: run.decodeSteps > 0 ? run.decodeTokens / run.decodeSteps : 0,
    hostOverheadNs: Math.max(0, run.wallNs - run.engineNs),
    hostOverheadShare: run.wallNs > 0 ? Math.max(0, run.wallNs - run.engineNs) / run.wallNs : 0,
    wallOverallTps: perSecond(run.promptTokens + run.generatedTokens, run.wallNs),
    wallOutputTps: perSecond(run.generatedTokens, run.wallNs),
    wallRequestsPerSecond: perSecond(done.length, run.wallNs),
  };
  if (run.stepNs.length > 0) figures.decodeStepNs = quantile(run.stepNs, 0.5);
  if (run.decodeTokens === 0) {
    delete figures.decodeTps;
    delete figures.generationTps;
  }
  const requests: Record<string, number[]> = {
    ttftNs: [],
    queueNs: [],
    tpotNs: [],
    e2eNs: [],
    itlNs: [],
  };
  const closed = done.every((r) => r.arrivalNs === r.admitNs);
  if (closed) {
    requests.wallTtftNs = [];
    requests.wallE2eNs = [];
  }
  for (const r of done) {
    if (closed && Number.isFinite(r.wallFirstTokenNs) && Number.isFinite(r.wallFinishNs)) {
      requests.wallTtftNs.push(r.wallFirstTokenNs - r.wallAdmitNs);
      requests.wallE2eNs.push(r.wallFinishNs - r.wallAdmitNs);
    }
    requests.ttftNs.push(r.firstTokenNs - r.arrivalNs);
    requests.queueNs.push(r.admitNs - r.arrivalNs);
    requests.e2eNs.push(r.finishNs - r.arrivalNs);
    if (r.tokens.length > 1) {
      requests.tpotNs.push((r.finishNs - r.firstTokenNs) / (r.tokens.length - 1));
      for (let i = 1; i < r.tokenNs.length; i++) {
        requests.itlNs.push(r.tokenNs[i] - r.tokenNs[i - 1]);
      }
    }
  }
  return { run: figures, requests };
}
