/**
 * The target layer end to end: lmrig writes its weights as GGUF, llama.cpp (the pinned npm
 * prebuilt) reads them back, and both targets give the same logits at every position of a prompt
 * (F32 tightly, BF16 within a looser bound), with negative controls (wrong RoPE base, dropped
 * q/k/v biases) that the parity check must reject. Also batched decode, KV fill, timing against
 * llama.cpp's own counters, quantisation, capability refusal and bad inputs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../lib/ffi/mod.ts";
import { hfToGguf, type HfToGgufOptions } from "../lib/gguf/hf_to_gguf.ts";
import { readGgufInfo } from "../lib/gguf/read_gguf_info.ts";
import { writeGguf } from "../lib/gguf/write_gguf.ts";
import { openLmrigTarget } from "../lib/targets/lmrig.ts";
import { openLlamaCppTarget } from "../lib/targets/llama_cpp.ts";
import { quantizeGguf } from "../lib/targets/llama_cpp/quantize_gguf.ts";
import { FTYPES } from "../lib/targets/llama_cpp/ggml_types.ts";
import { requireCapabilities } from "../lib/targets/require_capabilities.ts";
import type { Target } from "../lib/targets/types.ts";
import { PARITY_CONFIGS, PARITY_PROMPT } from "./_parity_models.ts";

/** F32 GGUF, flash attention off, F32 KV: llama.cpp's logits within this of lmrig's. */
const F32_TOL = 1e-4;
/** BF16 GGUF: ggml rounds matmul activations to BF16, lmrig keeps them F32. */
const BF16_TOL = 5e-2;

const CONFIGS = PARITY_CONFIGS;
const PROMPT = PARITY_PROMPT;

/** llama.cpp's prebuilt is pinned for linux-x64 only; elsewhere its tests skip (and say so). */
const noLlama = !(Deno.build.os === "linux" && Deno.build.arch === "x86_64");
if (noLlama) console.log("llama.cpp target tests skipped: no prebuilt pinned for this platform");

const work = Deno.makeTempDirSync({ prefix: "lmrig-targets-" });
const folders: Record<string, Promise<string>> = {};

/** A synthesised model saved as an HF folder (once per arch). */
function folder(arch: string): Promise<string> {
  folders[arch] ??= (async () => {
    const cfgPath = join(work, `${arch}.config.json`);
    Deno.writeTextFileSync(cfgPath, JSON.stringify(CONFIGS[arch]));
    const dir = join(work, arch);
    using engine = Engine.create({ backend: "cpu", threads: 1 });
    using model = await engine.synthesize(cfgPath, { seed: 11 });
    await model.save(dir);
    return dir;
  })();
  return folders[arch];
}

async function gguf(arch: string, name: string, options: HfToGgufOptions): Promise<string> {
  const path = join(work, `${arch}.${name}.gguf`);
  await hfToGguf(await folder(arch), path, options);
  return path;
}

