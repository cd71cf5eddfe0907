/* attention.c: causal attention over a paged KV cache. The scalar reference (online softmax, one
 * query head at a time), and the threaded driver: decode (one query token per sequence, one or
 * many sequences in one dispatch) splits each sequence's positions into ranges, in proportion to
 * its share of the batch, and merges their partial softmax states (flash-decoding); prefill
 * hands (query token, KV head) items to threads. Each item reads a KV row once for all
 * the query heads of its GQA group; the inner loop is lmr_attend_<isa>. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
/* GCC 12 at -O3 dropped __builtin_prefetch from the decode loop below, and _mm_prefetch too when
 * that loop was a function of its own (objdump: no prefetcht0 left); an asm prefetcht0 in its
 * place stayed, but cost the AVX2 level 3% at 32K positions */
#define PREFETCH(a) _mm_prefetch((const char *)(a), _MM_HINT_T0)
#else
#define PREFETCH(a) __builtin_prefetch((a), 0, 3)
#endif

#define SPLIT_MIN 256       /* decode: fewest positions worth a split of their own */
#define CHUNKS_PER_THREAD 4 /* decode: splits per thread, so a late thread leaves its share */
/* decode: positions done for every KV head before moving on: the kernel's chunk (16 positions
 * for AVX-512, 32 for AVX2), so that all heads' rows of a few positions, adjacent in the cache,
 * are read one after another and the KV range streams from memory in order (with 256 positions
 * per piece a 32K-position BF16 0.5B-shape layer took 8-20% longer on one thread, Zen 5 class,
 * at both levels); 256 for the other kernels. The AVX2 and AVX-512 levels take
 * lmr_attend_heads_<isa> instead where they can (AVX-512: head dims a multiple of 16, up to 256,
 * at most 64 heads), which walk a range for all heads in the same way in one call and prefetch
 * themselves, spread over the work. */
#define PIECE 256
#define PIECE_AVX2 32
#define PIECE_AVX512 16
/* decode: the K and V rows (all KV heads) this many positions ahead of the piece being done are
 * prefetched: the hardware prefetcher stops at page edges (a 16-position block of BF16 0.5B-shape
 * K is one 4 KiB page), so without it the stream restarts on a miss at every block (32K-position
 * layer, one thread, Zen 5 class, loaded, median CPU time: BF16 0.5B shape 2.05 -> 1.75 ms, BF16
 * 1.5B shape 5.0 -> 4.2-4.9 ms; F32 and the AVX2 level within the noise) */
#define PF_AHEAD 128
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
    int piece; /* decode: PIECE_<isa> */
    /* decode: a kernel that takes a range for all KV heads at once (walking it in pieces and
     * prefetching itself), or NULL */
    void (*attend_heads)(const lmr_kv_view *kv, float *const *q, int g, int p0, int p1,
                         float *const *m, float *const *l, float *const *acc);
    int nth;
} attn_job;

/* One thread's working set for `heads` query heads (a GQA group, or the groups of several
 * prefill tokens of one KV head): q pre-scaled [heads, hd], softmax state m, l [heads] and acc
 * [heads, hd], carved from the pool's per-thread scratch. That holds one slot of group * (2 * hd
 * + 2) floats per KV head for decode (slot `kvh`), and PREFILL_TOK of them from slot 0 for
 * prefill. */
typedef struct {
    float *q, *m, *l, *acc;
} group_state;

/* Query tokens per prefill work item: the K and V rows of a chunk of positions, read once,
 * serve all their heads (from L1 after the first pass of heads). At most 64 heads per item, the
 * AVX-512 kernel's limit. */
#define PREFILL_TOK 4

static int prefill_tokens(const attn_job *j) {
    int nb = 64 / j->group;
    return nb < 1 ? 1 : nb > PREFILL_TOK ? PREFILL_TOK : nb;
}

