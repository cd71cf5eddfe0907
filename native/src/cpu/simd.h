/* simd.h: internal to native/src/cpu: which kernel set runs, per-ISA entry points the portable
 * dispatchers call, and per-thread scratch owned by the pool. Not used outside this folder. */
#ifndef LMR_CPU_SIMD_H
#define LMR_CPU_SIMD_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#define LMR_X86 1
#endif
#if defined(__aarch64__)
#define LMR_ARM64 1
#endif
/* The build defines LMR_BUILD_<ISA> when it compiled the *_<isa>.c files. */
#if defined(LMR_BUILD_AVX2) && LMR_X86
#define LMR_HAVE_AVX2 1
#endif
/* The AVX-512 level needs the AVX2 kernels too (it adds kernels, it does not replace all). */
#if defined(LMR_BUILD_AVX512) && LMR_HAVE_AVX2
#define LMR_HAVE_AVX512 1
#endif
#if defined(LMR_BUILD_NEON) && LMR_ARM64
#define LMR_HAVE_NEON 1
#endif

enum { LMR_ISA_SCALAR = 0, LMR_ISA_AVX2 = 1, LMR_ISA_AVX512 = 2, LMR_ISA_NEON = 3 };
int lmr_cpu_isa(void); /* best kernel set available now (SCALAR when forced) */
/* The AVX-512 level (AVX-512 F/BW/VL/DQ + BF16) runs the AVX2 kernels where it has no own. */
static inline int lmr_isa_has_avx2(int isa) { return isa == LMR_ISA_AVX2 || isa == LMR_ISA_AVX512; }

/* Scratch of at least `bytes` (64-byte aligned) for pool thread ith, kept until the pool dies;
 * NULL if allocation fails (callers then fall back to a path that needs none). */
void *lmr_pool_scratch(lmr_pool *p, int ith, size_t bytes);
/* One more such buffer per pool, shared by all its threads (written by the caller before a
 * dispatch, read by the tasks): the BF16 copy of a GEMM's activations. */
void *lmr_pool_shared_scratch(lmr_pool *p, size_t bytes);

/* ---- matmul pieces: y[t, o] += sum_i x[t, i] * W[o, i] for o in [o0, o1); y: [n_tok, ldy] ----
 * The caller has already put bias / previous values in y. `scratch` holds LMR_GEMM_SCRATCH
 * bytes (packed weight panel) or is NULL for the GEMV kernels. */
#define LMR_GEMM_KC 256
#define LMR_GEMM_NC 128
#define LMR_GEMM_SCRATCH ((size_t)LMR_GEMM_KC * LMR_GEMM_NC * sizeof(float))
/* ---- the shared prefill GEMM driver (gemm.c) and a kernel set's part of it ---- */
#define LMR_GEMM_MAX_MR 12
#define LMR_GEMM_MAX_NR 32
typedef struct {
    int mr, nr;   /* micro-kernel tile: up to mr tokens x nr output rows (one packed strip) */
    int kc, nc;   /* cache blocks: input depth per packed panel, output rows per panel */
    int a_esz;    /* bytes per activation element (4: FP32 x, 2: BF16 x) */
    int w_esz;    /* bytes per packed weight element; a strip is even(kc) * nr * w_esz bytes */
    int masked;   /* micro handles a partial strip (ncols < nr) itself */
    /* Packs W[n0 + j, k0 + k] (j < nr <= the strip width, k < kc; rest zero) into bp. */
    void (*pack)(const void *W, int dtype, int in, int n0, int nr, int k0, int kc, void *bp);
    /* c[r, j] += sum_k a[r * lda + k] * strip(bp)[k, j] for r < mr, j < ncols (c row stride ldc) */
    void (*micro)(int mr, int kc, const void *a, int lda, const void *bp, float *c, int ldc,
                  int ncols);
} lmr_gemm_kernel;
/* y[t, o] += sum_i a[t, i] W[o, i] for t < n_tok, o in [o0, o1); a: [n_tok, lda] of a_esz bytes;
 * bp: LMR_GEMM_SCRATCH bytes (>= nc / nr strips). */
void lmr_gemm_rows(const lmr_gemm_kernel *k, const void *a, int lda, int n_tok, int in,
                   const void *W, int dtype, int o0, int o1, float *y, int ldy, void *bp);

