/** Streams the elements of a top-level JSON array, one element's text in memory at a time. */

/**
 * One element's text and the 1-based line it starts on, or a problem at a line; `fatal` when
 * the file holds no array at all (nothing can be read from it).
 */
export type JsonArrayItem =
  | { line: number; text: string }
  | { line: number; error: string; fatal?: true };

/**
 * Yields the text of each top-level element of the JSON array in `chunks`, with its start line,
 * without parsing it (the caller runs JSON.parse per element, so a bad element is one issue,
 * not a failed file). The scan tracks only strings (with escapes, which may straddle chunks)
 * and bracket nesting. It stops with an error item when the text is not an array, a bracket does
 * not match, or the array is not closed; an empty element (`[1,,2]`, `[1,]`) is an error item
 * that the scan goes on after.
 */
export async function* jsonArrayElements(
  chunks: AsyncIterable<string>,
): AsyncGenerator<JsonArrayItem> {
  let line = 1;
  let started = false; // the opening "[" was seen
  let done = false; // the closing "]" was seen
  const stack: string[] = []; // open brackets inside the current element
  let inString = false;
  let escaped = false;
  let parts: string[] = []; // the current element's text, chunk by chunk
  let elementLine = 0; // 0: no element begun since the last "[" or ","
  let sawComma = false; // a "," followed the previous element
  for await (const chunk of chunks) {
    let from = 0; // start of the current element's text within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === "\n") line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === "\\") escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
      if (done) {
        yield { line, error: `text after the closing "]" of the array` };
        return;
      }
      if (!started) {
        if (c !== "[" && c !== "\uFEFF") {
          yield { line, error: "a .json dataset must be an array", fatal: true };
          return;
        }
        started = c === "[";
        continue;
      }
      if (stack.length === 0 && (c === "," || c === "]")) {
        if (elementLine > 0) {
          parts.push(chunk.slice(from, i));
          yield { line: elementLine, text: parts.join("") };
        } else if (c === "," || sawComma) {
          yield { line, error: "empty array element" };
        }
        parts = [];
        elementLine = 0;
        sawComma = c === ",";
        done = c === "]";
        continue;
      }
      if (elementLine === 0) {
        elementLine = line;
        from = i;
      }
      if (c === '"') inString = true;
      else if (c === "[" || c === "{") stack.push(c === "[" ? "]" : "}");
      else if (c === "]" || c === "}") {
        if (stack.pop() !== c) {
          yield {
            line,
            error: `unexpected "${c}" in the element that starts on line ${elementLine}`,
          };
          return;
        }
      }
    }
    if (elementLine > 0) parts.push(chunk.slice(from));
  }
  if (!started) {
    yield { line, error: "a .json dataset must be an array, the file is empty", fatal: true };
  } else if (!done) {
    // A file cut off just after a whole element keeps it; one cut inside an element does not.
    const whole = elementLine > 0 && stack.length === 0 && !inString;
    if (whole) yield { line: elementLine, text: parts.join("").trimEnd() };
    const at = elementLine > 0 && !whole ? elementLine : line;
    yield { line: at, error: "the array is not closed before the end of the file" };
  }
}
