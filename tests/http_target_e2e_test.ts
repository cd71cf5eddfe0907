/**
 * End to end through the command line against OpenAI-compatible servers on loopback: the
 * workers and prompts scenarios through `--target http://...`, faults recorded as data, the
 * record read back and compared.
 */
import assert from "node:assert/strict";
import { startScriptedServer } from "../lib/http/scripted_server.ts";
import { compareRecords } from "../lib/compare/compare_records.ts";
import { readRecord } from "../lib/results/read_record.ts";

const root = new URL("..", import.meta.url).pathname;

async function bench(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/bench.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const WORKERS = `export default {
  kind: "workers", name: "http-workers", parallel: [1, 2], promptTokens: 8, decodeTokens: 6,
  sequentialRequests: 2, open: { requestsPerSecond: [40], requests: 6, maxInFlight: 2 },
  warmup: 1, runs: 2, http: { slo: { ttftMs: 1000, tpotMs: 100 }, arrival: "constant",
  timeoutsMs: { connect: 2000, firstToken: 2000, idle: 1000, total: 5000 } },
};
`;

Deno.test("http target: workers scenario over two endpoints, one refusing; faults are counted", async () => {
  await using s = startScriptedServer({ lmrigTimings: true });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `http://127.0.0.1:${(probe.addr as Deno.NetAddr).port}/v1`;
  probe.close();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/w.ts`, WORKERS);
    const r = await bench([
      `${dir}/w.ts`,
      "--target",
      `${s.baseUrl},${dead}`,
      "--api-key-env",
      "LMRIG_TEST_KEY",
      "--out",
      `${dir}/w.json`,
    ], { LMRIG_TEST_KEY: "sekret" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Errors by kind/);
    assert.match(r.stdout, /connect-refused/);
    assert.match(r.stdout, /E2E split by the server's own timings/);
    const rec = await readRecord(`${dir}/w.json`);
    assert.equal(rec.status, "complete");
    assert.equal(rec.engine.backend, "http");
    assert.deepEqual(rec.http?.endpoints, [s.baseUrl, dead]);
    assert.equal(rec.http?.apiKeyEnv, "LMRIG_TEST_KEY");
    assert.ok(!JSON.stringify(rec).includes("sekret"), "the key itself is never recorded");
    assert.equal(rec.http?.modelName, "ok");
    assert.deepEqual(rec.cases.map((c) => c.id), [
      "workers-1",
      "workers-2",
      "sequential-2",
      "open-40rps",
    ]);
    const w2 = rec.cases[1];
    assert.deepEqual(w2.params, {
      workers: 2,
      load: "closed",
      requests: 4,
      promptTokens: 8,
      decodeTokens: 6,
    });
    // 2 measured runs x 4 requests, every other one to the refusing endpoint.
    assert.equal(w2.requests?.length, 8);
    assert.equal(w2.counters["errors.connect-refused"], 4);
    assert.equal(w2.metrics.completed.summary.median, 2);
    assert.equal(w2.metrics.ttftNs.summary.n, 4);
    assert.ok(w2.requests!.filter((x) => x.ok).every((x) => x.outputTokens === 6 && x.honoured));
    assert.ok(w2.requests!.filter((x) => !x.ok).every((x) => x.endpoint === 1));
    assert.ok(w2.metrics.transportNs.summary.n === 4, "the lmrig timing extension splits E2E");
    assert.ok(
      rec.warnings.some((x) => /workers-2: 4 request\(s\) failed with connect-refused/.test(x)),
    );
    const body = s.requests[0];
    assert.equal(body.stream, true);
    assert.equal((body.prompt as number[]).length, 8);
    assert.equal(body.max_tokens, 6);
    assert.equal(body.ignore_eos, true);
    // compare matches the cases of two HTTP records by their params.
    const c = compareRecords([rec, rec], { metrics: ["ttftNs", "goodputRps"] });
    assert.ok(c.rows.some((x) => x.caseIds[0] === "workers-2" && x.metric === "ttftNs"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http target: prompts scenario over the chat API; tokenizer counts without usage", async () => {
  await using s = startScriptedServer();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/p.ts`,
      `export default { kind: "prompts", name: "http-prompts", decodeTokens: 4, warmup: 0, runs: 2,
        prompts: [{ id: "hi", text: "Hello" }, { id: "long", text: "one two three four five" }],
        contextLengths: [16] };\n`,
    );
    const r = await bench([
      `${dir}/p.ts`,
      "--target",
      s.baseUrl,
      "--model-name",
      "no-usage",
      "--model",
      "synthetic:tiny-qwen2",
      "--out",
      `${dir}/p.json`,
      "--format",
      "json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rec = await readRecord(`${dir}/p.json`);
    assert.deepEqual(rec.cases.map((c) => c.id), ["hi", "long", "ctx-16"]);
    assert.equal(rec.http?.api, "chat");
    const chat = s.requests.find((b) => Array.isArray(b.messages));
    assert.ok(chat, "the texts went to /v1/chat/completions");
    const ctx = s.requests.find((b) => Array.isArray(b.prompt));
    assert.equal((ctx!.prompt as number[]).length, 16, "ctx-16 sends 16 token ids");
    const hi = rec.cases[0];
    assert.equal(hi.counters["tokens.tokenizer"], 2);
    assert.ok(hi.requests!.every((x) => x.tokenSource === "tokenizer" && x.outputTokens > 0));
    assert.ok(hi.metrics.e2eNs.summary.n === 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http target: bad endpoints, a missing key variable and engine-only kinds are refused", async () => {
  const a = await bench(["scenarios/workers.ts", "--target", "http://127.0.0.1:9/v1,lmrig"]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /cannot mix HTTP endpoints with engine targets/);
  const b = await bench([
    "scenarios/workers.ts",
    "--target",
    "http://127.0.0.1:9/v1",
    "--api-key-env",
    "LMRIG_NO_SUCH_VAR",
  ]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /environment variable LMRIG_NO_SUCH_VAR is not set/);
  const c = await bench(["scenarios/s1-s6.ts", "--target", "http://127.0.0.1:9/v1"]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /runs workers and prompts scenarios/);
  const d = await bench(["scenarios/workers.ts", "--slo", "ttft:100"]);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--slo" applies to an HTTP --target/);
});

Deno.test("http target: workers prompts from a dataset, max_tokens from its outputs", async () => {
  await using s = startScriptedServer();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/d.jsonl`,
      [
        { prompt: "Say hello to the world", output: "Hello world" },
        { prompt: "Count to three", output: "one two three four five six" },
        "not json",
      ].map((x) => typeof x === "string" ? x : JSON.stringify(x)).join("\n") + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/w.ts`,
      `export default { kind: "workers", name: "ds", parallel: [2], promptTokens: 8,
        decodeTokens: 4, sequentialRequests: 0, warmup: 0, runs: 1 };\n`,
    );
    const r = await bench([
      `${dir}/w.ts`,
      "--target",
      s.baseUrl,
      "--dataset",
      `${dir}/d.jsonl`,
      "--model",
      "synthetic:tiny-qwen2",
      "--out",
      `${dir}/w.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rec = await readRecord(`${dir}/w.json`);
    assert.equal(rec.http?.dataset, `${dir}/d.jsonl`);
    assert.equal(rec.cases[0].params.dataset, "d.jsonl");
    const texts = new Set(s.requests.map((b) => b.prompt));
    assert.deepEqual(texts, new Set(["Say hello to the world", "Count to three"]));
    const byPrompt = new Map(s.requests.map((b) => [b.prompt, b.max_tokens]));
    assert.ok(
      (byPrompt.get("Count to three") as number) >
        (byPrompt.get("Say hello to the world") as number),
      "max_tokens follows each record's output length",
    );
    assert.ok(
      s.requests.every((b) => b.ignore_eos === undefined),
      "dataset prompts are not forced",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
