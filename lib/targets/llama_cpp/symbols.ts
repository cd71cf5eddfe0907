/**
 * The llama.cpp target's one symbol table: the llama.h functions it calls (typed for one release's
 * struct layouts), the ggml-backend functions that load and name the compute backends, and two
 * libc entries (a monotonic clock for engine timing, and a no-op function used as the log sink
 * while no JS logger is installed). C types in comments; calls that load or run a model off the
 * JS thread are `nonblocking`.
 */
import type { LlamaRelease } from "./releases.ts";

/** libllama's symbols, typed for `r`'s struct layouts. */
export function llamaSymbols(r: LlamaRelease): LlamaSymbolTable {
  return symbolTable(r);
}

/** The table's type (every release has the same functions; struct layouts differ). */
export type LlamaSymbolTable = ReturnType<typeof symbolTable>;

function symbolTable(r: LlamaRelease) {
  return {
    /** const char * llama_version(void) */
    llama_version: { parameters: [], result: "pointer" },
    /** void llama_backend_init(void) */
    llama_backend_init: { parameters: [], result: "void" },
    /** void llama_log_set(ggml_log_callback cb, void * user_data) */
    llama_log_set: { parameters: ["pointer", "pointer"], result: "void" },
    /** struct llama_model_params llama_model_default_params(void) */
    llama_model_default_params: { parameters: [], result: r.modelParams.ffi },
    /** struct llama_context_params llama_context_default_params(void) */
    llama_context_default_params: { parameters: [], result: r.contextParams.ffi },
    /** struct llama_model_quantize_params llama_model_quantize_default_params(void) */
    llama_model_quantize_default_params: { parameters: [], result: r.quantizeParams.ffi },
    /** struct llama_model * llama_model_load_from_file(const char * path, struct llama_model_params) */
    llama_model_load_from_file: {
      parameters: ["buffer", r.modelParams.ffi],
      result: "pointer",
      nonblocking: true,
    },
    /** void llama_model_free(struct llama_model *) */
    llama_model_free: { parameters: ["pointer"], result: "void" },
    /** struct llama_context * llama_init_from_model(struct llama_model *, struct llama_context_params) */
    llama_init_from_model: {
      parameters: ["pointer", r.contextParams.ffi],
      result: "pointer",
      nonblocking: true,
    },
    /** void llama_free(struct llama_context *) */
    llama_free: { parameters: ["pointer"], result: "void" },
    /** const struct llama_vocab * llama_model_get_vocab(const struct llama_model *) */
    llama_model_get_vocab: { parameters: ["pointer"], result: "pointer" },
    /** int32_t llama_vocab_n_tokens(const struct llama_vocab *) */
    llama_vocab_n_tokens: { parameters: ["pointer"], result: "i32" },
    /** int32_t llama_model_n_layer(const struct llama_model *) */
    llama_model_n_layer: { parameters: ["pointer"], result: "i32" },
    /** int32_t llama_model_n_head(const struct llama_model *) */
    llama_model_n_head: { parameters: ["pointer"], result: "i32" },
    /** int32_t llama_model_n_head_kv(const struct llama_model *) */
    llama_model_n_head_kv: { parameters: ["pointer"], result: "i32" },
    /** int32_t llama_model_n_embd(const struct llama_model *) */
    llama_model_n_embd: { parameters: ["pointer"], result: "i32" },
    /** uint64_t llama_model_size(const struct llama_model *): bytes of all tensors */
    llama_model_size: { parameters: ["pointer"], result: "u64" },
    /** int32_t llama_model_desc(const struct llama_model *, char * buf, size_t buf_size) */
    llama_model_desc: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
    /** int32_t llama_model_meta_val_str(const struct llama_model *, const char * key, char * buf, size_t) */
    llama_model_meta_val_str: {
      parameters: ["pointer", "buffer", "buffer", "usize"],
      result: "i32",
    },
    /** uint32_t llama_n_ctx(const struct llama_context *) */
    llama_n_ctx: { parameters: ["pointer"], result: "u32" },
    /** uint32_t llama_n_batch(const struct llama_context *) */
    llama_n_batch: { parameters: ["pointer"], result: "u32" },
    /** uint32_t llama_n_ubatch(const struct llama_context *) */
    llama_n_ubatch: { parameters: ["pointer"], result: "u32" },
    /** uint32_t llama_n_seq_max(const struct llama_context *) */
    llama_n_seq_max: { parameters: ["pointer"], result: "u32" },
    /** llama_memory_t llama_get_memory(const struct llama_context *) */
    llama_get_memory: { parameters: ["pointer"], result: "pointer" },
    /** bool llama_memory_seq_rm(llama_memory_t, llama_seq_id, llama_pos p0, llama_pos p1) */
    llama_memory_seq_rm: { parameters: ["pointer", "i32", "i32", "i32"], result: "bool" },
    /** llama_pos llama_memory_seq_pos_max(llama_memory_t, llama_seq_id) */
    llama_memory_seq_pos_max: { parameters: ["pointer", "i32"], result: "i32" },
    /** struct llama_batch llama_batch_init(int32_t n_tokens, int32_t embd, int32_t n_seq_max) */
    llama_batch_init: { parameters: ["i32", "i32", "i32"], result: r.batch.ffi },
    /** void llama_batch_free(struct llama_batch) */
    llama_batch_free: { parameters: [r.batch.ffi], result: "void" },
    /** int32_t llama_decode(struct llama_context *, struct llama_batch): on the JS thread, timed */
    llama_decode: { parameters: ["pointer", r.batch.ffi], result: "i32" },
    /** void llama_synchronize(struct llama_context *) */
    llama_synchronize: { parameters: ["pointer"], result: "void" },
    /** float * llama_get_logits_ith(struct llama_context *, int32_t i) */
    llama_get_logits_ith: { parameters: ["pointer", "i32"], result: "pointer" },
    /** struct llama_perf_context_data llama_perf_context(const struct llama_context *) */
    llama_perf_context: { parameters: ["pointer"], result: r.perfContextData.ffi },
    /** void llama_perf_context_reset(struct llama_context *) */
    llama_perf_context_reset: { parameters: ["pointer"], result: "void" },
    /** uint32_t llama_model_quantize(const char * in, const char * out, const llama_model_quantize_params *) */
    llama_model_quantize: {
      parameters: ["buffer", "buffer", "buffer"],
      result: "u32",
      nonblocking: true,
    },
    /** const char * llama_print_system_info(void) */
    llama_print_system_info: { parameters: [], result: "pointer" },
  } as const satisfies Deno.ForeignLibraryInterface;
}

