/** Display names of the metric keys records use. */

const NAMES: Record<string, string> = {
  ttftNs: "TTFT",
  prefillNs: "Prefill time",
  prefillTps: "Prefill TPS",
  decodeTps: "Decode TPS",
  totalTps: "Total TPS",
  tpotNs: "TPOT",
  stepNs: "Step time",
  e2eNs: "End to end",
  decodeForwardNs: "Decode forward",
  samplingNs: "Sampling",
  sampleNs: "Sampling",
  tokenizeNs: "Tokenization",
  detokenizeNs: "Detokenization",
  peakBytes: "Peak memory",
  loadNs: "Weight load",
  captureNs: "Graph capture",
  itlNs: "ITL",
  requestsPerSecond: "Requests/s",
  outputTps: "Output TPS",
  overallTps: "Total TPS",
  goodputRps: "Goodput (requests/s)",
  goodputShare: "Good share",
  transportNs: "Transport",
  serverEngineNs: "Server engine",
  serverQueueNs: "Server queue",
  ttftTransportNs: "TTFT transport",
};

/**
 * The display name of a metric key: a known name ("ttftNs" -> "TTFT"), else the key split at
 * capitals with its unit suffix removed ("queueWaitNs" -> "Queue wait").
 *
 * @param key The metric key.
 * @returns The name for tables and chart axes.
 * @throws Nothing; an unknown key is returned as it is.
 * @example
 * ```ts
 * import { metricLabel } from "./metric_label.ts";
 * metricLabel("decodeTps"); // "Decode TPS"
 * metricLabel("queueWaitNs"); // "Queue wait"
 * ```
 */
export function metricLabel(key: string): string {
  if (NAMES[key]) return NAMES[key];
  const bare = key.replace(/(Ns|Tps|Bytes|Bps)$/, "");
  const words = bare.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
