/* kernels.h: the CPU backend's compute kernels and thread pool (internal, not public ABI).
 *
 * Every kernel has a plain scalar version (the specification, *_ref) and a dispatched fast
 * version picked at runtime from the CPU's features (AVX2+FMA+F16C, AVX-512, AVX-512-BF16, NEON).
 * Activations are FP32; weights may be BF16, F16 or F32 (LMR_DTYPE_*) and are converted in
 * registers, never copied to FP32 as a whole, or quantised Q8_0 / Q4_K / Q6_K (quant.h: ggml's
 * blocks; a row of `in` weights is in / 32 or in / 256 blocks). Row-major everywhere; a Linear weight is
 * [out, in] as Hugging Face stores it. */
#ifndef LMR_CPU_KERNELS_H
#define LMR_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "half.h"

/* ---- thread pool: threads are created once; a dispatch costs one wake-up, not a spawn ---- */

typedef struct lmr_pool lmr_pool;
/* fn runs once on every thread (ith in [0, nth)), the calling thread being ith 0. */
typedef void (*lmr_task_fn)(void *ctx, int ith, int nth);

lmr_pool *lmr_pool_create(int n_threads); /* NULL on failure; n_threads >= 1 */
void lmr_pool_destroy(lmr_pool *p);       /* NULL is fine */
int lmr_pool_size(const lmr_pool *p);
void lmr_pool_run(lmr_pool *p, lmr_task_fn fn, void *ctx); /* returns when all threads are done */
/* fn(ctx, ith, chunk) runs once for every chunk in [0, n_chunks), on whichever thread claims it
 * first (ith: that thread, for per-thread scratch); the caller claims too and returns when all
 * chunks are done. A worker that is late (descheduled, asleep) just finds nothing left. */
typedef void (*lmr_chunk_fn)(void *ctx, int ith, int chunk);
void lmr_pool_run_chunks(lmr_pool *p, lmr_chunk_fn fn, void *ctx, int n_chunks);

/* ---- CPU facts ---- */

int lmr_cpu_simd_flags(void);              /* LMR_SIMD_* bits the CPU and OS support */
int lmr_cpu_simd_used(void);               /* LMR_SIMD_* bits the dispatched kernels use */
const char *lmr_cpu_simd_name(void);       /* e.g. "avx2+fma+f16c", "neon", "scalar" */
void lmr_cpu_name(char *buf, size_t cap);  /* e.g. "AMD EPYC 7B13" */
int lmr_cpu_online_cores(void);
uint64_t lmr_cpu_physical_memory(void);    /* bytes */
uint64_t lmr_cpu_available_memory(void);   /* bytes free for a new allocation (MemAvailable) */
/* Force the scalar kernels (for tests): 1 = scalar only, 0 = best available. */
void lmr_cpu_force_scalar(int on);
/* Kernel levels (LMR_ISA_* in simd.h: 0 scalar, 1 avx2, 2 avx512, 3 neon). The environment
 * variable LMRIG_CPU_LEVEL=scalar|avx2|avx512|neon caps the level for the whole process (read
 * once, at the first kernel call); lmr_cpu_force_level(level) caps it further at run time (tests,
 * benchmarks; -1 removes that cap). lmr_cpu_level_max: the best level of this CPU and build. */
int lmr_cpu_level_max(void);
void lmr_cpu_force_level(int level);
/* At the AVX-512-BF16 level, BF16-weight linears of n_tok in [min_tok, max_tok) take the streaming
 * BF16 kernel and from max_tok the packed BF16 GEMM, both on bf16(x); below both, the FP32 GEMV.
 * Defaults LMR_BF16_SMALL_MIN_TOK / _MAX_TOK (simd.h); (-1, -1) restores them. A hook for tests
 * and benchmarks: set it while no matmul runs. lmr_cpu_bf16x_min_tok: the token count from which
 * x is rounded to BF16 (the smaller of min_tok and max_tok). */
void lmr_cpu_bf16_small_range(int min_tok, int max_tok);
int lmr_cpu_bf16x_min_tok(void);
int lmr_cpu_level_parse(const char *s); /* "avx2" -> 1 ...; -1 for "best" or unknown */
const char *lmr_cpu_level_name(int level);

/* ---- conversions ---- */

/* lmr_bf16_to_f32, lmr_f32_to_bf16 (round to nearest even; NaN stays NaN), lmr_f16_to_f32,
 * lmr_f32_to_f16: static inline in half.h */
/* dst[n] = src[n] converted from dtype to FP32 (an embedding row, a KV slice); a quantised row
 * (n a multiple of its block size) is dequantised. */
void lmr_cpu_row_to_f32(const void *src, int dtype, float *dst, int64_t n);
void lmr_cpu_row_from_f32(const float *src, int dtype, void *dst, int64_t n);

