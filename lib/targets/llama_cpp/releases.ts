/**
 * The llama.h releases this binding supports: for each, the layout of every struct it passes by
 * value and the values the library's own `*_default_params()` must return, so a library of
 * another release (fields added, moved or re-typed) is refused at load instead of misread.
 * Transcribed from include/llama.h and src/ of the llama.cpp source that node-llama-cpp ships
 * with the pinned version (llama/gitRelease.bundle).
 */
import { type CLayout, defineLayout } from "./_layout.ts";

/** What one release looks like to the binding. */
export interface LlamaRelease {
  /** The release name in node-llama-cpp's file names (`libllama.<release>.so`). */
  release: string;
  /** The node-llama-cpp version whose packages ship it. */
  npmVersion: string;
  modelParams: CLayout;
  contextParams: CLayout;
  quantizeParams: CLayout;
  perfContextData: CLayout;
  batch: CLayout;
  /** Field values `*_default_params()` returns, by struct name. */
  defaults: Record<string, Record<string, number | bigint | boolean>>;
}

const V0_5_0: LlamaRelease = {
  release: "v0.5.0",
  npmVersion: "3.22.1",
  modelParams: defineLayout("llama_model_params", [
    ["devices", "ptr"],
    ["tensor_buft_overrides", "ptr"],
    ["n_gpu_layers", "i32"],
    ["split_mode", "i32"],
    ["load_mode", "i32"],
    ["lazy_mode", "i32"],
    ["main_gpu", "i32"],
    ["tensor_split", "ptr"],
    ["progress_callback", "ptr"],
    ["progress_callback_user_data", "ptr"],
    ["kv_overrides", "ptr"],
    ["vocab_only", "bool"],
    ["check_tensors", "bool"],
    ["use_extra_bufts", "bool"],
    ["no_host", "bool"],
    ["no_alloc", "bool"],
    ["load_mtp", "bool"],
  ]),
  contextParams: defineLayout("llama_context_params", [
    ["n_ctx", "u32"],
    ["n_batch", "u32"],
    ["n_ubatch", "u32"],
    ["n_seq_max", "u32"],
    ["n_rs_seq", "u32"],
    ["n_outputs_max", "u32"],
    ["n_outputs_max_per_seq", "u32"],
    ["n_threads", "i32"],
    ["n_threads_batch", "i32"],
    ["ctx_type", "i32"],
    ["rope_scaling_type", "i32"],
    ["pooling_type", "i32"],
    ["attention_type", "i32"],
    ["flash_attn_type", "i32"],
    ["rope_freq_base", "f32"],
    ["rope_freq_scale", "f32"],
    ["yarn_ext_factor", "f32"],
    ["yarn_attn_factor", "f32"],
    ["yarn_beta_fast", "f32"],
    ["yarn_beta_slow", "f32"],
    ["yarn_orig_ctx", "u32"],
    ["defrag_thold", "f32"],
    ["cb_eval", "ptr"],
    ["cb_eval_user_data", "ptr"],
    ["type_k", "i32"],
    ["type_v", "i32"],
    ["abort_callback", "ptr"],
    ["abort_callback_data", "ptr"],
    ["embeddings", "bool"],
    ["offload_kqv", "bool"],
    ["no_perf", "bool"],
    ["op_offload", "bool"],
    ["swa_full", "bool"],
    ["kv_unified", "bool"],
    ["samplers", "ptr"],
    ["n_samplers", "usize"],
    ["ctx_other", "ptr"],
  ]),
  quantizeParams: defineLayout("llama_model_quantize_params", [
    ["nthread", "i32"],
    ["ftype", "i32"],
    ["output_tensor_type", "i32"],
    ["token_embedding_type", "i32"],
    ["allow_requantize", "bool"],
    ["quantize_output_tensor", "bool"],
    ["only_copy", "bool"],
    ["pure", "bool"],
    ["keep_split", "bool"],
    ["dry_run", "bool"],
    ["imatrix", "ptr"],
    ["kv_overrides", "ptr"],
    ["tt_overrides", "ptr"],
    ["prune_layers", "ptr"],
    ["max_buf_size", "usize"],
  ]),
  perfContextData: defineLayout("llama_perf_context_data", [
    ["t_start_ms", "f64"],
    ["t_load_ms", "f64"],
    ["t_p_eval_ms", "f64"],
    ["t_eval_ms", "f64"],
    ["n_p_eval", "i32"],
    ["n_eval", "i32"],
    ["n_reused", "i32"],
  ]),
  batch: defineLayout("llama_batch", [
    ["n_tokens", "i32"],
    ["token", "ptr"],
    ["embd", "ptr"],
    ["pos", "ptr"],
    ["n_seq_id", "ptr"],
    ["seq_id", "ptr"],
    ["logits", "ptr"],
  ]),
  defaults: {
    llama_model_params: {
      devices: 0n,
      tensor_buft_overrides: 0n,
      n_gpu_layers: -1,
      split_mode: 1,
      load_mode: -1,
      lazy_mode: 1,
      main_gpu: 0,
      tensor_split: 0n,
      progress_callback: 0n,
      kv_overrides: 0n,
      vocab_only: false,
      check_tensors: false,
      use_extra_bufts: true,
      no_host: false,
      no_alloc: false,
      load_mtp: false,
    },
    llama_context_params: {
      n_ctx: 512,
      n_batch: 2048,
      n_ubatch: 512,
      n_seq_max: 1,
      n_rs_seq: 0,
      n_outputs_max: 0,
      n_outputs_max_per_seq: 1,
      n_threads: 4,
      n_threads_batch: 4,
      ctx_type: 0,
      rope_scaling_type: -1,
      pooling_type: -1,
      attention_type: -1,
      flash_attn_type: -1,
      rope_freq_base: 0,
      rope_freq_scale: 0,
      yarn_ext_factor: -1,
      yarn_attn_factor: -1,
      yarn_beta_fast: -1,
      yarn_beta_slow: -1,
      yarn_orig_ctx: 0,
      defrag_thold: -1,
      cb_eval: 0n,
      type_k: 1,
      type_v: 1,
      abort_callback: 0n,
      embeddings: false,
      offload_kqv: true,
      no_perf: true,
      op_offload: true,
      swa_full: true,
      kv_unified: false,
      samplers: 0n,
      n_samplers: 0n,
      ctx_other: 0n,
    },
    llama_model_quantize_params: {
      nthread: 0,
      ftype: 7,
      output_tensor_type: 43,
      token_embedding_type: 43,
      allow_requantize: false,
      quantize_output_tensor: true,
      only_copy: false,
      pure: false,
      keep_split: false,
      dry_run: false,
      imatrix: 0n,
      kv_overrides: 0n,
      tt_overrides: 0n,
      prune_layers: 0n,
      max_buf_size: 8n * 1024n * 1024n * 1024n,
    },
  },
};