static int group_state_get(attn_job *j, int ith, int kvh, int heads, group_state *s) {
    size_t per = (size_t)j->group * (j->hd * 2 + 2);
    size_t slots = (size_t)(j->kv.n_kv > PREFILL_TOK ? j->kv.n_kv : PREFILL_TOK);
    float *b = lmr_pool_scratch(j->p, ith, per * slots * sizeof(float));
    if (!b) return 0;
    b += per * (size_t)kvh;
    s->q = b;
    s->m = b + (size_t)heads * j->hd;
    s->l = s->m + heads;
    s->acc = s->l + heads;
    return 1;
}

/* Loads the heads of KV group kvh of one query token (qtok: [n_heads, hd]), scaled, as heads
 * h0 .. h0 + group - 1 of s, and resets their softmax state. */
static void group_state_load(attn_job *j, const float *qtok, int kvh, group_state *s, int h0) {
    const float *src = qtok + (int64_t)kvh * j->group * j->hd;
    float *q = s->q + (int64_t)h0 * j->hd;
    for (int i = 0; i < j->group * j->hd; i++) q[i] = src[i] * j->scale;
    for (int i = h0; i < h0 + j->group; i++) {
        s->m[i] = -INFINITY;
        s->l[i] = 0.0f;
    }
    memset(s->acc + (int64_t)h0 * j->hd, 0, (size_t)j->group * j->hd * sizeof(float));
}

/* Item `it` of n_blocks * n_kv: (block of up to prefill_tokens query tokens, KV head), the last
 * blocks first: they are the longest, so the tail of the schedule is short. The block's tokens
 * t0 .. t0 + nb - 1 all see positions 0 .. pos0 + t0, in one pass for all their heads; token t0 + b
 * then sees b more positions on its own. */
static void prefill_task(void *ctx, int ith, int it) {
    attn_job *j = ctx;
    int n_kv = j->kv.n_kv, g = j->group, hd = j->hd, tb = prefill_tokens(j);
    int n_blocks = (j->n_tok + tb - 1) / tb;
    int t0 = (n_blocks - 1 - it / n_kv) * tb, kvh = it % n_kv;
    int nb = j->n_tok - t0 < tb ? j->n_tok - t0 : tb;
    group_state s = {0};
    group_state_get(j, ith, 0, nb * g, &s); /* allocated by the caller before the dispatch */
    lmr_kv_view kv = j->kv;
    kv.kvh = kvh;
    for (int b = 0; b < nb; b++)
        group_state_load(j, j->q + (int64_t)(t0 + b) * j->n_heads * hd, kvh, &s, b * g);
    int p1 = j->pos0 + t0 + 1;
    j->attend(&kv, s.q, nb * g, 0, p1, s.m, s.l, s.acc);
    for (int b = 1; b < nb; b++) {
        int64_t h = (int64_t)b * g;
        j->attend(&kv, s.q + h * hd, g, p1, p1 + b, s.m + h, s.l + h, s.acc + h * hd);
    }
    for (int b = 0; b < nb; b++)
        for (int h = 0; h < g; h++) {
            float *o = j->out + ((int64_t)(t0 + b) * j->n_heads + kvh * g + h) * hd;
            const float *a = s.acc + ((int64_t)b * g + h) * hd;
            float inv = 1.0f / s.l[b * g + h];
            for (int d = 0; d < hd; d++) o[d] = a[d] * inv;
        }
}

/* Positions [p0, p1) of one decode query (qtok: [n_heads, hd], over block table `table`), all
 * KV heads. The range is walked in pieces of j->piece positions, every KV head in turn over a
 * piece: a position's K (V) rows of all heads are adjacent in the cache, so the next head finds
 * the piece in L1 / L2 instead of the whole range being read from memory once per head. Writes the
 * partial state (m, l, acc) per query head to part ([n_heads, 2 + hd]), or, when part is NULL
 * (the whole range in one piece of work), the normalised output to out ([n_heads, hd]). */
