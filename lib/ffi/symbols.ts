/**
 * The one symbol table of the lmrig C ABI (native/include/lmrig.h), for Deno.dlopen.
 * Calls that run the model or a probe are `nonblocking: true` (they return a Promise and run on
 * a worker thread); the rest are cheap and synchronous. Keep in step with LMR_ABI_VERSION.
 */
import {
  COUNTERS,
  ENGINE_INFO,
  ENGINE_PARAMS,
  GENERATE_STATS,
  MODEL_INFO,
  MODEL_PARAMS,
  SAMPLER_PARAMS,
  SESSION_INFO,
  SESSION_PARAMS,
} from "./structs.ts";

/** The ABI version these bindings are written for (LMR_ABI_VERSION). */
export const EXPECTED_ABI_VERSION = 3;

/** Symbols needed to check the ABI before binding everything else. */
export const VERSION_SYMBOLS = {
  lmr_abi_version: { parameters: [], result: "u32" }, // uint32_t (void)
  lmr_version_string: { parameters: [], result: "pointer" }, // const char * (void)
} as const satisfies Deno.ForeignLibraryInterface;

/** Every symbol of lmrig.h. */
export const SYMBOLS = {
  ...VERSION_SYMBOLS,
  lmr_backend_available: { parameters: ["i32" /* int32_t backend */], result: "i32" },

  lmr_engine_params_default: { parameters: [], result: ENGINE_PARAMS.ffi },
  lmr_engine_create: {
    parameters: [
      "buffer", // const lmr_engine_params *p
      "buffer", // lmr_engine **out
    ],
    result: "i32",
  },
  lmr_engine_destroy: { parameters: ["pointer" /* lmr_engine *e */], result: "void" },
  lmr_last_error: { parameters: ["pointer" /* const lmr_engine *e */], result: "pointer" },
  lmr_engine_info_default: { parameters: [], result: ENGINE_INFO.ffi },
  lmr_engine_info_get: {
    parameters: [
      "pointer", // lmr_engine *e
      "buffer", // lmr_engine_info *out
    ],
    result: "i32",
  },
  lmr_probe_bandwidth: {
    parameters: [
      "pointer", // lmr_engine *e
      "u64", // uint64_t bytes
      "i32", // int32_t reps
      "buffer", // double *samples_bps
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_probe_launch: {
    parameters: [
      "pointer", // lmr_engine *e
      "i32", // int32_t n
      "buffer", // double *eager_ns
      "buffer", // double *graph_ns
    ],
    result: "i32",
    nonblocking: true,
  },

  lmr_counters_default: { parameters: [], result: COUNTERS.ffi },
  lmr_counters_get: {
    parameters: [
      "pointer", // lmr_engine *e
      "buffer", // lmr_counters *out
    ],
    result: "i32",
  },
  lmr_counters_reset: { parameters: ["pointer" /* lmr_engine *e */], result: "i32" },

  lmr_model_params_default: { parameters: [], result: MODEL_PARAMS.ffi },
  lmr_model_load: {
    parameters: [
      "pointer", // lmr_engine *e
      "buffer", // const char *dir
      "buffer", // const lmr_model_params *p
      "buffer", // lmr_model **out
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_model_synthesize: {
    parameters: [
      "pointer", // lmr_engine *e
      "buffer", // const char *spec
      "buffer", // const lmr_model_params *p
      "buffer", // lmr_model **out
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_model_save: {
    parameters: [
      "pointer", // lmr_model *m
      "buffer", // const char *dir
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_model_destroy: { parameters: ["pointer" /* lmr_model *m */], result: "void" },
  lmr_model_presets: {
    parameters: [
      "buffer", // char *buf
      "u64", // uint64_t cap
      "buffer", // uint64_t *needed
    ],
    result: "i32",
  },
  lmr_model_info_default: { parameters: [], result: MODEL_INFO.ffi },
  lmr_model_info_get: {
    parameters: [
      "pointer", // lmr_model *m
      "buffer", // lmr_model_info *out
    ],
    result: "i32",
  },

  lmr_session_params_default: { parameters: [], result: SESSION_PARAMS.ffi },
  lmr_session_create: {
    parameters: [
      "pointer", // lmr_model *m
      "buffer", // const lmr_session_params *p
      "buffer", // lmr_session **out
    ],
    result: "i32",
  },
  lmr_session_destroy: { parameters: ["pointer" /* lmr_session *s */], result: "void" },
  lmr_session_info_default: { parameters: [], result: SESSION_INFO.ffi },
  lmr_session_info_get: {
    parameters: [
      "pointer", // lmr_session *s
      "buffer", // lmr_session_info *out
    ],
    result: "i32",
  },
  lmr_session_prefill: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "buffer", // const int32_t *tokens
      "i32", // int32_t n
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_session_decode: {
    parameters: [
      "pointer", // lmr_session *s
      "buffer", // const int32_t *seqs
      "buffer", // const int32_t *tokens
      "i32", // int32_t n
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_session_logits: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "buffer", // float *out
      "i32", // int32_t cap
    ],
    result: "i32",
  },
  lmr_session_seq_len: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "buffer", // int32_t *out
    ],
    result: "i32",
  },
  lmr_session_reset: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
    ],
    result: "i32",
  },
  lmr_session_fill_kv: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "i32", // int32_t pos
      "u64", // uint64_t seed
    ],
    result: "i32",
    nonblocking: true,
  },
  lmr_sampler_params_default: { parameters: [], result: SAMPLER_PARAMS.ffi },
  lmr_session_sample: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "buffer", // const lmr_sampler_params *p
      "buffer", // int32_t *out_token
    ],
    result: "i32",
  },
  lmr_generate_stats_default: { parameters: [], result: GENERATE_STATS.ffi },
  lmr_session_generate: {
    parameters: [
      "pointer", // lmr_session *s
      "i32", // int32_t seq
      "buffer", // const int32_t *prompt
      "i32", // int32_t n_prompt
      "i32", // int32_t n_gen
      "buffer", // const lmr_sampler_params *sp
      "buffer", // int32_t *out_tokens
      "buffer", // uint64_t *step_ns (may be NULL)
      "buffer", // lmr_generate_stats *stats
    ],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound functions of the library. */
export type LmrSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
