/* matmul_avx2.c: AVX2+FMA+F16C linear-layer kernels for one thread's rows [o0, o1) of W.
 * - n_tok < GEMM_MIN_TOK (decode, small batches): W is streamed once from memory, 4 rows at a
 *   time (one from each quarter of the range: 4 long streams) converted to FP32 in registers;
 *   the 4 rows are applied to 1-3 tokens at a time while they sit in L1, with 8-lane
 *   accumulators summed horizontally at the end.
 * - larger n_tok (prefill): BLIS-style GEMM. A [KC x NC] tile of W is converted once into a
 *   packed FP32 panel (16-row strips, k-major) and reused for all tokens by a 6x16 register
 *   micro-kernel (12 ymm accumulators, 2 panel loads + 6 broadcasts per k). */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <string.h>

#include "avx2_util.h"
#include "simd.h"

/* Below 16 tokens streaming W (re-converting it in L1 per 3 tokens) beats packing it: measured on
 * Zen 3 with gate/up 8960x1536, 8 tokens take 1.9 ms as GEMV and 3.1 ms as packed GEMM; at 16 the
 * two are equal (3.7-4.0 ms) and above it the GEMM wins (32: 6.3 ms). */
#define GEMM_MIN_TOK 16
#define AI __attribute__((always_inline)) static inline

static inline float w_scalar(const void *W, int dtype, int64_t i) {
    if (dtype == LMR_DTYPE_F32) return ((const float *)W)[i];
    uint16_t h = ((const uint16_t *)W)[i];
    return dtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h) : lmr_f16_to_f32(h);
}

/* ---- small batch: y[t, o + r * ro] += x[t] . W[o + r * ro] for r < R, t < T ---- */
AI void gemv_tile(const float *x, int ldx, int in, const void *W, int dtype, int o, int ro,
                  float *y, int ldy, const int R, const int T) {
    __m256 acc[4][3];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    const int esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    const char *wr[4]; /* row r of the tile: W row o + r * ro */
    for (int r = 0; r < R; r++) wr[r] = (const char *)W + ((int64_t)o + (int64_t)r * ro) * in * esz;
    int i = 0;
    for (; i + 8 <= in; i += 8) {
        __m256 xv[3];
        for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps(x + (int64_t)t * ldx + i);
        for (int r = 0; r < R; r++) {
            __m256 w = ld_w(wr[r], dtype, i);
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(w, xv[t], acc[r][t]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) {
            float s = hsum8(acc[r][t]);
            for (int k = i; k < in; k++) s += x[(int64_t)t * ldx + k] * w_scalar(wr[r], dtype, k);
            y[(int64_t)t * ldy + o + r * ro] += s;
        }
}

/* Rows [o0, o1) as 4 quarters read side by side: tile i takes row i of each quarter, so the
 * thread reads 4 long linear streams (a quarter is many contiguous rows). One stream reads
 * memory ~30% slower than 4 on Zen 3; 4 adjacent rows of a short matrix (1536 BF16 = 3 KB)
 * would make streams too short for the hardware prefetchers. */
AI void gemv_rows(const float *x, int n_tok, int in, const void *W, const int dtype, int o0,
                  int o1, float *y, int ldy) {
    int q = (o1 - o0) / 4;
    for (int o = o0; o < o0 + q; o++) {
        int t = 0;
        for (; t + 3 <= n_tok; t += 3)
            gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, q, y + (int64_t)t * ldy, ldy, 4, 3);
        if (n_tok - t == 2) gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, q, y + (int64_t)t * ldy, ldy, 4, 2);
        if (n_tok - t == 1) gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, q, y + (int64_t)t * ldy, ldy, 4, 1);
    }
    for (int o = o0 + 4 * q; o < o1; o++)
        for (int t = 0; t < n_tok; t++)
            gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, 1, y + (int64_t)t * ldy, ldy, 1, 1);
}

/* ---- GEMM ---- */

static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Packs W[n0 + j, k0 + k] (j < nr rows, k < kc) into bp[k][16] as FP32, zero for j >= nr. */
AI void pack_strip(const void *W, const int dtype, int in, int n0, int nr, int k0, int kc,
                   float *bp) {
    int k = 0;
    if (nr == 16)
        for (; k + 8 <= kc; k += 8)
            for (int g = 0; g < 2; g++) {
                __m256 r[8];
                for (int j = 0; j < 8; j++)
                    r[j] = ld_w(W, dtype, (int64_t)(n0 + g * 8 + j) * in + k0 + k);
                transpose8(r);
                for (int j = 0; j < 8; j++) _mm256_store_ps(bp + (k + j) * 16 + g * 8, r[j]);
            }
    for (; k < kc; k++)
        for (int j = 0; j < 16; j++)
            bp[k * 16 + j] = j < nr ? w_scalar(W, dtype, (int64_t)(n0 + j) * in + k0 + k) : 0.0f;
}

/* c[r, 0..16) += sum_k a[r * lda + k] * bp[k][0..16) for r < MR (c row stride ldc). The 12
 * accumulators are named variables, not arrays: with arrays GCC 12 stored every accumulator to
 * the stack after each FMA (dead stores it failed to remove), at half the speed. */
#define ACC_LD(r)                                                                      \
    __m256 c##r##0 = MR > r ? _mm256_loadu_ps(c + (int64_t)r * ldc) : _mm256_setzero_ps(), \
           c##r##1 = MR > r ? _mm256_loadu_ps(c + (int64_t)r * ldc + 8) : _mm256_setzero_ps();
#define ACC_FMA(r)                                                                     \
    if (MR > r) {                                                                      \
        __m256 av = _mm256_broadcast_ss(a + (int64_t)r * lda + k);                     \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);                                    \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);                                    \
    }
#define ACC_ST(r)                                                                      \
    if (MR > r) {                                                                      \
        _mm256_storeu_ps(c + (int64_t)r * ldc, c##r##0);                               \
        _mm256_storeu_ps(c + (int64_t)r * ldc + 8, c##r##1);                           \
    }
AI void micro_6x16(int kc, const float *a, int lda, const float *bp, float *c, int ldc,
                   const int MR) {
    ACC_LD(0) ACC_LD(1) ACC_LD(2) ACC_LD(3) ACC_LD(4) ACC_LD(5)
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(bp + k * 16), b1 = _mm256_load_ps(bp + k * 16 + 8);
        ACC_FMA(0) ACC_FMA(1) ACC_FMA(2) ACC_FMA(3) ACC_FMA(4) ACC_FMA(5)
    }
    ACC_ST(0) ACC_ST(1) ACC_ST(2) ACC_ST(3) ACC_ST(4) ACC_ST(5)
}

LMR_GEMM_FP32_6X16_KERNEL

void lmr_matmul_rows_avx2(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                          int o1, float *y, int ldy, float *scratch) {
    if (n_tok < GEMM_MIN_TOK || !scratch) {
        switch (wdtype) {
        case LMR_DTYPE_BF16: gemv_rows(x, n_tok, in, W, LMR_DTYPE_BF16, o0, o1, y, ldy); break;
        case LMR_DTYPE_F16: gemv_rows(x, n_tok, in, W, LMR_DTYPE_F16, o0, o1, y, ldy); break;
        default: gemv_rows(x, n_tok, in, W, LMR_DTYPE_F32, o0, o1, y, ldy); break;
        }
        return;
    }
    lmr_gemm_rows(&gemm_kernel, x, in, n_tok, in, W, wdtype, o0, o1, y, ldy, scratch);
}
#endif
