/** Short, distinct labels for records in tables and chart legends. */
import type { ResultRecord } from "../results/types.ts";

/**
 * Label each record by its file name (without directory and `.json`), or by scenario when no
 * file is known, adding the backend/executor when they differ between records and a number when
 * two labels would still be equal.
 *
 * @param records The records.
 * @param files Their file paths, same order (optional).
 * @returns One distinct label per record.
 * @throws Nothing.
 * @example
 * ```ts
 * import { recordLabels } from "./record_labels.ts";
 * import { readRecord } from "../results/read_record.ts";
 * const a = await readRecord("tests/fixtures/records/grid-a.json");
 * const c = await readRecord("tests/fixtures/records/grid-cuda.json");
 * recordLabels([a, c], ["grid-a.json", "x/grid-cuda.json"]); // ["grid-a (cpu/eager)", "grid-cuda (cuda/graph)"]
 * ```
 */
export function recordLabels(records: ResultRecord[], files?: string[]): string[] {
  const differ = (k: "backend" | "executor") => new Set(records.map((r) => r.engine[k])).size > 1;
  const showBackend = differ("backend");
  const showExecutor = differ("executor");
  const labels = records.map((r, i) => {
    const file = files?.[i];
    const name = file ? file.replace(/^.*[\\/]/, "").replace(/\.json$/, "") : r.scenario.name;
    const engine = [showBackend ? r.engine.backend : "", showExecutor ? r.engine.executor : ""]
      .filter(Boolean).join("/");
    return engine ? `${name} (${engine})` : name;
  });
  return labels.map((l, i) => labels.indexOf(l) === labels.lastIndexOf(l) ? l : `${l} #${i + 1}`);
}
