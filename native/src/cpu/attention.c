/* attention.c: causal attention of one sequence over a paged KV cache. The scalar reference
 * (online softmax, one query head at a time), and the threaded driver: decode (n_tok == 1)
 * splits the positions over threads and merges their partial softmax states (flash-decoding);
 * prefill hands (query token, KV head) items to threads. Each item reads a KV row once for all
 * the query heads of its GQA group; the inner loop is lmr_attend_<isa>. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"

#define SPLIT_MIN 256       /* decode: fewest positions worth a split of their own */
#define CHUNKS_PER_THREAD 4 /* decode: splits per thread, so a late thread leaves its share */
#define PIECE 256           /* decode: positions done for every KV head before moving on */
#define LMR_MAX_KV_GROUPS 64 /* decode splits handle up to this many KV heads (else one item each) */

static inline float kv_at(const void *pool, int dtype, int64_t i) {
    switch (dtype) {
    case LMR_DTYPE_F16: return lmr_f16_to_f32(((const uint16_t *)pool)[i]);
    case LMR_DTYPE_BF16: return lmr_bf16_to_f32(((const uint16_t *)pool)[i]);
    default: return ((const float *)pool)[i];
    }
}

void lmr_cpu_attention_ref(const float *q, int n_tok, int pos0, const void *k_pool,
                           const void *v_pool, int kv_dtype, const int32_t *block_table,
                           int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                           float *out) {
    int group = n_heads / n_kv_heads;
    float scale = 1.0f / sqrtf((float)head_dim);
    for (int t = 0; t < n_tok; t++)
        for (int h = 0; h < n_heads; h++) {
            lmr_kv_view kv = {k_pool, v_pool, block_table, block_tokens, n_kv_heads, head_dim,
                              kv_dtype, h / group};
            const float *qh = q + ((int64_t)t * n_heads + h) * head_dim; /* [head_dim] */
            float *oh = out + ((int64_t)t * n_heads + h) * head_dim;
            float m = -INFINITY, l = 0.0f;
            for (int d = 0; d < head_dim; d++) oh[d] = 0.0f;
            for (int p = 0; p <= pos0 + t; p++) {
                int64_t off = lmr_kv_offset(&kv, p);
                float s = 0.0f;
                for (int d = 0; d < head_dim; d++) s += qh[d] * kv_at(k_pool, kv_dtype, off + d);
                s *= scale;
                float m_new = s > m ? s : m;
                float c = expf(m - m_new), e = expf(s - m_new);
                l = l * c + e;
                for (int d = 0; d < head_dim; d++)
                    oh[d] = oh[d] * c + e * kv_at(v_pool, kv_dtype, off + d);
                m = m_new;
            }
            for (int d = 0; d < head_dim; d++) oh[d] /= l;
        }
}

void lmr_attend_scalar(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                       float *l, float *acc) {
    int hd = kv->hd;
    for (int p = p0; p < p1; p++) {
        int64_t off = lmr_kv_offset(kv, p);
        for (int j = 0; j < g; j++) {
            const float *qj = q + (int64_t)j * hd;
            float *aj = acc + (int64_t)j * hd;
            float s = 0.0f;
            for (int d = 0; d < hd; d++) s += qj[d] * kv_at(kv->k_pool, kv->dtype, off + d);
            float m_new = s > m[j] ? s : m[j];
            float c = expf(m[j] - m_new), e = expf(s - m_new);
            l[j] = l[j] * c + e;
            for (int d = 0; d < hd; d++) aj[d] = aj[d] * c + e * kv_at(kv->v_pool, kv->dtype, off + d);
            m[j] = m_new;
        }
    }
}

typedef struct {
    lmr_pool *p;
    const float *q;
    int n_tok, pos0, n_heads, group, hd;
    lmr_kv_view kv;      /* kvh filled per item */
    float *out;
    float scale;
    lmr_attend_fn attend;
    float *part;         /* decode: [n_split, n_heads, 2 + hd] partial (m, l, acc) per split */
    int nth, n_split;
} attn_job;