/* The FP32 6x16 kernel set of an ISA file (AVX2, NEON), for lmr_gemm_rows: the file defines
 *   static void micro_6x16(int kc, const float *a, int lda, const float *bp, float *c, int ldc,
 *                          int rows);   (always inlined; rows a constant in each copy)
 *   static void pack_strip(const void *W, int dtype, int in, int n0, int nr, int k0, int kc,
 *                          void *bp);   (always inlined; dtype a constant in each copy)
 * and this expands to one noinline function per tile height (inlined into a single switch, GCC
 * kept the accumulator arrays of the six copies on the stack: a store per FMA pair, half the
 * speed), the two dispatchers and `gemm_kernel`: FP32 panel [k][16] per strip, 6x16 tiles,
 * KC x NC FP32 = LMR_GEMM_SCRATCH. */
#define LMR_GEMM_MICRO_FN(R)                                                                   \
    __attribute__((noinline)) static void micro_##R(int kc, const float *a, int lda,          \
                                                    const float *bp, float *c, int ldc) {     \
        micro_6x16(kc, a, lda, bp, c, ldc, R);                                                 \
    }
#define LMR_GEMM_FP32_6X16_KERNEL                                                              \
    LMR_GEMM_MICRO_FN(1) LMR_GEMM_MICRO_FN(2) LMR_GEMM_MICRO_FN(3) LMR_GEMM_MICRO_FN(4)       \
    LMR_GEMM_MICRO_FN(5) LMR_GEMM_MICRO_FN(6)                                                  \
    static void micro_any(int mr, int kc, const void *av, int lda, const void *bpv, float *c,  \
                          int ldc, int ncols) {                                                \
        const float *a = av, *bp = bpv;                                                        \
        (void)ncols; /* always a full strip: the driver pads partial ones */                   \
        switch (mr) {                                                                          \
        case 6: micro_6(kc, a, lda, bp, c, ldc); break;                                        \
        case 5: micro_5(kc, a, lda, bp, c, ldc); break;                                        \
        case 4: micro_4(kc, a, lda, bp, c, ldc); break;                                        \
        case 3: micro_3(kc, a, lda, bp, c, ldc); break;                                        \
        case 2: micro_2(kc, a, lda, bp, c, ldc); break;                                        \
        default: micro_1(kc, a, lda, bp, c, ldc); break;                                       \
        }                                                                                      \
    }                                                                                          \
    static void pack_any(const void *W, int dtype, int in, int n0, int nr, int k0, int kc,     \
                         void *bp) {                                                           \
        switch (dtype) {                                                                       \
        case LMR_DTYPE_BF16: pack_strip(W, LMR_DTYPE_BF16, in, n0, nr, k0, kc, bp); break;     \
        case LMR_DTYPE_F16: pack_strip(W, LMR_DTYPE_F16, in, n0, nr, k0, kc, bp); break;       \
        default: pack_strip(W, LMR_DTYPE_F32, in, n0, nr, k0, kc, bp); break;                  \
        }                                                                                      \
    }                                                                                          \
    static const lmr_gemm_kernel gemm_kernel = {                                               \
        .mr = 6, .nr = 16, .kc = LMR_GEMM_KC, .nc = LMR_GEMM_NC, .a_esz = 4, .w_esz = 4,       \
        .masked = 0, .pack = pack_any, .micro = micro_any};

typedef void (*lmr_rows_fn)(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                            int o1, float *y, int ldy, float *scratch);
void lmr_matmul_rows_scalar(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                            int o1, float *y, int ldy, float *scratch);

/* ---- attention piece: online softmax over positions [p0, p1) of one KV head for g query heads.
 * q: [g, hd] (pre-scaled by 1/sqrt(hd)); state m[g], l[g], acc[g, hd] updated in place
 * (start from m = -inf, l = 0, acc = 0). kv_row(p) locates position p through the block table. */
typedef struct {
    const void *k_pool, *v_pool; /* [n_blocks, bt, n_kv, hd] of dtype */
    const int32_t *block_table;
    int bt, n_kv, hd, dtype, kvh;
} lmr_kv_view;
typedef void (*lmr_attend_fn)(const lmr_kv_view *kv, const float *q, int g, int p0, int p1,
                              float *m, float *l, float *acc);
void lmr_attend_scalar(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                       float *l, float *acc);

/* Element offset of (position p, head kvh) in a KV pool. */
static inline int64_t lmr_kv_offset(const lmr_kv_view *kv, int p) {
    int64_t blk = kv->block_table[p / kv->bt];
    return ((blk * kv->bt + p % kv->bt) * kv->n_kv + kv->kvh) * (int64_t)kv->hd;
}

