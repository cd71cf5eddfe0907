// Checks of the reference forward pass that do not need the engine: hand-computed ops, and
// invariances that pin each convention (RoPE layout, GQA grouping, causality, tying).

import assert from "node:assert/strict";
import { attention, rope } from "./_ops.ts";
import { forward } from "./forward.ts";
import type { ReferenceModel } from "./load_reference_model.ts";
import { randomWeights } from "./random_weights.ts";
import { type HfConfig, tinyConfig } from "./tiny_config.ts";

/** A ReferenceModel straight from unrounded random weights (no files involved). */
function inMemory(config: HfConfig, seed: number): ReferenceModel {
  const weights = new Map(
    Object.entries(randomWeights(config, seed)).map(([k, v]) => [k, v.values]),
  );
  return {
    arch: config.model_type,
    nLayers: config.num_hidden_layers,
    hidden: config.hidden_size,
    nHeads: config.num_attention_heads,
    nKvHeads: config.num_key_value_heads,
    headDim: config.hidden_size / config.num_attention_heads,
    ffn: config.intermediate_size,
    vocab: config.vocab_size,
    ropeTheta: config.rope_theta,
    rmsEps: config.rms_norm_eps,
    tieEmbeddings: config.tie_word_embeddings,
    attnBias: config.model_type === "qwen2",
    weights,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const TOKENS = [5, 300, 17, 511, 0, 42, 42, 9];

Deno.test("rope rotates pairs (i, i + d/2) by pos * theta^(-2i/d)", () => {
  // One head of dim 4 at positions 0 and 1, theta 100: inverse frequencies 1 and 0.1.
  const x = new Float64Array([1, 2, 3, 4, 1, 2, 3, 4]);
  rope(x, 2, 1, 4, 100);
  assert.deepEqual([...x.subarray(0, 4)], [1, 2, 3, 4], "position 0 is the identity");
  const [c1, s1, c2, s2] = [Math.cos(1), Math.sin(1), Math.cos(0.1), Math.sin(0.1)];
  const expected = [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2];
  assert.ok(maxAbsDiff(x.subarray(4), expected) < 1e-15);
});

Deno.test("attention is a causal softmax over scaled dot products", () => {
  // One head, head_dim 2, two tokens; scale 1/sqrt(2).
  const q = new Float64Array([1, 0, 0, 2]), k = new Float64Array([1, 1, 3, -1]);
  const v = new Float64Array([1, 2, -4, 8]);
  const out = attention(q, k, v, 2, 1, 1, 2);
  assert.deepEqual([...out.subarray(0, 2)], [1, 2], "the first token sees only itself");
  const a = 2 / Math.SQRT2, b = -2 / Math.SQRT2; // scores of token 1 against tokens 0 and 1
  const p0 = Math.exp(a) / (Math.exp(a) + Math.exp(b));
  assert.ok(maxAbsDiff(out.subarray(2), [p0 * 1 + (1 - p0) * -4, p0 * 2 + (1 - p0) * 8]) < 1e-15);
});

Deno.test("with no layers the logits are rmsnorm(embedding) times the tied embedding", () => {
  const m = inMemory(tinyConfig("qwen2", { num_hidden_layers: 0 }), 3);
  const e = m.weights.get("model.embed_tokens.weight")!, w = m.weights.get("model.norm.weight")!;
  const d = m.hidden, t = 77;
  const row = e.subarray(t * d, (t + 1) * d);
  const rms = Math.sqrt(row.reduce((s, x) => s + x * x, 0) / d + m.rmsEps);
  const expected = Array.from({ length: m.vocab }, (_, u) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (row[j] / rms) * w[j] * e[u * d + j];
    return s;
  });
  assert.ok(maxAbsDiff(forward(m, [t]), expected) < 1e-12);
});

for (const arch of ["qwen2", "llama"] as const) {
  Deno.test(`${arch}: causal, and a prefix's logits equal the longer run's`, () => {
    const m = inMemory(tinyConfig(arch, { num_hidden_layers: 2 }), 11);
    const full = forward(m, TOKENS);
    const prefix = forward(m, TOKENS.slice(0, 5));
    assert.ok(maxAbsDiff(prefix, full.subarray(0, 5 * m.vocab)) < 1e-12);
    const changed = forward(m, [...TOKENS.slice(0, 5), 1, 2, 3]);
    assert.ok(maxAbsDiff(changed.subarray(0, 5 * m.vocab), prefix) < 1e-12);
  });

  Deno.test(`${arch}: with zero o_proj no information flows between tokens`, () => {
    const m = inMemory(tinyConfig(arch, { num_hidden_layers: 2 }), 12);
    for (let l = 0; l < m.nLayers; l++) {
      m.weights.get(`model.layers.${l}.self_attn.o_proj.weight`)!.fill(0);
    }
    const full = forward(m, TOKENS);
    TOKENS.forEach((t, i) => {
      const alone = forward(m, [t]);
      assert.ok(maxAbsDiff(full.subarray(i * m.vocab, (i + 1) * m.vocab), alone) < 1e-12);
    });
  });

  Deno.test(`${arch}: RoPE is the identity at position 0 and matters after it`, () => {
    const m = inMemory(tinyConfig(arch, { num_hidden_layers: 2 }), 13);
    const a = forward(m, TOKENS.slice(0, 3));
    const b = forward({ ...m, ropeTheta: 17 }, TOKENS.slice(0, 3));
    assert.ok(maxAbsDiff(a.subarray(0, m.vocab), b.subarray(0, m.vocab)) < 1e-12);
    assert.ok(maxAbsDiff(a.subarray(m.vocab), b.subarray(m.vocab)) > 1e-3);
  });

  Deno.test(`${arch}: GQA equals full attention with each KV head repeated for its group`, () => {
    const m = inMemory(tinyConfig(arch, { num_hidden_layers: 2 }), 14);
    const group = m.nHeads / m.nKvHeads, hd = m.headDim, d = m.hidden;
    const weights = new Map(m.weights);
    for (let l = 0; l < m.nLayers; l++) {
      for (const p of ["k", "v"]) {
        const name = `model.layers.${l}.self_attn.${p}_proj`;
        const w = m.weights.get(`${name}.weight`)!, rep = new Float64Array(m.nHeads * hd * d);
        // Query head h reads KV head floor(h / group), as transformers' repeat_kv lays them out.
        for (let h = 0; h < m.nHeads; h++) {
          rep.set(
            w.subarray(Math.floor(h / group) * hd * d, (Math.floor(h / group) + 1) * hd * d),
            h * hd * d,
          );
        }
        weights.set(`${name}.weight`, rep);
        const bias = m.weights.get(`${name}.bias`);
        if (bias) {
          const repBias = new Float64Array(m.nHeads * hd);
          for (let h = 0; h < m.nHeads; h++) {
            repBias.set(
              bias.subarray(Math.floor(h / group) * hd, (Math.floor(h / group) + 1) * hd),
              h * hd,
            );
          }
          weights.set(`${name}.bias`, repBias);
        }
      }
    }
    const mha = forward({ ...m, nKvHeads: m.nHeads, weights }, TOKENS);
    assert.ok(maxAbsDiff(forward(m, TOKENS), mha) < 1e-12);
  });
}

Deno.test("llama: lm_head is used when untied, the embedding when tied", () => {
  const m = inMemory(tinyConfig("llama", { num_hidden_layers: 1 }), 15);
  const tied = { ...m, tieEmbeddings: true };
  const untied = forward(m, TOKENS.slice(0, 3));
  assert.ok(maxAbsDiff(untied, forward(tied, TOKENS.slice(0, 3))) > 1e-3);
  const weights = new Map(m.weights);
  weights.set("lm_head.weight", m.weights.get("model.embed_tokens.weight")!);
  assert.ok(
    maxAbsDiff(forward({ ...m, weights }, TOKENS.slice(0, 3)), forward(tied, TOKENS.slice(0, 3))) <
      1e-15,
  );
});