/** Teacher-forced logits at every position: prefill the first token, then decode the rest. */
async function forcedLogits(t: Target, tokens: number[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  await t.prefill(0, [tokens[0]]);
  out.push(t.logits(0));
  for (let i = 1; i < tokens.length; i++) {
    await t.decode([0], [tokens[i]]);
    out.push(t.logits(0));
  }
  return out;
}

function compare(a: Float32Array[], b: Float32Array[]) {
  let maxAbs = 0, agree = 0;
  const argmax = (l: Float32Array) => l.reduce((bi, v, i) => (v > l[bi] ? i : bi), 0);
  for (let p = 0; p < a.length; p++) {
    for (let j = 0; j < a[p].length; j++) maxAbs = Math.max(maxAbs, Math.abs(a[p][j] - b[p][j]));
    if (argmax(a[p]) === argmax(b[p])) agree++;
  }
  return { maxAbs, agreement: agree / a.length };
}

const lmrigLogits: Record<string, Promise<Float32Array[]>> = {};
function lmrigReference(arch: string): Promise<Float32Array[]> {
  lmrigLogits[arch] ??= (async () => {
    await using_(
      await openLmrigTarget({ model: await folder(arch), load: true, threads: 1, maxCtx: 64 }),
      async (t) => {
        lmrigLogits[arch + "#"] = Promise.resolve(await forcedLogits(t, PROMPT));
      },
    );
    return await lmrigLogits[arch + "#"];
  })();
  return lmrigLogits[arch];
}

async function using_(t: Target, f: (t: Target) => Promise<void>): Promise<void> {
  try {
    await f(t);
  } finally {
    t.close();
  }
}

async function llamaLogits(path: string): Promise<Float32Array[]> {
  using t = await openLlamaCppTarget({
    model: path,
    threads: 1,
    maxCtx: 64,
    flashAttn: false,
    kvType: "f32",
  });
  return await forcedLogits(t, PROMPT);
}

for (const arch of ["qwen2", "llama"]) {
  Deno.test({
    name: `targets ${arch}: F32 GGUF logits match lmrig at every position`,
    ignore: noLlama,
  }, async () => {
    const ref = await lmrigReference(arch);
    const r = compare(ref, await llamaLogits(await gguf(arch, "f32", { dtype: "f32" })));
    console.log(`${arch} f32: max |diff| ${r.maxAbs.toExponential(2)}, argmax ${r.agreement}`);
    assert.ok(r.maxAbs < F32_TOL, `max |diff| ${r.maxAbs} >= ${F32_TOL}`);
    assert.equal(r.agreement, 1);
  });

  Deno.test({
    name: `targets ${arch}: BF16 GGUF within ${BF16_TOL}, argmax agrees`,
    ignore: noLlama,
  }, async () => {
    const ref = await lmrigReference(arch);
    const r = compare(ref, await llamaLogits(await gguf(arch, "bf16", { dtype: "bf16" })));
    console.log(`${arch} bf16: max |diff| ${r.maxAbs.toExponential(2)}, argmax ${r.agreement}`);
    assert.ok(r.maxAbs < BF16_TOL, `max |diff| ${r.maxAbs} >= ${BF16_TOL}`);
    assert.ok(r.agreement >= 0.95, `argmax agreement ${r.agreement}`);
  });

  Deno.test({
    name: `targets ${arch}: a wrong RoPE base is rejected (negative control)`,
    ignore: noLlama,
  }, async () => {
    const ref = await lmrigReference(arch);
    const path = await gguf(arch, "rope1e4", { dtype: "f32", ropeThetaOverride: 10000 });
    const r = compare(ref, await llamaLogits(path));
    console.log(`${arch} wrong rope: max |diff| ${r.maxAbs.toExponential(2)}`);
    assert.ok(r.maxAbs > 50 * F32_TOL, `a wrong RoPE base went unnoticed: ${r.maxAbs}`);
  });
}

Deno.test({
  name: "targets qwen2: a GGUF without the q/k/v biases is rejected (negative control)",
  ignore: noLlama,
}, async () => {
  const ref = await lmrigReference("qwen2");
  const path = await gguf("qwen2", "nobias", { dtype: "f32", dropQkvBias: true });
  const r = compare(ref, await llamaLogits(path));
  console.log(`qwen2 no bias: max |diff| ${r.maxAbs.toExponential(2)}`);
  assert.ok(r.maxAbs > 50 * F32_TOL, `dropped biases went unnoticed: ${r.maxAbs}`);
});

Deno.test({
  name: "targets: the GGUF writer round-trips and llama.cpp reads the model back",
  ignore: noLlama,
}, async () => {
  const path = await gguf("qwen2", "f32", { dtype: "f32" });
  const info = readGgufInfo(path);
  assert.equal(info.version, 3);
  assert.equal(info.metadata["general.architecture"], "qwen2");
  assert.equal(info.metadata["qwen2.rope.freq_base"], 1000000);
  assert.equal(info.metadata["qwen2.block_count"], 2);
  // 2 layers x (2 norms + q/k/v weights + biases + o + gate/up/down) + embedding + final norm.
  assert.equal(info.tensors.length, 2 * 12 + 2);
  const q = info.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
  assert.deepEqual(q.ne, [256, 256]);
  assert.equal(q.ggmlType, 0);
  using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: 32 });
  const m = t.model();
  assert.deepEqual([m.arch, m.layers, m.vocab, m.dtype], ["qwen2", 2, 1024, "f32"]);
  assert.ok(t.warnings().some((w) => w.includes("dummy tokens")), "llama.cpp's log is captured");
});

