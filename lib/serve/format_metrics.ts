/** The scheduler's counters in Prometheus' text exposition format (GET /metrics). */
import type { SchedulerStats } from "./types.ts";

const ROWS: [keyof SchedulerStats, string, "gauge" | "counter", string, number?][] = [
  ["slots", "lmrig_slots", "gauge", "Sequence slots (max concurrent sequences)"],
  ["maxQueue", "lmrig_queue_limit", "gauge", "Requests that may wait for a slot"],
  ["active", "lmrig_active_sequences", "gauge", "Sequences holding a slot now"],
  ["queued", "lmrig_queued_requests", "gauge", "Requests waiting for a slot now"],
  ["requestsSubmitted", "lmrig_requests_submitted_total", "counter", "Requests accepted"],
  [
    "requestsFinished",
    "lmrig_requests_finished_total",
    "counter",
    "Requests ended by stop or length",
  ],
  [
    "requestsCancelled",
    "lmrig_requests_cancelled_total",
    "counter",
    "Requests cancelled (client gone, shutdown)",
  ],
  ["requestsFailed", "lmrig_requests_failed_total", "counter", "Requests the engine failed"],
  [
    "requestsRejected",
    "lmrig_requests_rejected_total",
    "counter",
    "Requests refused with 429 or 503",
  ],
  ["promptTokens", "lmrig_prompt_tokens_total", "counter", "Prompt tokens prefilled"],
  ["generatedTokens", "lmrig_generated_tokens_total", "counter", "Tokens generated"],
  ["prefillCalls", "lmrig_prefill_calls_total", "counter", "Prefill calls (chunks)"],
  ["decodeSteps", "lmrig_decode_steps_total", "counter", "Batched decode steps"],
  [
    "decodeSequences",
    "lmrig_decode_sequences_total",
    "counter",
    "Sequences advanced by decode steps (sum of batch sizes)",
  ],
  ["maxBatch", "lmrig_decode_batch_max", "gauge", "Largest batch one decode step advanced"],
  ["prefillNs", "lmrig_prefill_seconds_total", "counter", "Engine time in prefill", 1e-9],
  ["decodeNs", "lmrig_decode_seconds_total", "counter", "Engine time in decode forwards", 1e-9],
  ["sampleNs", "lmrig_sample_seconds_total", "counter", "Time in sampling", 1e-9],
];

/**
 * Render scheduler counters as Prometheus text, each metric with a `target` label.
 *
 * @param s The counters.
 * @param target The target's name (`lmrig`, `llama.cpp`).
 * @returns The exposition text.
 * @example
 * ```ts ignore
 * formatMetrics(scheduler.stats(), "lmrig").includes("lmrig_decode_batch_max"); // true
 * ```
 */
export function formatMetrics(s: SchedulerStats, target: string): string {
  const lines: string[] = [];
  for (const [key, name, type, help, scale] of ROWS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    lines.push(`${name}{target="${target}"} ${s[key] * (scale ?? 1)}`);
  }
  return lines.join("\n") + "\n";
}
