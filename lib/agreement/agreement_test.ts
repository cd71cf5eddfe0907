import assert from "node:assert/strict";
import { agreementRows } from "./agreement_rows.ts";
import { runLlamaBench } from "./run_llama_bench.ts";

const OPTIONS = {
  model: "m.gguf",
  threads: 2,
  pp: 64,
  tg: 16,
  reps: 2,
  kvType: "f16",
  flashAttn: false,
  nBatch: 2048,
  nUbatch: 512,
};

/** A stand-in llama-bench: prints its arguments to a file and llama-bench-shaped JSON. */
async function fakeBench(dir: string, body: string): Promise<string> {
  const path = `${dir}/llama-bench`;
  await Deno.writeTextFile(path, `#!/bin/sh\necho "$@" > ${dir}/args\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("runLlamaBench passes every setting explicitly and reads samples_ts per test", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = JSON.stringify([
      {
        build_commit: "abc",
        build_number: 7,
        n_prompt: 64,
        n_gen: 0,
        avg_ts: 101,
        samples_ts: [100, 102],
      },
      {
        build_commit: "abc",
        build_number: 7,
        n_prompt: 0,
        n_gen: 16,
        avg_ts: 11,
        samples_ts: [10, 12],
      },
    ]);
    const bin = await fakeBench(dir, `echo 'log line on stdout'\necho '${json}'`);
    const r = await runLlamaBench(bin, OPTIONS);
    assert.deepEqual(r.pp, [100, 102]);
    assert.deepEqual(r.tg, [10, 12]);
    assert.equal(r.build, "abc (build 7)");
    const args = (await Deno.readTextFile(`${dir}/args`)).trim();
    assert.equal(
      args,
      "-m m.gguf -t 2 -r 2 -p 64 -n 16 -ngl 0 -fa off -ctk f16 -ctv f16 -b 2048 -ub 512 -o json",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runLlamaBench: a missing binary, a failing one and one without JSON are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => runLlamaBench(`${dir}/nope`, OPTIONS),
      /Cannot run llama-bench ".*nope": /,
    );
    const failing = await fakeBench(dir, "echo 'error: failed to load model' >&2; exit 1");
    await assert.rejects(
      () => runLlamaBench(failing, OPTIONS),
      /exit status 1 \(error: failed to load model\)/,
    );
    const silent = await fakeBench(dir, "echo 'nothing here'");
    await assert.rejects(() => runLlamaBench(silent, OPTIONS), /no JSON results/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agreementRows: medians, difference and the 5% verdict, with a negative control", () => {
  const [ok, off] = agreementRows({
    pp64: { rig: [98, 100, 103], bench: [101, 102, 99] },
    tg16: { rig: [11, 11.2], bench: [10, 10] }, // 11% faster: must not agree
  });
  assert.equal(ok.rig, 100);
  assert.equal(ok.bench, 101);
  assert.ok(ok.agrees);
  assert.deepEqual(ok.rigRange, [98, 103]);
  assert.ok(Math.abs(off.difference - 0.11) < 1e-9);
  assert.equal(off.agrees, false);
  assert.equal(agreementRows({ x: { rig: [106], bench: [100] } }, 0.1)[0].agrees, true);
  assert.throws(() => agreementRows({ x: { rig: [], bench: [1] } }), /no samples from the rig/);
});
