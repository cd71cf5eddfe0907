/** Reads the prompt and output texts of a dataset file (JSONL, JSON array or CSV). */
import { extname } from "node:path";
import { csvRecords } from "./_csv_records.ts";
import { type Extracted, extractTexts } from "./_extract_texts.ts";
import { jsonArrayElements } from "./_json_array_elements.ts";
import { lineStream, textChunks } from "./_line_stream.ts";
import type { DatasetFormat, DatasetItem, ReadDatasetOptions } from "./types.ts";

/**
 * Yields each record of a dataset file in order: its texts, or an issue saying why it cannot be
 * used (bad JSON, wrong shape, missing field, wrong type), with the line it starts on. Nothing
 * is dropped silently; blank lines of JSONL and CSV are not records and are passed over.
 *
 * Every format is streamed: JSONL and CSV a line (or quoted record) at a time, a JSON array an
 * element at a time (a scanner finds where each top-level element starts and ends), so files
 * of any size fit in memory. In a JSON array, an element that is not valid JSON is one issue;
 * a bracket that does not match, or an array not closed at the end, ends the file with an issue.
 *
 * @param path Dataset file.
 * @param options Format (default from the extension) and field names (default by shape).
 * @returns An async generator of records and issues.
 * @throws {TypeError} When the file cannot be read, its format is unknown, a JSON file does not
 *   hold an array, or a CSV file has no usable header.
 * @example
 * ```ts
 * import { readDataset } from "./read_dataset.ts";
 * const path = await Deno.makeTempFile({ suffix: ".jsonl" });
 * await Deno.writeTextFile(path, '{"instruction": "Say hi", "output": "hi"}\nnot json\n');
 * for await (const item of readDataset(path)) console.log(item);
 * // { ok: true, line: 1, shape: "alpaca", prompt: "Say hi", output: "hi" }
 * // { ok: false, line: 2, reason: "invalid JSON: ..." }
 * ```
 */
export async function* readDataset(
  path: string,
  options: ReadDatasetOptions = {},
): AsyncGenerator<DatasetItem> {
  const format = options.format ?? formatOf(path);
  const { promptField, outputField } = options;
  if (outputField !== undefined && promptField === undefined) {
    throw new TypeError(`Cannot read dataset "${path}": an output field needs a prompt field too`);
  }
  const item = (line: number, x: Extracted): DatasetItem =>
    "error" in x ? { ok: false, line, reason: x.error } : { ok: true, line, ...x };
  if (format === "jsonl") {
    for await (const [line, text] of lineStream(path)) {
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        yield { ok: false, line, reason: `invalid JSON: ${(e as Error).message}` };
        continue;
      }
      yield item(line, extractTexts(value, promptField, outputField));
    }
  } else if (format === "json") {
    for await (const el of jsonArrayElements(textChunks(path))) {
      if ("error" in el) {
        if (el.fatal) throw new TypeError(`Cannot read dataset "${path}": ${el.error}`);
        yield { ok: false, line: el.line, reason: `invalid JSON: ${el.error}` };
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(el.text);
      } catch (e) {
        yield { ok: false, line: el.line, reason: `invalid JSON: ${(e as Error).message}` };
        continue;
      }
      yield item(el.line, extractTexts(value, promptField, outputField));
    }
  } else {
    yield* csvItems(path, promptField, outputField);
  }
}

async function* csvItems(
  path: string,
  promptField?: string,
  outputField?: string,
): AsyncGenerator<DatasetItem> {
  let header: string[] | null = null;
  for await (const rec of csvRecords(path)) {
    if ("error" in rec) {
      if (header === null) {
        throw new TypeError(`Cannot read dataset "${path}:${rec.line}": ${rec.error}`);
      }
      yield { ok: false, line: rec.line, reason: `bad CSV: ${rec.error}` };
      continue;
    }
    if (header === null) {
      header = rec.fields.map((f) => f.trim());
      const dup = header.find((h, i) => header!.indexOf(h) !== i);
      if (dup !== undefined) {
        throw new TypeError(
          `Cannot read dataset "${path}:${rec.line}": column "${dup}" appears twice`,
        );
      }
      for (const f of [promptField, outputField]) {
        if (f !== undefined && !header.includes(f)) {
          throw new TypeError(
            `Cannot read dataset "${path}:${rec.line}": no column "${f}" (columns: ${
              header.join(", ")
            })`,
          );
        }
      }
      continue;
    }
    if (rec.fields.length !== header.length) {
      yield {
        ok: false,
        line: rec.line,
        reason: `expected ${header.length} fields (as the header), got ${rec.fields.length}`,
      };
      continue;
    }
    const row: Record<string, string> = {};
    header.forEach((h, i) => row[h] = rec.fields[i]);
    const extracted = extractTexts(row, promptField, outputField);
    // An empty Alpaca "input" column is an empty string, as in JSON.
    yield "error" in extracted
      ? { ok: false, line: rec.line, reason: extracted.error }
      : { ok: true, line: rec.line, ...extracted };
  }
  if (header === null) throw new TypeError(`Cannot read dataset "${path}": the CSV file is empty`);
}

function formatOf(path: string): DatasetFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".json") return "json";
  if (ext === ".csv") return "csv";
  throw new TypeError(
    `Cannot read dataset "${path}": unknown extension "${ext}", expected .jsonl, .ndjson, .json ` +
      `or .csv (or give the format)`,
  );
}
