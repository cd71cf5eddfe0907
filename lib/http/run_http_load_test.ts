import assert from "node:assert/strict";
import { runHttpLoad } from "./run_http_load.ts";
import { startScriptedServer } from "./scripted_server.ts";
import type { HttpTimeouts } from "./types.ts";

const TIMEOUTS: HttpTimeouts = { connectMs: 1000, firstTokenMs: 1000, idleMs: 300, totalMs: 5000 };

const plan = (endpoints: string[], model = "ok") => ({
  endpoints,
  api: "completions" as const,
  model,
  timeouts: TIMEOUTS,
  exactTokens: true,
  prompts: [[1, 2, 3], [4, 5, 6, 7]],
  maxTokens: [6],
});

Deno.test("load: closed loop keeps N users busy, round-robin over endpoints", async () => {
  await using a = startScriptedServer({ delayMs: 2 });
  await using b = startScriptedServer({ delayMs: 2 });
  const run = await runHttpLoad({
    ...plan([a.baseUrl, b.baseUrl], "slow"),
    shape: { kind: "closed", users: 3 },
    maxRequests: 12,
  });
  assert.equal(run.requests.length, 12);
  assert.ok(run.requests.every((r) => r.ok && r.outputTokens === 6), "every request completes");
  assert.deepEqual(run.requests.map((r) => r.index), [...Array(12).keys()]);
  assert.equal(a.requests.length, 6, "half the requests go to each endpoint");
  assert.equal(b.requests.length, 6);
  assert.deepEqual(a.requests[0].prompt, [1, 2, 3]);
  assert.deepEqual(b.requests[0].prompt, [4, 5, 6, 7]);
  assert.equal(run.peakInFlight, 3, "never more than the users in flight");
  const last = Math.max(...run.requests.map((r) => r.doneNs));
  assert.equal(run.durationNs, last);
});

Deno.test("load: open loop at a constant rate sends on schedule; the cap makes requests wait", async () => {
  await using s = startScriptedServer({ delayMs: 20 });
  const run = await runHttpLoad({
    ...plan([s.baseUrl], "slow"),
    shape: { kind: "open", requestsPerSecond: 100, arrival: "constant", seed: 1 },
    maxRequests: 10,
  });
  for (const r of run.requests) {
    assert.equal(r.dueNs, r.index * 1e7, "due every 10 ms");
    assert.ok(r.sentNs - r.dueNs < 15e6, `request ${r.index} sent ${r.sentNs - r.dueNs} ns late`);
  }
  // Each request streams for ~100 ms, arriving every 10 ms: up to ~10 would overlap; cap 2.
  const capped = await runHttpLoad({
    ...plan([s.baseUrl], "slow"),
    shape: { kind: "open", requestsPerSecond: 100, arrival: "constant", seed: 1 },
    maxRequests: 6,
    maxConcurrency: 2,
  });
  assert.ok(capped.peakInFlight <= 2, `peak ${capped.peakInFlight}`);
  const waited = capped.requests.filter((r) => r.sentNs - r.dueNs > 20e6);
  assert.ok(waited.length >= 2, "requests beyond the cap wait for a slot (negative control)");
});

Deno.test("load: Poisson arrivals are seeded; a duration bound stops sending", async () => {
  await using s = startScriptedServer({ delayMs: 5 });
  const shape = { kind: "open" as const, requestsPerSecond: 200, arrival: "poisson" as const };
  const a = await runHttpLoad({
    ...plan([s.baseUrl]),
    shape: { ...shape, seed: 3 },
    maxRequests: 8,
  });
  const b = await runHttpLoad({
    ...plan([s.baseUrl]),
    shape: { ...shape, seed: 3 },
    maxRequests: 8,
  });
  const c = await runHttpLoad({
    ...plan([s.baseUrl]),
    shape: { ...shape, seed: 4 },
    maxRequests: 8,
  });
  assert.deepEqual(a.requests.map((r) => r.dueNs), b.requests.map((r) => r.dueNs));
  assert.notDeepEqual(a.requests.map((r) => r.dueNs), c.requests.map((r) => r.dueNs));
  const t0 = performance.now();
  const bounded = await runHttpLoad({
    ...plan([s.baseUrl], "slow"),
    shape: { kind: "closed", users: 2 },
    durationMs: 250,
  });
  const ms = performance.now() - t0;
  assert.ok(bounded.requests.length >= 2 && bounded.requests.every((r) => r.ok));
  assert.ok(bounded.requests.every((r) => r.sentNs < 250e6), "nothing sent after the bound");
  assert.ok(ms < 1000, `the run ended ${ms.toFixed(0)} ms after it started`);
});

Deno.test("load: faults are counted and the run goes on; workers (isolates) share the load", async () => {
  await using s = startScriptedServer();
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dead = `http://127.0.0.1:${(probe.addr as Deno.NetAddr).port}/v1`;
  probe.close();
  const run = await runHttpLoad({
    ...plan([s.baseUrl, dead]),
    shape: { kind: "closed", users: 2 },
    maxRequests: 8,
  });
  assert.equal(run.requests.filter((r) => r.ok).length, 4);
  assert.ok(
    run.requests.filter((r) => !r.ok).every((r) =>
      r.errorKind === "connect-refused" && r.endpoint === 1
    ),
  );
  const stalls = await runHttpLoad({
    ...plan([s.baseUrl], "stall"),
    shape: { kind: "closed", users: 4 },
    maxRequests: 4,
  });
  assert.ok(stalls.requests.every((r) => r.errorKind === "idle-timeout" && r.chunks === 2));
  assert.ok(stalls.durationNs < 1.5e9, "a server that stops answering ends at the idle bound");
  const multi = await runHttpLoad({
    ...plan([s.baseUrl]),
    shape: { kind: "closed", users: 6 },
    maxRequests: 30,
    isolates: 2,
  });
  assert.equal(multi.isolates, 2);
  assert.equal(multi.requests.length, 30);
  assert.ok(multi.requests.every((r) => r.ok));
  assert.deepEqual(new Set(multi.requests.map((r) => r.isolate)), new Set([0, 1]));
  assert.ok(multi.requests.every((r) => r.isolate === r.index % 2));
});

Deno.test("load: bad plans are refused with a reason", async () => {
  await assert.rejects(
    () => runHttpLoad({ ...plan(["http://127.0.0.1:1/v1"]), shape: { kind: "closed", users: 1 } }),
    /give a request count or a duration bound/,
  );
  await assert.rejects(
    () =>
      runHttpLoad({
        ...plan(["http://127.0.0.1:1/v1"]),
        shape: { kind: "closed", users: 0 },
        maxRequests: 1,
      }),
    /users must be an integer > 0/,
  );
});