/* ---- linear layers ----
 * y[t, o] = sum_i x[t, i] * W[o, i] + (bias ? bias[o] : 0) (+ y[t, o] when accumulate)
 * x: [n_tok, in] FP32; W: [out, in] of wdtype; bias: [out] FP32 or NULL; y: [n_tok, out] FP32.
 * n_tok == 1 is the decode GEMV (streams W once at memory bandwidth); n_tok > 1 is the prefill /
 * batched-decode GEMM (W read once per tile, reused across tokens). Work is split over the pool. */
void lmr_cpu_matmul(lmr_pool *p, const float *x, int n_tok, int in, const void *W, int wdtype,
                    int out, const float *bias, float *y, int accumulate);
/* Several linear layers of the same input in one dispatch (q, k, v; gate, up): ls[j].y =
 * x ls[j].W^T (+ bias) (+ y) for j < n, n <= LMR_MATMUL_MAX. Same result as n separate calls. */
#define LMR_MATMUL_MAX 4
typedef struct {
    const void *W;     /* [out, in] of wdtype */
    int wdtype, out;
    const float *bias; /* [out] or NULL */
    float *y;          /* [n_tok, out] */
    int accumulate;
} lmr_linear;
void lmr_cpu_matmul_n(lmr_pool *p, const float *x, int n_tok, int in, const lmr_linear *ls, int n);
void lmr_cpu_matmul_ref(const float *x, int n_tok, int in, const void *W, int wdtype, int out,
                        const float *bias, float *y, int accumulate);

/* ---- elementwise / norms ---- */

/* y[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * w[:]; x, y: [n_tok, n]; w: [n] of wdtype */
void lmr_cpu_rmsnorm(const float *x, const void *w, int wdtype, float eps, int n_tok, int n,
                     float *y);
/* Rotate-half RoPE in place on x: [n_tok, n_heads, head_dim]; token t is at position pos[t];
 * pairs (i, i + head_dim/2) rotate by pos * theta^(-2i/head_dim). */
void lmr_cpu_rope(float *x, int n_tok, int n_heads, int head_dim, const int32_t *pos,
                  double theta);
/* gate[t, i] = silu(gate[t, i]) * up[t, i]; both [n_tok, n] */
void lmr_cpu_silu_mul(float *gate, const float *up, int n_tok, int n);

/* ---- attention over a paged KV cache ----
 * One sequence. KV pool of one layer: k_pool, v_pool are [n_blocks, block_tokens, n_kv_heads,
 * head_dim] of kv_dtype; block_table[j] is the pool block holding the sequence's positions
 * [j*block_tokens, (j+1)*block_tokens). q: [n_tok, n_heads, head_dim] (RoPE applied); query t is
 * at position pos0 + t and attends causally to positions 0..pos0+t (already written to the
 * cache). out: [n_tok, n_heads, head_dim]. Scale 1/sqrt(head_dim); GQA: query head h uses KV
 * head h / (n_heads / n_kv_heads). Long caches are split across threads (flash-decoding). */
void lmr_cpu_attention(lmr_pool *p, const float *q, int n_tok, int pos0, const void *k_pool,
                       const void *v_pool, int kv_dtype, const int32_t *block_table,
                       int block_tokens, int n_heads, int n_kv_heads, int head_dim, float *out);
/* Decode of n_seq sequences in one dispatch: sequence i has one query token q[i] ([n_heads,
 * head_dim]) at position pos0[i] over its block table block_tables[i], output out[i]. The work
 * items are (sequence, range of its positions) over all sequences, so that a batch of short
 * sequences and a single long one both keep every thread busy. Same result as n_seq calls of
 * lmr_cpu_attention with n_tok = 1. */
void lmr_cpu_attention_decode_n(lmr_pool *p, int n_seq, const float *const *q,
                                const int32_t *pos0, const void *k_pool, const void *v_pool,
                                int kv_dtype, const int32_t *const *block_tables,
                                int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                                float *const *out);
void lmr_cpu_attention_ref(const float *q, int n_tok, int pos0, const void *k_pool,
                           const void *v_pool, int kv_dtype, const int32_t *block_table,
                           int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                           float *out);

/* ---- probes ---- */

/* Read bandwidth with all pool threads streaming disjoint parts of a bytes-sized buffer: one
 * sample per pass, the median rate of its 32 MiB segments (see probe.c). */
int lmr_cpu_probe_bandwidth(lmr_pool *p, uint64_t bytes, int reps, double *samples_bps);
/* FP32 FLOP/s of 256-bit FMAs (12 n per thread, 12 independent chains) on every pool thread at
 * once, wall clock: the AVX2 kernels' arithmetic peak on this machine now. 0 below the AVX2 level
 * or on a build without it. */
double lmr_cpu_probe_fma(lmr_pool *p, int64_t n);
/* Mean ns of one empty lmr_pool_run (a round trip through every thread) over n dispatches. */
double lmr_cpu_probe_dispatch(lmr_pool *p, int n);

#endif /* LMR_CPU_KERNELS_H */
