/** Numeric constants of lmrig.h and their names, both ways. */

/** Status codes (lmr_status) by value. */
export const STATUS_NAMES: Record<number, string> = {
  0: "LMR_OK",
  [-1]: "LMR_ERR_INVALID_ARG",
  [-2]: "LMR_ERR_IO",
  [-3]: "LMR_ERR_FORMAT",
  [-4]: "LMR_ERR_UNSUPPORTED",
  [-5]: "LMR_ERR_OUT_OF_MEMORY",
  [-6]: "LMR_ERR_OUT_OF_RANGE",
  [-7]: "LMR_ERR_BACKEND",
  [-8]: "LMR_ERR_STATE",
  [-9]: "LMR_ERR_BUFFER_TOO_SMALL",
  [-10]: "LMR_ERR_NONFINITE",
};

/** Backend names accepted by the toolkit. */
export type BackendName = "auto" | "cpu" | "cuda" | "metal";

/** LMR_BACKEND_* by name. */
export const BACKENDS: Record<BackendName, number> = { auto: 0, cpu: 1, cuda: 2, metal: 3 };

/** Executor names. */
export type ExecutorName = "eager" | "graph";

/** LMR_EXECUTOR_* by name. */
export const EXECUTORS: Record<ExecutorName, number> = { eager: 0, graph: 1 };

/** Element type names (weights and KV cache). */
export type DtypeOption = "default" | "f32" | "f16" | "bf16";

/** LMR_DTYPE_* by name. */
export const DTYPES: Record<DtypeOption, number> = { default: -1, f32: 0, f16: 1, bf16: 2 };

/** Weight element types a loaded model may hold (GGUF adds ggml's quantised block types, under
 * ggml's names), LMR_DTYPE_* by name: the names `ModelInfo.dtype` reports. */
export const WEIGHT_DTYPES: Record<string, number> = {
  ...DTYPES,
  q8_0: 8,
  q4_K: 12,
  q6_K: 14,
};

/** LMR_SIMD_* bits by name. */
export const SIMD_BITS: Record<string, number> = {
  avx2: 1,
  fma: 2,
  f16c: 4,
  avx512f: 8,
  avx512bf16: 16,
  neon: 32,
  neon_bf16: 64,
};
