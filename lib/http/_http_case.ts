/** Runs of one HTTP case -> a record Case: metrics, warm-up figures, error counters, rows. */
import { makeMetric } from "../results/make_metric.ts";
import type { Better, Case, MetricUnit, RequestRow } from "../results/types.ts";
import type { HttpRunFigures } from "./http_run_figures.ts";

/** Unit and direction of every metric an HTTP case records. */
export const HTTP_METRICS: Record<string, [MetricUnit, Better]> = {
  requestsPerSecond: ["requests/s", "higher"],
  outputTps: ["tokens/s", "higher"],
  overallTps: ["tokens/s", "higher"],
  goodputRps: ["requests/s", "higher"],
  goodputShare: ["ratio", "higher"],
  honouredShare: ["ratio", "higher"],
  completed: ["count", "higher"],
  failures: ["count", "lower"],
  peakInFlight: ["count", "higher"],
  clientCpuCores: ["ratio", "lower"],
  clientCpuNsPerChunk: ["ns", "lower"],
  ttftNs: ["ns", "lower"],
  tpotNs: ["ns", "lower"],
  itlNs: ["ns", "lower"],
  e2eNs: ["ns", "lower"],
  queueNs: ["ns", "lower"],
  serverQueueNs: ["ns", "lower"],
  serverEngineNs: ["ns", "lower"],
  transportNs: ["ns", "lower"],
  serverTtftNs: ["ns", "lower"],
  ttftTransportNs: ["ns", "lower"],
  concurrentSpeedup: ["ratio", "higher"],
  sequentialTps: ["tokens/s", "higher"],
  concurrentTps: ["tokens/s", "higher"],
};

/** Collects the runs of one case. */
export class HttpCaseRuns {
  samples: Record<string, number[]> = {};
  warmup: Record<string, number[]> = {};
  counters: Record<string, number> = {};
  rows: RequestRow[] = [];
  reasons: Record<string, string> = {};
  runs = 0;

  /** Add one run's figures (measured runs keep rows and error counts). */
  add(f: HttpRunFigures, phase: "warmup" | "measure", extra: Record<string, number> = {}): void {
    const into = phase === "warmup" ? this.warmup : this.samples;
    for (const [k, v] of Object.entries({ ...f.run, ...extra })) (into[k] ??= []).push(v);
    for (const [k, v] of Object.entries(f.requests)) {
      const list = (into[k] ??= []);
      for (const x of v) list.push(x);
    }
    if (phase === "warmup") return;
    this.runs++;
    for (const [k, n] of Object.entries(f.errors)) {
      this.counters[`errors.${k}`] = (this.counters[`errors.${k}`] ?? 0) + n!;
    }
    for (const [k, why] of Object.entries(f.reasons)) this.reasons[k] ??= why!;
    for (const [k, n] of Object.entries(f.tokenSources)) {
      this.counters[`tokens.${k}`] = (this.counters[`tokens.${k}`] ?? 0) + n;
    }
    for (const r of f.rows) this.rows.push({ run: this.runs, ...r });
  }

  /** A warning per error kind seen in the measured runs: count and the first reason. */
  errorWarnings(id: string): string[] {
    return Object.entries(this.counters).flatMap(([k, n]) =>
      k.startsWith("errors.")
        ? [`${id}: ${n} request(s) failed with ${k.slice(7)}: ${this.reasons[k.slice(7)] ?? ""}`]
        : []
    );
  }

  /** The record Case; metrics without samples are left out. */
  toCase(id: string, description: string, params: Record<string, number | string>): Case {
    const metrics: Case["metrics"] = {};
    for (const [k, v] of Object.entries(this.samples)) {
      const spec = HTTP_METRICS[k];
      if (!spec || v.length === 0) continue;
      metrics[k] = makeMetric(spec[0], spec[1], v);
    }
    const warmup: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(this.warmup)) {
      if (v.length > 0 && !k.endsWith("Ns")) warmup[k] = v;
      else if (v.length > 0) warmup[k] = v.map(Math.round);
    }
    return {
      id,
      description,
      params,
      metrics,
      warmup,
      series: {},
      counters: this.counters,
      requests: this.rows,
    };
  }
}