/**
 * v0.4.0 (node-llama-cpp 3.21.1, the last version of the mac-arm64-metal, mac-x64 and win-*
 * packages). Its llama.h differs from v0.5.0's only outside the structs passed by value
 * (v0.5.0 adds LLAMA_VOCAB_TYPE_TEST and llama_adapter_lora_init_from_file_ptr, and
 * llama_sampler_chain_n returns int32_t instead of int), and the bodies of the three
 * `*_default_params()` in src/ are identical, so every field, type and default is v0.5.0's.
 * Checked, not assumed: scripts/llama-layout-check.c compiled against v0.4.0's llama.h printed
 * the sizes and offsets that releases_test.ts holds (x86-64; aarch64-linux-gnu-gcc agrees, as
 * it must: LP64 lays out pointers, size_t, int32_t, float, double, bool and enums alike).
 */
const V0_4_0: LlamaRelease = { ...V0_5_0, release: "v0.4.0", npmVersion: "3.21.1" };

/** Supported releases by name. */
export const RELEASES: Record<string, LlamaRelease> = { "v0.4.0": V0_4_0, "v0.5.0": V0_5_0 };

/** The release a library file name such as `libllama.v0.5.0.so` carries, or null. */
export function releaseOfFileName(file: string): string | null {
  const m = /^libllama\.(?:[a-z0-9]+\.)?(v\d+\.\d+\.\d+)\.(?:so|dylib)$/.exec(file) ??
    /^llama\.(?:[a-z0-9]+\.)?(v\d+\.\d+\.\d+)\.dll$/.exec(file);
  return m ? m[1] : null;
}