Deno.test({
  name: "targets: batched decode of 4 sequences matches each decoded alone",
  ignore: noLlama,
}, async () => {
  const path = await gguf("qwen2", "f32", { dtype: "f32" });
  const prompts = [0, 1, 2, 3].map((s) => PROMPT.slice(s * 5, s * 5 + 6 + s));
  const next = [5, 77, 300, 999];
  using t = await openLlamaCppTarget({
    model: path,
    threads: 1,
    maxSeqs: 4,
    maxCtx: 32,
    kvType: "f32",
  });
  for (let s = 0; s < 4; s++) await t.prefill(s, prompts[s]);
  const stepNs = await t.decode([0, 1, 2, 3], next);
  assert.ok(stepNs > 0);
  const batched = [0, 1, 2, 3].map((s) => t.logits(s));
  for (let s = 0; s < 4; s++) {
    t.reset(s);
    assert.equal(t.seqLen(s), 0);
    await t.prefill(s, [...prompts[s], next[s]]);
    const alone = t.logits(s);
    const d = batched[s].reduce((m, v, j) => Math.max(m, Math.abs(v - alone[j])), 0);
    assert.ok(d < F32_TOL, `sequence ${s}: batched vs alone differ by ${d}`);
  }
  // A sequence's logits are replaced by a later decode that does not include it.
  await t.decode([0], [1]);
  assert.throws(() => t.logits(1), /latest llama_decode did not compute them/);
});

Deno.test({
  name: "targets: engine-timed steps agree with llama.cpp's perf counters; KV fill by prefill",
  ignore: noLlama,
}, async () => {
  const path = await gguf("qwen2", "f32", { dtype: "f32" });
  using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: 256 });
  assert.equal(t.facts().kvFill, "prefill");
  const fillNs = await t.fillKv(0, 128, 3);
  assert.ok(fillNs > 0);
  assert.equal(t.seqLen(0), 128);
  const before = t.counters()!;
  let wall = 0;
  for (let i = 0; i < 16; i++) wall += await t.decode([0], [t.sample(0).token]);
  const after = t.counters()!;
  const perfNs = after.decodeNs - before.decodeNs;
  assert.equal(after.decodeTokens - before.decodeTokens, 16);
  console.log(
    `16 steps: native wall ${(wall / 1e6).toFixed(2)} ms, llama.cpp ${
      (perfNs / 1e6).toFixed(2)
    } ms`,
  );
  // llama.cpp's counter runs inside llama_decode (µs clock), so it is at most the wall time
  // around the call and (on a quiet or busy machine alike) most of it.
  assert.ok(perfNs <= wall * 1.02 + 16_000, `counter ${perfNs} > wall ${wall}`);
  assert.ok(perfNs >= wall * 0.5, `counter ${perfNs} far below wall ${wall}`);
  const f = t.facts();
  assert.equal(f.name, "llama.cpp");
  assert.equal(f.settings.flashAttn, false);
  assert.equal(f.settings.noPerf, false);
  assert.equal(f.extra.release, "v0.5.0");
  assert.match(String(f.extra.npmPackage), /^@node-llama-cpp\//);
});

