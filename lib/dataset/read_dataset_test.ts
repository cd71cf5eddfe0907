import assert from "node:assert/strict";
import { join } from "node:path";
import { readDataset } from "./read_dataset.ts";
import type { DatasetItem, ReadDatasetOptions } from "./types.ts";

const dir = await Deno.makeTempDir();
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function read(name: string, text: string, options?: ReadDatasetOptions) {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  const items: DatasetItem[] = [];
  for await (const item of readDataset(path, options)) items.push(item);
  return items;
}

Deno.test("JSONL: each shape, blank lines passed over, CRLF accepted", async () => {
  const lines = [
    JSON.stringify({
      conversations: [{ from: "human", value: "p1" }, { from: "gpt", value: "o1" }],
    }),
    "",
    JSON.stringify({
      messages: [{ role: "system", content: "s" }, { role: "user", content: "p2" }, {
        role: "assistant",
        content: "o2",
      }],
    }),
    JSON.stringify({ instruction: "p3", input: "", output: "o3" }),
    JSON.stringify({ instruction: "p4", input: "ctx", output: "o4" }),
    JSON.stringify({ prompt: "p5", completion: "o5" }),
    JSON.stringify({ question: "p6" }),
  ];
  assert.deepEqual(await read("a.jsonl", lines.join("\r\n") + "\r\n"), [
    { ok: true, line: 1, shape: "sharegpt", prompt: "p1", output: "o1" },
    { ok: true, line: 3, shape: "openai-messages", prompt: "p2", output: "o2" },
    { ok: true, line: 4, shape: "alpaca", prompt: "p3", output: "o3" },
    { ok: true, line: 5, shape: "alpaca", prompt: "p4\n\nctx", output: "o4" },
    { ok: true, line: 6, shape: "prompt-output", prompt: "p5", output: "o5" },
    { ok: true, line: 7, shape: "prompt-output", prompt: "p6", output: null },
  ]);
});

Deno.test("JSONL: malformed records are reported with their line and reason", async () => {
  const text = [
    '{"instruction": "ok", "output": "fine"}',
    '{"instruction": "x", "output": 3}',
    "{bad json",
    "[1, 2]",
    '{"conversations": [{"from": "gpt", "value": "no human"}]}',
    '{"conversations": "nope"}',
    '{"title": "no shape"}',
    '{"instruction": "no output"}',
    '{"messages": [{"role": "user"}]}',
  ].join("\n"); // no final newline: the last line still counts
  const items = await read("bad.jsonl", text);
  assert.equal(items.length, 9);
  assert.deepEqual(items.map((i) => i.line), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const reasons = items.slice(1).map((i) => (i.ok ? "ok" : i.reason));
  assert.equal(reasons[0], 'field "output" is a number, expected a string');
  assert.match(reasons[1], /^invalid JSON: /);
  assert.equal(reasons[2], "expected an object, got an array");
  assert.equal(reasons[3], "conversations has no human/user turn");
  assert.equal(reasons[4], 'field "conversations" is a string, expected an array');
  assert.match(reasons[5], /^no known shape: expected conversations, messages, instruction/);
  assert.equal(reasons[6], 'missing field "output"');
  assert.equal(reasons[7], 'missing field "messages[0].content"');
});

Deno.test("named fields override shapes and are required", async () => {
  const text = '{"q": "p1", "a": "o1"}\n{"q": "p2"}\n{"q": null, "a": "o3"}\n';
  const items = await read("f.jsonl", text, { promptField: "q", outputField: "a" });
  assert.deepEqual(items, [
    { ok: true, line: 1, shape: "fields", prompt: "p1", output: "o1" },
    { ok: false, line: 2, reason: 'missing field "a"' },
    { ok: false, line: 3, reason: 'field "q" is null, expected a string' },
  ]);
  await assert.rejects(() => read("f2.jsonl", text, { outputField: "a" }), /needs a prompt field/);
});

Deno.test("JSON array: streamed by element, elements keep their start lines", async () => {
  const text = `[
  {"instruction": "p1", "output": "o1"},
  {
    "instruction": "p2 with [brackets], {braces} and \\"quotes\\"",
    "output": "o2"
  },
  "not an object",
  {"conversations": [{"from": "human", "value": "p3"}, {"from": "gpt", "value": "o3"}]}
]`;
  assert.deepEqual(await read("a.json", text), [
    { ok: true, line: 2, shape: "alpaca", prompt: "p1", output: "o1" },
    {
      ok: true,
      line: 3,
      shape: "alpaca",
      prompt: 'p2 with [brackets], {braces} and "quotes"',
      output: "o2",
    },
    { ok: false, line: 7, reason: "expected an object, got a string" },
    { ok: true, line: 8, shape: "sharegpt", prompt: "p3", output: "o3" },
  ]);
  await assert.rejects(
    () => read("b.json", '{"a": 1}'),
    /b\.json": a \.json dataset must be an array/,
  );
  // A bad element is one issue; a file cut off mid-array keeps what came before it.
  assert.deepEqual(await read("c.json", '[\n{"prompt": "p1"},\n{"prompt": p2},\n{"prompt": "p3'), [
    { ok: true, line: 2, shape: "prompt-output", prompt: "p1", output: null },
    {
      ok: false,
      line: 3,
      reason: 'invalid JSON: Unexpected token \'p\', "{"prompt": p2}" is not valid JSON',
    },
    {
      ok: false,
      line: 4,
      reason: "invalid JSON: the array is not closed before the end of the file",
    },
  ]);
});

Deno.test("CSV: header, quoted fields with commas, quotes and newlines, bad rows", async () => {
  const text = [
    "instruction,input,output",
    "Say hi,,hi",
    '"Add, then ""quote""",x,"line one',
    'line two"',
    "",
    "only,two",
    'a,"b"c,d',
    'tail,,"open',
  ].join("\n");
  assert.deepEqual(await read("a.csv", text), [
    { ok: true, line: 2, shape: "alpaca", prompt: "Say hi", output: "hi" },
    {
      ok: true,
      line: 3,
      shape: "alpaca",
      prompt: 'Add, then "quote"\n\nx',
      output: "line one\nline two",
    },
    { ok: false, line: 6, reason: "expected 3 fields (as the header), got 2" },
    {
      ok: false,
      line: 7,
      reason: "bad CSV: stray quote or text after a closing quote at column 6",
    },
    { ok: false, line: 8, reason: "bad CSV: quoted field not closed before the end of the file" },
  ]);
  const named = await read("b.csv", "q,a\nhello,world\n", { promptField: "q", outputField: "a" });
  assert.deepEqual(named, [{
    ok: true,
    line: 2,
    shape: "fields",
    prompt: "hello",
    output: "world",
  }]);
  await assert.rejects(
    () => read("c.csv", "q,a\n", { promptField: "x" }),
    /c\.csv:1": no column "x"/,
  );
  await assert.rejects(() => read("d.txt", ""), /unknown extension ".txt"/);
});

/** Writes about `megabytes` MB of records as JSONL or one JSON array; returns the record count. */
async function writeBig(path: string, megabytes: number, asArray: boolean): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  const answer = "lorem ipsum dolor sit amet ".repeat(360); // ~10 kB per record
  const n = Math.ceil((megabytes * 1e6) / (answer.length + 60));
  const batch: string[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(JSON.stringify({ prompt: `question ${i} [with, brackets]`, output: answer }));
    if (batch.length === 500 || i === n - 1) {
      const sep = asArray ? ",\n" : "\n";
      const head = asArray ? (i < 500 ? "[\n" : ",\n") : "";
      const tail = asArray ? (i === n - 1 ? "\n]\n" : "") : "\n";
      await file.write(enc.encode(head + batch.join(sep) + tail));
      batch.length = 0;
    }
  }
  file.close();
  return n;
}