/* One thread's working set for a GQA group: q pre-scaled [group, hd], softmax state m, l [group]
 * and acc [group, hd], carved from the pool's per-thread scratch, which holds one per KV head
 * (group `kvh` at kvh * group * (2 * hd + 2) floats). */
typedef struct {
    float *q, *m, *l, *acc;
} group_state;

static int group_state_get(attn_job *j, int ith, int kvh, group_state *s) {
    size_t per = (size_t)j->group * (j->hd * 2 + 2);
    float *b = lmr_pool_scratch(j->p, ith, per * (size_t)j->kv.n_kv * sizeof(float));
    if (!b) return 0;
    b += per * (size_t)kvh;
    s->q = b;
    s->m = b + (size_t)j->group * j->hd;
    s->l = s->m + j->group;
    s->acc = s->l + j->group;
    return 1;
}

/* Loads query token t's heads of KV group kvh, scaled, and resets the softmax state. */
static void group_state_reset(attn_job *j, int t, int kvh, group_state *s) {
    const float *src = j->q + ((int64_t)t * j->n_heads + (int64_t)kvh * j->group) * j->hd;
    for (int i = 0; i < j->group * j->hd; i++) s->q[i] = src[i] * j->scale;
    for (int i = 0; i < j->group; i++) {
        s->m[i] = -INFINITY;
        s->l[i] = 0.0f;
    }
    memset(s->acc, 0, (size_t)j->group * j->hd * sizeof(float));
}

/* Item `it` of n_tok * n_kv: (query token, KV head), the last tokens first: they are the
 * longest, so the tail of the schedule is short. */
static void prefill_task(void *ctx, int ith, int it) {
    attn_job *j = ctx;
    int n_kv = j->kv.n_kv;
    int t = j->n_tok - 1 - it / n_kv, kvh = it % n_kv;
    group_state g = {0};
    group_state_get(j, ith, 0, &g); /* allocated by the caller before the dispatch */
    lmr_kv_view kv = j->kv;
    kv.kvh = kvh;
    group_state_reset(j, t, kvh, &g);
    j->attend(&kv, g.q, j->group, 0, j->pos0 + t + 1, g.m, g.l, g.acc);
    for (int h = 0; h < j->group; h++) {
        float *o = j->out + ((int64_t)t * j->n_heads + kvh * j->group + h) * j->hd;
        float inv = 1.0f / g.l[h];
        for (int d = 0; d < j->hd; d++) o[d] = g.acc[(int64_t)h * j->hd + d] * inv;
    }
}

/* Split `sp` of n_split: a contiguous range of positions, all KV heads. The range is walked in
 * pieces of PIECE positions, every KV head in turn over a piece: a position's K (V) rows of all
 * heads are adjacent in the cache, so the second head finds the piece in L2 instead of the whole
 * range being read from memory once per head. */
static void decode_task(void *ctx, int ith, int sp) {
    attn_job *j = ctx;
    int n_pos = j->pos0 + 1, ns = j->n_split, n_kv = j->kv.n_kv;
    int p0 = (int)((int64_t)n_pos * sp / ns), p1 = (int)((int64_t)n_pos * (sp + 1) / ns);
    int stride = 2 + j->hd;
    group_state g[LMR_MAX_KV_GROUPS];
    for (int kvh = 0; kvh < n_kv; kvh++) {
        group_state_get(j, ith, kvh, &g[kvh]);
        group_state_reset(j, 0, kvh, &g[kvh]);
    }
    for (int c0 = p0; c0 < p1; c0 += PIECE) {
        int c1 = p1 - c0 < PIECE ? p1 : c0 + PIECE;
        for (int kvh = 0; kvh < n_kv; kvh++) {
            lmr_kv_view kv = j->kv;
            kv.kvh = kvh;
            j->attend(&kv, g[kvh].q, j->group, c0, c1, g[kvh].m, g[kvh].l, g[kvh].acc);
        }
    }
    for (int kvh = 0; kvh < n_kv; kvh++)
        for (int h = 0; h < j->group; h++) {
            float *d = j->part + ((int64_t)sp * j->n_heads + kvh * j->group + h) * stride;
            d[0] = p0 < p1 ? g[kvh].m[h] : -INFINITY;
            d[1] = g[kvh].l[h];
            memcpy(d + 2, g[kvh].acc + (int64_t)h * j->hd, (size_t)j->hd * sizeof(float));
        }
}

