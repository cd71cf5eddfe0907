/** The markdown report of a record measured through the HTTP target (`--target http://...`). */
import type { Metric, ResultRecord } from "../results/types.ts";
import { MIN_P99_SAMPLES, ms } from "./_serving_tables.ts";
import { formatTable } from "./format_table.ts";

/** "mean / p50 / p90 / p99 (n=N)", ms; no p99 from fewer than MIN_P99_SAMPLES samples. */
function latency(m: Metric | undefined): string {
  if (!m) return "-";
  const s = m.summary;
  const p99 = s.n >= MIN_P99_SAMPLES ? ms(s.p99) : "-";
  return `${[ms(s.mean), ms(s.p50), ms(s.p90), p99].join(" / ")} (n=${s.n})`;
}

const med = (m: Metric | undefined, digits = 2) => m ? m.summary.median.toFixed(digits) : "-";

/**
 * Render an HTTP record as vLLM's and GuideLLM's benchmarks present one: per case the request,
 * output and total token throughput and goodput (medians over runs), TTFT / TPOT / ITL / E2E as
 * mean / median / p90 / p99 over every request of the measured runs, the server's own split of
 * E2E when it sent timings, error counts by kind, and the run's warnings.
 *
 * @param record A record with an `http` section.
 * @returns Markdown text ending with a newline.
 * @throws {TypeError} When the record has no `http` section.
 * @example
 * ```ts ignore
 * console.log(renderHttpReport(record));
 * ```
 */
export function renderHttpReport(record: ResultRecord): string {
  const h = record.http;
  if (!h) throw new TypeError(`Cannot render record ${record.id} as HTTP: it has no http section`);
  const out: string[] = [
    `# ${record.scenario.name} over HTTP: ${h.endpoints.join(", ")}`,
    "",
    `Model "${h.modelName}", ${h.api} API, ${h.isolates} load isolate(s), ` +
    `${
      h.exactTokens ? "exact lengths asked (ignore_eos, min_tokens)" : "lengths left to the server"
    }` +
    (h.slo
      ? `, SLOs ${
        Object.entries(h.slo).map(([k, v]) => `${k.replace(/Ms$/, "")} <= ${v} ms`).join(", ")
      }`
      : "") +
    `; client: ${record.environment.cpu.name || record.environment.arch}, ` +
    `${record.environment.cpu.cores} CPUs. Status ${record.status}.`,
    "",
  ];
  const cases = record.cases;
  out.push(
    "Throughput (median of the measured runs; duration = run start to the last response; " +
      "client us/chunk: the load generator's CPU time per streamed chunk)",
    "",
    formatTable(
      [
        "Case",
        "Load",
        "OK",
        "Failed",
        "Req/s",
        "Output tok/s",
        "Total tok/s",
        "Goodput req/s",
        "Good share",
        "Peak in flight",
        "Client us/chunk",
      ],
      cases.filter((c) => c.metrics.requestsPerSecond).map((c) => {
        const m = c.metrics;
        const load = c.params.load === "open"
          ? `open ${c.params.requestsPerSecond} req/s`
          : c.params.workers !== undefined
          ? `closed, ${c.params.workers} user(s)`
          : "1 request";
        const rows = c.requests ?? [];
        return [
          c.id,
          load,
          String(rows.filter((r) => r.ok).length),
          String(rows.filter((r) => !r.ok).length),
          med(m.requestsPerSecond),
          med(m.outputTps, 1),
          med(m.overallTps, 1),
          med(m.goodputRps),
          m.goodputShare ? `${(m.goodputShare.summary.median * 100).toFixed(0)}%` : "-",
          med(m.peakInFlight, 0),
          m.clientCpuNsPerChunk ? (m.clientCpuNsPerChunk.summary.median / 1e3).toFixed(1) : "-",
        ];
      }),
    ),
    "",
    "Latency per request, ms: mean / median / p90 / p99 (n samples; no p99 from fewer than " +
      `${MIN_P99_SAMPLES}). TTFT: send to first content chunk; TPOT: (E2E - TTFT) / (tokens - 1); ` +
      "ITL: every gap between content chunks; E2E: send to last chunk",
    "",
    formatTable(
      ["Case", "TTFT", "TPOT", "ITL", "E2E", "Client wait"],
      cases.filter((c) => c.metrics.ttftNs).map((c) => [
        c.id,
        latency(c.metrics.ttftNs),
        latency(c.metrics.tpotNs),
        latency(c.metrics.itlNs),
        latency(c.metrics.e2eNs),
        latency(c.metrics.queueNs),
      ]),
    ),
  );
  const split = cases.filter((c) => c.metrics.serverEngineNs);
  if (split.length > 0) {
    out.push(
      "",
      "E2E split by the server's own timings (median, ms): queue + engine (prefill + decode) + " +
        "transport (HTTP, JSON, SSE, detokenization and scheduling outside the engine)",
      "",
      formatTable(
        ["Case", "E2E", "Server queue", "Engine", "Transport", "Transport share", "TTFT transport"],
        split.map((c) => {
          const m = c.metrics;
          const e2e = m.e2eNs?.summary.median ?? NaN;
          const tr = m.transportNs?.summary.median ?? NaN;
          return [
            c.id,
            ms(e2e),
            ms(m.serverQueueNs?.summary.median),
            ms(m.serverEngineNs?.summary.median),
            ms(tr),
            Number.isFinite(tr / e2e) ? `${((tr / e2e) * 100).toFixed(1)}%` : "-",
            ms(m.ttftTransportNs?.summary.median),
          ];
        }),
      ),
    );
  }
  const errors = cases.flatMap((c) =>
    Object.entries(c.counters).filter(([k]) => k.startsWith("errors.")).map(([k, n]) => {
      const kind = k.slice(7);
      const why = c.requests?.find((r) => r.errorKind === kind)?.error ?? "";
      return [c.id, kind, String(n), why.length > 80 ? `${why.slice(0, 77)}...` : why];
    })
  );
  if (errors.length > 0) {
    out.push(
      "",
      "Errors by kind",
      "",
      formatTable(["Case", "Kind", "Count", "First reason"], errors),
    );
  }
  const seq = cases.filter((c) => c.metrics.concurrentSpeedup);
  if (seq.length > 0) {
    out.push(
      "",
      formatTable(
        ["Case", "Sequential tok/s", "Concurrent tok/s", "Concurrent / sequential"],
        seq.map((c) => [
          c.id,
          med(c.metrics.sequentialTps, 1),
          med(c.metrics.concurrentTps, 1),
          `${med(c.metrics.concurrentSpeedup)}x`,
        ]),
      ),
    );
  }
  if (record.warnings.length > 0) {
    out.push("", "Warnings:", "", ...record.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}
