/*
 * Print sizeof and offsetof of every struct the llama.cpp target passes by value, as compiled
 * against one release's llama.h (the expected values in lib/targets/llama_cpp/releases_test.ts
 * came from this program). It includes only llama.h; it neither fetches nor builds llama.cpp.
 *
 *   git clone <node-llama-cpp package>/llama/gitRelease.bundle /tmp/llama-src
 *   cc -I/tmp/llama-src/include -I/tmp/llama-src/ggml/include \
 *      scripts/llama-layout-check.c -o /tmp/llama-layout-check && /tmp/llama-layout-check
 *
 * Output: one line per struct ("name size N") and per field ("name.field offset size").
 */
#include <stddef.h>
#include <stdio.h>
#include "llama.h"

#define S(T) printf("%s size %zu\n", #T, sizeof(struct T))
#define F(T, f) printf("%s.%s %zu %zu\n", #T, #f, offsetof(struct T, f), sizeof(((struct T *)0)->f))

int main(void) {
  S(llama_model_params);
  F(llama_model_params, devices);
  F(llama_model_params, tensor_buft_overrides);
  F(llama_model_params, n_gpu_layers);
  F(llama_model_params, split_mode);
  F(llama_model_params, load_mode);
  F(llama_model_params, lazy_mode);
  F(llama_model_params, main_gpu);
  F(llama_model_params, tensor_split);
  F(llama_model_params, progress_callback);
  F(llama_model_params, progress_callback_user_data);
  F(llama_model_params, kv_overrides);
  F(llama_model_params, vocab_only);
  F(llama_model_params, check_tensors);
  F(llama_model_params, use_extra_bufts);
  F(llama_model_params, no_host);
  F(llama_model_params, no_alloc);
  F(llama_model_params, load_mtp);

  S(llama_context_params);
  F(llama_context_params, n_ctx);
  F(llama_context_params, n_batch);
  F(llama_context_params, n_ubatch);
  F(llama_context_params, n_seq_max);
  F(llama_context_params, n_rs_seq);
  F(llama_context_params, n_outputs_max);
  F(llama_context_params, n_outputs_max_per_seq);
  F(llama_context_params, n_threads);
  F(llama_context_params, n_threads_batch);
  F(llama_context_params, ctx_type);
  F(llama_context_params, rope_scaling_type);
  F(llama_context_params, pooling_type);
  F(llama_context_params, attention_type);
  F(llama_context_params, flash_attn_type);
  F(llama_context_params, rope_freq_base);
  F(llama_context_params, rope_freq_scale);
  F(llama_context_params, yarn_ext_factor);
  F(llama_context_params, yarn_attn_factor);
  F(llama_context_params, yarn_beta_fast);
  F(llama_context_params, yarn_beta_slow);
  F(llama_context_params, yarn_orig_ctx);
  F(llama_context_params, defrag_thold);
  F(llama_context_params, cb_eval);
  F(llama_context_params, cb_eval_user_data);
  F(llama_context_params, type_k);
  F(llama_context_params, type_v);
  F(llama_context_params, abort_callback);
  F(llama_context_params, abort_callback_data);
  F(llama_context_params, embeddings);
  F(llama_context_params, offload_kqv);
  F(llama_context_params, no_perf);
  F(llama_context_params, op_offload);
  F(llama_context_params, swa_full);
  F(llama_context_params, kv_unified);
  F(llama_context_params, samplers);
  F(llama_context_params, n_samplers);
  F(llama_context_params, ctx_other);

  S(llama_model_quantize_params);
  F(llama_model_quantize_params, nthread);
  F(llama_model_quantize_params, ftype);
  F(llama_model_quantize_params, output_tensor_type);
  F(llama_model_quantize_params, token_embedding_type);
  F(llama_model_quantize_params, allow_requantize);
  F(llama_model_quantize_params, quantize_output_tensor);
  F(llama_model_quantize_params, only_copy);
  F(llama_model_quantize_params, pure);
  F(llama_model_quantize_params, keep_split);
  F(llama_model_quantize_params, dry_run);
  F(llama_model_quantize_params, imatrix);
  F(llama_model_quantize_params, kv_overrides);
  F(llama_model_quantize_params, tt_overrides);
  F(llama_model_quantize_params, prune_layers);
  F(llama_model_quantize_params, max_buf_size);

  S(llama_perf_context_data);
  F(llama_perf_context_data, t_start_ms);
  F(llama_perf_context_data, t_load_ms);
  F(llama_perf_context_data, t_p_eval_ms);
  F(llama_perf_context_data, t_eval_ms);
  F(llama_perf_context_data, n_p_eval);
  F(llama_perf_context_data, n_eval);
  F(llama_perf_context_data, n_reused);

  S(llama_batch);
  F(llama_batch, n_tokens);
  F(llama_batch, token);
  F(llama_batch, embd);
  F(llama_batch, pos);
  F(llama_batch, n_seq_id);
  F(llama_batch, seq_id);
  F(llama_batch, logits);
  return 0;
}
