/** End to end: engine failures and library problems surface as clear errors. */
import assert from "node:assert/strict";
import { Engine } from "../lib/ffi/engine.ts";
import { EngineError } from "../lib/ffi/engine_error.ts";
import { findLibrary } from "../lib/ffi/find_library.ts";
import { loadLibrary } from "../lib/ffi/load_library.ts";

Deno.test("an out-of-range token is an EngineError carrying the engine's message", async () => {
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  using model = await engine.synthesize("tiny-qwen2", { seed: 3 });
  using session = model.createSession({ maxCtx: 64 });
  const vocab = model.info().vocab;
  await assert.rejects(session.prefill(0, [1, vocab + 7]), (e: unknown) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.code, "LMR_ERR_OUT_OF_RANGE");
    assert.equal(e.status, -6);
    assert.ok(e.nativeMessage.includes(String(vocab + 7)), e.nativeMessage);
    assert.ok(e.message.startsWith("Cannot prefill sequence 0: "), e.message);
    return true;
  });
  await assert.rejects(session.generate(0, [1, 2], 10_000), {
    name: "EngineError",
    message: /Cannot generate 10000 tokens on sequence 0: .*\(LMR_ERR_OUT_OF_RANGE\)/,
  });
  await assert.rejects(engine.synthesize("no-such-preset"), {
    name: "EngineError",
    message: /Cannot synthesize model "no-such-preset": .*no-such-preset/,
  });
});

/** Overwrite every BF16 element of tensor `name` in dir/model.safetensors with `bits`. */
function poisonTensor(dir: string, name: string, bits: number): void {
  const path = `${dir}/model.safetensors`;
  const bytes = Deno.readFileSync(path);
  const view = new DataView(bytes.buffer);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const entry = header[name] as { dtype: string; data_offsets: [number, number] };
  assert.equal(entry.dtype, "BF16");
  for (let at = entry.data_offsets[0]; at < entry.data_offsets[1]; at += 2) {
    view.setUint16(8 + headerLen + at, bits, true);
  }
  Deno.writeFileSync(path, bytes);
}

Deno.test("NaN logits are LMR_ERR_NONFINITE on every sampling path, never token 0", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lmrig-nan-" });
  try {
    using engine = Engine.create({ backend: "cpu", threads: 1 });
    {
      using synth = await engine.synthesize("tiny-qwen2", { seed: 4 });
      await synth.save(dir);
    }
    {
      // Negative control: the clean folder samples a token.
      using clean = await engine.load(dir);
      using session = clean.createSession({ maxCtx: 64 });
      await session.prefill(0, [5, 17, 301]);
      const token = session.sample(0);
      assert.ok(token >= 0 && token < clean.info().vocab, `token ${token}`);
    }
    poisonTensor(dir, "model.norm.weight", 0x7fc0);
    using model = await engine.load(dir);
    using session = model.createSession({ maxCtx: 64, maxSeqs: 2 });
    await session.prefill(0, [5, 17, 301]);
    const nonfinite = (where: RegExp) => (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.code, "LMR_ERR_NONFINITE");
      assert.equal(e.status, -10);
      assert.match(e.nativeMessage, where);
      assert.match(e.nativeMessage, /512 of 512 logits are not finite .*after 2 layers/);
      return true;
    };
    assert.throws(() => session.sample(0), nonfinite(/seq 0 position 2/));
    assert.throws(() => session.sample(0, { temperature: 0.7, topK: 20 }), nonfinite(/seq 0/));
    await session.decode([0], [9]);
    assert.throws(() => session.sample(0), nonfinite(/seq 0 position 3/));
    await assert.rejects(session.generate(1, [5, 17, 301], 4), nonfinite(/seq 1 position 2/));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("weights truncated after the load are an LMR_ERR_IO, not a SIGBUS", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "lmrig-trunc-" });
  try {
    using engine = Engine.create({ backend: "cpu", threads: 1 });
    {
      using synth = await engine.synthesize("tiny-llama", { seed: 2 });
      await synth.save(dir);
    }
    using model = await engine.load(dir);
    using session = model.createSession({ maxCtx: 64, maxSeqs: 2 });
    await session.prefill(0, [1, 2, 3]); // negative control: unchanged files run
    Deno.truncateSync(`${dir}/model.safetensors`, 4096);
    await assert.rejects(session.prefill(1, [1, 2, 3]), (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.code, "LMR_ERR_IO");
      assert.match(
        e.nativeMessage,
        /model\.safetensors: the weights file changed after the model was loaded .*now 4096/,
      );
      return true;
    });
    await assert.rejects(session.decode([0], [4]), { name: "EngineError", message: /SIGBUS/ });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("closed handles refuse use; closing an engine closes its models and sessions", async () => {
  const engine = Engine.create({ backend: "cpu", threads: 1 });
  const model = await engine.synthesize("tiny-llama", { seed: 1 });
  const session = model.createSession({ maxCtx: 32 });
  engine.close();
  assert.throws(() => session.info(), {
    name: "TypeError",
    message: "Cannot use the session: it is closed",
  });
  assert.throws(() => model.info(), {
    name: "TypeError",
    message: "Cannot use the model: it is closed",
  });
  engine.close();
});

Deno.test("a missing library names the path and the build command", () => {
  assert.throws(() => loadLibrary({ path: "/nonexistent/liblmrig.so" }), {
    message:
      'Cannot load lmrig library "/nonexistent/liblmrig.so": file not found; run "deno task build"',
  });
});

Deno.test("LMRIG_LIB picks the library and a missing one is reported", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", 'import { Engine } from "./lib/ffi/mod.ts"; Engine.create();'],
    env: { LMRIG_LIB: "/nowhere/liblmrig.so", NO_COLOR: "1" },
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.success, false);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /Cannot load lmrig library "\/nowhere\/liblmrig.so": file not found/,
  );
});

Deno.test("an ABI version mismatch names both versions", () => {
  const path = findLibrary();
  const actual = loadLibrary({ path }).abiVersion;
  assert.throws(() => loadLibrary({ path, expectedAbiVersion: actual + 1 }), {
    message: new RegExp(
      `the library has ABI version ${actual} .* but these bindings expect ABI version ${
        actual + 1
      }`,
    ),
  });
});
