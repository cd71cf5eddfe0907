/* quant_avx512.c: the AVX-512 level's dot products of quantised weight rows with 8-bit quantised
 * activations, on 512-bit registers with AVX-512-VNNI (vpdpbusd: 64 unsigned x signed byte
 * products summed in fours into 16 int32 lanes, one instruction). Used when the CPU has VNNI
 * (checked at run time); otherwise the level runs the AVX2 kernels. Per sub-block integer sums
 * are scaled with vpmaddwd (each lane's sum fits 16 bits: <= 15 x 127 x 4 for Q4_K, 63 x 127 x 4
 * for Q6_K), so no 32-bit multiply is needed. Checked against lmr_quant_vec_dot_ref. */
#include <immintrin.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "quant.h"

#define VNNI __attribute__((target("avx512vnni")))
#define AI __attribute__((always_inline, target("avx512vnni"))) static inline

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

static inline __m512i ld2x256(const void *a, const void *b) { /* [a 32 bytes | b 32 bytes] */
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

static inline __m512 set2(float a, float b) { /* [a x 8 | b x 8] */
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(a)), _mm256_set1_ps(b), 1);
}

/* Q8_0 x Q8_0, two blocks per register: |w| times x with w's sign. */
VNNI static float dot_q8_0(int n, const void *wv, const void *xv) {
    const lmr_block_q8_0 *w = wv, *x = xv;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    const __m512i zero = _mm512_setzero_si512();
    int nb = n / LMR_QK8_0, b = 0;
    for (; b + 3 < nb; b += 4) {
        __m512i qw0 = ld2x256(w[b].qs, w[b + 1].qs), qx0 = ld2x256(x[b].qs, x[b + 1].qs);
        __m512i qw1 = ld2x256(w[b + 2].qs, w[b + 3].qs), qx1 = ld2x256(x[b + 2].qs, x[b + 3].qs);
        __m512i sx0 = _mm512_mask_sub_epi8(qx0, _mm512_movepi8_mask(qw0), zero, qx0);
        __m512i sx1 = _mm512_mask_sub_epi8(qx1, _mm512_movepi8_mask(qw1), zero, qx1);
        __m512i p0 = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(qw0), sx0);
        __m512i p1 = _mm512_dpbusd_epi32(zero, _mm512_abs_epi8(qw1), sx1);
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p0),
                               set2(h2f(w[b].d) * h2f(x[b].d), h2f(w[b + 1].d) * h2f(x[b + 1].d)), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p1),
                               set2(h2f(w[b + 2].d) * h2f(x[b + 2].d), h2f(w[b + 3].d) * h2f(x[b + 3].d)), acc1);
    }
    __m256 acc = _mm256_add_ps(_mm512_castps512_ps256(acc0), _mm512_extractf32x8_ps(acc0, 1));
    acc = _mm256_add_ps(acc, _mm256_add_ps(_mm512_castps512_ps256(acc1), _mm512_extractf32x8_ps(acc1, 1)));
    for (; b < nb; b++) {
        __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i sx = _mm256_mask_sub_epi8(qx, _mm256_movepi8_mask(qw), _mm256_setzero_si256(), qx);
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(qw), sx);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), acc);
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline void q4_K_unpack(const uint8_t *scales, uint32_t u[4]) { /* scales 0-7, mins 8-15 */
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    memcpy(u, scales, 12);
    u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
    const uint32_t m03 = u[1] & kmask1;
    u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
    u[2] = m03;
    u[0] &= kmask1;
}

/* The K-quant kernels take 1-4 tokens at once (batched decode): out[t] = dot(w, x_t) for t < T,
 * x_t at xv + t * xrow. The weight side of each block (its scales, nibbles or 6-bit values, and
 * the per-sub-block scale vectors) is unpacked once for all T tokens, then each token runs the
 * same operations in the same order; the single-token dot is the T = 1 case, so a sequence's
 * logits do not change with the batch it is in (quant_test checks every T against T = 1 bit for
 * bit). */

