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
 *   - Row offsets walk the block table (no division per position); the next chunk is prefetched
 *     spread over a chunk's work: three quarters a share per head between the heads' scores, the
 *     last before the V pass (the vdpbf16ps path: a quarter at each of four points).
 *   - V: up to GPASS heads x 32 head dims of acc held in registers over the chunk's positions,
 *     each V slice loaded once for all those heads.
 * BF16 KV with head dims a multiple of 32 takes the vdpbf16ps path below instead (K transposed in
 * registers, scores and V accumulation as BF16 dot products: about 1.7x faster per layer at 32K
 * positions, 0.5B shape, 2 threads; the query and the softmax weights rounded to BF16); decode
 * calls it once per range for all KV heads (lmr_attend_heads_avx512, as for the other dtypes).
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

/* exp(x) for x <= 0 (a score minus the running max) or -inf, for weights that are rounded to
 * BF16 next (8 significant bits): 2^n by scalef times a degree-4 Taylor polynomial on
 * |r| <= ln2 / 2 (relative error below 4e-5, under a tenth of the rounding); 0 for -inf. */
AI __m512 exp16_bf16(__m512 x) {
    __mmask16 finite = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.6931471805599453f), x);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 24), r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(finite, p, n);
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

/* Prefetches lines [a, b) of a list of K and V rows (elements of esz bytes): line x is byte
 * (x % lines) * 64 of the rows at element offset pf[x / lines]. One division per call, no
 * arithmetic per line but a pointer step (a division per line cost ~5% of a chunk, Zen 5 class). */
AI void pf_lines(const void *kp, const void *vp, int esz, const int64_t *pf, int lines, int a,
                 int b) {
    if (a >= b) return;
    int i = a / lines, l = a % lines;
    const ptrdiff_t dv = (const char *)vp - (const char *)kp; /* V's row: K's + dv */
    const char *k = (const char *)kp + pf[i] * esz + l * 64;
    for (int x = a; x < b; x++, k += 64) {
        _mm_prefetch(k, _MM_HINT_T0);
        _mm_prefetch(k + dv, _MM_HINT_T0);
        if (++l == lines && x + 1 < b) l = 0, k = (const char *)kp + pf[++i] * esz - 64;
    }
}

/* Offsets of positions p .. p + n - 1 of head kv->kvh, walking the block table (no division per
 * position). */
AI void chunk_offsets(const lmr_kv_view *kv, int p, int n, int64_t *off) {
    int b = p / kv->bt, r = p % kv->bt;
    int64_t row = (int64_t)kv->n_kv * kv->hd, head = (int64_t)kv->kvh * kv->hd;
    int64_t o = ((int64_t)kv->block_table[b] * kv->bt + r) * row + head;
    for (int i = 0; i < n; i++, o += row) {
        off[i] = o;
        if (++r == kv->bt && i + 1 < n) /* the next block (o is advanced by row after this) */
            r = 0, o = (int64_t)kv->block_table[++b] * kv->bt * row + head - row;
    }
}

/* ---- BF16 KV with vdpbf16ps (head dims a multiple of 32) ----
 * Scores: the chunk's 16 K rows, taken as 32-bit pairs of BF16, transposed in registers into one
 * vector per pair of head dims (16 positions in the lanes, 64 shuffles per 32 dims, once for all
 * g heads), then per head hd / 2 vdpbf16ps with the query's pair broadcast: no horizontal sums.
 * V: two positions' rows interleaved by one vpermt2w per 16 dims (once per pass of up to GPASS
 * heads), then per head one vdpbf16ps per 16 dims and pair of positions with the pair of softmax
 * weights broadcast. The query (pre-scaled) and the softmax weights are rounded to BF16 (the
 * denominator sums the rounded weights, so the output stays a convex combination of V rows);
 * attention_test states what that costs against the FP32 reference. */

