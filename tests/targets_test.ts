/**
 * The target layer without parity: lmrig behind the Target interface, the llama.cpp library's
 * provenance and layout check, model references resolved to cached GGUF files, and the real Qwen
 * tokenizer metadata read back by llama.cpp.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openLmrigTarget } from "../lib/targets/lmrig.ts";
import { openLlamaCppTarget } from "../lib/targets/llama_cpp.ts";
import { loadLlama } from "../lib/targets/llama_cpp/load_llama.ts";
import { findLlamaLibrary } from "../lib/targets/llama_cpp/find_llama_library.ts";
import { layoutMismatches } from "../lib/targets/llama_cpp/layout_mismatches.ts";
import { modelGguf } from "../lib/gguf/model_gguf.ts";
import { readGgufInfo } from "../lib/gguf/read_gguf_info.ts";
import { requireCapabilities } from "../lib/targets/require_capabilities.ts";

/** llama.cpp's prebuilt is pinned for linux-x64 only; elsewhere its tests skip (and say so). */
const noLlama = !(Deno.build.os === "linux" && Deno.build.arch === "x86_64");
if (noLlama) console.log("llama.cpp target tests skipped: no prebuilt pinned for this platform");

const work = Deno.makeTempDirSync({ prefix: "lmrig-targets-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

Deno.test("targets lmrig: the Target contract on the engine (batched decode, random KV fill)", async () => {
  using t = await openLmrigTarget({
    model: "tiny-qwen2",
    seed: 2,
    threads: 1,
    maxSeqs: 2,
    maxCtx: 64,
  });
  assert.equal(t.name, "lmrig");
  requireCapabilities(t, "cache-sweep", ["kv-fill-random", "peak-memory", "executors"]);
  assert.ok((await t.prefill(0, [1, 2, 3])) > 0);
  assert.ok((await t.prefill(1, [4, 5])) > 0);
  const a = t.sample(0), b = t.sample(1);
  assert.ok((await t.decode([0, 1], [a.token, b.token])) > 0);
  assert.deepEqual([t.seqLen(0), t.seqLen(1)], [4, 3]);
  assert.equal(t.logits(0).length, t.model().vocab);
  assert.ok((await t.fillKv(1, 40, 7)) > 0);
  assert.equal(t.seqLen(1), 40);
  t.reset(1);
  assert.equal(t.seqLen(1), 0);
  const c = t.counters()!;
  assert.equal(c.prefillTokens, 5);
  assert.equal(c.decodeTokens, 2);
  assert.ok(c.peakBytes! > 0);
  const f = t.facts();
  assert.equal(f.kvFill, "random");
  assert.equal(f.threads, 1);
  t.close();
  t.close();
});

Deno.test({
  name: "targets llama.cpp: library provenance, CPU variant and layout check",
  ignore: noLlama,
}, async () => {
  const lib = await loadLlama();
  assert.equal(lib.release.release, "v0.5.0");
  assert.equal(lib.location.source, "npm");
  assert.equal(lib.location.npmVersion, "3.22.1");
  assert.equal(lib.location.npmPackage, "@node-llama-cpp/linux-x64");
  assert.equal(lib.location.backend, "cpu");
  assert.match(lib.libllamaPath, /libllama\.v0\.5\.0\.so$/);
  assert.ok(lib.devices.some((d) => d.name === "CPU"));
  if (Deno.build.os === "linux") assert.match(lib.cpuVariant ?? "", /^[\w-]+$/);
  const sym = lib.symbols;
  const r = lib.release;
  assert.deepEqual(
    layoutMismatches(r, "llama_context_params", sym.llama_context_default_params()),
    [],
  );
  assert.deepEqual(layoutMismatches(r, "llama_model_params", sym.llama_model_default_params()), []);
  // Negative control: a release whose context params differ (a field moved) is refused.
  const shifted = { ...r, defaults: { ...r.defaults } };
  shifted.defaults.llama_context_params = { ...r.defaults.llama_context_params, n_batch: 4096 };
  assert.deepEqual(
    layoutMismatches(shifted, "llama_context_params", sym.llama_context_default_params()),
    ["llama_context_params.n_batch = 2048, expected 4096"],
  );
  assert.deepEqual(layoutMismatches(r, "llama_model_params", new Uint8Array(72)), [
    "llama_model_params is 72 bytes, expected 80",
  ]);
  // --llama-lib: a user's folder is taken as given; one llama.cpp per process.
  const user = await findLlamaLibrary(lib.location.dir);
  assert.deepEqual(user, { dir: lib.location.dir, source: "user", backend: "cpu" });
  const other = join(work, "other");
  Deno.mkdirSync(other);
  Deno.writeFileSync(join(other, "libllama.so"), new Uint8Array(16));
  await assert.rejects(loadLlama(other), /is already loaded in this process/);
});

Deno.test(
  { name: "targets: a preset resolves to a GGUF cached by content hash", ignore: noLlama },
  async () => {
    const cacheDir = join(work, "cache");
    const a = await modelGguf("tiny-llama", { seed: 4, dtype: "f32", cacheDir });
    assert.equal(a.cached, false);
    assert.match(a.contentHash, /^sha256:[0-9a-f]{64}$/);
    assert.ok(a.path.startsWith(join(cacheDir, "gguf", a.contentHash.slice(7, 23))));
    const b = await modelGguf("tiny-llama", { seed: 4, dtype: "f32", cacheDir });
    assert.deepEqual(b, { ...a, cached: true });
    const c = await modelGguf("tiny-llama", { seed: 5, dtype: "f32", cacheDir });
    assert.notEqual(c.contentHash, a.contentHash, "other weights, other hash");
    const g = await modelGguf(a.path);
    assert.equal(g.path, a.path);
    await assert.rejects(modelGguf(join(work, "none.gguf")), /file not found/);
    using t = await openLlamaCppTarget({ model: a.path, threads: 1, maxCtx: 32 });
    assert.equal(t.model().arch, "llama");
  },
);

Deno.test({
  name: "targets: a qwen2 model with Qwen's vocabulary carries the real tokenizer",
  ignore: noLlama,
}, async () => {
  const cfg = join(work, "qwen-vocab.json");
  Deno.writeTextFileSync(
    cfg,
    JSON.stringify({
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
      hidden_size: 64,
      intermediate_size: 128,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      vocab_size: 151936,
      max_position_embeddings: 1024,
      rope_theta: 1000000,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
      bos_token_id: 151643,
      eos_token_id: 151645,
    }),
  );
  const { path } = await modelGguf(cfg, { cacheDir: join(work, "cache") });
  const md = readGgufInfo(path).metadata;
  assert.equal(md["tokenizer.ggml.model"], "gpt2");
  assert.equal(md["tokenizer.ggml.pre"], "qwen2");
  assert.equal((md["tokenizer.ggml.tokens"] as { length: number }).length, 151936);
  assert.equal(md["tokenizer.ggml.eos_token_id"], 151645);
  using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: 16 });
  assert.equal(t.model().vocab, 151936);
  // Added tokens typed as llama.cpp's converter types them: no "control-looking" <|...|> token.
  // (It still notes '</s>', a normal token of Qwen's BPE vocabulary, as for its own conversions.)
  assert.ok(
    !t.warnings().some((w) =>
      w.includes("dummy tokens") || (w.includes("control-looking") && w.includes("'<|"))
    ),
    t.warnings().join("\n"),
  );
  await t.prefill(0, [151644, 872, 198]);
  assert.equal(t.logits(0).length, 151936);
});

Deno.test({
  name: "targets llama.cpp: its log goes to the warnings and a debug file, never the terminal",
  ignore: noLlama,
  fn: async () => {
    const { path } = await modelGguf("tiny-qwen2", { seed: 1, cacheDir: join(work, "cache") });
    const debug = join(work, "llama.log");
    const script = join(work, "open.ts");
    const target = new URL("../lib/targets/llama_cpp.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { openLlamaCppTarget } from "${target}";\n` +
        `using t = await openLlamaCppTarget({ model: ${JSON.stringify(path)}, maxCtx: 16, ` +
        `debugLogPath: ${JSON.stringify(debug)} });\n` +
        `await t.prefill(0, [1, 2, 3]);\n` +
        `console.log(JSON.stringify(t.warnings()));\n`,
    );
    const config = new URL("../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", config, script],
      env: { NO_COLOR: "1" },
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.equal(stderr.trim(), "", "nothing on the terminal's stderr");
    assert.deepEqual(JSON.parse(stdout), ["load: adding 512 dummy tokens"]);
    const log = Deno.readTextFileSync(debug);
    assert.match(log, /load_backend: loaded CPU backend/);
    assert.match(log, /llama_context: n_ctx/);
  },
});
