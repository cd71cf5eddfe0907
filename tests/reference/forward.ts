// The reference forward pass of Qwen2/Llama in float64, written from Hugging Face transformers
// (modeling_qwen2.py / modeling_llama.py) and sharing nothing with the engine. It recomputes the
// whole sequence each call (no KV cache), so it is a specification, not a fast path.

import { addInPlace, attention, linear, rmsNorm, rope } from "./_ops.ts";
import type { ReferenceModel } from "./load_reference_model.ts";

/**
 * Runs the causal LM over `tokens` (positions 0..n-1) and returns the logits of every position.
 *
 * Per layer, as transformers computes it: h += o_proj(attn(rope(q), rope(k), v)) on
 * rmsnorm(h), then h += down(silu(gate(x)) * up(x)) on rmsnorm(h); final rmsnorm; lm_head
 * (the embedding when tied). RMSNorm is x / sqrt(mean(x^2) + eps) * w; RoPE rotates pairs
 * (i, i + d/2) by pos * theta^(-2i/d); attention is causal, scaled by 1/sqrt(head_dim), with
 * query head h reading KV head floor(h / (n_heads / n_kv_heads)).
 *
 * @param m the model
 * @param tokens token ids, each in [0, vocab)
 * @returns logits, [n, vocab] row-major
 * @throws {RangeError} on an empty sequence or a token out of range
 * @example
 * ```ts
 * import { loadReferenceModel } from "./load_reference_model.ts";
 * import { randomWeights } from "./random_weights.ts";
 * import { tinyConfig } from "./tiny_config.ts";
 * import { writeHfFolder } from "./write_hf_folder.ts";
 * const dir = await Deno.makeTempDir();
 * const config = tinyConfig("qwen2");
 * await writeHfFolder(dir, config, randomWeights(config, 1), { dtype: "F32" });
 * const logits = forward(await loadReferenceModel(dir), [1, 2, 3]);
 * if (logits.length !== 3 * config.vocab_size) throw new Error("one row per position");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function forward(m: ReferenceModel, tokens: readonly number[]): Float64Array {
  const n = tokens.length;
  if (n === 0) throw new RangeError("Cannot run forward: no tokens");
  const { hidden: d, headDim: hd, nHeads, nKvHeads } = m;
  const qDim = nHeads * hd, kvDim = nKvHeads * hd;
  const w = (name: string): Float64Array => m.weights.get(name)!;
  const embed = w("model.embed_tokens.weight"); // [vocab, hidden]

  const h = new Float64Array(n * d); // residual stream [n, hidden]
  tokens.forEach((t, i) => {
    if (!(Number.isInteger(t) && t >= 0 && t < m.vocab)) {
      throw new RangeError(`Cannot run forward: token ${t} at ${i} is outside [0, ${m.vocab})`);
    }
    h.set(embed.subarray(t * d, (t + 1) * d), i * d);
  });

  for (let l = 0; l < m.nLayers; l++) {
    const p = `model.layers.${l}`;
    const x = rmsNorm(h, n, d, w(`${p}.input_layernorm.weight`), m.rmsEps);
    const bias = (b: string) => (m.attnBias ? w(`${p}.self_attn.${b}_proj.bias`) : undefined);
    const q = linear(x, n, d, w(`${p}.self_attn.q_proj.weight`), qDim, bias("q")); // [n, qDim]
    const k = linear(x, n, d, w(`${p}.self_attn.k_proj.weight`), kvDim, bias("k")); // [n, kvDim]
    const v = linear(x, n, d, w(`${p}.self_attn.v_proj.weight`), kvDim, bias("v")); // [n, kvDim]
    rope(q, n, nHeads, hd, m.ropeTheta);
    rope(k, n, nKvHeads, hd, m.ropeTheta);
    const attn = attention(q, k, v, n, nHeads, nKvHeads, hd); // [n, qDim]
    addInPlace(h, linear(attn, n, qDim, w(`${p}.self_attn.o_proj.weight`), d));

    const y = rmsNorm(h, n, d, w(`${p}.post_attention_layernorm.weight`), m.rmsEps);
    const gate = linear(y, n, d, w(`${p}.mlp.gate_proj.weight`), m.ffn); // [n, ffn]
    const up = linear(y, n, d, w(`${p}.mlp.up_proj.weight`), m.ffn);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    addInPlace(h, linear(gate, n, m.ffn, w(`${p}.mlp.down_proj.weight`), d));
  }

  const final = rmsNorm(h, n, d, w("model.norm.weight"), m.rmsEps);
  const head = m.tieEmbeddings ? embed : w("lm_head.weight"); // [vocab, hidden]
  return linear(final, n, d, head, m.vocab);
}
