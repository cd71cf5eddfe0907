/**
 * `deno run -A scripts/http-client-bench.ts [options]`: is the HTTP load generator ever the
 * bottleneck? Starts scripted servers that stream instantly (separate processes on loopback,
 * requests round-robin over them), drives them with a closed loop of N users from this
 * process, and prints the streamed tokens/s the client sustained, the peak concurrent streams,
 * and the client's own CPU time per token and per request (this process, every isolate in it).
 *
 * Options: --users N (512) --tokens N per request (64) --requests N (4 x users)
 *          --isolates LIST (1,2: load workers to compare) --servers N (2) --tokens-per-write N (1)
 *          --json PATH (write the figures)
 */
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { runHttpLoad } from "../lib/http/run_http_load.ts";
import { DEFAULT_TIMEOUTS } from "../lib/http/types.ts";

const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "512" },
    tokens: { type: "string", default: "64" },
    requests: { type: "string" },
    isolates: { type: "string", default: "1,2" },
    servers: { type: "string", default: "2" },
    "tokens-per-write": { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const users = Number(v.users), tokens = Number(v.tokens);
const requests = Number(v.requests ?? users * 4);

async function startServer(): Promise<{ url: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../lib/http/scripted_server.ts", import.meta.url).pathname,
      "--tokens-per-write",
      String(v["tokens-per-write"]),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the scripted server: it exited");
    text += value;
  }
  reader.releaseLock();
  const url = /listening on (\S+)/.exec(text)?.[1];
  if (!url) throw new Error(`Cannot start the scripted server: it printed ${text}`);
  return { url, child };
}

const servers = await Promise.all(
  Array.from({ length: Number(v.servers) }, () => startServer()),
);
const load = Deno.loadavg();
const rows = [];
try {
  for (const isolates of v.isolates.split(",").map(Number)) {
    const plan = {
      endpoints: servers.map((s) => s.url),
      api: "completions" as const,
      model: "ok",
      timeouts: DEFAULT_TIMEOUTS,
      exactTokens: true,
      prompts: [[1, 2, 3, 4, 5, 6, 7, 8]],
      maxTokens: [tokens],
      shape: { kind: "closed" as const, users },
      isolates,
    };
    // A short warm-up (connections, JIT), then the measured run.
    await runHttpLoad({ ...plan, maxRequests: Math.min(users, 64) });
    const cpu0 = cpuUsage();
    const wall0 = performance.now();
    const run = await runHttpLoad({ ...plan, maxRequests: requests });
    const wallMs = performance.now() - wall0;
    const cpu = cpuUsage(cpu0);
    const ok = run.requests.filter((r) => r.ok);
    const out = ok.reduce((a, r) => a + r.outputTokens, 0);
    const chunks = ok.reduce((a, r) => a + r.chunks, 0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const row = {
      isolates,
      users,
      requests: run.requests.length,
      failed: run.requests.length - ok.length,
      outputTokens: out,
      chunks,
      durationS: run.durationNs / 1e9,
      tokensPerSecond: out / (run.durationNs / 1e9),
      peakInFlight: run.peakInFlight,
      clientCpuMs: cpuMs,
      clientCpuShare: cpuMs / wallMs,
      clientCpuUsPerToken: cpuMs * 1000 / out,
      clientCpuUsPerRequest: cpuMs * 1000 / run.requests.length,
    };
    rows.push(row);
    console.log(
      `isolates ${isolates}: ${row.tokensPerSecond.toFixed(0)} tokens/s streamed, ` +
        `${row.requests} requests (${row.failed} failed), peak ${row.peakInFlight} concurrent ` +
        `streams, client CPU ${row.clientCpuUsPerToken.toFixed(2)} us/token ` +
        `(${row.clientCpuUsPerRequest.toFixed(0)} us/request, ${
          (row.clientCpuShare * 100).toFixed(0)
        }% of one core)`,
    );
  }
} finally {
  for (const s of servers) {
    s.child.kill("SIGTERM");
    await s.child.status;
  }
}
const facts = {
  cpu: navigator.hardwareConcurrency,
  loadAvgBefore: load,
  loadAvgAfter: Deno.loadavg(),
  deno: Deno.version.deno,
  servers: Number(v.servers),
  tokensPerRequest: tokens,
  tokensPerWrite: Number(v["tokens-per-write"]),
};
console.log(
  `machine: ${facts.cpu} CPUs, load average ${load.map((x) => x.toFixed(2)).join(" ")} before, ` +
    `${facts.loadAvgAfter.map((x) => x.toFixed(2)).join(" ")} after (shared machine: noisy)`,
);
if (v.json) await Deno.writeTextFile(v.json, JSON.stringify({ facts, rows }, null, 2) + "\n");