/** libggml's backend registry (GGML_BACKEND_DL builds load the backends from files). */
export const GGML_SYMBOLS = {
  /** void ggml_backend_load_all_from_path(const char * dir_path) */
  ggml_backend_load_all_from_path: { parameters: ["buffer"], result: "void" },
  /** size_t ggml_backend_dev_count(void) */
  ggml_backend_dev_count: { parameters: [], result: "usize" },
  /** ggml_backend_dev_t ggml_backend_dev_get(size_t index) */
  ggml_backend_dev_get: { parameters: ["usize"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** libggml-base: device names. */
export const GGML_BASE_SYMBOLS = {
  /** const char * ggml_backend_dev_name(ggml_backend_dev_t) */
  ggml_backend_dev_name: { parameters: ["pointer"], result: "pointer" },
  /** const char * ggml_backend_dev_description(ggml_backend_dev_t) */
  ggml_backend_dev_description: { parameters: ["pointer"], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** libc: the clock and the no-op log sink. */
export const LIBC_SYMBOLS = {
  /** int clock_gettime(clockid_t, struct timespec *) */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** The address of getpid: called with (level, text, user_data) it ignores them (no side effect). */
  getpid: { type: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound llama symbols of one release. */
export type LlamaSymbols = Deno.DynamicLibrary<ReturnType<typeof llamaSymbols>>["symbols"];
