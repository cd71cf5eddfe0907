/* attention_avx2.c: the inner loop of attention for AVX2+FMA+F16C: online softmax over a range
 * of positions of one KV head for the g query heads of its GQA group. Positions go in chunks:
 * scores for the chunk (each K row converted once, dotted with up to 4 heads per pass), one
 * rescale of the running state per chunk, a vector exp, then V rows accumulated into
 * register-resident slices of acc. Decode calls lmr_attend_heads_avx2 once per range for all KV
 * heads, the next step's rows prefetched a share at a time through the work. */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <math.h>

#include "avx2_util.h"
#include "simd.h"

#define CH 32  /* positions per chunk */
#define GMAX 8 /* query heads handled per pass over the chunk */
/* decode, all heads: positions per step, CH unless the K and V rows (all heads) of CH positions
 * pass this many bytes (with the next step's rows in flight they would not fit L1, 32 KiB on Zen
 * 3): then CH / 2 (32640-position F32 0.5B-shape layer, 2 threads, Zen 5 class: 1425 us at 16
 * against 1630 at 32; BF16 at 32 about 2% faster than at 16) */
#define HEADS_STEP_BYTES 16384
#define AI __attribute__((always_inline)) static inline

static inline float kv_scalar(const void *pool, int dtype, int64_t i) {
    if (dtype == LMR_DTYPE_F32) return ((const float *)pool)[i];
    uint16_t h = ((const uint16_t *)pool)[i];
    return dtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h) : lmr_f16_to_f32(h);
}

/* Sums of 4 vectors, one per lane of the result. */
static inline __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d), abcd = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/* s[j][i], s[j][i+1] = q_j . K[off[i]], q_j . K[off[i+1]] for j < NJ (two positions at once:
 * 2 * NJ independent FMA chains; each K slice converted once for all NJ heads). */
AI void scores_pair(const void *K, const int dtype, const int64_t *off, int i, const float *q,
                    int hd, float s[GMAX][CH], const int NJ) {
    __m256 a[6][2];
    for (int j = 0; j < NJ; j++) a[j][0] = a[j][1] = _mm256_setzero_ps();
    for (int d = 0; d < hd; d += 8) {
        __m256 k0 = ld_w(K, dtype, off[i] + d), k1 = ld_w(K, dtype, off[i + 1] + d);
        for (int j = 0; j < NJ; j++) {
            __m256 qv = _mm256_loadu_ps(q + (int64_t)j * hd + d);
            a[j][0] = _mm256_fmadd_ps(qv, k0, a[j][0]);
            a[j][1] = _mm256_fmadd_ps(qv, k1, a[j][1]);
        }
    }
    int j = 0;
    for (; j + 2 <= NJ; j += 2) {
        float r[4];
        _mm_storeu_ps(r, hsum4x8(a[j][0], a[j][1], a[j + 1][0], a[j + 1][1]));
        s[j][i] = r[0], s[j][i + 1] = r[1], s[j + 1][i] = r[2], s[j + 1][i + 1] = r[3];
    }
    if (j < NJ) s[j][i] = hsum8(a[j][0]), s[j][i + 1] = hsum8(a[j][1]);
}

/* s[j][i] = q_j . K[off[i]] for j < g (<= GMAX), i0 <= i < n: any head dim, one position at a
 * time. */
AI void scores_one(const void *K, const int dtype, const int64_t *off, int i0, int n,
                   const float *q, int g, int hd, float s[GMAX][CH]) {
    int hd8 = hd & ~7;
    for (int i = i0; i < n; i++)
        for (int j0 = 0; j0 < g; j0 += 4) {
            int nj = g - j0 < 4 ? g - j0 : 4;
            __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                           _mm256_setzero_ps()};
            for (int d = 0; d < hd8; d += 8) {
                __m256 k = ld_w(K, dtype, off[i] + d);
                for (int j = 0; j < nj; j++)
                    a[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + (int64_t)(j0 + j) * hd + d), k, a[j]);
            }
            for (int j = 0; j < nj; j++) {
                float v = hsum8(a[j]);
                for (int d = hd8; d < hd; d++)
                    v += q[(int64_t)(j0 + j) * hd + d] * kv_scalar(K, dtype, off[i] + d);
                s[j0 + j][i] = v;
            }
        }
}

