// Seeded random weights with Hugging Face names and shapes for a Qwen2/Llama config, at the scale
// of trained small models, so softmax and norms are neither saturated nor flat.

import { createRng } from "./_rng.ts";
import type { HfConfig } from "./tiny_config.ts";

/** A tensor in float64 before it is rounded to the file's dtype. */
export interface WeightTensor {
  shape: number[];
  values: Float64Array;
}

/**
 * Draws weights for every tensor the config needs, in a fixed order.
 * Scales (std): embeddings and lm_head 0.05; q, k 0.1; v, o 0.08; gate, up 0.08; down 0.06;
 * q/k/v biases 0.1 (qwen2, or llama with attention_bias); norm weights 1 + 0.1 N(0, 1).
 *
 * @param config the model config
 * @param seed a 32-bit seed
 * @returns tensors by Hugging Face name (a Linear weight is [out, in])
 * @example
 * ```ts
 * import { tinyConfig } from "./tiny_config.ts";
 * const weights = randomWeights(tinyConfig("qwen2"), 7);
 * if (weights["model.embed_tokens.weight"].shape[1] !== 64) throw new Error("[vocab, hidden]");
 * ```
 */
export function randomWeights(config: HfConfig, seed: number): Record<string, WeightTensor> {
  const rng = createRng(seed);
  const hidden = config.hidden_size;
  const headDim = config.head_dim ?? hidden / config.num_attention_heads;
  const qDim = config.num_attention_heads * headDim;
  const kvDim = config.num_key_value_heads * headDim;
  const ffn = config.intermediate_size;
  const bias = config.model_type === "qwen2" || config.attention_bias === true;
  const out: Record<string, WeightTensor> = {};
  const normal = (name: string, shape: number[], std: number, mean = 0): void => {
    const values = new Float64Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = mean + std * rng.normal();
    out[name] = { shape, values };
  };
  normal("model.embed_tokens.weight", [config.vocab_size, hidden], 0.05);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    normal(`${p}.input_layernorm.weight`, [hidden], 0.1, 1);
    normal(`${p}.self_attn.q_proj.weight`, [qDim, hidden], 0.1);
    normal(`${p}.self_attn.k_proj.weight`, [kvDim, hidden], 0.1);
    normal(`${p}.self_attn.v_proj.weight`, [kvDim, hidden], 0.08);
    if (bias) {
      normal(`${p}.self_attn.q_proj.bias`, [qDim], 0.1);
      normal(`${p}.self_attn.k_proj.bias`, [kvDim], 0.1);
      normal(`${p}.self_attn.v_proj.bias`, [kvDim], 0.1);
    }
    normal(`${p}.self_attn.o_proj.weight`, [hidden, qDim], 0.08);
    normal(`${p}.post_attention_layernorm.weight`, [hidden], 0.1, 1);
    normal(`${p}.mlp.gate_proj.weight`, [ffn, hidden], 0.08);
    normal(`${p}.mlp.up_proj.weight`, [ffn, hidden], 0.08);
    normal(`${p}.mlp.down_proj.weight`, [hidden, ffn], 0.06);
  }
  normal("model.norm.weight", [hidden], 0.1, 1);
  if (!config.tie_word_embeddings) normal("lm_head.weight", [config.vocab_size, hidden], 0.05);
  return out;
}
