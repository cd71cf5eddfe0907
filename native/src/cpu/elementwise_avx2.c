/* elementwise_avx2.c: AVX2+FMA+F16C row conversion, RMSNorm, SiLU-gating and the bandwidth
 * probe's read loop (dispatched from convert.c, elementwise.c and probe.c). */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <math.h>
#include <string.h>

#include "avx2_util.h"
#include "simd.h"

void lmr_row_to_f32_avx2(const void *src, int dtype, float *dst, int64_t n) {
    if (dtype == LMR_DTYPE_F32) {
        memmove(dst, src, (size_t)n * sizeof(float));
        return;
    }
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ld_w(src, dtype, i));
    const uint16_t *h = src;
    for (; i < n; i++) dst[i] = dtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h[i]) : lmr_f16_to_f32(h[i]);
}

void lmr_rmsnorm_avx2(const float *x, const void *w, int wdtype, float eps, int n, float *y) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(b, b, s1);
    }
    float ss = hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) ss += x[i] * x[i];
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    __m256 rv = _mm256_set1_ps(r);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), rv),
                                              ld_w(w, wdtype, i)));
    for (; i < n; i++) {
        float wi = wdtype == LMR_DTYPE_F32    ? ((const float *)w)[i]
                   : wdtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(((const uint16_t *)w)[i])
                                              : lmr_f16_to_f32(((const uint16_t *)w)[i]);
        y[i] = x[i] * r * wi;
    }
}

void lmr_silu_mul_avx2(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp8(_mm256_sub_ps(zero, g));
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* Reads the buffer as 4 streams side by side (its quarters): one core reaches ~30% more read
 * bandwidth with several streams than with one, and the GEMV reads 4, so a single stream would
 * underestimate the machine. */
double lmr_read_sum_avx2(const void *buf, size_t bytes) {
    size_t q = (bytes / 4) & ~(size_t)63;
    const char *b0 = buf, *b1 = b0 + q, *b2 = b1 + q, *b3 = b2 + q;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < q; i += 64) {
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(b0 + i)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(b1 + i)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(b2 + i)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(b3 + i)));
        a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)(b0 + i + 32)));
        a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(b1 + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_load_si256((const __m256i *)(b2 + i + 32)));
        a3 = _mm256_add_epi64(a3, _mm256_load_si256((const __m256i *)(b3 + i + 32)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    int64_t v[4];
    _mm256_storeu_si256((__m256i *)v, s);
    return (double)(v[0] ^ v[1] ^ v[2] ^ v[3]);
}
/* The FMA throughput probe's body: n rounds of 12 independent 256-bit FMA chains (12 > FMA
 * latency x pipes on current x86 cores, so the pipes, not the chains, limit it); the register
 * barrier keeps the compiler from folding or spilling the chains. Returns a sum of the chains. */
double lmr_fma_run_avx2(int64_t n) {
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f),
           a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f),
           a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f),
           a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
    const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-4f);
    for (int64_t i = 0; i < n; i++) {
        a0 = _mm256_fmadd_ps(a0, b, c), a1 = _mm256_fmadd_ps(a1, b, c);
        a2 = _mm256_fmadd_ps(a2, b, c), a3 = _mm256_fmadd_ps(a3, b, c);
        a4 = _mm256_fmadd_ps(a4, b, c), a5 = _mm256_fmadd_ps(a5, b, c);
        a6 = _mm256_fmadd_ps(a6, b, c), a7 = _mm256_fmadd_ps(a7, b, c);
        a8 = _mm256_fmadd_ps(a8, b, c), a9 = _mm256_fmadd_ps(a9, b, c);
        a10 = _mm256_fmadd_ps(a10, b, c), a11 = _mm256_fmadd_ps(a11, b, c);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5),
                         "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    return (double)hsum8(s);
}
#endif