/* s[j][i] = q_j . K[off[i]] for j < g (<= GMAX), i < n. Groups of more than 6 heads go in two
 * passes of pairs (7 = 4 + 3, 8 = 4 + 4), the K rows coming from L1 the second time. */
AI void scores(const void *K, const int dtype, const int64_t *off, int n, const float *q, int g,
               int hd, float s[GMAX][CH]) {
    int i = 0;
    if ((hd & 7) == 0) {
        int ga = g <= 6 ? g : (g + 1) / 2; /* heads in the first pass */
        for (int j0 = 0; j0 < g; j0 += ga) {
            int nj = g - j0 < ga ? g - j0 : ga;
            const float *qj = q + (int64_t)j0 * hd;
            float(*sj)[CH] = s + j0;
            for (i = 0; i + 2 <= n; i += 2) switch (nj) {
                case 1: scores_pair(K, dtype, off, i, qj, hd, sj, 1); break;
                case 2: scores_pair(K, dtype, off, i, qj, hd, sj, 2); break;
                case 3: scores_pair(K, dtype, off, i, qj, hd, sj, 3); break;
                case 4: scores_pair(K, dtype, off, i, qj, hd, sj, 4); break;
                case 5: scores_pair(K, dtype, off, i, qj, hd, sj, 5); break;
                default: scores_pair(K, dtype, off, i, qj, hd, sj, 6); break;
                }
        }
    }
    scores_one(K, dtype, off, i, n, q, g, hd, s);
}

/* acc[j][d..d+16) += sum_i w[j][i] * V[off[i]][d..d+16) for j < NJ: 2 * NJ accumulators kept in
 * registers over the chunk's positions, each V slice converted once. */
AI void accumulate_v16(const void *V, const int dtype, const int64_t *off, int n, int hd, int d,
                       float w[GMAX][CH], float *acc, const int NJ) {
    __m256 r0[6], r1[6];
    for (int j = 0; j < NJ; j++) {
        r0[j] = _mm256_loadu_ps(acc + (int64_t)j * hd + d);
        r1[j] = _mm256_loadu_ps(acc + (int64_t)j * hd + d + 8);
    }
    for (int i = 0; i < n; i++) {
        __m256 v0 = ld_w(V, dtype, off[i] + d), v1 = ld_w(V, dtype, off[i] + d + 8);
        for (int j = 0; j < NJ; j++) {
            __m256 p = _mm256_broadcast_ss(&w[j][i]);
            r0[j] = _mm256_fmadd_ps(p, v0, r0[j]);
            r1[j] = _mm256_fmadd_ps(p, v1, r1[j]);
        }
    }
    for (int j = 0; j < NJ; j++) {
        _mm256_storeu_ps(acc + (int64_t)j * hd + d, r0[j]);
        _mm256_storeu_ps(acc + (int64_t)j * hd + d + 8, r1[j]);
    }
}

/* acc[j] += sum_i w[j][i] * V[off[i]] for j < g */
AI void accumulate_v(const void *V, const int dtype, const int64_t *off, int n, int g, int hd,
                     float w[GMAX][CH], float *acc) {
    int d = 0;
    for (; d + 16 <= hd; d += 16)
        for (int j0 = 0; j0 < g; j0 += 6) { /* heads in passes of up to 6 */
            float *a = acc + (int64_t)j0 * hd;
            float(*wj)[CH] = w + j0;
            switch (g - j0 < 6 ? g - j0 : 6) {
            case 1: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 1); break;
            case 2: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 2); break;
            case 3: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 3); break;
            case 4: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 4); break;
            case 5: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 5); break;
            default: accumulate_v16(V, dtype, off, n, hd, d, wj, a, 6); break;
            }
        }
    for (; d < hd; d++) /* head dims that are not a multiple of 16 */
        for (int j = 0; j < g; j++) {
            float a = acc[(int64_t)j * hd + d];
            for (int i = 0; i < n; i++) a += w[j][i] * kv_scalar(V, dtype, off[i] + d);
            acc[(int64_t)j * hd + d] = a;
        }
}