/* Q4_K x Q8_K: a register holds 128 weights' nibbles; low nibbles are sub-blocks 4i and 4i + 2,
 * high nibbles 4i + 1 and 4i + 3, each against its 32 activations. */
AI void q4_K_n(int n, const void *wv, const void *xv, size_t xrow, const int T, float *out) {
    const lmr_block_q4_K *w = wv;
    const __m512i m4 = _mm512_set1_epi8(0x0F), zero = _mm512_setzero_si512();
    const __m512i i0 = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i i1 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i four = _mm512_set1_epi32(4);
    __m512 acc[4];
    __m128 accm[4];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps(), accm[t] = _mm_setzero_ps();
    for (int b = 0; b < n / LMR_QK_K; b++) {
        const float wd = h2f(w[b].d), wdmin = h2f(w[b].dmin);
        uint32_t u[4];
        q4_K_unpack(w[b].scales, u);
        const __m128i sm = _mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]);
        const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
        const __m512i sc = _mm512_cvtepu8_epi32(sm);
        __m512i lo[2], hi[2], s0[2], s1[2];
        for (int i = 0; i < 2; i++) {
            const __m512i q = _mm512_loadu_si512((const void *)(w[b].qs + 64 * i));
            lo[i] = _mm512_and_si512(q, m4);
            hi[i] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
            const __m512i off = i ? four : zero;
            s0[i] = _mm512_permutexvar_epi32(_mm512_add_epi32(i0, off), sc);
            s1[i] = _mm512_permutexvar_epi32(_mm512_add_epi32(i1, off), sc);
        }
        for (int t = 0; t < T; t++) {
            const lmr_block_q8_K *x = (const lmr_block_q8_K *)((const char *)xv + t * xrow) + b;
            const float d = x->d * wd, dmin = x->d * wdmin;
            const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x->bsums),
                                              _mm_loadu_si128((const __m128i *)x->bsums + 1));
            const __m128i prod = _mm_madd_epi16(mins, bs);
            accm[t] = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), accm[t]);
            __m512i sumi = zero;
            for (int i = 0; i < 2; i++) {
                const int8_t *q8 = x->qs + 128 * i;
                __m512i sl = _mm512_dpbusd_epi32(zero, lo[i], ld2x256(q8, q8 + 64));
                __m512i sh = _mm512_dpbusd_epi32(zero, hi[i], ld2x256(q8 + 32, q8 + 96));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(sl, s0[i]));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(sh, s1[i]));
            }
            acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) {
        __m128 m = _mm_add_ps(accm[t], _mm_movehl_ps(accm[t], accm[t]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        out[t] = _mm512_reduce_add_ps(acc[t]) - _mm_cvtss_f32(m);
    }
}

VNNI static float dot_q4_K(int n, const void *w, const void *x) {
    float r;
    q4_K_n(n, w, x, 0, 1, &r);
    return r;
}

/* Q6_K x Q8_K: a register holds 64 consecutive 6-bit weights (unsigned 0..63); the -32 offset
 * comes from the activation block sums. Lane l of a vpdpbusd result is 4 weights of sub-block
 * l / 4 of the 64. */
AI void q6_K_n(int n, const void *wv, const void *xv, size_t xrow, const int T, float *out) {
    const lmr_block_q6_K *w = wv;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30), zero = _mm512_setzero_si512();
    const __m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i quarter = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m512i lo16 = _mm512_set1_epi32(0xFFFF);
    __m512 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int b = 0; b < n / LMR_QK_K; b++) {
        const float wd = h2f(w[b].d);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        const __m512i sc = _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), lo16);
        __m512i a[2], c[2], sa[2], sc_[2];
        for (int h = 0; h < 2; h++) {
            const __m512i l = _mm512_loadu_si512((const void *)(w[b].ql + 64 * h));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            const __m512i hh = _mm512_inserti64x4(_mm512_castsi256_si512(qh), qh, 1);
            a[h] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                   _mm512_and_si512(_mm512_sllv_epi16(hh, sh01), m30));
            c[h] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                   _mm512_and_si512(_mm512_srlv_epi16(hh, sh23), m30));
            sa[h] = _mm512_permutexvar_epi32(_mm512_add_epi32(quarter, _mm512_set1_epi32(8 * h)), sc);
            sc_[h] = _mm512_permutexvar_epi32(_mm512_add_epi32(quarter, _mm512_set1_epi32(8 * h + 4)), sc);
        }
        for (int t = 0; t < T; t++) {
            const lmr_block_q8_K *x = (const lmr_block_q8_K *)((const char *)xv + t * xrow) + b;
            const float d = x->d * wd;
            const __m256i off = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x->bsums), sc16);
            __m512i sumi = _mm512_castsi256_si512(
                _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5)));
            sumi = _mm512_inserti64x4(sumi, _mm256_setzero_si256(), 1);
            for (int h = 0; h < 2; h++) {
                const int8_t *q8 = x->qs + 128 * h;
                __m512i pa = _mm512_dpbusd_epi32(zero, a[h], _mm512_loadu_si512((const void *)q8));
                __m512i pc = _mm512_dpbusd_epi32(zero, c[h], _mm512_loadu_si512((const void *)(q8 + 64)));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(pa, sa[h]));
                sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(pc, sc_[h]));
            }
            acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) out[t] = _mm512_reduce_add_ps(acc[t]);
}

