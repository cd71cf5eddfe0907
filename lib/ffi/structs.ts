/**
 * The params/info structs of native/include/lmrig.h, field by field in declaration order.
 * Offsets and sizes follow from the C alignment rules (see _struct.ts); each struct's `size`
 * field, as set by the library's *_default() function, is checked against these sizes at load.
 */
import { defineStruct, type StructLayout } from "./_struct.ts";

/** A struct layout (re-exported for the size checks). */
export type StructLayoutLike = StructLayout;

/** lmr_engine_params (24 bytes). */
export const ENGINE_PARAMS: StructLayout = defineStruct("lmr_engine_params", [
  ["size", "u32"],
  ["backend", "i32"],
  ["n_threads", "i32"],
  ["device", "i32"],
  ["executor", "i32"],
  ["profile", "i32"],
]);

/** lmr_engine_info (616 bytes). */
export const ENGINE_INFO: StructLayout = defineStruct("lmr_engine_info", [
  ["size", "u32"],
  ["backend", "i32"],
  ["executor", "i32"],
  ["n_threads", "i32"],
  ["n_cores", "i32"],
  ["simd_flags", "i32"],
  ["simd_used", "i32"],
  ["sm_count", "i32"],
  ["compute_capability", "i32"],
  ["clock_khz", "i32"],
  ["mem_clock_khz", "i32"],
  ["mem_bus_bits", "i32"],
  ["driver_version", "i32"],
  ["runtime_version", "i32"],
  ["host_memory_bytes", "u64"],
  ["device_memory_bytes", "u64"],
  ["cpu_name", { chars: 128 }],
  ["device_name", { chars: 128 }],
  ["simd_name", { chars: 32 }],
  ["build_flags", { chars: 256 }],
]);

/** lmr_counters (128 bytes). */
export const COUNTERS: StructLayout = defineStruct("lmr_counters", [
  ["size", "u32"],
  ["reserved", "u32"],
  ["prefill_ns", "u64"],
  ["decode_ns", "u64"],
  ["sample_ns", "u64"],
  ["prefill_tokens", "u64"],
  ["decode_steps", "u64"],
  ["decode_tokens", "u64"],
  ["kernels", "u64"],
  ["kernels_last_step", "u64"],
  ["kernel_ns", "u64"],
  ["last_call_ns", "u64"],
  ["graph_capture_ns", "u64"],
  ["peak_bytes", "u64"],
  ["current_bytes", "u64"],
  ["energy_mj", "u64"],
  ["energy_ns", "u64"],
]);

/** lmr_model_params (24 bytes). */
export const MODEL_PARAMS: StructLayout = defineStruct("lmr_model_params", [
  ["size", "u32"],
  ["dtype", "i32"],
  ["seed", "u64"],
  ["n_layers", "i32"],
  ["reserved", "i32"],
]);

/** lmr_model_info (336 bytes). */
export const MODEL_INFO: StructLayout = defineStruct("lmr_model_info", [
  ["size", "u32"],
  ["n_layers", "i32"],
  ["hidden", "i32"],
  ["n_heads", "i32"],
  ["n_kv_heads", "i32"],
  ["head_dim", "i32"],
  ["ffn", "i32"],
  ["vocab", "i32"],
  ["max_pos", "i32"],
  ["tie_embeddings", "i32"],
  ["dtype", "i32"],
  ["synthetic", "i32"],
  ["rope_theta", "f64"],
  ["rms_eps", "f64"],
  ["n_params", "u64"],
  ["weight_bytes", "u64"],
  ["decode_bytes", "u64"],
  ["kv_bytes_per_token", "u64"],
  ["seed", "u64"],
  ["load_ns", "u64"],
  ["arch", { chars: 32 }],
  ["name", { chars: 128 }],
  ["weight_types", { chars: 64 }],
]);

/** lmr_session_params (32 bytes). */
export const SESSION_PARAMS: StructLayout = defineStruct("lmr_session_params", [
  ["size", "u32"],
  ["max_seqs", "i32"],
  ["max_ctx", "i32"],
  ["kv_dtype", "i32"],
  ["prefill_chunk", "i32"],
  ["block_tokens", "i32"],
  ["kv_budget_bytes", "u64"],
]);

/** lmr_session_info (48 bytes). */
export const SESSION_INFO: StructLayout = defineStruct("lmr_session_info", [
  ["size", "u32"],
  ["max_seqs", "i32"],
  ["max_ctx", "i32"],
  ["kv_dtype", "i32"],
  ["block_tokens", "i32"],
  ["n_blocks", "i32"],
  ["free_blocks", "i32"],
  ["prefill_chunk", "i32"],
  ["kv_bytes", "u64"],
  ["kv_bytes_per_token", "u64"],
]);

/** lmr_sampler_params (24 bytes). */
export const SAMPLER_PARAMS: StructLayout = defineStruct("lmr_sampler_params", [
  ["size", "u32"],
  ["temperature", "f32"],
  ["top_k", "i32"],
  ["top_p", "f32"],
  ["seed", "u64"],
]);

/** lmr_generate_stats (56 bytes). */
export const GENERATE_STATS: StructLayout = defineStruct("lmr_generate_stats", [
  ["size", "u32"],
  ["reserved", "u32"],
  ["ttft_ns", "u64"],
  ["prefill_ns", "u64"],
  ["decode_ns", "u64"],
  ["sample_ns", "u64"],
  ["total_ns", "u64"],
  ["n_prompt", "i32"],
  ["n_generated", "i32"],
]);