/* Prefetches lines [a, b) of a list of K and V rows (elements of esz bytes): line x is byte
 * (x % lines) * 64 of the rows at element offset pf[x / lines]. The division per line stays: the
 * pointer step of attention_avx512.c measured within this host's noise here (BF16 0.5B shape 2-3%
 * faster, F32 1.5B 3-4% slower at 32640 positions: faster prefetch issue makes denser bursts). */
AI void pf_lines(const void *kp, const void *vp, int esz, const int64_t *pf, int lines, int a,
                 int b) {
    for (int x = a; x < b; x++) {
        int64_t o = pf[x / lines] * esz + (x % lines) * 64;
        _mm_prefetch((const char *)kp + o, _MM_HINT_T0);
        _mm_prefetch((const char *)vp + o, _MM_HINT_T0);
    }
}

/* One chunk (n <= CH positions at element offsets off) for the g query heads of one KV head;
 * within it the heads go in passes of up to GMAX, so that a group of more than GMAX heads (the
 * heads of several query tokens, in prefill) finds the chunk's K and V rows in L1 after the
 * first pass. Each head's arithmetic is the same whatever the pass it falls in. Prefetches the
 * npf rows (lines 64-byte lines each) at offsets pf, spread over the work (a third before the
 * scores, the softmax and the V pass of the first pass of heads): a burst of prefetches holds
 * the core until the misses drain. */
AI void chunk(const void *K, const void *V, const int dtype, const int64_t *off, int n, int hd,
              const float *q, int g, float *m, float *l, float *acc, const int64_t *pf, int npf,
              int lines) {
    int esz = dtype == LMR_DTYPE_F32 ? 4 : 2, nl = npf * lines;
    float s[GMAX][CH] __attribute__((aligned(32)));
    for (int h0 = 0; h0 < g; h0 += GMAX) {
        int gg = g - h0 < GMAX ? g - h0 : GMAX;
        const float *qh = q + (int64_t)h0 * hd;
        float *ah = acc + (int64_t)h0 * hd;
        if (!h0) pf_lines(K, V, esz, pf, lines, 0, nl / 3);
        scores(K, dtype, off, n, qh, gg, hd, s);
        if (!h0) pf_lines(K, V, esz, pf, lines, nl / 3, 2 * nl / 3);
        for (int j = 0; j < gg; j++) {
            float mx = s[j][0];
            for (int i = 1; i < n; i++) mx = s[j][i] > mx ? s[j][i] : mx;
            float m_old = m[h0 + j], m_new = mx > m_old ? mx : m_old;
            float c = expf(m_old - m_new); /* 0 on the first chunk (m_old = -inf) */
            __m256 mv = _mm256_set1_ps(m_new), sum = _mm256_setzero_ps();
            int i = 0;
            for (; i + 8 <= n; i += 8) {
                __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(&s[j][i]), mv));
                _mm256_storeu_ps(&s[j][i], e);
                sum = _mm256_add_ps(sum, e);
            }
            float sl = hsum8(sum);
            for (; i < n; i++) sl += s[j][i] = expf(s[j][i] - m_new);
            l[h0 + j] = l[h0 + j] * c + sl;
            m[h0 + j] = m_new;
            if (c != 1.0f) {
                float *a = ah + (int64_t)j * hd;
                __m256 cv = _mm256_set1_ps(c);
                int d = 0;
                for (; d + 8 <= hd; d += 8) _mm256_storeu_ps(a + d, _mm256_mul_ps(_mm256_loadu_ps(a + d), cv));
                for (; d < hd; d++) a[d] *= c;
            }
        }
        if (!h0) pf_lines(K, V, esz, pf, lines, 2 * nl / 3, nl);
        accumulate_v(V, dtype, off, n, gg, hd, s, ah);
    }
}

