/** Record ids and file names: "<UTC stamp>-<8 hex>". */

/**
 * A record id: the UTC time as YYYYMMDDTHHMMSSZ, a dash and 8 random hex digits.
 *
 * @param date The time (default now).
 * @returns e.g. "20250301T120000Z-1a2b3c4d".
 * @throws Nothing.
 * @example
 * ```ts
 * import { newRecordId } from "./new_record_id.ts";
 * newRecordId(new Date("2025-03-01T12:00:00Z")).slice(0, 16); // "20250301T120000Z"
 * ```
 */
export function newRecordId(date: Date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(4)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${stamp}-${hex}`;
}
