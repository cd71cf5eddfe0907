/* attention_avx512.c: the inner loop of attention for AVX-512 (F/BW/VL/DQ): online softmax over
 * a range of positions of one KV head for the g query heads of its GQA group, 16 positions per
 * chunk, 16 lanes per vector.
 *   - K and V rows of the chunk are read once for all g heads (BF16/F16 K rows converted to FP32
 *     once into an L1 buffer, V rows converted as they are loaded; F32 rows used in place).
 *   - Scores: per head, 16 accumulators (one per position, hd / 16 FMAs each, 16 independent
 *     chains), folded by a transpose-add tree into one vector of the chunk's 16 scores.
 *   - One vector exp per head and chunk; the running max moves (one reduction, one scalar exp, one
 *     rescale of the state) only in the chunks where a score passes it, and the denominator is
 *     summed lane-wise, reduced once per call.
 *   - Row offsets walk the block table (no division per position); the next chunk is prefetched.
 *   - V: up to GPASS heads x 32 head dims of acc held in registers over the chunk's positions,
 *     each V slice loaded once for all those heads.
 * Head dims that are not a multiple of 16, or above HD_MAX, run the AVX2 kernel. */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__)
#include <immintrin.h>
#include <math.h>

#include "../../include/lmrig.h"
#include "simd.h"

#define CH 16      /* positions per chunk: one score vector */
#define HD_MAX 256 /* head dims this kernel takes (conversion buffers on the stack) */
#define GPASS 8    /* query heads per pass over a V slice (2 * GPASS accumulators) */
#define AI __attribute__((always_inline)) static inline

/* exp(x) for 16 lanes (the Cephes polynomial of avx2_util.h's exp8, 2^n applied by scalef);
 * 0 below -87.3 (and for -inf), inf above 88.7. */
AI __m512 exp16(__m512 x) {
    const __m512 hi = _mm512_set1_ps(88.72283905206835f), lo = _mm512_set1_ps(-87.33654475f);
    __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));
}

/* 16 values of dtype at element i of P, as FP32. */
AI __m512 ld16(const void *P, const int dtype, int64_t i) {
    if (dtype == LMR_DTYPE_BF16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)P + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    if (dtype == LMR_DTYPE_F16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)P + i)));
    return _mm512_loadu_ps((const float *)P + i);
}

