/**
 * Converting a Hugging Face folder (config.json + model.safetensors, as lmrig's model save writes
 * it) of a qwen2 or llama model into a GGUF file llama.cpp loads: the architecture metadata, the
 * tensors under llama.cpp's names (llama's q/k rows permuted to its rotary layout), and the
 * tokenizer metadata.
 */
import { join } from "node:path";
import { type GgufTensor, type GgufValue, writeGguf } from "./write_gguf.ts";
import { convertFloats, ELEMENT_BYTES, type FloatType } from "./_convert_dtype.ts";
import { tokenizerMetadata } from "./_tokenizer_metadata.ts";

/** Options of {@link hfToGguf}. */
export interface HfToGgufOptions {
  /** Element type of the 2-D weights (default: as stored). 1-D tensors are always f32. */
  dtype?: FloatType;
  /** Test hooks for negative controls: override the RoPE base written, drop the q/k/v biases. */
  ropeThetaOverride?: number;
  dropQkvBias?: boolean;
}

const GGML: Record<FloatType, number> = { f32: 0, f16: 1, bf16: 30 };
const FILE_TYPE: Record<FloatType, number> = { f32: 0, f16: 1, bf16: 32 };
const ST: Record<string, FloatType> = { F32: "f32", F16: "f16", BF16: "bf16" };

const LAYER_NAMES: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};

/** A safetensors header entry. */
interface StEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const SUFFIXES = Object.keys(LAYER_NAMES);

/** A file-order key: the embedding, then layer by layer in a fixed order, then the head. */
function order(name: string): number {
  if (name === "model.embed_tokens.weight") return -1;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  if (m) return Number(m[1]) * 100 + SUFFIXES.indexOf(m[2]);
  return name === "model.norm.weight" ? 1e12 : 1e12 + 1;
}

/** llama.cpp's name for an HF tensor name, or null for one it does not use. */
function ggufName(name: string): string | null {
  if (name === "model.embed_tokens.weight") return "token_embd.weight";
  if (name === "model.norm.weight") return "output_norm.weight";
  if (name === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  if (m && LAYER_NAMES[m[2]]) return `blk.${m[1]}.${LAYER_NAMES[m[2]]}`;
  return null;
}

/** Reorder the rows of a q/k projection from HF's half-split rotary layout to llama.cpp's
 * interleaved one (convert_hf_to_gguf's permute), for the "llama" architecture. */
function permuteRows(data: Uint8Array, heads: number, rowBytes: number): Uint8Array {
  const rows = data.byteLength / rowBytes, hd = rows / heads, half = hd / 2;
  const out = new Uint8Array(data.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let s = 0; s < 2; s++) {
        const src = h * hd + s * half + j, dst = h * hd + j * 2 + s;
        out.set(data.subarray(src * rowBytes, (src + 1) * rowBytes), dst * rowBytes);
      }
    }
  }
  return out;
}

/**
 * Write `dir` (a qwen2 or llama Hugging Face folder) as the GGUF file `out`.
 *
 * @param dir The folder holding config.json and model.safetensors.
 * @param out The .gguf path to write.
 * @param options Weight element type and negative-control hooks.
 * @returns The number of bytes written.
 * @throws {Error} `Cannot convert "<dir>" to GGUF: <why>` on a missing file, an architecture other
 *   than qwen2/llama, or an unexpected tensor.
 * @example
 * ```ts ignore
 * await hfToGguf("/tmp/model", "/tmp/model.gguf", { dtype: "f32" });
 * ```
 */