#if LMR_HAVE_AVX2
void lmr_matmul_rows_avx2(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                          int o1, float *y, int ldy, float *scratch);
void lmr_attend_avx2(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                     float *l, float *acc);
/* decode: positions [p0, p1) of all KV heads of one query in one call (q, m, l, acc per head) */
void lmr_attend_heads_avx2(const lmr_kv_view *kv, float *const *q, int g, int p0, int p1,
                           float *const *m, float *const *l, float *const *acc);
void lmr_row_to_f32_avx2(const void *src, int dtype, float *dst, int64_t n);
void lmr_rmsnorm_avx2(const float *x, const void *w, int wdtype, float eps, int n, float *y);
void lmr_silu_mul_avx2(float *gate, const float *up, int64_t n);
double lmr_read_sum_avx2(const void *buf, size_t bytes); /* bandwidth probe body */
double lmr_fma_run_avx2(int64_t n);                     /* FMA peak probe body: 12 n FMAs */
#endif
/* BF16 weights at the AVX-512-BF16 level: up to 3 tokens take the FP32 GEMV (no rounding of x,
 * bandwidth-bound); tokens in [LMR_BF16_SMALL_MIN_TOK, LMR_BF16_SMALL_MAX_TOK) the streaming
 * BF16 kernel (lmr_matmul_rows_bf16_small_avx512: W unpacked, vdpbf16ps), from
 * LMR_BF16_SMALL_MAX_TOK the packed GEMM; lmr_cpu_bf16_small_range changes the range at run time
 * (tests, benchmarks). Measured with `lmrig-kernels-bench 1 small` (Zen 4/5-class guest, one
 * Qwen2.5-0.5B layer's decode linears, thread CPU time, loaded machine), us per layer, FP32 GEMV /
 * streaming / packed GEMM: 2 tokens 1009 / 1525 / 2505, 3 tokens 1199 / 2012 / 2588, 4 tokens
 * 1447 / 1052 / 2637, 8 tokens 2489 / 1635 / 2832, 16 tokens 7403 (AVX2 GEMM) / 2366 / 3751,
 * 32 tokens 12716 / 4227 / 4987; the streaming kernel was still 5% ahead at 64 tokens. */
#define LMR_BF16_SMALL_MIN_TOK 4
#define LMR_BF16_SMALL_MAX_TOK 32
#if LMR_HAVE_AVX512
/* BF16 GEMM (matmul_avx512.c): W BF16 [out, in]; xb = bf16(x) [n_tok, ldxb], ldxb = in rounded up
 * to even, zero-padded; scratch holds LMR_GEMM_SCRATCH bytes (the packed BF16 panel). */
#define LMR_BF16_GEMM_KC 256
#define LMR_BF16_GEMM_NC 256
void lmr_x_to_bf16_avx512(const float *x, int n_tok, int in, uint16_t *xb, int ldxb);
void lmr_matmul_rows_bf16_small_avx512(const uint16_t *xb, int ldxb, int n_tok, int in,
                                       const uint16_t *W, int o0, int o1, float *y, int ldy);
void lmr_matmul_rows_bf16_avx512(const uint16_t *xb, int ldxb, int n_tok, int in,
                                 const uint16_t *W, int o0, int o1, float *y, int ldy,
                                 void *scratch);
/* gemv_avx512.c: decode / small-batch linear for F32/F16/BF16 W, x FP32 (no BF16 rounding), up
 * to LMR_GEMV512_MAX_TOK tokens (the AVX2 kernel's GEMV range; BF16 weights take the BF16
 * kernels from lmr_cpu_bf16x_min_tok()). */
#define LMR_GEMV512_MAX_TOK 16
void lmr_matmul_rows_gemv_avx512(const float *x, int n_tok, int in, const void *W, int wdtype,
                                 int o0, int o1, float *y, int ldy);
/* attention_avx512.c: head dims that are a multiple of 16 up to 256; others run the AVX2 one */
void lmr_attend_avx512(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                       float *l, float *acc);
/* decode, head dims a multiple of 16 (at most 256), n_kv * g <= 64: positions [p0, p1) of all
 * KV heads of one query in one call; q, m, l, acc per KV head */
void lmr_attend_heads_avx512(const lmr_kv_view *kv, float *const *q, int g, int p0, int p1,
                             float *const *m, float *const *l, float *const *acc);
#endif
#if LMR_HAVE_NEON
void lmr_matmul_rows_neon(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                          int o1, float *y, int ldy, float *scratch);
void lmr_attend_neon(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                     float *l, float *acc);
#endif

#endif /* LMR_CPU_SIMD_H */
