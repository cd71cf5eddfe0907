/** Atomic record writes (JSON) under results/. */
import { writeFileAtomic } from "./write_file_atomic.ts";
import type { ResultRecord } from "./types.ts";

/**
 * Write a result record as pretty JSON, atomically (see {@link writeFileAtomic}).
 *
 * @param path Target file, e.g. results/s1-s6-cpu-20250301T120000Z.json.
 * @param record The record.
 * @returns Once the file is in place.
 * @throws {TypeError} When the record holds a non-finite number (JSON would turn it into null).
 * @example
 * ```ts
 * import { writeRecord } from "./write_record.ts";
 * import { readRecord } from "./read_record.ts";
 * const record = await readRecord("tests/fixtures/records/grid-a.json");
 * const dir = await Deno.makeTempDir();
 * await writeRecord(`${dir}/run.json`, record);
 * if ((await readRecord(`${dir}/run.json`)).id !== record.id) throw new Error("not round-tripped");
 * await Deno.remove(dir, { recursive: true });
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
