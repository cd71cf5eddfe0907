/* quant_avx2.c: dot products of quantised weight rows (Q8_0, Q4_K, Q6_K) with 8-bit quantised
 * activations (Q8_0 / Q8_K), AVX2 + FMA + F16C: unsigned x signed byte products summed in pairs
 * (vpmaddubsw, no overflow: |q| <= 128 x 127 x 2 for Q8_0, 63 x 127 x 2 for Q6_K), then in
 * fours by sub-block scale (vpmaddwd), scaled to FP32 once per block. Checked against
 * lmr_quant_vec_dot_ref in quant_test. */
#include <immintrin.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "avx2_util.h"
#include "quant.h"
#include "simd.h"

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* Q8_0 x Q8_0: |w| times x with w's sign (vpsignb), so that one operand is unsigned. */
static float dot_q8_0(int n, const void *wv, const void *xv) {
    const lmr_block_q8_0 *w = wv, *x = xv;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int nb = n / LMR_QK8_0, b = 0;
    for (; b + 1 < nb; b += 2) {
        __m256i qw0 = _mm256_loadu_si256((const __m256i *)w[b].qs);
        __m256i qx0 = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i qw1 = _mm256_loadu_si256((const __m256i *)w[b + 1].qs);
        __m256i qx1 = _mm256_loadu_si256((const __m256i *)x[b + 1].qs);
        __m256i p0 = _mm256_madd_epi16(
            _mm256_maddubs_epi16(_mm256_sign_epi8(qw0, qw0), _mm256_sign_epi8(qx0, qw0)), ones);
        __m256i p1 = _mm256_madd_epi16(
            _mm256_maddubs_epi16(_mm256_sign_epi8(qw1, qw1), _mm256_sign_epi8(qx1, qw1)), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[b + 1].d) * h2f(x[b + 1].d)),
                               _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; b++) {
        __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i p = _mm256_madd_epi16(
            _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw)), ones);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[b].d) * h2f(x[b].d)), _mm256_cvtepi32_ps(p), acc0);
    }
    return hsum8(_mm256_add_ps(acc0, acc1));
}

/* The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K block, unpacked from 6 bits. */
static inline void q4_K_unpack(const uint8_t *scales, uint32_t u[4]) {
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    memcpy(u, scales, 12);
    u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
    const uint32_t m03 = u[1] & kmask1;
    u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
    u[2] = m03;
    u[0] &= kmask1;
}

/* Q4_K x Q8_K: sum_j d sc_j (q . x)_j - dmin sum_j m_j (bsums of sub-block j). */
static float dot_q4_K(int n, const void *wv, const void *xv) {
    const lmr_block_q4_K *w = wv;
    const lmr_block_q8_K *x = xv;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int b = 0; b < n / LMR_QK_K; b++) {
        const float d = x[b].d * h2f(w[b].d), dmin = x[b].d * h2f(w[b].dmin);
        uint32_t u[4];
        q4_K_unpack(w[b].scales, u);
        const __m256i mins_scales = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
        const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)x[b].bsums),
                                          _mm_loadu_si128((const __m128i *)x[b].bsums + 1));
        const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_scales, 1), bs);
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), accm);
        const __m128i sc128 = _mm256_castsi256_si128(mins_scales);
        const __m256i scales = _mm256_set_m128i(sc128, sc128); /* int16 sc_0..7, twice */
        const uint8_t *q4 = w[b].qs;
        const int8_t *q8 = x[b].qs;
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++, q4 += 32, q8 += 64) {
            const __m256i sl = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * j + 1) << 8 | 4 * j)));
            const __m256i sh = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)((4 * j + 3) << 8 | (4 * j + 2))));
            const __m256i q = _mm256_loadu_si256((const __m256i *)q4);
            const __m256i lo = _mm256_and_si256(q, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)q8));
            __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(q8 + 32)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sl, pl));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sh, ph));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    accm = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    accm = _mm_add_ss(accm, _mm_movehdup_ps(accm));
    return hsum8(acc) - _mm_cvtss_f32(accm);
}

/* Q6_K x Q8_K: the unsigned 6-bit q (0..63) times x per 16-weight scale, minus 32 sum_g sc_g
 * bsums_g (the -32 offset, from the activation block sums). */
static float dot_q6_K(int n, const void *wv, const void *xv) {
    const lmr_block_q6_K *w = wv;
    const lmr_block_q8_K *x = xv;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < n / LMR_QK_K; b++) {
        const float d = x[b].d * h2f(w[b].d);
        const __m128i sc = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i off = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x[b].bsums),
                                              _mm256_cvtepi8_epi16(sc));
        __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        const uint8_t *ql = w[b].ql, *qh = w[b].qh;
        const int8_t *q8 = x[b].qs;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, q8 += 128) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
            for (int k = 0; k < 4; k++) {
                const int g = 8 * h + 2 * k; /* the scales of this 32: g (bytes 0-15), g + 1 */
                const __m128i sh = _mm_shuffle_epi8(sc, _mm_set_epi8((char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1),
                                                                    (char)(g + 1), (char)(g + 1), (char)(g + 1), (char)(g + 1),
                                                                    (char)g, (char)g, (char)g, (char)g, (char)g, (char)g, (char)g, (char)g));
                const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)(q8 + 32 * k)));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_cvtepi8_epi16(sh), p));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum8(acc);
}

lmr_qdot_fn lmr_quant_dot_avx2(int wdtype) {
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: return dot_q8_0;
    case LMR_DTYPE_Q4_K: return dot_q4_K;
    case LMR_DTYPE_Q6_K: return dot_q6_K;
    default: return NULL;
    }
}
