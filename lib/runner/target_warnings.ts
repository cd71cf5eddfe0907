/** The engine messages of a run's targets, once each, without llama.cpp's per-tensor chatter. */
import type { RunTarget } from "./open_run_targets.ts";

/** Per-tensor lines of llama.cpp's quantiser (its summary line "N of M tensor(s) required
 * fallback quantization" stays). */
const PER_TENSOR = /not divisible by \d+ \(required for type|^-> falling back to/;

/**
 * Every target's warnings, prefixed by its label's engine name, each message once (targets of
 * one library share its log), leaving out the quantiser's per-tensor fallback lines.
 *
 * @param targets The run's targets.
 * @returns Warning lines for the record.
 * @example
 * ```ts
 * import { targetWarnings } from "./target_warnings.ts";
 * const t = { warnings: () => ["load: x", "warning: blk.0 - ncols 64 not divisible by 256 (required for type q4_K)"] };
 * const lines = targetWarnings([{ label: "llama.cpp:q4_k_m", target: t }, { label: "llama.cpp", target: t }] as never);
 * if (lines.join("|") !== "llama.cpp: load: x") throw new Error(lines.join("|"));
 * ```
 */
export function targetWarnings(targets: readonly RunTarget[]): string[] {
  const seen = new Set<string>();
  for (const t of targets) {
    const engine = t.label.split(":")[0];
    for (const w of t.target.warnings()) {
      if (!PER_TENSOR.test(w.trim())) seen.add(`${engine}: ${w}`);
    }
  }
  return [...seen];
}
