/* cuda_backend.h: what C code outside src/cuda/ may call besides the backend ops (backend.h):
 * why there is no device (for the tests' SKIP lines), and kernel checks that run one launcher on
 * host buffers (tests compare them with the CPU reference kernels). Only with LMR_HAVE_CUDA. */
#ifndef LMR_CUDA_BACKEND_H
#define LMR_CUDA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "lmrig.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NULL when a device is usable, else the CUDA error name (e.g. "cudaErrorNoDevice"). */
const char *lmr_cuda_no_device_reason(void);

/* y[n, out] = linear(x[n, in]) through lmr_cuda_linear (GEMV for n <= 16, else GEMM) on device 0.
 * W: [out, in] of wdtype (quantised: rows of blocks; more than 8 tokens then go through BF16
 * tiles of 64 rows, quant.cu); bias [out] or NULL; mode 0 store, 1 accumulate into y (y holds the
 * start values), 2 silu(row 2i) * row 2i+1 (y is [n, out / 2]); norm_w [in] or NULL (rmsnorm
 * with eps first); splitk 1: give the GEMM a split-K workspace (as the engine does), 0: none.
 * Error text into err. */
lmr_status lmr_cuda_check_linear(int wdtype, int n, int in, int out, const void *W,
                                 const float *x, const float *bias, int mode,
                                 const float *norm_w, float eps, int splitk, float *y, char *err,
                                 size_t errcap);

/* out[n_tok, n_heads, head_dim] = attention of q (query t at position pos0 + t) over a pool of
 * n_blocks blocks with block_table, as lmr_cpu_attention_ref takes them: fused 0 through
 * lmr_cuda_attention (flash-decoding: split > 0 positions per block as in prefill, 0 the decode
 * policy of plan.h with blocks looping over the splits), 1 through
 * lmr_cuda_attention_prefill (the fused prefill kernel; split unused). */
lmr_status lmr_cuda_check_attention(const float *q, int n_tok, int pos0, const void *k_pool,
                                    const void *v_pool, int kv_dtype, int n_blocks,
                                    const int32_t *block_table, int n_table, int block_tokens,
                                    int n_heads, int n_kv_heads, int head_dim, int split,
                                    int fused, float *out, char *err, size_t errcap);

/* Per-kernel times of engines in profile mode (lmr_engine_params.profile = 1, eager executor):
 * every launch is timed with events and added to a process-wide table keyed by kernel name and
 * shape (e.g. "gemv 2048<-1536 n1"). report writes one line per key, largest total first:
 * total ms, launches, mean us, key; reset empties the table. For benchmarks (cuda_bench_test
 * --kernels), not thread-safe. */
void lmr_cuda_profile_reset(void);
void lmr_cuda_profile_report(char *buf, size_t cap, double per);

#ifdef __cplusplus
}
#endif
#endif /* LMR_CUDA_BACKEND_H */
