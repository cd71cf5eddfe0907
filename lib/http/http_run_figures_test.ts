import assert from "node:assert/strict";
import { httpRunFigures } from "./http_run_figures.ts";
import type { HttpLoadRun, LoadRequest } from "./run_http_load.ts";

const MS = 1e6;

function req(index: number, over: Partial<LoadRequest>): LoadRequest {
  return {
    ok: true,
    index,
    endpoint: 0,
    isolate: 0,
    dueNs: 0,
    sentNs: 0,
    doneNs: 0,
    itlNs: [],
    chunks: 0,
    outputTokens: 0,
    tokenSource: "usage",
    promptTokens: 10,
    honoured: null,
    ...over,
  };
}

// Two good requests, one slow one, one failure, over 2 s.
const run: HttpLoadRun = {
  durationNs: 2e9,
  isolates: 1,
  peakInFlight: 2,
  clientCpuNs: 0,
  requests: [
    req(0, {
      ttftNs: 100 * MS,
      e2eNs: 500 * MS,
      outputTokens: 5,
      itlNs: [100 * MS, 100 * MS, 100 * MS, 100 * MS],
      honoured: true,
    }),
    req(1, {
      ttftNs: 200 * MS,
      e2eNs: 200 * MS,
      outputTokens: 1,
      sentNs: 30 * MS,
      dueNs: 10 * MS,
      honoured: false,
    }),
    req(2, {
      ttftNs: 900 * MS,
      e2eNs: 1900 * MS,
      outputTokens: 11,
      promptTokens: null,
      server: { source: "lmrig", queueMs: 300, prefillMs: 500, decodeMs: 900, firstTokenMs: 800 },
    }),
    req(3, { ok: false, errorKind: "http-5xx", error: "HTTP 500: boom", outputTokens: 0 }),
  ],
};

Deno.test("figures: throughput, TPOT, goodput and the E2E split follow vLLM's definitions", () => {
  const f = httpRunFigures(run, { slo: { ttftMs: 500, tpotMs: 150 }, promptTokensOf: () => 7 });
  assert.equal(f.run.completed, 3);
  assert.equal(f.run.failures, 1);
  assert.equal(f.run.requestsPerSecond, 1.5); // 3 completed / 2 s
  assert.equal(f.run.outputTps, 8.5); // (5 + 1 + 11) / 2 s
  assert.equal(f.run.overallTps, (10 + 10 + 7 + 17) / 2); // usage prompt tokens, else promptTokensOf
  // TPOT = (E2E - TTFT) / (tokens - 1): 100 ms and 100 ms; the 1-token request has none.
  assert.deepEqual(f.requests.tpotNs, [100 * MS, 100 * MS]);
  assert.deepEqual(f.requests.ttftNs, [100 * MS, 200 * MS, 900 * MS]);
  assert.equal(f.requests.itlNs.length, 4);
  assert.deepEqual(f.requests.queueNs, [0, 20 * MS, 0]);
  // Good: request 0 (TTFT 100 <= 500, TPOT 100 <= 150) and 1 (one token: TPOT 0); not 2
  // (TTFT 900 ms breaks the TTFT SLO) nor the failure.
  assert.equal(f.run.goodputRps, 1);
  assert.equal(f.run.goodputShare, 0.5);
  assert.equal(f.run.honouredShare, 0.5);
  assert.deepEqual(f.errors, { "http-5xx": 1 });
  assert.equal(f.reasons["http-5xx"], "HTTP 500: boom");
  // The split: queue 300 + engine 1400 ms of a 1900 ms E2E leaves 200 ms of transport.
  assert.deepEqual(f.requests.serverQueueNs, [300 * MS]);
  assert.deepEqual(f.requests.serverEngineNs, [1400 * MS]);
  assert.deepEqual(f.requests.transportNs, [200 * MS]);
  assert.deepEqual(f.requests.ttftTransportNs, [100 * MS]);
  assert.equal(f.rows.length, 4);
  assert.equal(f.rows[3].errorKind, "http-5xx");
  assert.equal(f.rows[0].tpotNs, 100 * MS);
});

Deno.test("figures: a tighter SLO counts fewer good requests (negative control); none: no goodput", () => {
  const tight = httpRunFigures(run, { slo: { tpotMs: 50 } });
  assert.equal(tight.run.goodputRps, 0.5, "only the one-token request meets TPOT <= 50 ms");
  const none = httpRunFigures(run);
  assert.equal(none.run.goodputRps, undefined);
  assert.equal(none.run.overallTps, (10 + 10 + 17) / 2, "no prompt length known for request 2");
});
