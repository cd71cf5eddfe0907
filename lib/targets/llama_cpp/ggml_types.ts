/** ggml element types and llama_ftype names of the supported llama.h releases. */

/** GGML_TYPE_* by lower-case name (the ones the binding uses). */
export const GGML_TYPES: Record<string, number> = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q8_0: 8,
  q4_k: 12,
  q6_k: 14,
  bf16: 30,
};

/** LLAMA_FTYPE_* by the name `--quant` takes. */
export const FTYPES: Record<string, number> = {
  f32: 0,
  f16: 1,
  q4_0: 2,
  q8_0: 7,
  q4_k_s: 14,
  q4_k_m: 15,
  q5_k_m: 17,
  q6_k: 18,
  bf16: 32,
};

/** Names of LLAMA_FTYPE_* values (general.file_type of a GGUF). */
export const FTYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(FTYPES).map(([k, v]) => [v, k]),
);
