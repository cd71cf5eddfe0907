// Reads a Hugging Face Qwen2/Llama folder into float64 for the reference forward pass: the
// config as transformers interprets it (defaults included) and every tensor widened exactly.

import { join } from "node:path";
import { decodeSafetensors } from "./decode_safetensors.ts";

/** A model ready for `forward`: resolved hyperparameters and weights by Hugging Face name. */
export interface ReferenceModel {
  arch: "qwen2" | "llama";
  nLayers: number;
  hidden: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  ropeTheta: number;
  rmsEps: number;
  tieEmbeddings: boolean;
  /** q/k/v biases: always for qwen2, `attention_bias` for llama. */
  attnBias: boolean;
  /** Row-major values; a Linear weight is [out, in]. */
  weights: Map<string, Float64Array>;
}

const ARCHS: Record<string, "qwen2" | "llama"> = {
  Qwen2ForCausalLM: "qwen2",
  LlamaForCausalLM: "llama",
};

/**
 * Loads `dir`: config.json, then model.safetensors or the shards that
 * model.safetensors.index.json names. Checks that each expected tensor is present with its shape.
 *
 * @param dir the folder
 * @returns the model
 * @throws {TypeError} on an architecture other than Qwen2/Llama
 * @throws {RangeError} on a missing tensor or a wrong shape
 * @example
 * ```ts
 * import { randomWeights } from "./random_weights.ts";
 * import { tinyConfig } from "./tiny_config.ts";
 * import { writeHfFolder } from "./write_hf_folder.ts";
 * const dir = await Deno.makeTempDir();
 * const config = tinyConfig("qwen2");
 * await writeHfFolder(dir, config, randomWeights(config, 1), { dtype: "BF16" });
 * const model = await loadReferenceModel(dir);
 * if (model.nLayers !== config.num_hidden_layers) throw new Error("layers from config.json");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadReferenceModel(dir: string): Promise<ReferenceModel> {
  const cfg = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const arch = ARCHS[cfg.architectures?.[0]] ?? (cfg.model_type as "qwen2" | "llama");
  if (arch !== "qwen2" && arch !== "llama") {
    throw new TypeError(`Cannot load "${dir}": architecture ${cfg.architectures} is not supported`);
  }
  const nHeads = cfg.num_attention_heads;
  const model: ReferenceModel = {
    arch,
    nLayers: cfg.num_hidden_layers,
    hidden: cfg.hidden_size,
    nHeads,
    nKvHeads: cfg.num_key_value_heads ?? nHeads,
    headDim: cfg.head_dim ?? cfg.hidden_size / nHeads,
    ffn: cfg.intermediate_size,
    vocab: cfg.vocab_size,
    ropeTheta: cfg.rope_theta ?? 10000,
    rmsEps: cfg.rms_norm_eps ?? 1e-6,
    tieEmbeddings: cfg.tie_word_embeddings ?? false,
    attnBias: arch === "qwen2" || cfg.attention_bias === true,
    weights: new Map(),
  };
  let files = ["model.safetensors"];
  try {
    const index = JSON.parse(await Deno.readTextFile(join(dir, "model.safetensors.index.json")));
    files = [...new Set(Object.values(index.weight_map as Record<string, string>))];
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const shapes = new Map<string, number[]>();
  for (const file of files) {
    const { tensors } = decodeSafetensors(await Deno.readFile(join(dir, file)));
    for (const [name, t] of tensors) {
      model.weights.set(name, t.values);
      shapes.set(name, t.shape);
    }
  }
  for (const [name, shape] of expectedShapes(model)) {
    const got = shapes.get(name);
    if (got === undefined) throw new RangeError(`Cannot load "${dir}": tensor ${name} is missing`);
    if (got.join(",") !== shape.join(",")) {
      throw new RangeError(`Cannot load "${dir}": ${name} has shape [${got}], expected [${shape}]`);
    }
  }
  return model;
}

/** The tensors a model needs and their shapes. */
function expectedShapes(m: ReferenceModel): [string, number[]][] {
  const q = m.nHeads * m.headDim, kv = m.nKvHeads * m.headDim;
  const out: [string, number[]][] = [["model.embed_tokens.weight", [m.vocab, m.hidden]]];
  for (let l = 0; l < m.nLayers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      [`${p}.input_layernorm.weight`, [m.hidden]],
      [`${p}.self_attn.q_proj.weight`, [q, m.hidden]],
      [`${p}.self_attn.k_proj.weight`, [kv, m.hidden]],
      [`${p}.self_attn.v_proj.weight`, [kv, m.hidden]],
      [`${p}.self_attn.o_proj.weight`, [m.hidden, q]],
      [`${p}.post_attention_layernorm.weight`, [m.hidden]],
      [`${p}.mlp.gate_proj.weight`, [m.ffn, m.hidden]],
      [`${p}.mlp.up_proj.weight`, [m.ffn, m.hidden]],
      [`${p}.mlp.down_proj.weight`, [m.hidden, m.ffn]],
    );
    if (m.attnBias) {
      out.push(
        [`${p}.self_attn.q_proj.bias`, [q]],
        [`${p}.self_attn.k_proj.bias`, [kv]],
        [`${p}.self_attn.v_proj.bias`, [kv]],
      );
    }
  }
  out.push(["model.norm.weight", [m.hidden]]);
  if (!m.tieEmbeddings) out.push(["lm_head.weight", [m.vocab, m.hidden]]);
  return out;
}