void lmr_cpu_attention(lmr_pool *p, const float *q, int n_tok, int pos0, const void *k_pool,
                       const void *v_pool, int kv_dtype, const int32_t *block_table,
                       int block_tokens, int n_heads, int n_kv_heads, int head_dim, float *out) {
    if (n_tok <= 0) return;
    attn_job j = {.p = p, .q = q, .n_tok = n_tok, .pos0 = pos0, .n_heads = n_heads,
                  .group = n_heads / n_kv_heads, .hd = head_dim, .out = out,
                  .kv = {k_pool, v_pool, block_table, block_tokens, n_kv_heads, head_dim,
                         kv_dtype, 0},
                  .scale = 1.0f / sqrtf((float)head_dim), .attend = lmr_attend_scalar,
                  .nth = lmr_pool_size(p)};
    switch (lmr_cpu_isa()) {
#if LMR_HAVE_AVX2
    case LMR_ISA_AVX2: j.attend = lmr_attend_avx2; break;
#endif
#if LMR_HAVE_AVX512
    case LMR_ISA_AVX512: j.attend = lmr_attend_avx512; break;
#endif
#if LMR_HAVE_NEON
    case LMR_ISA_NEON: j.attend = lmr_attend_neon; break;
#endif
    default: break;
    }
    int have_buffers = 1; /* allocated here so that the tasks never lack them */
    for (int i = 0; i < j.nth; i++) {
        group_state g = {0};
        if (!group_state_get(&j, i, 0, &g)) have_buffers = 0;
    }
    /* decode: positions split in ranges of at least SPLIT_MIN, about CHUNKS_PER_THREAD a thread */
    int n_split = n_kv_heads > LMR_MAX_KV_GROUPS ? 1 : (pos0 + 1 + SPLIT_MIN - 1) / SPLIT_MIN;
    if (n_split > j.nth * CHUNKS_PER_THREAD) n_split = j.nth * CHUNKS_PER_THREAD;
    int stride = 2 + head_dim;
    j.n_split = n_split;
    j.part = n_tok == 1 && n_split > 1 ? malloc((size_t)n_split * n_heads * stride * sizeof(float))
                                       : NULL;
    if (!have_buffers || (n_tok == 1 && n_split > 1 && !j.part)) { /* no memory: slow but correct */
        lmr_cpu_attention_ref(q, n_tok, pos0, k_pool, v_pool, kv_dtype, block_table,
                              block_tokens, n_heads, n_kv_heads, head_dim, out);
        return;
    }
    if (!j.part) { /* prefill, or a short decode: one item per KV head, too small to dispatch */
        lmr_pool_run_chunks(n_tok > 1 ? p : NULL, prefill_task, &j, n_tok * n_kv_heads);
        return;
    }
    lmr_pool_run_chunks(p, decode_task, &j, n_split);
    for (int h = 0; h < n_heads; h++) {
        float M = -INFINITY;
        for (int i = 0; i < n_split; i++) {
            float mi = j.part[((size_t)i * n_heads + h) * stride];
            if (mi > M) M = mi;
        }
        float L = 0.0f, *o = out + (int64_t)h * head_dim;
        memset(o, 0, (size_t)head_dim * sizeof(float));
        for (int i = 0; i < n_split; i++) {
            const float *s = j.part + ((size_t)i * n_heads + h) * stride;
            if (s[0] == -INFINITY) continue;
            float c = expf(s[0] - M);
            L += s[1] * c;
            for (int d = 0; d < head_dim; d++) o[d] += s[2 + d] * c;
        }
        for (int d = 0; d < head_dim; d++) o[d] /= L;
    }
    free(j.part);
}
