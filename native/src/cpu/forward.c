/* forward.c: the CPU forward pass, the specification the GPU backends follow op for op. It is
 * Hugging Face's Qwen2 / Llama decoder: embedding; per layer
 *   x = rmsnorm(h); q, k, v = linear(x) (+ bias); rope(q, k); cache k, v; h += o(attn(q, K, V))
 *   x = rmsnorm(h); h += down(silu(gate(x)) * up(x))
 * then the final rmsnorm and lm_head on the last token of each entry only.
 * The tokens of all entries are stacked into one [T, hidden] activation, so a batched decode
 * step reads each weight matrix once (a GEMM with n_tok = batch); attention runs per entry, the
 * decode entries of a step together in one dispatch (lmr_cpu_attention_decode_n). */
#include <stdlib.h>
#include <string.h>

#include "backend_cpu.h"
#include "clock.h"
#include "kernels.h"

/* Count n ops (and time them in profile mode); n > 1: ops fused into one dispatch, still
 * counted one by one so that the count matches the op list the GPU backends follow. */
#define OPS(n, call)                                                                             \
    do {                                                                                         \
        uint64_t t0_ = prof ? lmr_now_ns() : 0;                                                  \
        call;                                                                                    \
        if (prof) e->counters.kernel_ns += lmr_now_ns() - t0_;                                   \
        e->counters.kernels += (n);                                                              \
    } while (0)
#define OP(call) OPS(1, call)

/* Write k, v rows of T tokens into the layer's paged cache at their positions. */
static void cache_write(lmr_session *s, const lmr_batch_entry *en, int32_t n_en, int32_t layer) {
    lmr_cpu_session *c = s->priv;
    const lmr_model_info *mi = &s->m->info;
    int64_t kd = (int64_t)mi->n_kv_heads * mi->head_dim;
    int32_t bt = s->params.block_tokens, dt = s->params.kv_dtype;
    size_t row = (size_t)kd * (size_t)s->kv_elem_bytes;
    char *kp = lmr_cpu_k_pool(c, layer), *vp = lmr_cpu_v_pool(c, layer);
    int32_t t = 0;
    for (int32_t i = 0; i < n_en; i++) {
        const int32_t *table = lmr_kv_table(&s->kv, en[i].seq);
        for (int32_t j = 0; j < en[i].n; j++, t++) {
            int32_t p = en[i].pos0 + j;
            size_t slot = (size_t)table[p / bt] * (size_t)bt + (size_t)(p % bt);
            lmr_cpu_row_from_f32(c->k + t * kd, dt, kp + slot * row, kd);
            lmr_cpu_row_from_f32(c->v + t * kd, dt, vp + slot * row, kd);
        }
    }
}

/* Per-token ops (rmsnorm, rope, silu_mul) split by tokens over the pool when there are several
 * tokens (prefill); a single token runs on the calling thread (a dispatch would cost more). */
enum { EW_RMSNORM, EW_ROPE, EW_SILU };

typedef struct {
    int kind, T, n;  /* tokens, floats per token row */
    int chunks;      /* pieces the T tokens are cut into */
    float *x, *y;    /* rmsnorm x -> y; rope x in place; silu gate x, up y */
    const void *w;   /* rmsnorm weight */
    int wdtype, heads, hd;
    float eps;
    const int32_t *pos;
    double theta;
} ew_job;

static void ew_rows(const ew_job *j, int t0, int t1) {
    size_t off = (size_t)t0 * (size_t)j->n;
    switch (j->kind) {
    case EW_RMSNORM:
        lmr_cpu_rmsnorm(j->x + off, j->w, j->wdtype, j->eps, t1 - t0, j->n, j->y + off);
        break;
    case EW_ROPE:
        lmr_cpu_rope(j->x + off, t1 - t0, j->heads, j->hd, j->pos + t0, j->theta);
        break;
    default:
        lmr_cpu_silu_mul(j->x + off, j->y + off, t1 - t0, j->n);
        break;
    }
}

#define EW_CHUNKS_PER_THREAD 4 /* so that a late thread leaves its share to the others */

static void ew_task(void *ctx, int ith, int chunk) {
    (void)ith;
    const ew_job *j = ctx;
    int n = j->T < j->chunks ? j->T : j->chunks;
    int t0 = (int)((int64_t)j->T * chunk / n), t1 = (int)((int64_t)j->T * (chunk + 1) / n);
    if (t1 > t0) ew_rows(j, t0, t1);
}

