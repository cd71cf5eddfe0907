/** End to end through the command line: scripts/bench.ts as users run it. */
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url).pathname;

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

Deno.test("bench refuses unknown flags and bad scenario files with clear messages", async () => {
  const r = await bench(["--fast"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option "--fast"; see --help/);
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.ts`;
    await Deno.writeTextFile(
      bad,
      'export default { kind: "grid", name: "bad", cases: [{ id: "A", promptTokens: 4, decodeTokens: 4 }, { id: "B", promptTokens: 4, decodeTokens: 4 }, { id: "C", promptTokens: -4, decodeTokens: 4 }] };\n',
    );
    const b = await bench([bad]);
    assert.equal(b.code, 1);
    assert.match(
      b.stderr,
      new RegExp(`${bad}: cases\\[2\\]\\.promptTokens must be a positive integer, got -4`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --help lists the options with examples", async () => {
  const r = await bench(["--help"]);
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--model",
      "--backend",
      "--executor",
      "--threads",
      "--warmup",
      "--runs",
      "--seed",
      "--out",
      "--format",
      "--quick",
      "--profile",
    ]
  ) {
    assert.ok(r.stdout.includes(flag), flag);
  }
  assert.match(r.stdout, /Examples:/);
});

Deno.test("bench runs a tiny grid, prints csv rows and writes the record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = `${dir}/tiny.ts`;
    await Deno.writeTextFile(
      scenario,
      'export default { kind: "grid", name: "tiny", cases: [{ id: "A", promptTokens: 8, decodeTokens: 5 }, { id: "B", promptTokens: 24, decodeTokens: 5 }] };\n',
    );
    const out = `${dir}/r.json`;
    const r = await bench([
      scenario,
      "--model",
      "synthetic:tiny-llama",
      "--backend",
      "cpu",
      "--threads",
      "1",
      "--warmup",
      "0",
      "--runs",
      "2",
      "--format",
      "csv",
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(
      lines[0],
      /^record,scenario,backend,executor,model,case,params,metric,unit,better,n,median/,
    );
    assert.equal(lines.length, 1 + 2 * 6, "one row per case and metric");
    assert.match(r.stderr, new RegExp(`record: .*r\\.json \\(complete\\)`));
    const record = JSON.parse(await Deno.readTextFile(out));
    assert.equal(record.status, "complete");
    assert.equal(record.model.arch, "llama");
    assert.deepEqual(record.tool.command.slice(0, 3), ["deno", "task", "bench"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench refuses a bad --out in seconds, before any model loads, without a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (
      const [out, why] of [
        [dir, /it is a folder, not a file/],
        ["", /the path is empty/],
        [`${dir}/`, /it names a folder, not a file/],
      ] as const
    ) {
      const t0 = performance.now();
      // The model folder does not exist: had the model been opened first, that would be the error.
      const r = await bench([
        "--model",
        `${dir}/no-model`,
        "--backend",
        "cpu",
        "--quick",
        "--out",
        out,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`Cannot write --out "[^"]*": ${why.source}`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      assert.ok(performance.now() - t0 < 30_000);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM and SIGHUP stop a bench like Ctrl-C: the record says interrupted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scenario = `${dir}/long.ts`;
    await Deno.writeTextFile(
      scenario,
      'export default { kind: "grid", name: "long", cases: [{ id: "A", promptTokens: 8, ' +
        'decodeTokens: 8 }, { id: "B", promptTokens: 8, decodeTokens: 8 }] };\n',
    );
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
      const out = `${dir}/${signal}.json`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "scripts/bench.ts",
          scenario,
          "--model",
          "synthetic:tiny-qwen2",
          "--backend",
          "cpu",
          "--threads",
          "1",
          "--warmup",
          "0",
          "--runs",
          "100000",
          "--out",
          out,
        ],
        cwd: root,
        env: { NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // Signal once the cases have started (the ceiling is logged right before them).
      let err = "";
      const dec = new TextDecoder();
      const reader = child.stderr.getReader();
      const guard = setTimeout(() => child.kill("SIGKILL"), 60_000); // never hang the suite
      while (!err.includes("read bandwidth ceiling")) {
        const { value, done } = await reader.read();
        if (done) break;
        err += dec.decode(value);
      }
      await new Promise((r) => setTimeout(r, 300));
      child.kill(signal);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        err += dec.decode(value);
      }
      const status = await child.status;
      clearTimeout(guard);
      assert.equal(status.code, 130, `${signal}: ${err}`);
      const record = JSON.parse(await Deno.readTextFile(out));
      assert.equal(record.status, "interrupted", signal);
      assert.deepEqual(record.cases.map((c: { id: string }) => c.id), ["A"]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
