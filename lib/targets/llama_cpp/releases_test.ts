import assert from "node:assert/strict";
import { RELEASES } from "./releases.ts";
import type { CType } from "./_layout.ts";

/**
 * What scripts/llama-layout-check.c printed (gcc 12.2, x86-64 Linux) compiled against the llama.h
 * of llama.cpp v0.4.0, from the git bundle in node-llama-cpp@3.21.1 (`npm pack`, then
 * `git clone package/llama/gitRelease.bundle`). Compiled against v0.5.0's (node-llama-cpp@3.22.1)
 * it printed the same lines. aarch64-linux-gnu-gcc accepted a _Static_assert of every line against
 * both headers (LP64: arm64 lays these types out as x86-64 does). Format: "struct size N" and
 * "struct.field offset size".
 */
const C_LAYOUT = `
llama_model_params size 80
llama_model_params.devices 0 8
llama_model_params.tensor_buft_overrides 8 8
llama_model_params.n_gpu_layers 16 4
llama_model_params.split_mode 20 4
llama_model_params.load_mode 24 4
llama_model_params.lazy_mode 28 4
llama_model_params.main_gpu 32 4
llama_model_params.tensor_split 40 8
llama_model_params.progress_callback 48 8
llama_model_params.progress_callback_user_data 56 8
llama_model_params.kv_overrides 64 8
llama_model_params.vocab_only 72 1
llama_model_params.check_tensors 73 1
llama_model_params.use_extra_bufts 74 1
llama_model_params.no_host 75 1
llama_model_params.no_alloc 76 1
llama_model_params.load_mtp 77 1
llama_context_params size 160
llama_context_params.n_ctx 0 4
llama_context_params.n_batch 4 4
llama_context_params.n_ubatch 8 4
llama_context_params.n_seq_max 12 4
llama_context_params.n_rs_seq 16 4
llama_context_params.n_outputs_max 20 4
llama_context_params.n_outputs_max_per_seq 24 4
llama_context_params.n_threads 28 4
llama_context_params.n_threads_batch 32 4
llama_context_params.ctx_type 36 4
llama_context_params.rope_scaling_type 40 4
llama_context_params.pooling_type 44 4
llama_context_params.attention_type 48 4
llama_context_params.flash_attn_type 52 4
llama_context_params.rope_freq_base 56 4
llama_context_params.rope_freq_scale 60 4
llama_context_params.yarn_ext_factor 64 4
llama_context_params.yarn_attn_factor 68 4
llama_context_params.yarn_beta_fast 72 4
llama_context_params.yarn_beta_slow 76 4
llama_context_params.yarn_orig_ctx 80 4
llama_context_params.defrag_thold 84 4
llama_context_params.cb_eval 88 8
llama_context_params.cb_eval_user_data 96 8
llama_context_params.type_k 104 4
llama_context_params.type_v 108 4
llama_context_params.abort_callback 112 8
llama_context_params.abort_callback_data 120 8
llama_context_params.embeddings 128 1
llama_context_params.offload_kqv 129 1
llama_context_params.no_perf 130 1
llama_context_params.op_offload 131 1
llama_context_params.swa_full 132 1
llama_context_params.kv_unified 133 1
llama_context_params.samplers 136 8
llama_context_params.n_samplers 144 8
llama_context_params.ctx_other 152 8
llama_model_quantize_params size 64
llama_model_quantize_params.nthread 0 4
llama_model_quantize_params.ftype 4 4
llama_model_quantize_params.output_tensor_type 8 4
llama_model_quantize_params.token_embedding_type 12 4
llama_model_quantize_params.allow_requantize 16 1
llama_model_quantize_params.quantize_output_tensor 17 1
llama_model_quantize_params.only_copy 18 1
llama_model_quantize_params.pure 19 1
llama_model_quantize_params.keep_split 20 1
llama_model_quantize_params.dry_run 21 1
llama_model_quantize_params.imatrix 24 8
llama_model_quantize_params.kv_overrides 32 8
llama_model_quantize_params.tt_overrides 40 8
llama_model_quantize_params.prune_layers 48 8
llama_model_quantize_params.max_buf_size 56 8
llama_perf_context_data size 48
llama_perf_context_data.t_start_ms 0 8
llama_perf_context_data.t_load_ms 8 8
llama_perf_context_data.t_p_eval_ms 16 8
llama_perf_context_data.t_eval_ms 24 8
llama_perf_context_data.n_p_eval 32 4
llama_perf_context_data.n_eval 36 4
llama_perf_context_data.n_reused 40 4
llama_batch size 56
llama_batch.n_tokens 0 4
llama_batch.token 8 8
llama_batch.embd 16 8
llama_batch.pos 24 8
llama_batch.n_seq_id 32 8
llama_batch.seq_id 40 8
llama_batch.logits 48 8
`;

const SIZE: Record<CType, number> = { ptr: 8, bool: 1, i32: 4, u32: 4, f32: 4, f64: 8, usize: 8 };

function checkRelease(name: string) {
  const r = RELEASES[name];
  assert.ok(r, `release ${name} is in RELEASES`);
  const layouts = [r.modelParams, r.contextParams, r.quantizeParams, r.perfContextData, r.batch];
  const seen = new Set<string>();
  for (const line of C_LAYOUT.trim().split("\n")) {
    const [key, a, b] = line.split(" ");
    if (a === "size") {
      const l = layouts.find((x) => x.name === key);
      assert.ok(l, `${name} has a layout for ${key}`);
      assert.equal(l.size, Number(b), `${name} sizeof(${key})`);
      continue;
    }
    const [struct, field] = key.split(".");
    const l = layouts.find((x) => x.name === struct)!;
    assert.equal(l.offsets[field], Number(a), `${name} offsetof(${key})`);
    assert.equal(SIZE[l.types[field]], Number(b), `${name} sizeof(${key})`);
    seen.add(key);
  }
  for (const l of layouts) {
    for (const f of Object.keys(l.offsets)) {
      assert.ok(seen.has(`${l.name}.${f}`), `${name} ${l.name}.${f} is checked against C`);
    }
  }
}

Deno.test("releases: the v0.4.0 table matches the C compiler's sizes and offsets", () => {
  checkRelease("v0.4.0");
  assert.equal(RELEASES["v0.4.0"].npmVersion, "3.21.1");
});

Deno.test("releases: the v0.5.0 table matches the C compiler's sizes and offsets", () => {
  checkRelease("v0.5.0");
  assert.equal(RELEASES["v0.5.0"].npmVersion, "3.22.1");
});

Deno.test("releases: a table with a moved field fails the C check (negative control)", () => {
  const r = RELEASES["v0.4.0"];
  const moved = {
    ...r,
    batch: { ...r.batch, offsets: { ...r.batch.offsets, token: 4 } },
  };
  RELEASES["moved"] = moved;
  try {
    assert.throws(() => checkRelease("moved"), /offsetof\(llama_batch\.token\)/);
  } finally {
    delete RELEASES["moved"];
  }
});