VNNI static float dot_q6_K(int n, const void *w, const void *x) {
    float r;
    q6_K_n(n, w, x, 0, 1, &r);
    return r;
}

lmr_qdot_fn lmr_quant_dot_avx512(int wdtype) {
    static int vnni = -1;
    if (vnni < 0) vnni = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    if (!vnni) return NULL;
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: return dot_q8_0;
    case LMR_DTYPE_Q4_K: return dot_q4_K;
    case LMR_DTYPE_Q6_K: return dot_q6_K;
    default: return NULL;
    }
}

/* One function per token count (constant T keeps the accumulators in registers). */
#define DOTN_FN(TY, T)                                                                         \
    VNNI __attribute__((noinline)) static void dotn_##TY##_##T(int n, const void *w,           \
                                                               const void *xq, size_t xrow,    \
                                                               float *out) {                   \
        TY##_n(n, w, xq, xrow, T, out);                                                        \
    }
DOTN_FN(q4_K, 1) DOTN_FN(q4_K, 2) DOTN_FN(q4_K, 3) DOTN_FN(q4_K, 4)
DOTN_FN(q6_K, 1) DOTN_FN(q6_K, 2) DOTN_FN(q6_K, 3) DOTN_FN(q6_K, 4)

typedef void (*dotn_t)(int, const void *, const void *, size_t, float *);

VNNI static void dotn_q4_K(int n, const void *w, const void *xq, size_t xrow, int T, float *out) {
    static const dotn_t f[5] = {dotn_q4_K_1, dotn_q4_K_1, dotn_q4_K_2, dotn_q4_K_3, dotn_q4_K_4};
    f[T < 1 ? 1 : T > 4 ? 4 : T](n, w, xq, xrow, out);
}

VNNI static void dotn_q6_K(int n, const void *w, const void *xq, size_t xrow, int T, float *out) {
    static const dotn_t f[5] = {dotn_q6_K_1, dotn_q6_K_1, dotn_q6_K_2, dotn_q6_K_3, dotn_q6_K_4};
    f[T < 1 ? 1 : T > 4 ? 4 : T](n, w, xq, xrow, out);
}

lmr_qdotn_fn lmr_quant_dotn_avx512(int wdtype) {
    if (!lmr_quant_dot_avx512(wdtype)) return NULL;
    switch (wdtype) {
    case LMR_DTYPE_Q4_K: return dotn_q4_K;
    case LMR_DTYPE_Q6_K: return dotn_q6_K;
    default: return NULL;
    }
}