export async function hfToGguf(
  dir: string,
  out: string,
  options: HfToGgufOptions = {},
): Promise<number> {
  const fail = (why: string): never => {
    throw new Error(`Cannot convert "${dir}" to GGUF: ${why}`);
  };
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  } catch (e) {
    return fail(`config.json: ${(e as Error).message}`);
  }
  const arch = String(cfg.model_type);
  if (arch !== "qwen2" && arch !== "llama") {
    fail(`unknown architecture "${arch}" (expected qwen2 or llama)`);
  }
  const n = (k: string) => {
    const v = cfg[k];
    if (typeof v !== "number") fail(`config.json has no number "${k}"`);
    return v as number;
  };
  const hidden = n("hidden_size"), heads = n("num_attention_heads");
  const kvHeads = typeof cfg.num_key_value_heads === "number" ? cfg.num_key_value_heads : heads;
  const headDim = typeof cfg.head_dim === "number" ? cfg.head_dim : hidden / heads;
  const vocab = n("vocab_size");

  // One file (model.safetensors) or shards named by model.safetensors.index.json.
  let shards = ["model.safetensors"];
  try {
    const index = JSON.parse(Deno.readTextFileSync(join(dir, "model.safetensors.index.json")));
    shards = [...new Set(Object.values(index.weight_map as Record<string, string>))].sort();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) fail(`model.safetensors.index.json: ${e}`);
  }
  const files: Deno.FsFile[] = [];
  const readFull = async (file: Deno.FsFile, buf: Uint8Array, what: string) => {
    for (let o = 0; o < buf.length;) {
      const k = await file.read(buf.subarray(o));
      if (k === null) fail(`${what} is truncated`);
      o += k!;
    }
  };
  try {
    const entries: { name: string; t: StEntry; file: Deno.FsFile; base: number }[] = [];
    for (const shard of shards) {
      const file = await Deno.open(join(dir, shard)).catch((e) => fail(`${shard}: ${e.message}`));
      files.push(file);
      const lenBuf = new Uint8Array(8);
      await readFull(file, lenBuf, `${shard} header`);
      const hlen = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
      if (hlen > 100_000_000) fail(`${shard} header length ${hlen} is implausible`);
      const hbuf = new Uint8Array(hlen);
      await readFull(file, hbuf, `${shard} header`);
      const header = JSON.parse(new TextDecoder().decode(hbuf)) as Record<string, StEntry>;
      for (const [name, t] of Object.entries(header)) {
        if (name !== "__metadata__") entries.push({ name, t, file, base: 8 + hlen });
      }
    }
    entries.sort((a, b) => order(a.name) - order(b.name));
    let mainType: FloatType | null = null;
    const tensors: GgufTensor[] = [];
    for (const { name, t, file, base } of entries) {
      const gname = ggufName(name);
      if (!gname) fail(`unexpected tensor "${name}"`);
      if (options.dropQkvBias && /attn_[qkv]\.bias$/.test(gname!)) continue;
      const from = ST[t.dtype] ?? fail(`tensor "${name}" has dtype ${t.dtype}`);
      const to: FloatType = t.shape.length === 1 ? "f32" : options.dtype ?? from;
      if (t.shape.length > 1) mainType ??= to;
      const count = t.shape.reduce((a, b) => a * b, 1);
      const [s, e] = t.data_offsets;
      const permuteHeads = arch === "llama"
        ? /attn_q\./.test(gname!) ? heads : /attn_k\./.test(gname!) ? kvHeads : 0
        : 0;
      tensors.push({
        name: gname!,
        ggmlType: GGML[to],
        ne: [...t.shape].reverse(),
        bytes: count * ELEMENT_BYTES[to],
        data: async () => {
          const raw = new Uint8Array(e - s);
          await file.seek(base + s, Deno.SeekMode.Start);
          await readFull(file, raw, `tensor "${name}"`);
          let d = convertFloats(raw, from, to);
          if (permuteHeads) {
            const rowBytes = t.shape.length === 1
              ? ELEMENT_BYTES[to]
              : t.shape[1] * ELEMENT_BYTES[to];
            d = permuteRows(d, permuteHeads, rowBytes);
          }
          return d;
        },
      });
    }
    void headDim;
    const md: [string, GgufValue][] = [
      ["general.architecture", { type: "string", value: arch }],
      ["general.name", {
        type: "string",
        value: String(cfg._name_or_path ?? dir.split("/").pop()),
      }],
      ["general.file_type", { type: "u32", value: FILE_TYPE[mainType ?? "f32"] }],
      [`${arch}.context_length`, { type: "u32", value: n("max_position_embeddings") }],
      [`${arch}.embedding_length`, { type: "u32", value: hidden }],
      [`${arch}.block_count`, { type: "u32", value: n("num_hidden_layers") }],
      [`${arch}.feed_forward_length`, { type: "u32", value: n("intermediate_size") }],
      [`${arch}.attention.head_count`, { type: "u32", value: heads }],
      [`${arch}.attention.head_count_kv`, { type: "u32", value: kvHeads }],
      [`${arch}.attention.key_length`, { type: "u32", value: headDim }],
      [`${arch}.attention.value_length`, { type: "u32", value: headDim }],
      [`${arch}.rope.dimension_count`, { type: "u32", value: headDim }],
      [`${arch}.rope.freq_base`, {
        type: "f32",
        value: options.ropeThetaOverride ?? Number(cfg.rope_theta ?? 10000),
      }],
      [`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: n("rms_norm_eps") }],
      [`${arch}.vocab_size`, { type: "u32", value: vocab }],
      ...(await tokenizerMetadata(arch, vocab, cfg)),
    ];
    return await writeGguf(out, md, tensors);
  } finally {
    for (const f of files) f.close();
  }
}
