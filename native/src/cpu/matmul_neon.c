/* matmul_neon.c: NEON linear-layer kernels for one thread's rows [o0, o1) of W (arm64), the same
 * plan as matmul_avx2.c: streamed 4-row GEMV blocks for decode and small batches (BF16 widened
 * with a shift, F16 with vcvt), and for prefill a packed FP32 panel of W ([k][16] strips) with a
 * 6x16 micro-kernel (24 q-register accumulators). */
#if defined(__aarch64__)
#include <string.h>

#include "neon_util.h"
#include "simd.h"

#define GEMM_MIN_TOK 8 /* not measured on arm64 hardware yet */
#define AI __attribute__((always_inline)) static inline

AI void gemv_tile(const float *x, int ldx, int in, const void *W, int dtype, int o, float *y,
                  int ldy, const int R, const int T) {
    float32x4_t acc[4][3][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t][0] = acc[r][t][1] = vdupq_n_f32(0.0f);
    int64_t base = (int64_t)o * in;
    int i = 0;
    for (; i + 8 <= in; i += 8) {
        float32x4_t x0[3], x1[3];
        for (int t = 0; t < T; t++) {
            x0[t] = vld1q_f32(x + (int64_t)t * ldx + i);
            x1[t] = vld1q_f32(x + (int64_t)t * ldx + i + 4);
        }
        for (int r = 0; r < R; r++) {
            float32x4_t w0 = ld4_w(W, dtype, base + (int64_t)r * in + i);
            float32x4_t w1 = ld4_w(W, dtype, base + (int64_t)r * in + i + 4);
            for (int t = 0; t < T; t++) {
                acc[r][t][0] = vfmaq_f32(acc[r][t][0], w0, x0[t]);
                acc[r][t][1] = vfmaq_f32(acc[r][t][1], w1, x1[t]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) {
            float s = vaddvq_f32(vaddq_f32(acc[r][t][0], acc[r][t][1]));
            for (int k = i; k < in; k++)
                s += x[(int64_t)t * ldx + k] * w_scalar(W, dtype, base + (int64_t)r * in + k);
            y[(int64_t)t * ldy + o + r] += s;
        }
}

AI void gemv_rows(const float *x, int n_tok, int in, const void *W, const int dtype, int o0,
                  int o1, float *y, int ldy) {
    int o = o0;
    for (; o + 4 <= o1; o += 4) {
        int t = 0;
        for (; t + 3 <= n_tok; t += 3)
            gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, y + (int64_t)t * ldy, ldy, 4, 3);
        if (n_tok - t == 2) gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, y + (int64_t)t * ldy, ldy, 4, 2);
        if (n_tok - t == 1) gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, y + (int64_t)t * ldy, ldy, 4, 1);
    }
    for (; o < o1; o++)
        for (int t = 0; t < n_tok; t++)
            gemv_tile(x + (int64_t)t * in, in, in, W, dtype, o, y + (int64_t)t * ldy, ldy, 1, 1);
}

/* Packs W[n0 + j, k0 + k] (j < nr, k < kc) into bp[k][16] as FP32, zero for j >= nr. */
AI void pack_strip(const void *W, const int dtype, int in, int n0, int nr, int k0, int kc,
                   float *bp) {
    int k = 0;
    if (nr == 16)
        for (; k + 4 <= kc; k += 4)
            for (int g = 0; g < 4; g++) { /* 4 rows x 4 k, transposed */
                float32x4_t r0 = ld4_w(W, dtype, (int64_t)(n0 + g * 4 + 0) * in + k0 + k);
                float32x4_t r1 = ld4_w(W, dtype, (int64_t)(n0 + g * 4 + 1) * in + k0 + k);
                float32x4_t r2 = ld4_w(W, dtype, (int64_t)(n0 + g * 4 + 2) * in + k0 + k);
                float32x4_t r3 = ld4_w(W, dtype, (int64_t)(n0 + g * 4 + 3) * in + k0 + k);
                float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
                float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
                float64x2_t a0 = vreinterpretq_f64_f32(t0), a1 = vreinterpretq_f64_f32(t1);
                float64x2_t a2 = vreinterpretq_f64_f32(t2), a3 = vreinterpretq_f64_f32(t3);
                vst1q_f32(bp + (k + 0) * 16 + g * 4, vreinterpretq_f32_f64(vtrn1q_f64(a0, a2)));
                vst1q_f32(bp + (k + 1) * 16 + g * 4, vreinterpretq_f32_f64(vtrn1q_f64(a1, a3)));
                vst1q_f32(bp + (k + 2) * 16 + g * 4, vreinterpretq_f32_f64(vtrn2q_f64(a0, a2)));
                vst1q_f32(bp + (k + 3) * 16 + g * 4, vreinterpretq_f32_f64(vtrn2q_f64(a1, a3)));
            }
    for (; k < kc; k++)
        for (int j = 0; j < 16; j++)
            bp[k * 16 + j] = j < nr ? w_scalar(W, dtype, (int64_t)(n0 + j) * in + k0 + k) : 0.0f;
}

AI void micro_6x16(int kc, const float *a, int lda, const float *bp, float *c, int ldc,
                   const int MR) {
    float32x4_t acc[6][4];
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = vld1q_f32(c + (int64_t)r * ldc + q * 4);
    for (int k = 0; k < kc; k++) {
        float32x4_t b[4];
        for (int q = 0; q < 4; q++) b[q] = vld1q_f32(bp + k * 16 + q * 4);
        for (int r = 0; r < MR; r++) {
            float32x4_t av = vld1q_dup_f32(a + (int64_t)r * lda + k);
            for (int q = 0; q < 4; q++) acc[r][q] = vfmaq_f32(acc[r][q], av, b[q]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < 4; q++) vst1q_f32(c + (int64_t)r * ldc + q * 4, acc[r][q]);
}

LMR_GEMM_FP32_6X16_KERNEL

void lmr_matmul_rows_neon(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
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
