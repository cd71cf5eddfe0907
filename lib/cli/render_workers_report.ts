/** The bench's human-readable output of a workers record (also `--format md`). */
import type { MeasuredDecode } from "../memory/limits_table.ts";
import type { Case, ResultRecord } from "../results/types.ts";
import { formatTable } from "./format_table.ts";
import { renderTargetSection } from "./render_target_section.ts";
import { memoryAndLimits, mib, MIN_P99_SAMPLES, pcts } from "./_serving_tables.ts";

const med = (c: Case, k: string) => c.metrics[k]?.summary.median;
const f1 = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(1));

/**
 * Render a workers record: the scaling table (per N: prompt, decode forward, generation and
 * overall tokens/s, overall on the wall clock, speedup and efficiency over the fewest sequences
 * (over 100% flagged), KV cells and bytes, mean batch), sequential vs concurrent, latency
 * percentiles of every load (TTFT, TPOT, ITL, E2E: p50 / p90 / p99 / max (n) in ms, no p99 under
 * 20 samples, wall-clock TTFT and E2E, requests/s on both clocks, output tokens/s, failures),
 * memory, limits and warnings.
 *
 * @param record A workers record.
 * @returns Markdown text ending with a newline.
 * @example
 * ```ts ignore
 * console.log(renderWorkersReport(record));
 * ```
 */
export function renderWorkersReport(record: ResultRecord): string {
  const e = record.engine;
  const out = [
    `${record.scenario.name}: ${record.model.name} ${record.model.dtype} on ${e.backend}/` +
    `${e.executor}, ${e.threads} thread(s); ${record.environment.cpu.name}` +
    (record.environment.gpu ? `, ${record.environment.gpu.name}` : ""),
    "",
  ];
  const closed = record.cases.filter((c) => c.params.load === "closed");
  const targetOf = (c: Case) => c.target ?? "lmrig";
  const several = new Set(record.cases.map(targetOf)).size > 1;
  // Speedup and efficiency against the fewest-workers case of the same target.
  const refOf = (c: Case) => closed.find((x) => targetOf(x) === targetOf(c))!;
  if (closed.length > 0) {
    out.push(
      formatTable(
        [
          ...(several ? ["Target"] : []),
          "Workers",
          "Prompt",
          "Output",
          "Total KV",
          "KV bytes",
          "Prompt t/s",
          "Decode fwd t/s",
          "Generation t/s",
          "Overall t/s",
          "Overall t/s (wall)",
          "Speedup",
          "Efficiency",
          "Mean batch",
        ],
        closed.map((c) => {
          const ref = refOf(c);
          const n0 = Number(ref.params.workers);
          const n = Number(c.params.workers);
          const speedup = med(c, "decodeTps")! / med(ref, "decodeTps")!;
          const eff = speedup / (n / n0);
          return [
            ...(several ? [targetOf(c)] : []),
            String(n),
            String(c.params.promptTokens),
            String(c.params.decodeTokens),
            String(c.counters.kvCells),
            mib(c.counters.kvBytes),
            f1(med(c, "prefillTps")),
            f1(med(c, "decodeTps")),
            f1(med(c, "generationTps")),
            f1(med(c, "overallTps")),
            f1(med(c, "wallOverallTps")),
            `${speedup.toFixed(2)}x`,
            `${(eff * 100).toFixed(1)}%${eff > 1 ? " (over 100%!)" : ""}`,
            f1(med(c, "meanBatch")),
          ];
        }),
      ),
      "",
      "Decode fwd t/s: tokens made by batched decode steps / their forward time only (engine; " +
        "the grid's Decode TPS includes sampling, like Generation t/s here); Generation t/s " +
        "adds per-sequence sampling; Overall t/s: prompt + generated tokens / makespan on the " +
        "virtual clock of engine times, (wall) the same over the JS wall time of the run (FFI " +
        "and JS in); speedup and efficiency on decode fwd t/s, over 100% flagged. The cases ran " +
        "interleaved (the baseline in turns with the others). Medians of the measured runs.",
    );
    if (several) {
      out.push("", ...renderTargetSection(record, "taking turns run by run within each case"));
    }
  }
  const seqs = record.cases.filter((c) => c.metrics.concurrentSpeedup);
  if (seqs.length > 0) {
    out.push(
      "",
      formatTable(
        [
          ...(several ? ["Target"] : []),
          "Requests",
          "Sequential t/s",
          "Concurrent t/s",
          "Concurrent / sequential",
        ],
        seqs.map((seq) => [
          ...(several ? [targetOf(seq)] : []),
          String(seq.params.requests),
          f1(med(seq, "sequentialTps")),
          f1(med(seq, "concurrentTps")),
          `${med(seq, "concurrentSpeedup")!.toFixed(2)}x`,
        ]),
      ),
    );
  }
  const loads = record.cases.filter((c) => c.metrics.ttftNs);
  if (loads.length > 0) {
    out.push(
      "",
      "Latency per request (virtual clock of engine times; ms, p50 / p90 / p99 / max (n " +
        `samples); no p99 from fewer than ${MIN_P99_SAMPLES}). Wall: the same request's ` +
        "TTFT and E2E on the JS wall clock (closed loop only: open-loop arrivals are virtual)",
      "",
      formatTable(
        [
          "Case",
          "Load",
          "TTFT",
          "TPOT",
          "ITL",
          "E2E",
          "TTFT (wall)",
          "E2E (wall)",
          "Req/s",
          "Req/s (wall)",
          "Out tok/s",
          "Failures",
        ],
        loads.map((c) => [
          c.id,
          c.params.load === "open"
            ? `open ${c.params.requestsPerSecond} req/s, ${c.params.maxInFlight} slots`
            : `closed, ${c.params.workers} in flight`,
          pcts(c.metrics.ttftNs),
          pcts(c.metrics.tpotNs),
          pcts(c.metrics.itlNs),
          pcts(c.metrics.e2eNs),
          pcts(c.metrics.wallTtftNs),
          pcts(c.metrics.wallE2eNs),
          med(c, "requestsPerSecond")?.toFixed(2) ?? "-",
          med(c, "wallRequestsPerSecond")?.toFixed(2) ?? "-",
          f1(med(c, "outputTps")),
          String(c.metrics.failures?.summary.max ?? 0),
        ]),
      ),
    );
    const share = record.derived.hostOverheadShare?.value;
    if (share !== undefined) {
      out.push(
        "",
        `FFI/JS overhead outside the engine calls: ${(share * 100).toFixed(1)}% of the wall ` +
          "time (median over cases; not in any latency above).",
      );
    }
  }
  // A side-by-side variant (a quantised file) reads its own bytes: the record's decode bytes
  // scaled by its weights over the record model's, as the grid's limits are.
  const targetBytes = (c: typeof closed[0]): number | undefined => {
    const t = record.environment.targets?.find((x) => (x.label ?? x.name) === c.target);
    const w = t?.model.weightBytes;
    return w && w !== record.model.weightBytes
      ? record.model.decodeBytes * w / record.model.weightBytes
      : undefined;
  };
  const measured: MeasuredDecode[] = closed.map((c) => ({
    label: c.id,
    sequences: med(c, "meanBatch") ?? Number(c.params.workers),
    meanPosition: Number(c.params.promptTokens) + Number(c.params.decodeTokens) / 2,
    tps: med(c, "decodeTps") ?? 0,
    decodeBytes: targetBytes(c),
  }));
  out.push(...memoryAndLimits(record, measured));
  if (record.warnings.length > 0) {
    out.push("", "Warnings:", ...record.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}