// Reading holds one record at a time, so a 50 MB file is read by a process whose V8 heap is capped
// at 24 MB; the same process reading the file whole must run out of memory, which shows the cap
// bites. (A subprocess with a hard cap, rather than RSS deltas, which other tests in the same
// process disturb.)
async function readUnderHeapCap(path: string, whole: boolean) {
  const script = join(dir, whole ? "whole.ts" : "stream.ts");
  const mod = new URL("./read_dataset.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    whole
      ? `const t = await Deno.readTextFile(${JSON.stringify(path)});\n` +
        `console.log(t.trim().split("\\n").map((l) => JSON.parse(l)).length);\n`
      : `import { readDataset } from ${JSON.stringify(mod)};\nlet n = 0;\n` +
        `for await (const item of readDataset(${JSON.stringify(path)})) if (item.ok) n++;\n` +
        `console.log(n);\n`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--max-old-space-size=24", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  return { ok: out.success, count: Number(new TextDecoder().decode(out.stdout).trim()), stderr };
}

for (const asArray of [false, true]) {
  const kind = asArray ? "JSON array" : "JSONL";
  Deno.test(`${kind}: a 50 MB file streams under a 24 MB heap cap`, async () => {
    const path = join(dir, asArray ? "big.json" : "big.jsonl");
    const n = await writeBig(path, 50, asArray);
    assert.ok((await Deno.stat(path)).size > 49e6);
    const streamed = await readUnderHeapCap(path, false);
    assert.ok(streamed.ok, streamed.stderr);
    assert.equal(streamed.count, n);
    if (!asArray) {
      const whole = await readUnderHeapCap(path, true);
      assert.equal(whole.ok, false, "reading the file whole should exceed the heap cap");
      assert.match(whole.stderr, /out of memory|heap limit/i);
    }
    await Deno.remove(path);
  });
}

// The other observable of streaming: the first record comes out while the file is still being
// written (a named pipe whose writer waits for it), which a whole-file read could never do.
for (const asArray of [false, true]) {
  const kind = asArray ? "JSON array" : "JSONL";
  Deno.test({
    name: `${kind}: the first record is yielded before the file ends`,
    ignore: Deno.build.os === "windows",
    fn: async () => {
      const fifo = join(dir, asArray ? "pipe.json" : "pipe.jsonl");
      assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
      const line = (i: number) => JSON.stringify({ prompt: `p${i}`, output: "o" });
      const reader = readDataset(fifo);
      const first = reader.next(); // opens the pipe for reading
      const writer = await Deno.open(fifo, { write: true });
      const enc = new TextEncoder();
      await writer.write(enc.encode(asArray ? `[\n${line(1)},\n` : `${line(1)}\n`));
      const timeout = new Promise((_, reject) => {
        const t = setTimeout(() => reject(new Error("no record before the file ended")), 5000);
        Deno.unrefTimer(t);
      });
      const got = await Promise.race([first, timeout]) as IteratorResult<unknown>;
      assert.deepEqual(got.value, {
        ok: true,
        line: asArray ? 2 : 1,
        shape: "prompt-output",
        prompt: "p1",
        output: "o",
      });
      await writer.write(enc.encode(asArray ? `${line(2)}\n]\n` : `${line(2)}\n`));
      writer.close();
      const rest = [];
      for await (const item of reader) rest.push(item);
      assert.deepEqual(rest.map((i) => i.ok && i.prompt), ["p2"]);
    },
  });
}