static void ew_run(lmr_pool *pool, ew_job j) {
    j.chunks = lmr_pool_size(pool) * EW_CHUNKS_PER_THREAD;
    if (j.T == 1) ew_rows(&j, 0, 1);
    else lmr_pool_run_chunks(pool, ew_task, &j, j.T < j.chunks ? j.T : j.chunks);
}

static void rmsnorm(lmr_pool *p, const float *x, const lmr_tensor *w, float eps, int T, int n,
                    float *y) {
    ew_run(p, (ew_job){.kind = EW_RMSNORM, .T = T, .n = n, .x = (float *)x, .y = y, .w = w->data,
                       .wdtype = w->dtype, .eps = eps});
}

static void rope(lmr_pool *p, float *x, int T, int heads, int hd, const int32_t *pos,
                 double theta) {
    ew_run(p, (ew_job){.kind = EW_ROPE, .T = T, .n = heads * hd, .x = x, .heads = heads,
                       .hd = hd, .pos = pos, .theta = theta});
}

static void silu_mul(lmr_pool *p, float *gate, float *up, int T, int n) {
    ew_run(p, (ew_job){.kind = EW_SILU, .T = T, .n = n, .x = gate, .y = up});
}

/* Embedding rows into h and each token's position into pos. */
static void embed(lmr_session *s, const lmr_batch_entry *en, int32_t n_en) {
    lmr_cpu_session *c = s->priv;
    const lmr_tensor *E = s->m->embed; /* [vocab, hidden] */
    int32_t hid = s->m->info.hidden, t = 0;
    size_t row = (size_t)(E->bytes / (uint64_t)E->shape[0]); /* quantised: blocks of the row */
    for (int32_t i = 0; i < n_en; i++)
        for (int32_t j = 0; j < en[i].n; j++, t++) {
            c->pos[t] = en[i].pos0 + j;
            lmr_cpu_row_to_f32((const char *)E->data + (size_t)en[i].tokens[j] * row, E->dtype,
                               c->h + (size_t)t * hid, hid);
        }
}

