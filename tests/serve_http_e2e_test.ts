/**
 * lmrig serve and the HTTP target together on loopback: the test starts `lmrig serve` with a
 * tiny synthetic model, runs a workers scenario and a latency (prompts) scenario through
 * `--target http://...` against it from the command line, and checks what the records hold: every
 * request completed with exactly the tokens asked for, and the server's own timings split E2E
 * into queue, engine and transport time.
 */
import assert from "node:assert/strict";
import { startServer } from "../lib/serve/start_server.ts";
import { readRecord } from "../lib/results/read_record.ts";

const root = new URL("..", import.meta.url).pathname;
const MODEL = "synthetic:tiny-llama";

async function bench(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/bench.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const WORKERS = `export default {
  kind: "workers", name: "serve-workers", parallel: [1, 2], promptTokens: 8, decodeTokens: 6,
  sequentialRequests: 2, warmup: 1, runs: 2,
};
`;

const PROMPTS = `export default {
  kind: "prompts", name: "serve-latency", decodeTokens: 5, warmup: 1, runs: 2,
  prompts: [{ id: "hi", text: "Hello there" }, { id: "ask", text: "Tell me about lighthouses" }],
};
`;

Deno.test("lmrig serve + HTTP target: workers and latency scenarios end to end", async () => {
  const server = await startServer({
    target: "lmrig",
    model: MODEL,
    port: 0,
    maxSeqs: 4,
    maxCtx: 256,
    threads: 1,
  });
  const dir = await Deno.makeTempDir();
  try {
    assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    await Deno.writeTextFile(`${dir}/w.ts`, WORKERS);
    await Deno.writeTextFile(`${dir}/p.ts`, PROMPTS);

    const w = await bench([
      `${dir}/w.ts`,
      "--target",
      server.baseUrl,
      "--model-name",
      MODEL,
      "--out",
      `${dir}/w.json`,
    ]);
    assert.equal(w.code, 0, w.stderr);
    const wr = await readRecord(`${dir}/w.json`);
    assert.equal(wr.status, "complete");
    assert.equal(wr.engine.backend, "http");
    assert.equal(wr.http?.modelName, MODEL);
    assert.deepEqual(wr.cases.map((c) => c.id), ["workers-1", "workers-2", "sequential-2"]);
    for (const c of wr.cases.slice(0, 2)) {
      const rows = c.requests ?? [];
      assert.ok(rows.length > 0, `${c.id}: per-request rows`);
      assert.ok(rows.every((r) => r.ok), `${c.id}: every request completed`);
      assert.ok(
        rows.every((r) => r.outputTokens === 6 && r.honoured && r.tokenSource === "usage"),
        `${c.id}: exactly 6 tokens, counted from the usage block`,
      );
      assert.ok(rows.every((r) => r.server?.source === "lmrig"), `${c.id}: lmrig's timings`);
      assert.ok(
        rows.every((r) => r.ttftNs! > 0 && r.e2eNs! >= r.ttftNs!),
        `${c.id}: TTFT <= E2E`,
      );
      // the split: engine time reported by the server never exceeds what the client measured
      assert.ok(
        c.metrics.serverEngineNs.summary.median <= c.metrics.e2eNs.summary.median,
        `${c.id}: engine time within E2E`,
      );
      assert.ok(c.metrics.transportNs.summary.n > 0, `${c.id}: transport time measured`);
    }
    assert.equal(wr.cases[1].metrics.peakInFlight.summary.max, 2, "two users in flight");
    // sequential-2 keeps run-level figures only: 2 requests one at a time, then together
    const seq = wr.cases[2].metrics;
    assert.ok(seq.sequentialTps.summary.median > 0 && seq.concurrentTps.summary.median > 0);

    const p = await bench([
      `${dir}/p.ts`,
      "--target",
      server.baseUrl,
      "--model-name",
      MODEL,
      "--model",
      MODEL,
      "--out",
      `${dir}/p.json`,
    ]);
    assert.equal(p.code, 0, p.stderr);
    const pr = await readRecord(`${dir}/p.json`);
    assert.equal(pr.status, "complete");
    assert.equal(pr.http?.api, "chat");
    assert.deepEqual(pr.cases.map((c) => c.id), ["hi", "ask"]);
    for (const c of pr.cases) {
      assert.ok(c.requests!.every((r) => r.ok && r.outputTokens > 0 && r.outputTokens <= 5));
      assert.equal(c.metrics.e2eNs.summary.n, 2, `${c.id}: two measured runs`);
    }
  } finally {
    await server.shutdown(2000);
    await Deno.remove(dir, { recursive: true });
  }
});
