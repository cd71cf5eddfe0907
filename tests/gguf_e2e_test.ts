/**
 * lmrig's engine reading GGUF files end to end: a GGUF written by lmrig's own writer (lib/gguf)
 * gives the same logits as the safetensors folder it came from; files quantised to Q8_0 and
 * Q4_K_M by llama.cpp's quantiser (through the llama.cpp target) load with their type mix and
 * real byte counts, and give llama.cpp's logits on the very same file (teacher-forced, flash
 * attention off, F32 KV) within stated tolerances, with a negative control (one tensor's scales
 * altered in the file) that the tolerance must reject; hand-corrupted files give clear errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine, EngineError } from "../lib/ffi/mod.ts";
import { hfToGguf, type HfToGgufOptions } from "../lib/gguf/hf_to_gguf.ts";
import { readGgufInfo } from "../lib/gguf/read_gguf_info.ts";
import { openLmrigTarget } from "../lib/targets/lmrig.ts";
import { openLlamaCppTarget } from "../lib/targets/llama_cpp.ts";
import { quantizeGguf } from "../lib/targets/llama_cpp/quantize_gguf.ts";
import type { Target } from "../lib/targets/types.ts";
import { PARITY_CONFIGS, PARITY_PROMPT } from "./_parity_models.ts";

/** lmrig vs lmrig on identical weights (F32 or BF16 bits): the same kernels, so the same logits
 * up to the summation order of nothing at all; 1e-5 leaves room for none to differ. */
const SAME_TOL = 1e-5;
/**
 * lmrig vs llama.cpp on the same quantised file, max |logit diff| over 48 teacher-forced
 * positions (logits up to ~5 for llama, ~19 for qwen2). Both quantise the activations of a
 * quantised matmul to 8 bits per block (Q8_0 blocks for Q8_0 weights, Q8_K for the K-quants), so
 * they differ only by rounding details and summation order. Measured on this machine with the
 * integer dot kernels (AVX-512): Q8_0 4.7e-2 (qwen2) and 4.9e-2 (llama); Q4_K_M 2.8e-2 (qwen2,
 * tied Q6_K embedding) and 1.9e-6 (llama); with dequantise-then-dot kernels (F32 activations)
 * 4.4e-2 to 7.1e-2. F32 files give < 1e-4 (tests/targets_llama_cpp_test.ts). The tolerance is
 * 0.1 for both; the negative control (blk.0.ffn_down's block scales x1.25 in the file) moved the
 * logits by 0.37-0.41 and must move them by more than twice the tolerance.
 */
const QUANT_TOL: Record<string, number> = { q8_0: 0.1, q4_k_m: 0.1 };
/** Argmax agreement over the 48 positions: measured 0.96 to 1. */
const QUANT_ARGMAX = 0.9;

const CONFIGS = PARITY_CONFIGS;
const PROMPT = PARITY_PROMPT;

/** llama.cpp's prebuilt is pinned for linux-x64 only; elsewhere those tests skip. */
const noLlama = !(Deno.build.os === "linux" && Deno.build.arch === "x86_64");
if (noLlama) console.log("GGUF parity tests with llama.cpp skipped: no prebuilt for this platform");

const work = Deno.makeTempDirSync({ prefix: "lmrig-gguf-" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));
const folders: Record<string, Promise<string>> = {};

/** A synthesised model saved as an HF folder (once per arch, BF16 as lmrig synthesises). */
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

const ggufs: Record<string, Promise<string>> = {};
function gguf(arch: string, name: string, options: HfToGgufOptions): Promise<string> {
  ggufs[`${arch}.${name}`] ??= (async () => {
    const path = join(work, `${arch}.${name}.gguf`);
    await hfToGguf(await folder(arch), path, options);
    return path;
  })();
  return ggufs[`${arch}.${name}`];
}

/** Teacher-forced logits at every position: prefill the first token, then decode the rest. */
async function forced(t: Target): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  await t.prefill(0, [PROMPT[0]]);
  out.push(t.logits(0));
  for (let i = 1; i < PROMPT.length; i++) {
    await t.decode([0], [PROMPT[i]]);
    out.push(t.logits(0));
  }
  return out;
}

function compare(a: Float32Array[], b: Float32Array[]) {
  let maxAbs = 0, maxRef = 0, agree = 0;
  const argmax = (l: Float32Array) => l.reduce((bi, v, i) => (v > l[bi] ? i : bi), 0);
  for (let p = 0; p < a.length; p++) {
    for (let j = 0; j < a[p].length; j++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[p][j] - b[p][j]));
      maxRef = Math.max(maxRef, Math.abs(b[p][j]));
    }
    if (argmax(a[p]) === argmax(b[p])) agree++;
  }
  return { maxAbs, maxRef, agreement: agree / a.length };
}