/* r[c] = column c of the 16 x 16 matrix of 32-bit elements whose rows are r[0..15]. */
AI void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int k = 0; k < 8; k++) {
        t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
    }
    for (int k = 0; k < 4; k++) { /* u[4k + c]: rows 4k .. 4k + 3, column 4 L + c in lane L */
        r[4 * k] = _mm512_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 1] = _mm512_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
        r[4 * k + 2] = _mm512_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
        r[4 * k + 3] = _mm512_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
    }
    for (int c = 0; c < 4; c++) { /* 4 x 4 transpose of 128-bit lanes */
        __m512i a = _mm512_shuffle_i32x4(r[c], r[4 + c], _MM_SHUFFLE(1, 0, 1, 0));
        __m512i b = _mm512_shuffle_i32x4(r[c], r[4 + c], _MM_SHUFFLE(3, 2, 3, 2));
        __m512i cc = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(1, 0, 1, 0));
        __m512i d = _mm512_shuffle_i32x4(r[8 + c], r[12 + c], _MM_SHUFFLE(3, 2, 3, 2));
        t[c] = _mm512_shuffle_i32x4(a, cc, _MM_SHUFFLE(2, 0, 2, 0));
        t[4 + c] = _mm512_shuffle_i32x4(a, cc, _MM_SHUFFLE(3, 1, 3, 1));
        t[8 + c] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(2, 0, 2, 0));
        t[12 + c] = _mm512_shuffle_i32x4(b, d, _MM_SHUFFLE(3, 1, 3, 1));
    }
    for (int c = 0; c < 16; c++) r[c] = t[c];
}

#define DP(acc, a, b) _mm512_dpbf16_ps((acc), (__m512bh)(a), (__m512bh)(b))

/* w[j] = scores of heads j < NJ over the chunk (kt: [np][16] pairs, qb: [NJ][np] pairs). */
AI void scores_dp(const __m512i *kt, const uint32_t *qb, int np, float w[][CH], const int NJ) {
    __m512 s[GPASS], t[GPASS]; /* two chains per head: vdpbf16ps latency */
    for (int j = 0; j < NJ; j++) s[j] = t[j] = _mm512_setzero_ps();
    for (int p = 0; p < np; p += 2) {
        __m512i k0 = _mm512_load_si512(kt + p), k1 = _mm512_load_si512(kt + p + 1);
        for (int j = 0; j < NJ; j++) {
            s[j] = DP(s[j], k0, _mm512_set1_epi32((int)qb[(int64_t)j * np + p]));
            t[j] = DP(t[j], k1, _mm512_set1_epi32((int)qb[(int64_t)j * np + p + 1]));
        }
    }
    for (int j = 0; j < NJ; j++) _mm512_store_ps(w[j], _mm512_add_ps(s[j], t[j]));
}

/* acc[j][d .. d + 32) += sum_i wb[j][i] * V[i][d ..] for j < NJ, positions in pairs. */
AI void accumulate_v_dp(const uint16_t *pool, const int64_t *off, int n, int hd, int d,
                        const uint32_t wb[][CH / 2], float *acc, const int NJ) {
    const __m512i i0 = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9,
                                        40, 8, 39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1,
                                        32, 0);
    const __m512i i1 = _mm512_add_epi16(i0, _mm512_set1_epi16(16));
    __m512 r0[GPASS], r1[GPASS];
    for (int j = 0; j < NJ; j++) {
        r0[j] = _mm512_loadu_ps(acc + (int64_t)j * hd + d);
        r1[j] = _mm512_loadu_ps(acc + (int64_t)j * hd + d + 16);
    }
    const uint32_t *wp = wb[0]; /* the pair's weights of head j at wp + j * CH / 2 */
    for (int i = 0; i < n; i += 2, wp++) {
        __m512i x = _mm512_loadu_si512(pool + off[i] + d);
        __m512i y = _mm512_loadu_si512(pool + off[i + 1 < n ? i + 1 : i] + d);
        __m512i z0 = _mm512_permutex2var_epi16(x, i0, y), z1 = _mm512_permutex2var_epi16(x, i1, y);
        for (int j = 0; j < NJ; j++) { /* one broadcast for both */
            __m512i wj = _mm512_set1_epi32((int)wp[j * (CH / 2)]);
            r0[j] = DP(r0[j], z0, wj);
            r1[j] = DP(r1[j], z1, wj);
        }
    }
    for (int j = 0; j < NJ; j++) {
        _mm512_storeu_ps(acc + (int64_t)j * hd + d, r0[j]);
        _mm512_storeu_ps(acc + (int64_t)j * hd + d + 16, r1[j]);
    }
}

#define DP_CASE(NJ)                                                                           \
    case NJ:                                                                                  \
        if (v) {                                                                              \
            for (int d = 0; d < hd; d += 32)                                                  \
                accumulate_v_dp(vp, off, n, hd, d, wb + j0, acc + (int64_t)j0 * hd, NJ);      \
        } else                                                                                \
            scores_dp(kt, qb + (int64_t)j0 * np, np, w + j0, NJ);                             \
        break;