Deno.test({
  name: "targets: quantise to f16, bf16, q8_0, q4_k_m with llama.cpp's quantiser",
  ignore: noLlama,
}, async () => {
  const src = await gguf("qwen2", "f32", { dtype: "f32" });
  const srcSize = Deno.statSync(src).size;
  const ref = await llamaLogits(src);
  const sizes: Record<string, number> = {};
  for (const q of ["f16", "bf16", "q8_0", "q4_k_m"]) {
    const path = await quantizeGguf(src, q, { threads: 1 });
    assert.equal(readGgufInfo(path).metadata["general.file_type"], FTYPES[q]);
    sizes[q] = Deno.statSync(path).size;
    using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: 64, kvType: "f32" });
    assert.equal(t.model().dtype, q);
    const r = compare(ref, await forcedLogits(t, PROMPT));
    console.log(
      `${q}: ${sizes[q]} bytes, max |diff| vs f32 ${
        r.maxAbs.toExponential(2)
      }, argmax ${r.agreement}`,
    );
    assert.ok(r.agreement >= 0.7, `${q}: argmax agreement ${r.agreement}`);
    // The cache is reused while it is newer than the source.
    assert.equal(await quantizeGguf(src, q), path);
  }
  assert.ok(sizes.f16 < srcSize * 0.6 && sizes.bf16 < srcSize * 0.6);
  assert.ok(sizes.q8_0 < sizes.f16 * 0.65, `q8_0 ${sizes.q8_0} vs f16 ${sizes.f16}`);
  assert.ok(sizes.q4_k_m < sizes.q8_0, `q4_k_m ${sizes.q4_k_m} vs q8_0 ${sizes.q8_0}`);
  await assert.rejects(quantizeGguf(src, "q3_xyz"), /Unknown quantisation "q3_xyz"/);
});

Deno.test({
  name: "targets: a scenario needing a missing capability is refused, naming all three",
  ignore: noLlama,
}, async () => {
  const path = await gguf("qwen2", "f32", { dtype: "f32" });
  using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: 16 });
  assert.throws(
    () => requireCapabilities(t, "cache-sweep", ["step-timed", "kv-fill-random", "peak-memory"]),
    /scenario kind "cache-sweep" on target "llama.cpp": it lacks the capabilities "kv-fill-random", "peak-memory"/,
  );
  requireCapabilities(t, "grid", ["prefill-timed", "step-timed", "batched-decode"]);
});

Deno.test(
  { name: "targets: bad inputs give clear errors, never a crash", ignore: noLlama },
  async (s) => {
    const good = await gguf("qwen2", "f32", { dtype: "f32" });
    const bytes = Deno.readFileSync(good);
    await s.step("truncated GGUF", async () => {
      const p = join(work, "truncated.gguf");
      Deno.writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await assert.rejects(
        openLlamaCppTarget({ model: p }),
        /Cannot load model ".*truncated.gguf": .+/,
      );
      assert.throws(() => readGgufInfo(join(work, "nothing.gguf")));
    });
    await s.step("corrupt GGUF", async () => {
      const p = join(work, "corrupt.gguf");
      const c = bytes.slice(0, 4096);
      c.fill(0xab, 8, 4096);
      Deno.writeFileSync(p, c);
      await assert.rejects(
        openLlamaCppTarget({ model: p }),
        /Cannot load model ".*corrupt.gguf": .+/,
      );
      assert.throws(() => readGgufInfo(p), /Cannot read GGUF/);
    });
    await s.step("unknown architecture", async () => {
      const p = join(work, "unknown_arch.gguf");
      await writeGguf(p, [["general.architecture", { type: "string", value: "nosucharch" }]], []);
      await assert.rejects(openLlamaCppTarget({ model: p }), /Cannot load model .*nosucharch/);
      const dir = join(work, "mamba");
      Deno.mkdirSync(dir);
      Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "mamba" }));
      await assert.rejects(hfToGguf(dir, join(work, "m.gguf")), /unknown architecture "mamba"/);
    });
    await s.step("context that does not fit", async () => {
      using t = await openLlamaCppTarget({ model: good, maxCtx: 16 });
      await assert.rejects(t.prefill(0, PROMPT.slice(0, 20)), /exceeds the context of 16 tokens/);
      await assert.rejects(t.prefill(0, [5000]), /Token 0 of sequence 0 is 5000: expected 0..1023/);
      await assert.rejects(
        openLlamaCppTarget({ model: good, maxCtx: 1 << 28, maxSeqs: 4 }),
        /Cannot create a llama.cpp context of 4 x 268435456 tokens on .*: its f16 KV cache needs .* GiB, more than the machine's/,
      );
    });
    await s.step("missing model and missing library", async () => {
      await assert.rejects(
        openLlamaCppTarget({ model: join(work, "none.gguf") }),
        /file not found/,
      );
      await assert.rejects(
        openLlamaCppTarget({ model: good, libDir: join(work, "no-such-dir") }),
        /no libllama library there; pass the folder/,
      );
    });
  },
);

globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Split `dir`'s model.safetensors into two shards plus an index, in a new folder. */
function shard(dir: string, out: string): void {
  const bytes = Deno.readFileSync(join(dir, "model.safetensors"));
  const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  const names = Object.keys(header).filter((n) => n !== "__metadata__").reverse();
  const halves = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
  const weightMap: Record<string, string> = {};
  Deno.mkdirSync(out, { recursive: true });
  Deno.copyFileSync(join(dir, "config.json"), join(out, "config.json"));
  halves.forEach((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    const h: Record<string, unknown> = { __metadata__: { format: "pt" } };
    const chunks: Uint8Array[] = [];
    let off = 0;
    for (const n of part) {
      const [s, e] = header[n].data_offsets;
      h[n] = { ...header[n], data_offsets: [off, off + e - s] };
      chunks.push(bytes.subarray(8 + hlen + s, 8 + hlen + e));
      off += e - s;
      weightMap[n] = file;
    }
    let json = JSON.stringify(h);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const head = new Uint8Array(8);
    new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
    const parts = [head, new TextEncoder().encode(json), ...chunks];
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
    Deno.writeFileSync(join(out, file), all);
  });
  Deno.writeTextFileSync(
    join(out, "model.safetensors.index.json"),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
}

Deno.test({
  name: "targets: a sharded HF folder converts to the same tensors as the single file",
  ignore: noLlama,
  fn: async () => {
    const single = await gguf("qwen2", "f32", { dtype: "f32" });
    const dir = join(work, "qwen2-sharded");
    shard(await folder("qwen2"), dir);
    const sharded = join(work, "sharded.gguf");
    await hfToGguf(dir, sharded, { dtype: "f32" });
    const a = readGgufInfo(single), b = readGgufInfo(sharded);
    assert.deepEqual(b.tensors, a.tensors);
    const da = Deno.readFileSync(single).subarray(a.dataOffset);
    const db = Deno.readFileSync(sharded).subarray(b.dataOffset);
    assert.ok(da.length === db.length && da.every((x, i) => x === db[i]), "tensor data differ");
    Deno.truncateSync(join(dir, "model-00002-of-00002.safetensors"), 1000);
    await assert.rejects(hfToGguf(dir, join(work, "bad.gguf")), /is truncated/);
    assert.ok(
      ![...Deno.readDirSync(work)].some((e) => e.name.startsWith("bad.gguf")),
      "no leftovers",
    );
  },
});

Deno.test({
  name: "targets: a prefill longer than n_batch runs in chunks with the same logits",
  ignore: noLlama,
  fn: async () => {
    const path = await gguf("qwen2", "f32", { dtype: "f32" });
    const last: Float32Array[] = [];
    for (const nBatch of [64, 16]) {
      using t = await openLlamaCppTarget({ model: path, maxCtx: 64, nBatch, kvType: "f32" });
      assert.equal(t.facts().settings.nBatch, nBatch);
      assert.ok((await t.prefill(0, PROMPT.slice(0, 40))) > 0);
      assert.equal(t.seqLen(0), 40);
      last.push(t.logits(0));
    }
    const d = last[0].reduce((m, v, j) => Math.max(m, Math.abs(v - last[1][j])), 0);
    assert.ok(d < F32_TOL, `chunked prefill differs by ${d}`);
  },
});
