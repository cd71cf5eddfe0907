import assert from "node:assert/strict";
import { jsonArrayElements, type JsonArrayItem } from "./_json_array_elements.ts";

async function scan(text: string, chunkSize = text.length || 1): Promise<JsonArrayItem[]> {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize);
  }
  const out: JsonArrayItem[] = [];
  for await (const item of jsonArrayElements(chunks())) out.push(item);
  return out;
}

// Strings holding brackets, braces, commas, escaped quotes and backslashes, across lines.
const TRICKY = `\uFEFF[
  {"a": "] , [ } {", "b": "say \\"hi\\", \\\\"},
  "\\\\\\"]",
  [1, [2, {"c": []}]],
  {
    "d": "\\u005d"
  },
  null, 3.5e2, true
]
`;

Deno.test("elements match JSON.parse for every chunk size, with their start lines", async () => {
  const expected = JSON.parse(TRICKY.slice(1)); // JSON.parse refuses the BOM
  for (let size = 1; size <= TRICKY.length; size++) {
    const items = await scan(TRICKY, size);
    assert.deepEqual(
      items.map((i) => "text" in i ? JSON.parse(i.text) : i),
      expected,
      `size ${size}`,
    );
    assert.deepEqual(items.map((i) => i.line), [2, 3, 4, 5, 8, 8, 8], `size ${size}`);
  }
});

Deno.test("problems: not an array, empty elements, mismatched or unclosed brackets", async () => {
  assert.deepEqual(await scan('{"a": 1}'), [
    { line: 1, error: "a .json dataset must be an array", fatal: true },
  ]);
  assert.deepEqual(await scan("  \n"), [
    { line: 2, error: "a .json dataset must be an array, the file is empty", fatal: true },
  ]);
  assert.deepEqual(await scan("[]"), []);
  assert.deepEqual(await scan("[1,,2,]"), [
    { line: 1, text: "1" },
    { line: 1, error: "empty array element" },
    { line: 1, text: "2" },
    { line: 1, error: "empty array element" },
  ]);
  // A bad element that still nests correctly is passed on (JSON.parse reports it).
  assert.deepEqual(await scan('[\n{"a": oops},\n{"b": 2}]'), [
    { line: 2, text: '{"a": oops}' },
    { line: 3, text: '{"b": 2}' },
  ]);
  assert.deepEqual(await scan('[\n{"a": [1}\n]'), [
    { line: 2, error: 'unexpected "}" in the element that starts on line 2' },
  ]);
  assert.deepEqual(await scan('[\n{"a": 1},\n{"b": "cut'), [
    { line: 2, text: '{"a": 1}' },
    { line: 3, error: "the array is not closed before the end of the file" },
  ]);
  assert.deepEqual(await scan('[\n{"a": 1},\n{"b": 2}\n'), [
    { line: 2, text: '{"a": 1}' },
    { line: 3, text: '{"b": 2}' },
    { line: 4, error: "the array is not closed before the end of the file" },
  ]);
  assert.deepEqual(await scan("[1]\n[2]"), [
    { line: 1, text: "1" },
    { line: 2, error: 'text after the closing "]" of the array' },
  ]);
});