/* Scores (v = 0) or the V accumulation (v = 1) of heads 0 .. g - 1, GPASS at a time. */
AI void pass_dp(int v, const __m512i *kt, const uint32_t *qb, int np, float w[][CH],
                const uint16_t *vp, const int64_t *off, int n, int hd,
                const uint32_t wb[][CH / 2], float *acc, int g) {
    for (int j0 = 0; j0 < g; j0 += GPASS) {
        switch (g - j0 < GPASS ? g - j0 : GPASS) {
            DP_CASE(1) DP_CASE(2) DP_CASE(3) DP_CASE(4)
            DP_CASE(5) DP_CASE(6) DP_CASE(7) DP_CASE(8)
        }
    }
}
#undef DP_CASE

/* One chunk (n <= CH positions at element offsets off of the K and V pools) of one KV head for
 * its g query heads: qb the query pairs [g][hd / 2], state m, lv (lane-wise denominators), acc.
 * Prefetches the npf rows (lines 64-byte lines each) at offsets pf, a quarter at each of four
 * points of the chunk's work: a burst of prefetches holds the core until the misses drain (all
 * at once, an in-memory 32K-position layer took 1.3-1.7x as long, 2 threads, Zen 5 class). */
AI void dp_chunk(const uint16_t *kp, const uint16_t *vp, const int64_t *off, int n, int hd,
                 const uint32_t *qb, int g, float *m, __m512 *lv, float *acc, const int64_t *pf,
                 int npf, int lines) {
    int np = hd / 2, nl = npf * lines;
    pf_lines(kp, vp, 2, pf, lines, 0, nl / 4);
    __m512i kt[HD_MAX / 2]; /* [np]: 16 positions' pairs each */
    float w[64][CH] __attribute__((aligned(64)));
    uint32_t wb[64][CH / 2] __attribute__((aligned(64)));
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int d = 0; d < hd; d += 32) {
        __m512i r[CH];
        for (int i = 0; i < CH; i++) r[i] = _mm512_loadu_si512(kp + off[i < n ? i : n - 1] + d);
        transpose16(r);
        for (int c = 0; c < CH; c++) kt[d / 2 + c] = r[c];
    }
    __mmask16 valid = (__mmask16)((1u << n) - 1u);
    pf_lines(kp, vp, 2, pf, lines, nl / 4, nl / 2);
    pass_dp(0, kt, qb, np, w, vp, off, n, hd, (const uint32_t(*)[CH / 2])wb, acc, g);
    pf_lines(kp, vp, 2, pf, lines, nl / 2, 3 * nl / 4);
    for (int j = 0; j < g; j++) {
        __m512 s = _mm512_mask_mov_ps(ninf, valid, _mm512_load_ps(w[j]));
        _mm512_store_ps(w[j], s);
        if (_mm512_cmp_ps_mask(s, _mm512_set1_ps(m[j]), _CMP_GT_OQ)) {
            float m_new = _mm512_reduce_max_ps(s);
            float c = expf(m[j] - m_new);
            __m512 cv = _mm512_set1_ps(c);
            lv[j] = _mm512_mul_ps(lv[j], cv);
            float *a = acc + (int64_t)j * hd;
            for (int d = 0; d < hd; d += 16)
                _mm512_storeu_ps(a + d, _mm512_mul_ps(_mm512_loadu_ps(a + d), cv));
            m[j] = m_new;
        }
    }
    for (int j = 0; j < g; j++) {
        __m512 e = exp16_bf16(_mm512_sub_ps(_mm512_load_ps(w[j]), _mm512_set1_ps(m[j])));
        __m256i eb = (__m256i)_mm512_cvtneps_pbh(e);
        _mm256_store_si256((__m256i *)wb[j], eb);
        lv[j] = _mm512_add_ps(
            lv[j], _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(eb), 16)));
    }
    pf_lines(kp, vp, 2, pf, lines, 3 * nl / 4, nl);
    pass_dp(1, kt, qb, np, w, vp, off, n, hd, (const uint32_t(*)[CH / 2])wb, acc, g);
}

/* qb[i] = the g * hd values of q (pre-scaled) rounded to BF16, in pairs. */
AI void query_pairs(const float *q, int n, uint32_t *qb) {
    for (int i = 0; i < n; i += 16)
        _mm256_store_si256((__m256i *)((uint16_t *)qb + i),
                           (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(q + i)));
}