async function lmrigLogits(model: string): Promise<Float32Array[]> {
  using t = await openLmrigTarget({ model, load: true, threads: 2, maxCtx: 64 });
  return await forced(t);
}

async function llamaLogits(path: string): Promise<Float32Array[]> {
  using t = await openLlamaCppTarget({
    model: path,
    threads: 2,
    maxCtx: 64,
    flashAttn: false,
    kvType: "f32",
  });
  return await forced(t);
}

async function modelInfo(path: string) {
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  using model = await engine.load(path);
  return model.info();
}

for (const arch of ["qwen2", "llama"]) {
  for (const dtype of ["f32", "bf16"] as const) {
    Deno.test(`gguf ${arch}: lmrig's ${dtype} GGUF gives the safetensors model's logits`, async () => {
      const ref = await lmrigLogits(await folder(arch));
      const path = await gguf(arch, dtype, { dtype });
      const r = compare(await lmrigLogits(path), ref);
      console.log(`${arch} ${dtype} GGUF vs safetensors: max |diff| ${r.maxAbs.toExponential(2)}`);
      assert.ok(r.maxAbs <= SAME_TOL, `max |diff| ${r.maxAbs} > ${SAME_TOL}`);
      const info = await modelInfo(path);
      const st = await modelInfo(await folder(arch));
      assert.equal(info.arch, arch);
      assert.equal(info.dtype, dtype);
      assert.equal(info.params, st.params);
      // The GGUF stores norms (and biases) in F32 whatever the matrices are.
      if (dtype === "bf16") assert.match(info.weightTypes, /^bf16:\d+,f32:\d+$/);
      else assert.match(info.weightTypes, /^f32:\d+$/);
      assert.equal(info.name, `${arch}.${dtype}.gguf`);
    });
  }

  Deno.test(`gguf ${arch}: a GGUF with another RoPE base gives other logits (negative control)`, async () => {
    const ref = await lmrigLogits(await folder(arch));
    const path = await gguf(arch, "rope1e4", { dtype: "f32", ropeThetaOverride: 10000 });
    const r = compare(await lmrigLogits(path), ref);
    console.log(`${arch} wrong RoPE base: max |diff| ${r.maxAbs.toExponential(2)}`);
    assert.ok(r.maxAbs > 1000 * SAME_TOL, `a wrong RoPE base went unnoticed: ${r.maxAbs}`);
  });
}

/** Scale the scales of every block of one tensor by 1.25 in a copy of a quantised file. */
function alterScales(src: string, dst: string, tensor: string): string {
  const info = readGgufInfo(src);
  const t = info.tensors.find((x) => x.name === tensor);
  if (!t) throw new Error(`${src} has no ${tensor}`);
  // ggml type: [block bytes, block elements, byte offsets of the F16 scales in a block]
  const layout: Record<number, [number, number, number[]]> = {
    8: [34, 32, [0]],
    12: [144, 256, [0, 2]],
    14: [210, 256, [208]],
  };
  const l = layout[t.ggmlType];
  if (!l) throw new Error(`${tensor} is ggml type ${t.ggmlType}, not quantised`);
  const bytes = Deno.readFileSync(src);
  const view = new DataView(bytes.buffer);
  const blocks = t.ne.reduce((a, b) => a * b, 1) / l[1];
  for (let b = 0; b < blocks; b++) {
    for (const o of l[2]) {
      const at = info.dataOffset + t.offset + b * l[0] + o;
      // x1.25 on an F16 (K-quant scales are often subnormal: their value is m * 2^-24, and a
      // carry out of the mantissa lands in the exponent field, which continues the scale).
      const h = view.getUint16(at, true), e = (h >> 10) & 0x1f, m = h & 0x3ff;
      if (e >= 30) continue; // near the top of the range: left as is
      if (e === 0) {
        view.setUint16(at, (h & 0x8000) | (m + (m >> 2)), true);
        continue;
      }
      let mm = m + 1024 + ((m + 1024) >> 2), ee = e;
      if (mm >= 2048) mm >>= 1, ee++;
      view.setUint16(at, (h & 0x8000) | (ee << 10) | (mm & 0x3ff), true);
    }
  }
  Deno.writeFileSync(dst, bytes);
  return dst;
}