static void decode_range(attn_job *j, int ith, const float *qtok, const int32_t *table, int p0,
                         int p1, float *part, float *out) {
    int n_kv = j->kv.n_kv, hd = j->hd, stride = 2 + hd;
    int row = n_kv * hd * (j->kv.dtype == LMR_DTYPE_F32 ? 4 : 2); /* bytes per position */
    const char *kpool = j->kv.k_pool, *vpool = j->kv.v_pool;
    group_state g[LMR_MAX_KV_GROUPS];
    for (int kvh = 0; kvh < n_kv; kvh++) {
        group_state_get(j, ith, kvh, j->group, &g[kvh]);
        group_state_load(j, qtok, kvh, &g[kvh], 0);
    }
    if (j->attend_heads) {
        float *q[LMR_MAX_KV_GROUPS], *m[LMR_MAX_KV_GROUPS], *l[LMR_MAX_KV_GROUPS],
            *acc[LMR_MAX_KV_GROUPS];
        for (int kvh = 0; kvh < n_kv; kvh++)
            q[kvh] = g[kvh].q, m[kvh] = g[kvh].m, l[kvh] = g[kvh].l, acc[kvh] = g[kvh].acc;
        lmr_kv_view kv = j->kv;
        kv.block_table = table;
        j->attend_heads(&kv, q, j->group, p0, p1, m, l, acc);
    } else
        for (int c0 = p0; c0 < p1; c0 += j->piece) {
            int c1 = p1 - c0 < j->piece ? p1 : c0 + j->piece;
            /* the K and V rows (all heads, adjacent in the cache) PF_AHEAD positions on */
            for (int p = c0 + PF_AHEAD; p < c0 + PF_AHEAD + j->piece && p < p1; p++) {
                int64_t o = ((int64_t)table[p / j->kv.bt] * j->kv.bt + p % j->kv.bt) * row;
                for (int x = 0; x < row; x += 64) {
                    PREFETCH(kpool + o + x);
                    PREFETCH(vpool + o + x);
                }
            }
            for (int kvh = 0; kvh < n_kv; kvh++) {
                lmr_kv_view kv = j->kv;
                kv.block_table = table;
                kv.kvh = kvh;
                j->attend(&kv, g[kvh].q, j->group, c0, c1, g[kvh].m, g[kvh].l, g[kvh].acc);
            }
        }
    for (int kvh = 0; kvh < n_kv; kvh++)
        for (int h = 0; h < j->group; h++) {
            const float *a = g[kvh].acc + (int64_t)h * hd;
            int qh = kvh * j->group + h;
            if (!part) {
                float inv = 1.0f / g[kvh].l[h], *o = out + (int64_t)qh * hd;
                for (int d = 0; d < hd; d++) o[d] = a[d] * inv;
                continue;
            }
            float *d = part + (int64_t)qh * stride;
            d[0] = p0 < p1 ? g[kvh].m[h] : -INFINITY;
            d[1] = g[kvh].l[h];
            memcpy(d + 2, a, (size_t)hd * sizeof(float));
        }
}

/* Decode of n_seq sequences (one query token each) as one set of work items: sequence i has
 * items first[i] .. first[i + 1] - 1, contiguous ranges of its positions. */
typedef struct {
    attn_job *j;
    const float *const *q;
    const int32_t *pos0;
    const int32_t *const *tables;
    float *const *out;
    const int *first, *item_seq;
    float *part; /* [n_items, n_heads, 2 + hd]; used by sequences split in several items */
} decode_batch;

static void decode_task(void *ctx, int ith, int it) {
    decode_batch *b = ctx;
    int i = b->item_seq[it], ns = b->first[i + 1] - b->first[i], sp = it - b->first[i];
    int n_pos = b->pos0[i] + 1;
    int p0 = (int)((int64_t)n_pos * sp / ns), p1 = (int)((int64_t)n_pos * (sp + 1) / ns);
    float *part = ns > 1 ? b->part + (size_t)it * b->j->n_heads * (2 + b->j->hd) : NULL;
    decode_range(b->j, ith, b->q[i], b->tables[i], p0, p1, part, b->out[i]);
}