static void attend_dp(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                      float *l, float *acc) {
    int hd = kv->hd;
    const uint16_t *kp = kv->k_pool, *vp = kv->v_pool;
    uint32_t qb[64 * HD_MAX / 2] __attribute__((aligned(64))); /* [g][hd / 2] */
    __m512 lv[64];
    int64_t off[CH], next[CH];
    query_pairs(q, g * hd, qb);
    for (int j = 0; j < g; j++) lv[j] = _mm512_maskz_mov_ps(1, _mm512_set1_ps(l[j]));
    if (p0 < p1) chunk_offsets(kv, p0, p1 - p0 < CH ? p1 - p0 : CH, next);
    for (int c0 = p0; c0 < p1; c0 += CH) {
        int n = p1 - c0 < CH ? p1 - c0 : CH;
        for (int i = 0; i < n; i++) off[i] = next[i];
        int nn = 0;
        if (c0 + CH < p1) {
            nn = p1 - c0 - CH < CH ? p1 - c0 - CH : CH;
            chunk_offsets(kv, c0 + CH, nn, next);
        }
        dp_chunk(kp, vp, off, n, hd, qb, g, m, lv, acc, next, nn, hd * 2 / 64);
    }
    for (int j = 0; j < g; j++) l[j] = _mm512_reduce_add_ps(lv[j]);
}

/* One chunk (n <= CH positions at element offsets off) of one KV head for its g query heads (q
 * [g, hd]), state m, lv, acc; prefetches the npf rows at pf spread over the chunk's work (see
 * below). */
AI void any_chunk(const void *kp, const void *vp, const int dtype, const int64_t *off, int n,
                  int hd, const float *q, int g, float *m, __m512 *lv, float *acc,
                  const int64_t *pf, int npf, int lines) {
    int esz = dtype == LMR_DTYPE_F32 ? 4 : 2, nl = npf * lines;
    float kb[CH * HD_MAX] __attribute__((aligned(64)));
    float w[64][CH] __attribute__((aligned(64))); /* g <= 64: checked by the caller */
    const float *krows[CH];
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    chunk_rows(kp, dtype, off, n, hd, kb, krows);
    __mmask16 valid = (__mmask16)((1u << n) - 1u);
    /* three passes over the heads, so that the heads' score trees and exps (long dependency
     * chains) overlap instead of following one another; three quarters of the prefetches go
     * a share per head between the scores (in two bursts before the scores, F32 KV 0.5B shape
     * at 32640 positions took 1.26x as long), the last before the V pass */
    for (int j = 0; j < g; j++) {
        pf_lines(kp, vp, esz, pf, lines, 3 * nl / 4 * j / g, 3 * nl / 4 * (j + 1) / g);
        _mm512_store_ps(w[j], _mm512_mask_mov_ps(ninf, valid,
                                                 scores16(krows, q + (int64_t)j * hd, hd)));
    }
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
    pf_lines(kp, vp, esz, pf, lines, 3 * nl / 4, nl);
    accumulate_v_any(vp, dtype, off, n, hd, (const float(*)[CH])w, acc, g);
}

AI void attend(const lmr_kv_view *kv, const int dtype, const float *q, int g, int p0, int p1,
               float *m, float *l, float *acc) {
    int hd = kv->hd, esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    __m512 lv[64]; /* per head: the softmax denominator, lane-wise, in units of exp(m[j]) */
    int64_t off[CH], next[CH];
    for (int j = 0; j < g; j++) lv[j] = _mm512_maskz_mov_ps(1, _mm512_set1_ps(l[j]));
    if (p0 < p1) chunk_offsets(kv, p0, p1 - p0 < CH ? p1 - p0 : CH, next);
    for (int c0 = p0; c0 < p1; c0 += CH) {
        int n = p1 - c0 < CH ? p1 - c0 : CH, nn = 0;
        for (int i = 0; i < n; i++) off[i] = next[i];
        if (c0 + CH < p1) { /* the next chunk's rows (strided by n_kv heads: hardware prefetch lags) */
            nn = p1 - c0 - CH < CH ? p1 - c0 - CH : CH;
            chunk_offsets(kv, c0 + CH, nn, next);
        }
        any_chunk(kv->k_pool, kv->v_pool, dtype, off, n, hd, q, g, m, lv, acc, next, nn,
                  (hd * esz + 63) / 64);
    }
    for (int j = 0; j < g; j++) l[j] = _mm512_reduce_add_ps(lv[j]);
}

