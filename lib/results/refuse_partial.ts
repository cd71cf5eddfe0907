/** The gate of every reader that draws conclusions: complete records only, unless asked. */
import type { ResultRecord } from "./types.ts";

/**
 * Refuse records whose status is not "complete" (running, interrupted or failed: their cases
 * are a subset of the scenario and their figures may mislead), unless `includePartial` is set;
 * then return the notes that say which partial records are in.
 *
 * @param records The records with the paths they were read from.
 * @param includePartial True when the user asked for partial records (--include-partial).
 * @param what The command, for messages, e.g. "compare".
 * @returns One note per partial record let in (empty when all are complete).
 * @throws {RangeError} `Cannot <what> "<path>": its status is "<status>"...` naming the first
 *   record that is not complete, when includePartial is false.
 * @example
 * ```ts
 * import { refusePartial } from "./refuse_partial.ts";
 * import { readRecord } from "./read_record.ts";
 * const path = "tests/fixtures/records/grid-a.json";
 * refusePartial([{ path, record: await readRecord(path) }], false, "compare"); // []
 * ```
 */
export function refusePartial(
  records: readonly { path: string; record: ResultRecord }[],
  includePartial: boolean,
  what: string,
): string[] {
  const notes: string[] = [];
  for (const { path, record } of records) {
    if (record.status === "complete") continue;
    const why = record.status === "failed" && record.error ? ` (${record.error})` : "";
    if (!includePartial) {
      throw new RangeError(
        `Cannot ${what} "${path}": its status is "${record.status}"${why}, not "complete"; ` +
          `pass --include-partial to use the ${record.cases.length} case(s) it holds`,
      );
    }
    notes.push(
      `"${path}" is ${record.status}${why}: ${record.cases.length} case(s), included as asked`,
    );
  }
  return notes;
}