/* Merges the ns partial states at part ([ns, n_heads, 2 + hd]) into out [n_heads, hd]. */
static void merge_splits(const float *part, int ns, int n_heads, int hd, float *out) {
    int stride = 2 + hd;
    for (int h = 0; h < n_heads; h++) {
        float M = -INFINITY;
        for (int i = 0; i < ns; i++) {
            float mi = part[((size_t)i * n_heads + h) * stride];
            if (mi > M) M = mi;
        }
        float L = 0.0f, *o = out + (int64_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int i = 0; i < ns; i++) {
            const float *s = part + ((size_t)i * n_heads + h) * stride;
            if (s[0] == -INFINITY) continue;
            float c = expf(s[0] - M);
            L += s[1] * c;
            for (int d = 0; d < hd; d++) o[d] += s[2 + d] * c;
        }
        for (int d = 0; d < hd; d++) o[d] /= L;
    }
}

/* Fills j for a kernel level; 0 when the per-thread buffers cannot be had (no memory). */
static int job_init(attn_job *j, lmr_pool *p, const void *k_pool, const void *v_pool,
                    int kv_dtype, int block_tokens, int n_heads, int n_kv_heads, int head_dim) {
    *j = (attn_job){.p = p, .n_heads = n_heads, .group = n_heads / n_kv_heads, .hd = head_dim,
                    .kv = {k_pool, v_pool, NULL, block_tokens, n_kv_heads, head_dim, kv_dtype, 0},
                    .scale = 1.0f / sqrtf((float)head_dim), .attend = lmr_attend_scalar,
                    .piece = PIECE, .nth = lmr_pool_size(p)};
    switch (lmr_cpu_isa()) {
#if LMR_HAVE_AVX2
    case LMR_ISA_AVX2:
        j->attend = lmr_attend_avx2, j->piece = PIECE_AVX2;
        if (n_kv_heads <= LMR_MAX_KV_GROUPS) j->attend_heads = lmr_attend_heads_avx2;
        break;
#endif
#if LMR_HAVE_AVX512
    case LMR_ISA_AVX512:
        j->attend = lmr_attend_avx512, j->piece = PIECE_AVX512;
        if (head_dim % 16 == 0 && head_dim <= 256 && n_heads <= 64)
            j->attend_heads = lmr_attend_heads_avx512;
        break;
#endif
#if LMR_HAVE_NEON
    case LMR_ISA_NEON: j->attend = lmr_attend_neon; break;
#endif
    default: break;
    }
    int ok = 1; /* allocated here so that the tasks never lack them */
    for (int i = 0; i < j->nth; i++) {
        group_state g = {0};
        if (!group_state_get(j, i, 0, j->group, &g)) ok = 0;
    }
    return ok;
}

static void attention_items(lmr_pool *p, const float *q, int n_tok, int pos0, const void *k_pool,
                            const void *v_pool, int kv_dtype, const int32_t *block_table,
                            int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                            float *out);