/* Decode: positions [p0, p1) of all kv->n_kv KV heads of one query (kvh unused), chunk by chunk,
 * every KV head in turn over a chunk: a position's K (V) rows of all heads are adjacent in the
 * cache, so the next head finds the chunk in L1, and the range streams from memory once, in
 * order. The next chunk's rows (all heads) are prefetched, each head's turn a share, spread over
 * its work: the hardware prefetcher stops at page edges (a 16-position block of BF16 0.5B-shape
 * K is one 4 KiB page), and rows fetched further ahead (128 positions) left L1 before their turn.
 * One call per range: the query is converted and the denominators reduced once, not per chunk
 * and head. Head kvh's query heads: q[kvh] ([g, hd], pre-scaled), m[kvh], l[kvh] and acc[kvh]
 * as for lmr_attend_avx512. dp: BF16 KV through dp_chunk (hd a multiple of 32). */
AI void heads(const lmr_kv_view *kv, const int dtype, const int dp, float *const *q, int g,
              int p0, int p1, float *const *m, float *const *l, float *const *acc) {
    int hd = kv->hd, n_kv = kv->n_kv, esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    int lines = (n_kv * hd * esz + 63) / 64; /* per position, all heads */
    uint32_t qb[64 * HD_MAX / 2] __attribute__((aligned(64))); /* dp: [n_kv][g][hd / 2] */
    __m512 lv[64];
    int64_t base[CH], next[CH], off[CH];
    lmr_kv_view all = *kv;
    all.kvh = 0; /* chunk_offsets then gives the start of a position's rows */
    for (int h = 0; h < n_kv; h++) {
        if (dp) query_pairs(q[h], g * hd, qb + (int64_t)h * g * hd / 2);
        for (int j = 0; j < g; j++) lv[h * g + j] = _mm512_maskz_mov_ps(1, _mm512_set1_ps(l[h][j]));
    }
    for (int c0 = p0; c0 < p1; c0 += CH) {
        int n = p1 - c0 < CH ? p1 - c0 : CH, nn = 0;
        chunk_offsets(&all, c0, n, base);
        if (c0 + CH < p1) {
            nn = p1 - c0 - CH < CH ? p1 - c0 - CH : CH;
            chunk_offsets(&all, c0 + CH, nn, next);
        }
        for (int h = 0; h < n_kv; h++) {
            for (int i = 0; i < n; i++) off[i] = base[i] + (int64_t)h * hd;
            int a = nn * h / n_kv, b = nn * (h + 1) / n_kv;
            if (dp)
                dp_chunk(kv->k_pool, kv->v_pool, off, n, hd, qb + (int64_t)h * g * hd / 2, g, m[h],
                         lv + h * g, acc[h], next + a, b - a, lines);
            else
                any_chunk(kv->k_pool, kv->v_pool, dtype, off, n, hd, q[h], g, m[h], lv + h * g,
                          acc[h], next + a, b - a, lines);
        }
    }
    for (int h = 0; h < n_kv; h++)
        for (int j = 0; j < g; j++) l[h][j] = _mm512_reduce_add_ps(lv[h * g + j]);
}

void lmr_attend_avx512(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                       float *l, float *acc) {
    if ((kv->hd & 15) || kv->hd > HD_MAX || g > 64) {
        lmr_attend_avx2(kv, q, g, p0, p1, m, l, acc);
        return;
    }
    switch (kv->dtype) {
    case LMR_DTYPE_BF16:
        if (!(kv->hd & 31)) {
            attend_dp(kv, q, g, p0, p1, m, l, acc);
            break;
        }
        attend(kv, LMR_DTYPE_BF16, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: attend(kv, LMR_DTYPE_F16, q, g, p0, p1, m, l, acc); break;
    default: attend(kv, LMR_DTYPE_F32, q, g, p0, p1, m, l, acc); break;
    }
}
void lmr_attend_heads_avx512(const lmr_kv_view *kv, float *const *q, int g, int p0, int p1,
                             float *const *m, float *const *l, float *const *acc) {
    switch (kv->dtype) {
    case LMR_DTYPE_BF16:
        if (!(kv->hd & 31)) {
            heads(kv, LMR_DTYPE_BF16, 1, q, g, p0, p1, m, l, acc);
            break;
        }
        heads(kv, LMR_DTYPE_BF16, 0, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: heads(kv, LMR_DTYPE_F16, 0, q, g, p0, p1, m, l, acc); break;
    default: heads(kv, LMR_DTYPE_F32, 0, q, g, p0, p1, m, l, acc); break;
    }
}
#endif
