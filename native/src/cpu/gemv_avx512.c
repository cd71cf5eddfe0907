/* gemv_avx512.c: AVX-512 decode / small-batch linear kernel for one thread's rows [o0, o1) of W
 * (F32, F16 or BF16), the 16-lane form of matmul_avx2.c's GEMV: W streamed once from memory,
 * 4 rows at a time (one from each quarter of the range: 4 long streams), each 16-weight slice
 * converted to FP32 in registers once and applied to up to 4 tokens; x stays FP32 (no rounding to
 * BF16: the same numerics as the AVX2 kernel up to the order of the sums). Tails of `in` that are
 * not a multiple of 16 are masked loads. Decode is bandwidth-bound: the gain over the AVX2 kernel
 * is the instructions per byte (half as many), which matters where one core's share of the
 * bandwidth is high. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__)
#include <immintrin.h>

#include "../../include/lmrig.h"
#include "simd.h"

#define AI __attribute__((always_inline)) static inline

/* 16 (or, masked, fewer: the rest zero) values of dtype at element i of W, as FP32. */
AI __m512 ld16(const void *W, const int dtype, int64_t i, __mmask16 m) {
    if (dtype == LMR_DTYPE_BF16) {
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    if (dtype == LMR_DTYPE_F16)
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)W + i));
    return _mm512_maskz_loadu_ps(m, (const float *)W + i);
}

/* y[t, o + r * ro] += x[t] . W[o + r * ro] for r < R, t < T */
AI void tile(const float *x, int in, const void *W, const int dtype, int o, int ro, float *y,
             int ldy, const int R, const int T) {
    __m512 acc[4][4];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    const int esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    const char *wr[4];
    for (int r = 0; r < R; r++) wr[r] = (const char *)W + ((int64_t)o + (int64_t)r * ro) * in * esz;
    int i = 0;
    for (; i + 16 <= in; i += 16) {
        __m512 xv[4];
        for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(x + (int64_t)t * in + i);
        for (int r = 0; r < R; r++) {
            __m512 w = ld16(wr[r], dtype, i, 0xFFFF);
            for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(w, xv[t], acc[r][t]);
        }
    }
    if (i < in) {
        __mmask16 m = (__mmask16)((1u << (in - i)) - 1u);
        __m512 xv[4];
        for (int t = 0; t < T; t++) xv[t] = _mm512_maskz_loadu_ps(m, x + (int64_t)t * in + i);
        for (int r = 0; r < R; r++) {
            __m512 w = ld16(wr[r], dtype, i, m);
            for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(w, xv[t], acc[r][t]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            y[(int64_t)t * ldy + o + r * ro] += _mm512_reduce_add_ps(acc[r][t]);
}

AI void rows(const float *x, int n_tok, int in, const void *W, const int dtype, int o0, int o1,
             float *y, int ldy) {
    int q = (o1 - o0) / 4;
    for (int o = o0; o < o0 + q; o++) {
        int t = 0;
        for (; t + 4 <= n_tok; t += 4)
            tile(x + (int64_t)t * in, in, W, dtype, o, q, y + (int64_t)t * ldy, ldy, 4, 4);
        const float *xt = x + (int64_t)t * in;
        float *yt = y + (int64_t)t * ldy;
        switch (n_tok - t) {
        case 3: tile(xt, in, W, dtype, o, q, yt, ldy, 4, 3); break;
        case 2: tile(xt, in, W, dtype, o, q, yt, ldy, 4, 2); break;
        case 1: tile(xt, in, W, dtype, o, q, yt, ldy, 4, 1); break;
        default: break;
        }
    }
    for (int o = o0 + 4 * q; o < o1; o++)
        for (int t = 0; t < n_tok; t++)
            tile(x + (int64_t)t * in, in, W, dtype, o, 1, y + (int64_t)t * ldy, ldy, 1, 1);
}

void lmr_matmul_rows_gemv_avx512(const float *x, int n_tok, int in, const void *W, int wdtype,
                                 int o0, int o1, float *y, int ldy) {
    switch (wdtype) {
    case LMR_DTYPE_BF16: rows(x, n_tok, in, W, LMR_DTYPE_BF16, o0, o1, y, ldy); break;
    case LMR_DTYPE_F16: rows(x, n_tok, in, W, LMR_DTYPE_F16, o0, o1, y, ldy); break;
    default: rows(x, n_tok, in, W, LMR_DTYPE_F32, o0, o1, y, ldy); break;
    }
}
#endif