for (const arch of ["qwen2", "llama"]) {
  for (const quant of ["q8_0", "q4_k_m"]) {
    Deno.test({
      name: `gguf ${arch}: a ${quant} file from llama.cpp's quantiser runs, llama.cpp's logits ` +
        `within ${QUANT_TOL[quant]}, altered scales rejected`,
      ignore: noLlama,
    }, async () => {
      const src = await gguf(arch, "f32", { dtype: "f32" });
      const path = await quantizeGguf(src, quant, { threads: 2 });
      const info = await modelInfo(path);
      const types = new Map(
        info.weightTypes.split(",").map((s) => s.split(":") as [string, string]),
      );
      const file = readGgufInfo(path);
      const fileBytes = Deno.statSync(path).size;
      console.log(
        `${arch} ${quant}: ${info.weightTypes}, ${info.weightBytes} weight bytes, ` +
          `${info.decodeBytes} per decode step, file ${fileBytes} bytes`,
      );
      assert.equal(
        Number([...types.values()].reduce((a, b) => a + Number(b), 0)),
        file.tensors.length,
      );
      if (quant === "q8_0") assert.deepEqual([...types.keys()].sort(), ["f32", "q8_0"]);
      else assert.ok(types.has("q4_K") && types.has("q6_K") && types.has("f32"), info.weightTypes);
      // Real bytes: the tensors of the file, which is only its header and padding larger.
      assert.ok(info.weightBytes < fileBytes && info.weightBytes > fileBytes * 0.9);
      const f32 = await modelInfo(src);
      assert.ok(info.weightBytes < f32.weightBytes * (quant === "q8_0" ? 0.3 : 0.2));
      assert.equal(info.params, f32.params);

      const theirs = await llamaLogits(path);
      const r = compare(await lmrigLogits(path), theirs);
      console.log(
        `${arch} ${quant} lmrig vs llama.cpp: max |diff| ${r.maxAbs.toExponential(2)} ` +
          `(max |logit| ${r.maxRef.toFixed(2)}), argmax ${r.agreement}`,
      );
      assert.ok(r.maxAbs <= QUANT_TOL[quant], `max |diff| ${r.maxAbs} > ${QUANT_TOL[quant]}`);
      assert.ok(r.agreement >= QUANT_ARGMAX, `argmax agreement ${r.agreement}`);

      const victim = "blk.0.ffn_down.weight";
      const altered = alterScales(path, join(work, `${arch}.${quant}.altered.gguf`), victim);
      const n = compare(await lmrigLogits(altered), theirs);
      console.log(`${arch} ${quant} with ${victim}'s scales x1.25: ${n.maxAbs.toExponential(2)}`);
      assert.ok(n.maxAbs > 2 * QUANT_TOL[quant], `altered scales went unnoticed: ${n.maxAbs}`);
    });
  }
}

Deno.test("gguf: hand-corrupted and unsupported files give clear errors", async (t) => {
  const good = await gguf("qwen2", "f32", { dtype: "f32" });
  const bytes = Deno.readFileSync(good);
  const info = readGgufInfo(good);
  using engine = Engine.create({ backend: "cpu", threads: 1 });
  const refuses = async (name: string, data: Uint8Array, re: RegExp) => {
    const p = join(work, name);
    Deno.writeFileSync(p, data);
    const e = await engine.load(p).then(() => null, (e) => e);
    assert.ok(e instanceof EngineError, `${name}: ${e}`);
    assert.match(e.message, re);
  };
  // The byte offset of a tensor info's type field: found by its name in the header.
  const header = new TextDecoder("latin1").decode(bytes.subarray(0, info.dataOffset));
  const infoOf = (name: string) => header.indexOf(name) + name.length; // n_dims follows
  await t.step(
    "truncated",
    () =>
      refuses(
        "trunc.gguf",
        bytes.subarray(0, bytes.length >> 1),
        /lies past the end of the data section/,
      ),
  );
  await t.step("bad magic", () => {
    const c = bytes.slice();
    c[0] = 0x47 ^ 0xff;
    return refuses("magic.gguf", c, /not a GGUF file/);
  });
  await t.step("bad tensor offset", () => {
    const c = bytes.slice();
    const at = infoOf("blk.0.attn_norm.weight") + 4 + 8 + 4; // n_dims, ne[0], type -> offset
    new DataView(c.buffer).setBigUint64(at, 1n << 40n, true);
    return refuses("offset.gguf", c, /"blk\.0\.attn_norm\.weight".*lies past the end/);
  });
  await t.step("unknown type", () => {
    const c = bytes.slice();
    new DataView(c.buffer).setUint32(infoOf("output_norm.weight") + 4 + 8, 99, true);
    return refuses("type.gguf", c, /tensor "output_norm\.weight" has unknown ggml type 99/);
  });
  await t.step("a type the engine does not run", () => {
    const c = bytes.slice();
    // q4_0 (2): smaller than f32, so the data still fits and the loader names the type.
    new DataView(c.buffer).setUint32(infoOf("token_embd.weight") + 4 + 16, 2, true);
    return refuses(
      "q4_0.gguf",
      c,
      /tensor "token_embd\.weight" has type q4_0, which is unsupported/,
    );
  });
  await t.step("no q/k/v biases for qwen2", async () => {
    const p = await gguf("qwen2", "nobias", { dtype: "f32", dropQkvBias: true });
    await refuses("nobias.gguf", Deno.readFileSync(p), /"blk\.0\.attn_q\.bias".* is missing/);
  });
});
