// A written folder reads back as Hugging Face lays it out: config keys, tensor names and dtypes,
// and shards with an index that load to the same weights as the single file.

import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeSafetensors } from "./decode_safetensors.ts";
import { loadReferenceModel } from "./load_reference_model.ts";
import { randomWeights } from "./random_weights.ts";
import { tinyConfig } from "./tiny_config.ts";
import { writeHfFolder } from "./write_hf_folder.ts";

Deno.test("writeHfFolder writes config.json, names and dtypes as transformers does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lmrig_ref_" });
  try {
    const config = tinyConfig("qwen2");
    await writeHfFolder(dir, config, randomWeights(config, 1), { dtype: "F16" });
    const written = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
    assert.deepEqual(written.architectures, ["Qwen2ForCausalLM"]);
    assert.equal(written.torch_dtype, "float16");
    assert.equal(written.tie_word_embeddings, true);
    const { tensors, metadata } = decodeSafetensors(
      await Deno.readFile(join(dir, "model.safetensors")),
    );
    assert.equal(metadata.format, "pt");
    assert.equal(tensors.has("lm_head.weight"), false, "a tied model has no lm_head");
    assert.deepEqual(tensors.get("model.layers.2.self_attn.k_proj.bias")?.shape, [32]);
    assert.deepEqual(tensors.get("model.layers.0.mlp.down_proj.weight")?.shape, [64, 128]);
    for (const t of tensors.values()) assert.equal(t.dtype, "F16");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sharded folder loads to the same bf16-rounded weights as a single file", async () => {
  const root = await Deno.makeTempDir({ prefix: "lmrig_ref_" });
  try {
    const config = tinyConfig("llama");
    const weights = randomWeights(config, 2);
    await writeHfFolder(join(root, "one"), config, weights, { dtype: "BF16" });
    await writeHfFolder(join(root, "three"), config, weights, { dtype: "BF16", shards: 3 });
    const index = JSON.parse(
      await Deno.readTextFile(join(root, "three", "model.safetensors.index.json")),
    );
    assert.equal(new Set(Object.values(index.weight_map)).size, 3);
    assert.equal(Object.keys(index.weight_map).length, Object.keys(weights).length);
    const one = await loadReferenceModel(join(root, "one"));
    const three = await loadReferenceModel(join(root, "three"));
    assert.equal(three.arch, "llama");
    assert.equal(three.tieEmbeddings, false);
    assert.equal(three.attnBias, false);
    assert.deepEqual([...three.weights.keys()].sort(), [...one.weights.keys()].sort());
    for (const [name, values] of one.weights) {
      assert.deepEqual(three.weights.get(name), values, name);
      const raw = weights[name].values;
      for (let i = 0; i < raw.length; i++) {
        // bf16 keeps 8 significant bits: the error is at most half a unit in the last place.
        assert.ok(Math.abs(values[i] - raw[i]) <= Math.abs(raw[i]) * 2 ** -8, name);
      }
    }
    await Deno.remove(join(root, "three", "model-00002-of-00003.safetensors"));
    await assert.rejects(loadReferenceModel(join(root, "three")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