/* Chunk by chunk over the positions, the next chunk's K and V rows prefetched (its rows are
 * strided by n_kv heads: hardware prefetch lags). */
AI void attend(const lmr_kv_view *kv, const int dtype, const float *q, int g, int p0, int p1,
               float *m, float *l, float *acc) {
    int hd = kv->hd, esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    int64_t off[CH], next[CH];
    for (int c0 = p0; c0 < p1; c0 += CH) {
        int n = p1 - c0 < CH ? p1 - c0 : CH, nn = 0;
        for (int i = 0; i < n; i++) off[i] = lmr_kv_offset(kv, c0 + i);
        for (int p = c0 + CH; p < c0 + 2 * CH && p < p1; p++) next[nn++] = lmr_kv_offset(kv, p);
        chunk(kv->k_pool, kv->v_pool, dtype, off, n, hd, q, g, m, l, acc, next, nn,
              (hd * esz + 63) / 64);
    }
}

/* Decode: positions [p0, p1) of all kv->n_kv KV heads of one query (kvh unused), a step of
 * positions at a time, every KV head in turn (a position's rows of all heads are adjacent in the
 * cache: the next head finds them in L1), the next step's rows (all heads) prefetched, each
 * head's turn a share, spread over its work. Head kvh's query heads: q[kvh] ([g, hd],
 * pre-scaled), m[kvh], l[kvh], acc[kvh] as for lmr_attend_avx2. */
AI void heads(const lmr_kv_view *kv, const int dtype, float *const *q, int g, int p0, int p1,
              float *const *m, float *const *l, float *const *acc) {
    int hd = kv->hd, n_kv = kv->n_kv, esz = dtype == LMR_DTYPE_F32 ? 4 : 2;
    int row = n_kv * hd * esz, lines = (row + 63) / 64; /* bytes, lines per position */
    int st = 2 * row * CH <= HEADS_STEP_BYTES ? CH : CH / 2;
    int64_t base[CH], next[CH], off[CH];
    lmr_kv_view all = *kv;
    all.kvh = 0; /* lmr_kv_offset then gives the start of a position's rows */
    for (int c0 = p0; c0 < p1; c0 += st) {
        int n = p1 - c0 < st ? p1 - c0 : st, nn = 0;
        for (int i = 0; i < n; i++) base[i] = lmr_kv_offset(&all, c0 + i);
        for (int p = c0 + st; p < c0 + 2 * st && p < p1; p++) next[nn++] = lmr_kv_offset(&all, p);
        for (int h = 0; h < n_kv; h++) {
            for (int i = 0; i < n; i++) off[i] = base[i] + (int64_t)h * hd;
            int a = nn * h / n_kv, b = nn * (h + 1) / n_kv;
            chunk(kv->k_pool, kv->v_pool, dtype, off, n, hd, q[h], g, m[h], l[h], acc[h],
                  next + a, b - a, lines);
        }
    }
}

void lmr_attend_heads_avx2(const lmr_kv_view *kv, float *const *q, int g, int p0, int p1,
                           float *const *m, float *const *l, float *const *acc) {
    switch (kv->dtype) {
    case LMR_DTYPE_BF16: heads(kv, LMR_DTYPE_BF16, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: heads(kv, LMR_DTYPE_F16, q, g, p0, p1, m, l, acc); break;
    default: heads(kv, LMR_DTYPE_F32, q, g, p0, p1, m, l, acc); break;
    }
}

void lmr_attend_avx2(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                     float *l, float *acc) {
    switch (kv->dtype) {
    case LMR_DTYPE_BF16: attend(kv, LMR_DTYPE_BF16, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: attend(kv, LMR_DTYPE_F16, q, g, p0, p1, m, l, acc); break;
    default: attend(kv, LMR_DTYPE_F32, q, g, p0, p1, m, l, acc); break;
    }
}
#endif
