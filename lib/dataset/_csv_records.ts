/** A streaming RFC 4180 CSV reader: quoted fields may hold commas, quotes ("") and newlines. */
import { lineStream } from "./_line_stream.ts";

/** One CSV record, or why the text at `line` is not one. */
export type CsvItem = { line: number; fields: string[] } | { line: number; error: string };

/** Yields the records of the CSV file at `path` (the header too), one line of text at a time. */
export async function* csvRecords(path: string): AsyncGenerator<CsvItem> {
  let fields: string[] = [];
  let field = "";
  let inQuotes = false;
  let quotedField = false; // the current field was quoted; only a separator may follow
  let startLine = 0;
  let broken: string | null = null;
  for await (const [line, text] of lineStream(path)) {
    if (!inQuotes) {
      if (text === "") continue; // blank line between records
      startLine = line;
      fields = [];
      field = "";
      quotedField = false;
      broken = null;
    } else {
      field += "\n";
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inQuotes) {
        if (c !== '"') field += c;
        else if (text[i + 1] === '"') field += '"', i++;
        else inQuotes = false;
      } else if (c === ",") {
        fields.push(field);
        field = "";
        quotedField = false;
      } else if (c === '"' && field === "" && !quotedField) {
        inQuotes = quotedField = true;
      } else if (quotedField || c === '"') {
        broken ??= `stray quote or text after a closing quote at column ${i + 1}`;
      } else {
        field += c;
      }
    }
    if (inQuotes) continue; // the quoted field goes on on the next line
    fields.push(field);
    yield broken === null ? { line: startLine, fields } : { line: startLine, error: broken };
  }
  if (inQuotes) {
    yield { line: startLine, error: "quoted field not closed before the end of the file" };
  }
}