lmr_status lmr_cpu_forward(lmr_session *s, const lmr_batch_entry *en, int32_t n_en) {
    lmr_engine *e = s->e;
    lmr_pool *pool = e->pool;
    const lmr_model *m = s->m;
    const lmr_cpu_model *cm = m->priv;
    lmr_cpu_session *c = s->priv;
    const lmr_model_info *mi = &m->info;
    const int prof = e->params.profile;
    const int hid = mi->hidden, ffn = mi->ffn, hd = mi->head_dim, vocab = mi->vocab;
    const int nh = mi->n_heads, nkv = mi->n_kv_heads, qd = nh * hd, kd = nkv * hd;
    const float eps = (float)mi->rms_eps;

    int32_t T = 0;
    for (int32_t i = 0; i < n_en; i++) T += en[i].n;
    if (T > c->max_tok)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "forward: %d tokens exceed the scratch of %d", T,
                        c->max_tok);

    OP(embed(s, en, n_en)); /* h: [T, hid] */

    /* Decode entries (one token each) run their attention as one batch: every sequence, KV head
     * and range of positions is a work item of the same dispatch. Without memory for the lists,
     * one call per entry (same result). */
    struct {
        const float **q;
        float **out;
        int32_t *pos0;
        const int32_t **tables;
    } dec = {0};
    void *dec_mem = n_en > 1 ? malloc((size_t)n_en * (3 * sizeof(void *) + sizeof(int32_t))) : NULL;
    if (dec_mem) {
        dec.q = dec_mem;
        dec.out = (float **)(dec.q + n_en);
        dec.tables = (const int32_t **)(dec.out + n_en);
        dec.pos0 = (int32_t *)(dec.tables + n_en);
    }

    for (int32_t l = 0; l < mi->n_layers; l++) {
        const lmr_layer_tensors *L = &m->layers[l];
        const float *bias = cm->qkv_bias ? cm->qkv_bias + (size_t)l * (size_t)(qd + 2 * kd) : NULL;

        /* Attention block. x: [T, hid]; q: [T, nh, hd]; k, v: [T, nkv, hd] */
        OP(rmsnorm(pool, c->h, L->in_norm, eps, T, hid, c->x));
        lmr_linear qkv[3] = { /* one dispatch: the three share x */
            {L->q->data, L->q->dtype, qd, bias, c->q, 0},
            {L->k->data, L->k->dtype, kd, bias ? bias + qd : NULL, c->k, 0},
            {L->v->data, L->v->dtype, kd, bias ? bias + qd + kd : NULL, c->v, 0}};
        OPS(3, lmr_cpu_matmul_n(pool, c->x, T, hid, qkv, 3));
        OP(rope(pool, c->q, T, nh, hd, c->pos, mi->rope_theta));
        OP(rope(pool, c->k, T, nkv, hd, c->pos, mi->rope_theta));
        OP(cache_write(s, en, n_en, l));
        int32_t t = 0, n_dec = 0;
        for (int32_t i = 0; i < n_en; i++) { /* att: [T, nh, hd] */
            if (en[i].n == 1 && dec.q) { /* decode entries: one dispatch for all, below */
                dec.q[n_dec] = c->q + (size_t)t * qd, dec.out[n_dec] = c->att + (size_t)t * qd;
                dec.pos0[n_dec] = en[i].pos0, dec.tables[n_dec++] = lmr_kv_table(&s->kv, en[i].seq);
            } else {
                OP(lmr_cpu_attention(pool, c->q + (size_t)t * qd, en[i].n, en[i].pos0,
                                     lmr_cpu_k_pool(c, l), lmr_cpu_v_pool(c, l),
                                     s->params.kv_dtype, lmr_kv_table(&s->kv, en[i].seq),
                                     s->params.block_tokens, nh, nkv, hd, c->att + (size_t)t * qd));
            }
            t += en[i].n;
        }
        if (n_dec)
            OPS(n_dec, lmr_cpu_attention_decode_n(pool, n_dec, dec.q, dec.pos0, lmr_cpu_k_pool(c, l),
                                                  lmr_cpu_v_pool(c, l), s->params.kv_dtype,
                                                  dec.tables, s->params.block_tokens, nh, nkv,
                                                  hd, dec.out));
        OP(lmr_cpu_matmul(pool, c->att, T, qd, L->o->data, L->o->dtype, hid, NULL, c->h, 1));

        /* MLP block. gate, up: [T, ffn] */
        OP(rmsnorm(pool, c->h, L->post_norm, eps, T, hid, c->x));
        lmr_linear gate_up[2] = {{L->gate->data, L->gate->dtype, ffn, NULL, c->gate, 0},
                                 {L->up->data, L->up->dtype, ffn, NULL, c->up, 0}};
        OPS(2, lmr_cpu_matmul_n(pool, c->x, T, hid, gate_up, 2));
        OP(silu_mul(pool, c->gate, c->up, T, ffn));
        OP(lmr_cpu_matmul(pool, c->gate, T, ffn, L->down->data, L->down->dtype, hid, NULL, c->h,
                          1));
    }

    free(dec_mem);

    /* Last token of each entry that wants logits -> x rows [n_out, hid], normed into h. */
    int32_t n_out = 0, t = 0;
    for (int32_t i = 0; i < n_en; i++) {
        t += en[i].n;
        if (en[i].want_logits)
            memcpy(c->x + (size_t)n_out++ * hid, c->h + (size_t)(t - 1) * hid,
                   sizeof(float) * (size_t)hid);
    }
    if (n_out == 0) return LMR_OK;
    OP(rmsnorm(pool, c->x, m->final_norm, eps, n_out, hid, c->h));
    /* A single entry writes straight into its row of the session's logits. */
    float *dst = n_out == 1 ? NULL : c->logits; /* [n_out, vocab] */
    for (int32_t i = 0; i < n_en && !dst; i++)
        if (en[i].want_logits) dst = s->logits + (size_t)en[i].seq * (size_t)vocab;
    OP(lmr_cpu_matmul(pool, c->h, n_out, hid, m->lm_head->data, m->lm_head->dtype, vocab, NULL,
                      dst, 0));
    if (n_out > 1) {
        int32_t r = 0;
        for (int32_t i = 0; i < n_en; i++)
            if (en[i].want_logits)
                memcpy(s->logits + (size_t)en[i].seq * (size_t)vocab,
                       c->logits + (size_t)r++ * vocab, sizeof(float) * (size_t)vocab);
    }
    return LMR_OK;
}
