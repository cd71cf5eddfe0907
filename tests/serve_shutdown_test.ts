/**
 * `deno task serve` as a subprocess on a loopback port: SIGTERM lets a running stream finish
 * within the grace period and exits 0; SIGINT with no grace cancels the running stream (it ends
 * with an error event and [DONE]) and exits 0; bad arguments exit 2 with a message.
 */
import assert from "node:assert/strict";
import { post, readSse } from "./_serve.ts";

interface Proc {
  child: Deno.ChildProcess;
  base: string;
  stderr: Promise<string>;
  stdout: Promise<string>;
}

async function spawn(args: string[]): Promise<Proc> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "scripts/serve.ts",
      "--model",
      "synthetic:tiny-llama",
      "--port",
      "0",
      "--threads",
      "1",
      "--max-ctx",
      "512",
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let base = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  while (base === "") {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    base = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/)?.[1] ?? "";
  }
  clearTimeout(timer);
  const stdout = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += value;
    }
  })();
  const stderr = new Response(child.stderr).text();
  if (base === "") throw new Error(`serve did not start: ${out} ${await stderr}`);
  return { child, base, stdout, stderr };
}

Deno.test("lmrig serve: SIGTERM finishes the running stream, then exits 0", async () => {
  const p = await spawn(["--shutdown-timeout", "20"]);
  const res = await post(`${p.base}/completions`, {
    prompt: [1, 2, 3],
    max_tokens: 400,
    ignore_eos: true,
    temperature: 0,
    stream: true,
  });
  let signalled = false;
  let late: Promise<number | string> | null = null;
  const s = await readSse(res, (_e, i) => {
    if (!signalled) p.child.kill("SIGTERM"); // after the first token
    signalled = true;
    // A request sent while it drains is refused (503) or finds the port closed.
    if (i === 20) {
      late = post(`${p.base}/completions`, { prompt: [1], max_tokens: 1 }).then(
        async (r) => (await r.body?.cancel(), r.status),
        (e) => (e as Error).name,
      );
    }
  });
  const status = await p.child.status;
  assert.ok(late !== null);
  const refused = await late;
  assert.ok(refused === 503 || refused === "TypeError", `late request: ${refused}`);
  assert.ok(s.done);
  assert.equal(s.events.length, 400, "the running request got every token");
  const last = s.events.at(-1) as { choices: { finish_reason: string }[] };
  assert.equal(last.choices[0].finish_reason, "length");
  assert.equal(status.code, 0);
  const err = await p.stderr;
  assert.match(err, /SIGTERM: stopping/);
  assert.match(err, /stopped \(1 finished, 0 cancelled/);
  // The port is closed.
  await assert.rejects(fetch(`${p.base}/models`));
  await p.stdout;
});

Deno.test("lmrig serve: SIGINT with no grace cancels the running stream, exits 0", async () => {
  const p = await spawn(["--shutdown-timeout", "0"]);
  const res = await post(`${p.base}/completions`, {
    prompt: [1, 2, 3],
    max_tokens: 500,
    ignore_eos: true,
    temperature: 0,
    stream: true,
  });
  let signalled = false;
  const s = await readSse(res, () => {
    if (!signalled) p.child.kill("SIGINT");
    signalled = true;
  });
  const status = await p.child.status;
  assert.equal(status.code, 0);
  assert.ok(s.done, "the stream still ends with [DONE]");
  const err = s.events.at(-1) as { error: { code: string; type: string; message: string } };
  assert.equal(err.error.code, "cancelled");
  assert.equal(err.error.type, "unavailable_error");
  assert.match(err.error.message, /shutting down/);
  assert.ok(s.events.length - 1 < 500, `cancelled after ${s.events.length - 1} tokens`);
  assert.match(await p.stderr, /stopped \(0 finished, 1 cancelled/);
  await p.stdout;
});

Deno.test("lmrig serve: bad arguments exit 2 naming the option", async () => {
  for (
    const [args, msg] of [
      [
        ["--model", "synthetic:tiny-llama", "--max-seqs", "0"],
        /--max-seqs must be an integer >= 1/,
      ],
      [
        ["--model", "synthetic:tiny-llama", "--target", "vllm"],
        /--target must be one of lmrig, llama.cpp/,
      ],
      [["--port", "1"], /Missing --model/],
      [["--model", "x", "--bogus"], /Unknown option "--bogus"/],
    ] as [string[], RegExp][]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/serve.ts", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 2, args.join(" "));
    assert.match(new TextDecoder().decode(out.stderr), msg);
  }
});