void lmr_cpu_attention_decode_n(lmr_pool *p, int n_seq, const float *const *q,
                                const int32_t *pos0, const void *k_pool, const void *v_pool,
                                int kv_dtype, const int32_t *const *block_tables,
                                int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                                float *const *out) {
    if (n_seq <= 0) return;
    if (n_kv_heads > LMR_MAX_KV_GROUPS) { /* decode_range keeps one state per KV head */
        for (int i = 0; i < n_seq; i++)
            attention_items(p, q[i], 1, pos0[i], k_pool, v_pool, kv_dtype, block_tables[i],
                            block_tokens, n_heads, n_kv_heads, head_dim, out[i]);
        return;
    }
    attn_job j;
    int ok = job_init(&j, p, k_pool, v_pool, kv_dtype, block_tokens, n_heads, n_kv_heads,
                      head_dim);
    /* Splits: a sequence's positions in ranges of at least SPLIT_MIN, and in proportion to its
     * share of all the batch's positions so that about CHUNKS_PER_THREAD items fall to a thread
     * (a single long sequence: that many splits; many short ones: one item each). */
    int64_t total = 0;
    for (int i = 0; i < n_seq; i++) total += (int64_t)pos0[i] + 1;
    int target = j.nth * CHUNKS_PER_THREAD;
    int *first = malloc(sizeof(int) * (size_t)(n_seq + 1)), n_items = 0;
    for (int i = 0; ok && first && i < n_seq; i++) {
        int64_t len = (int64_t)pos0[i] + 1;
        int64_t by_len = (len + SPLIT_MIN - 1) / SPLIT_MIN;
        int64_t by_share = (target * len + total - 1) / total;
        int ns = (int)(by_len < by_share ? by_len : by_share);
        if (ns < 1 || j.nth == 1) ns = 1;
        first[i] = n_items;
        n_items += ns;
    }
    int *item_seq = first ? malloc(sizeof(int) * (size_t)(n_items ? n_items : 1)) : NULL;
    float *part = NULL;
    if (first && item_seq && n_items > n_seq)
        part = malloc((size_t)n_items * n_heads * (2 + head_dim) * sizeof(float));
    if (!ok || !first || !item_seq || (n_items > n_seq && !part)) { /* no memory: slow, correct */
        for (int i = 0; i < n_seq; i++)
            lmr_cpu_attention_ref(q[i], 1, pos0[i], k_pool, v_pool, kv_dtype, block_tables[i],
                                  block_tokens, n_heads, n_kv_heads, head_dim, out[i]);
        free(first), free(item_seq), free(part);
        return;
    }
    first[n_seq] = n_items;
    for (int i = 0; i < n_seq; i++)
        for (int it = first[i]; it < first[i + 1]; it++) item_seq[it] = i;
    decode_batch b = {&j, q, pos0, block_tables, out, first, item_seq, part};
    /* one short sequence is too little work to dispatch */
    lmr_pool_run_chunks(n_items == 1 ? NULL : p, decode_task, &b, n_items);
    for (int i = 0; i < n_seq; i++) {
        int ns = first[i + 1] - first[i];
        if (ns > 1)
            merge_splits(part + (size_t)first[i] * n_heads * (2 + head_dim), ns, n_heads,
                         head_dim, out[i]);
    }
    free(first), free(item_seq), free(part);
}

/* Prefill (or decode with more KV heads than LMR_MAX_KV_GROUPS): (query token, KV head) items. */
static void attention_items(lmr_pool *p, const float *q, int n_tok, int pos0, const void *k_pool,
                            const void *v_pool, int kv_dtype, const int32_t *block_table,
                            int block_tokens, int n_heads, int n_kv_heads, int head_dim,
                            float *out) {
    attn_job j;
    if (!job_init(&j, p, k_pool, v_pool, kv_dtype, block_tokens, n_heads, n_kv_heads, head_dim)) {
        lmr_cpu_attention_ref(q, n_tok, pos0, k_pool, v_pool, kv_dtype, block_table,
                              block_tokens, n_heads, n_kv_heads, head_dim, out);
        return;
    }
    j.q = q, j.n_tok = n_tok, j.pos0 = pos0, j.out = out, j.kv.block_table = block_table;
    int tb = prefill_tokens(&j);
    lmr_pool_run_chunks(p, prefill_task, &j, (n_tok + tb - 1) / tb * n_kv_heads);
}

void lmr_cpu_attention(lmr_pool *p, const float *q, int n_tok, int pos0, const void *k_pool,
                       const void *v_pool, int kv_dtype, const int32_t *block_table,
                       int block_tokens, int n_heads, int n_kv_heads, int head_dim, float *out) {
    if (n_tok <= 0) return;
    if (n_tok == 1)
        lmr_cpu_attention_decode_n(p, 1, &q, &pos0, k_pool, v_pool, kv_dtype, &block_table,
                                   block_tokens, n_heads, n_kv_heads, head_dim, &out);
    else
        attention_items(p, q, n_tok, pos0, k_pool, v_pool, kv_dtype, block_table, block_tokens,
                        n_heads, n_kv_heads, head_dim, out);
}
