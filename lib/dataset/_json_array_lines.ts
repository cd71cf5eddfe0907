/** Finds the line on which each element of a top-level JSON array starts. */

/**
 * 1-based start lines of the elements of the array `text` holds, by a scan that tracks only
 * strings and nesting (run after JSON.parse succeeded, so the text is valid JSON).
 */
export function jsonArrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectValue = false; // at depth 1, after "[" or ","
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\n") continue;
    if (depth === 1 && expectValue && c !== "]") {
      lines.push(line);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 1) expectValue = true;
  }
  return lines;
}