/* Lane i of the result = sum of the 16 lanes of a[i]: 45 shuffles and adds for 16 sums. */
AI __m512 hsum16x16(__m512 a[16]) {
    __m512 b[8], c[4];
    for (int k = 0; k < 8; k++) /* per 128-bit lane: [a2k, a2k+1, a2k, a2k+1] partial sums */
        b[k] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]),
                             _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]));
    for (int k = 0; k < 4; k++) { /* per 128-bit lane: positions 4k .. 4k+3 */
        __m512d x = _mm512_castps_pd(b[2 * k]), y = _mm512_castps_pd(b[2 * k + 1]);
        c[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)),
                             _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
    /* d0: [p0-3, p0-3, p4-7, p4-7], d1: [p8-11, p8-11, p12-15, p12-15] (two partials each) */
    __m512 d0 = _mm512_add_ps(_mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_shuffle_f32x4(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
    __m512 d1 = _mm512_add_ps(_mm512_shuffle_f32x4(c[2], c[3], _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm512_shuffle_f32x4(c[2], c[3], _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(d0, d1, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(d0, d1, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Scores of one head over the chunk: lane i = q . rows[i] (rows[i] for i >= n repeat a valid
 * row; the caller masks those lanes). */
AI __m512 scores16(const float *const rows[CH], const float *q, int hd) {
    __m512 a[CH];
    for (int i = 0; i < CH; i++) a[i] = _mm512_setzero_ps();
    for (int d = 0; d < hd; d += 16) {
        __m512 qv = _mm512_loadu_ps(q + d);
        for (int i = 0; i < CH; i++) a[i] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(rows[i] + d), a[i]);
    }
    return hsum16x16(a);
}

/* acc[j][d .. d + 16 NV) += sum_i w[j][i] * rows[i][d ..] for j < NJ. */
AI void accumulate_v(const void *pool, const int dtype, const int64_t *off, int n, int hd, int d,
                     const float w[][CH], float *acc, const int NJ, const int NV) {
    __m512 r0[GPASS], r1[GPASS];
    for (int j = 0; j < NJ; j++) {
        r0[j] = _mm512_loadu_ps(acc + (int64_t)j * hd + d);
        if (NV == 2) r1[j] = _mm512_loadu_ps(acc + (int64_t)j * hd + d + 16);
    }
    for (int i = 0; i < n; i++) {
        __m512 v0 = ld16(pool, dtype, off[i] + d);
        __m512 v1 = NV == 2 ? ld16(pool, dtype, off[i] + d + 16) : v0;
        for (int j = 0; j < NJ; j++) {
            __m512 p = _mm512_set1_ps(w[j][i]);
            r0[j] = _mm512_fmadd_ps(p, v0, r0[j]);
            if (NV == 2) r1[j] = _mm512_fmadd_ps(p, v1, r1[j]);
        }
    }
    for (int j = 0; j < NJ; j++) {
        _mm512_storeu_ps(acc + (int64_t)j * hd + d, r0[j]);
        if (NV == 2) _mm512_storeu_ps(acc + (int64_t)j * hd + d + 16, r1[j]);
    }
}

#define ACC_CASE(NJ)                                                                          \
    case NJ:                                                                                  \
        if (nv == 2) accumulate_v(pool, dtype, off, n, hd, d, wj, a, NJ, 2);                  \
        else accumulate_v(pool, dtype, off, n, hd, d, wj, a, NJ, 1);                          \
        break;

/* V rows read (and BF16/F16 converted) in place: each slice once per pass over the heads. */
AI void accumulate_v_any(const void *pool, const int dtype, const int64_t *off, int n, int hd,
                         const float w[][CH], float *acc, int g) {
    for (int j0 = 0; j0 < g; j0 += GPASS) {
        int nj = g - j0 < GPASS ? g - j0 : GPASS;
        for (int d = 0; d < hd; d += 32) {
            int nv = hd - d >= 32 ? 2 : 1;
            const float(*wj)[CH] = w + j0;
            float *a = acc + (int64_t)j0 * hd;
            switch (nj) {
                ACC_CASE(1) ACC_CASE(2) ACC_CASE(3) ACC_CASE(4)
                ACC_CASE(5) ACC_CASE(6) ACC_CASE(7) ACC_CASE(8)
            }
        }
    }
}
#undef ACC_CASE

/* Points rows[i] at position c0 + i's row of `pool` (converted into buf when not F32); rows past
 * n repeat the last one. */
AI void chunk_rows(const void *pool, const int dtype, const int64_t *off, int n, int hd,
                   float *buf, const float *rows[CH]) {
    for (int i = 0; i < n; i++) {
        if (dtype == LMR_DTYPE_F32) {
            rows[i] = (const float *)pool + off[i];
            continue;
        }
        float *b = buf + (int64_t)i * hd;
        for (int d = 0; d < hd; d += 16) _mm512_storeu_ps(b + d, ld16(pool, dtype, off[i] + d));
        rows[i] = b;
    }
    for (int i = n; i < CH; i++) rows[i] = rows[n - 1];
}

/* Offsets of positions p .. p + n - 1 of head kv->kvh, walking the block table (no division per
 * position). */
AI void chunk_offsets(const lmr_kv_view *kv, int p, int n, int64_t *off) {
    int b = p / kv->bt, r = p % kv->bt;
    int64_t row = (int64_t)kv->n_kv * kv->hd;
    for (int i = 0; i < n; i++) {
        off[i] = ((int64_t)kv->block_table[b] * kv->bt + r) * row + (int64_t)kv->kvh * kv->hd;
        if (++r == kv->bt) r = 0, b++;
    }
}

AI void attend(const lmr_kv_view *kv, const int dtype, const float *q, int g, int p0, int p1,
               float *m, float *l, float *acc) {
    int hd = kv->hd, esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    float kb[CH * HD_MAX] __attribute__((aligned(64)));
    float w[64][CH] __attribute__((aligned(64))); /* g <= 64: checked by the caller */
    __m512 lv[64]; /* per head: the softmax denominator, lane-wise, in units of exp(m[j]) */
    const float *krows[CH];
    int64_t off[CH], next[CH];
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < g; j++) lv[j] = _mm512_maskz_mov_ps(1, _mm512_set1_ps(l[j]));
    if (p0 < p1) chunk_offsets(kv, p0, p1 - p0 < CH ? p1 - p0 : CH, next);
    for (int c0 = p0; c0 < p1; c0 += CH) {
        int n = p1 - c0 < CH ? p1 - c0 : CH;
        for (int i = 0; i < n; i++) off[i] = next[i];
        if (c0 + CH < p1) { /* the next chunk's rows (strided by n_kv heads: hardware prefetch lags) */
            int nn = p1 - c0 - CH < CH ? p1 - c0 - CH : CH;
            chunk_offsets(kv, c0 + CH, nn, next);
            for (int i = 0; i < nn; i++)
                for (int b = 0; b < hd * esz; b += 64) {
                    _mm_prefetch((const char *)kv->k_pool + next[i] * esz + b, _MM_HINT_T0);
                    _mm_prefetch((const char *)kv->v_pool + next[i] * esz + b, _MM_HINT_T0);
                }
        }
        chunk_rows(kv->k_pool, dtype, off, n, hd, kb, krows);
        __mmask16 valid = (__mmask16)((1u << n) - 1u);
        /* three passes over the heads, so that the heads' score trees and exps (long dependency
         * chains) overlap instead of following one another */
        for (int j = 0; j < g; j++)
            _mm512_store_ps(w[j], _mm512_mask_mov_ps(ninf, valid,
                                                     scores16(krows, q + (int64_t)j * hd, hd)));
        for (int j = 0; j < g; j++) {
            /* the running max moves (and the state is rescaled) only when a score passes it: a
             * few times per sequence, so the common chunk needs no reduction and no scalar exp */
            __m512 s = _mm512_load_ps(w[j]);
            if (_mm512_cmp_ps_mask(s, _mm512_set1_ps(m[j]), _CMP_GT_OQ)) {
                float m_new = _mm512_reduce_max_ps(s);
                float c = expf(m[j] - m_new); /* 0 on the first chunk (m = -inf) */
                __m512 cv = _mm512_set1_ps(c);
                lv[j] = _mm512_mul_ps(lv[j], cv);
                float *a = acc + (int64_t)j * hd;
                for (int d = 0; d < hd; d += 16)
                    _mm512_storeu_ps(a + d, _mm512_mul_ps(_mm512_loadu_ps(a + d), cv));
                m[j] = m_new;
            }
        }
        for (int j = 0; j < g; j++) {
            __m512 e = exp16(_mm512_sub_ps(_mm512_load_ps(w[j]), _mm512_set1_ps(m[j])));
            _mm512_store_ps(w[j], e);
            lv[j] = _mm512_add_ps(lv[j], e);
        }
        accumulate_v_any(kv->v_pool, dtype, off, n, hd, (const float(*)[CH])w, acc, g);
    }
    for (int j = 0; j < g; j++) l[j] = _mm512_reduce_add_ps(lv[j]);
}

void lmr_attend_avx512(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                       float *l, float *acc) {
    if ((kv->hd & 15) || kv->hd > HD_MAX || g > 64) {
        lmr_attend_avx2(kv, q, g, p0, p1, m, l, acc);
        return;
    }
    switch (kv->dtype) {
    case LMR_DTYPE_BF16: attend(kv, LMR_DTYPE_BF16, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: attend(kv, LMR_DTYPE_F16, q, g, p0, p1, m, l, acc); break;
    default: attend(kv, LMR_DTYPE_F32, q, g, p0, p1, m, l, acc); break;
    }
}
#endif
