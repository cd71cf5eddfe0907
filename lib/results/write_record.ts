/** Atomic record writes (JSON) under results/. */
import { writeFileAtomic } from "./write_file_atomic.ts";
import type { ResultRecord } from "./types.ts";

/**
 * Write a result record as pretty JSON, atomically (see {@link writeFileAtomic}).
 *
 * @param path Target file, e.g. results/s1-s6-cpu-20250301T120000Z.json.
 * @param record The record.
 * @throws {TypeError} When the record holds a non-finite number (JSON would turn it into null).
 * @example
 * ```ts ignore
 * await writeRecord("results/run.json", record);
 * ```
 */
export async function writeRecord(path: string, record: ResultRecord): Promise<void> {
  const text = JSON.stringify(record, (key, value) => {
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new TypeError(`Cannot write record: field "${key}" is ${value}`);
    }
    return value;
  }, 2);
  await writeFileAtomic(path, text + "\n");
}
