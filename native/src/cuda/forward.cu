/* forward.cu: the CUDA forward pass, op for op the CPU backend's (cpu/forward.c):
 *   embed; per layer  x = rmsnorm(h); qkv = linear(x) + bias; rope(q, k) + cache write;
 *   att = attention(q, K, V); h += o(att);  x = rmsnorm(h); act = silu(gate(x)) * up(x);
 *   h += down(act);  then final rmsnorm and lm_head on the last token of each entry.
 * Fusions (same math, fewer kernels): rmsnorm is the prologue of the linear op that reads it
 * (GEMV) or a convert kernel before it (GEMM); q/k/v is one matrix, gate/up one interleaved
 * matrix whose epilogue is silu * up; residual adds are the epilogue of o and down; RoPE and the
 * cache write are one kernel. Each matrix keeps its own dtype (a GGUF file mixes F32/F16/BF16
 * and Q8_0/Q4_K/Q6_K per tensor): lmr_cuda_linear picks the kernel per matrix. Per-step inputs (tokens, positions, sequences, block tables) live
 * in device memory, so the GRAPH executor captures the decode step once per batch-size bucket
 * (1, 2, 4, ..., plan.h) and replays it, the batch padded to its bucket with masked rows
 * (position -1: no cache write, no key, logits into the spare last row); attention grids are
 * sized for max_ctx and exit early past each length, and every kernel computes a row the same
 * way whatever the batch, so eager and graph steps give the same bits. A prefill chunk uses the
 * fused attention kernel (attention_prefill.cu). The logits stay on the device (backend.h
 * logits_on_device): api.c fetches a row only when the host reads it. */
#include <string.h>

#include "clock.h"
#include "common.cuh"

#define TRY(call)                                                                                \
    do {                                                                                         \
        lmr_status st_ = (call);                                                                 \
        if (st_ != LMR_OK) return st_;                                                           \
    } while (0)

typedef struct {
    int T;                 /* tokens */
    int n_out;             /* rows into lm_head */
    const float *lm_x;     /* [n_out, hidden] rows of h (or of x after a gather) */
    const int32_t *gather; /* host: h rows to copy into x first, or NULL */
    int split, n_splits;   /* attention (flash-decoding) */
    int fused_att;         /* 1: attention_prefill (one entry of n > 1 tokens) */
    int att_blocks;        /* decode: blocks per (KV head, token) looping over the splits */
} step_plan;

static cu_hdr_view hdr_view(int32_t *base, int max_tok) {
    cu_hdr_view v;
    v.tokens = base;
    v.pos = base + max_tok;
    v.tokseq = base + 2 * max_tok;
    v.outseq = base + 3 * max_tok;
    return v;
}

/* Every kernel of one forward call on c's stream (captured or not). */
static lmr_status body(lmr_session *s, cu_ctx *c, const step_plan *pl) {
    const lmr_model *m = s->m;
    const cu_model *cm = (const cu_model *)m->priv;
    cu_session *cs = (cu_session *)s->priv;
    const lmr_model_info *mi = &m->info;
    const int hid = mi->hidden, ffn = mi->ffn, hd = mi->head_dim, vocab = mi->vocab;
    const int nh = mi->n_heads, nkv = mi->n_kv_heads, qd = nh * hd, kd = nkv * hd;
    const int T = pl->T, kvdt = s->params.kv_dtype;
    const int mbs = s->kv.max_blocks_seq, bt = s->params.block_tokens;
    const float eps = (float)mi->rms_eps;
    const cu_hdr_view hv = hdr_view(cs->d_hdr, cs->max_tok);
    const cu_engine *ce = (const cu_engine *)c->e->priv;
    float *ws = ce->splitk ? cs->ws : NULL; /* NULL: the GEMM never splits K */
    const int64_t wsf = cs->ws_floats;

    void *wq = cs->wq; /* dequantisation scratch of quantised matrices (prefill) */
    const int64_t wqn = cs->wq_elems;

    TRY(lmr_cuda_embed(c, hv.tokens, T, cm->embed, cm->embed_dt, hid, cs->h)); /* h: [T, hid] */
    for (int32_t l = 0; l < mi->n_layers; l++) {
        const cu_layer *L = &cm->layers[l];
        char *kp = (char *)cs->kv + (size_t)l * 2 * cs->layer_bytes, *vp = kp + cs->layer_bytes;

        /* Attention block. qkv: [T, qd + 2 kd]; att: [T, qd]. q, k, v of different dtypes (a
         * mixed GGUF) are three linears into the columns of qkv. */
        const int qrows = L->k ? qd : qd + 2 * kd;
        cu_linear qkv = {cs->h, hid, T, hid, L->qkv, L->qkv_dt, qrows, L->qkv_b, cs->qkv,
                         qd + 2 * kd, NULL, LIN_STORE, L->in_norm, eps, cs->xa, cs->xf, ws, wsf,
                         wq, wqn};
        TRY(lmr_cuda_linear(c, &qkv));
        if (L->k) {
            cu_linear k = qkv, v = qkv;
            k.W = L->k, k.wdtype = L->k_dt, k.out = kd, k.y = cs->qkv + qd;
            v.W = L->v, v.wdtype = L->v_dt, v.out = kd, v.y = cs->qkv + qd + kd;
            k.bias = L->qkv_b ? L->qkv_b + qd : NULL;
            v.bias = L->qkv_b ? L->qkv_b + qd + kd : NULL;
            TRY(lmr_cuda_linear(c, &k));
            TRY(lmr_cuda_linear(c, &v));
        }
        TRY(lmr_cuda_rope_cache(c, cs->qkv, T, nh, nkv, hd, cm->inv_freq, hv.pos, hv.tokseq,
                                cs->tables, mbs, bt, kp, vp, kvdt));
        cu_attention at = {cs->qkv, qd + 2 * kd, T, nh, nkv, hd, hv.pos, hv.tokseq, cs->tables,
                           mbs, bt, kp, vp, kvdt, pl->split, pl->n_splits, cs->part, cs->att,
                           pl->att_blocks};
        TRY(pl->fused_att ? lmr_cuda_attention_prefill(c, &at) : lmr_cuda_attention(c, &at));
        cu_linear o = {cs->att, qd, T, qd, L->o, L->o_dt, hid, NULL, cs->h, hid, NULL, LIN_ACC,
                       NULL, eps, cs->xa, cs->xf, ws, wsf, wq, wqn};
        TRY(lmr_cuda_linear(c, &o));

        /* MLP block. act: [T, ffn] */
        cu_linear gu = {cs->h, hid, T, hid, L->gate_up, L->gate_up_dt, 2 * ffn, NULL, cs->act,
                        ffn, NULL, LIN_SILU, L->post_norm, eps, cs->xa, cs->xf, ws, wsf, wq, wqn};
        TRY(lmr_cuda_linear(c, &gu));
        cu_linear dn = {cs->act, ffn, T, ffn, L->down, L->down_dt, hid, NULL, cs->h, hid, NULL,
                        LIN_ACC, NULL, eps, cs->xa, cs->xf, ws, wsf, wq, wqn};
        TRY(lmr_cuda_linear(c, &dn));
    }
    if (pl->n_out == 0) return LMR_OK;
    if (pl->gather) {
        lmr_engine *e_ = c->e;
        for (int i = 0; i < pl->n_out; i++)
            CU_TRY(cudaMemcpyAsync(cs->x + (size_t)i * hid, cs->h + (size_t)pl->gather[i] * hid,
                                   sizeof(float) * (size_t)hid, cudaMemcpyDeviceToDevice, c->st),
                   "gather of lm_head rows");
    }
    /* final rmsnorm fused into lm_head; row i of the output is the logits row of outseq[i] */
    cu_linear lm = {pl->lm_x, hid, pl->n_out, hid, cm->lm_head, cm->lm_head_dt, vocab, NULL,
                    cs->logits, vocab, hv.outseq, LIN_STORE, cm->final_norm, eps, cs->xa, cs->xf,
                    ws, wsf, wq, wqn};
    return lmr_cuda_linear(c, &lm);
}

/* The decode step of pl->T tokens (a bucket) as a graph, captured on first use. */
static lmr_status graph_get(lmr_session *s, const step_plan *pl, cudaGraphExec_t *out) {
    cu_session *cs = (cu_session *)s->priv;
    lmr_engine *e_ = s->e;
    const int slot = lmr_cuda_bucket_slot(pl->T);
    if (cs->graphs[slot]) {
        *out = cs->graphs[slot];
        return LMR_OK;
    }
    cu_ctx cap = {e_, ((cu_engine *)e_->priv)->stream, 0, 0};
    uint64_t t0 = lmr_now_ns();
    CU_TRY(cudaStreamBeginCapture(cap.st, cudaStreamCaptureModeThreadLocal),
           "begin capture of the decode step (batch %d)", pl->T);
    lmr_status st = body(s, &cap, pl);
    cudaGraph_t g = NULL;
    cudaError_t err = cudaStreamEndCapture(cap.st, &g);
    if (st != LMR_OK) {
        if (g) cudaGraphDestroy(g);
        cudaGetLastError();
        return st;
    }
    cudaGraphExec_t ge = NULL;
    if (err == cudaSuccess) err = cudaGraphInstantiate(&ge, g, 0);
    if (g) cudaGraphDestroy(g);
    if (err != cudaSuccess)
        return lmr_cuda_fail(e_, err, "capture of the decode step (batch %d)", pl->T);
    cs->graphs[slot] = ge;
    cs->graph_kernels[slot] = (int32_t)cap.kernels;
    e_->counters.graph_capture_ns += lmr_now_ns() - t0;
    *out = ge;
    return LMR_OK;
}

lmr_status lmr_cuda_forward(lmr_session *s, const lmr_batch_entry *en, int32_t n_en) {
    lmr_engine *e_ = s->e;
    cu_engine *ce = (cu_engine *)e_->priv;
    cu_session *cs = (cu_session *)s->priv;
    const lmr_model_info *mi = &s->m->info;
    const int mt = cs->max_tok;

    int32_t T = 0, maxlen = 0, n_out = 0, decode = 1;
    for (int32_t i = 0; i < n_en; i++) {
        T += en[i].n;
        if (en[i].pos0 + en[i].n > maxlen) maxlen = en[i].pos0 + en[i].n;
        n_out += en[i].want_logits ? 1 : 0;
        if (en[i].n != 1 || !en[i].want_logits) decode = 0;
    }
    if (T > mt)
        return lmr_fail(e_, LMR_ERR_INVALID_ARG, "forward: %d tokens exceed the scratch of %d", T,
                        mt);

    /* header: tokens, positions, sequence of each token, logits row of each output */
    const cu_hdr_view hv = hdr_view(cs->h_hdr, mt);
    int32_t t = 0, r = 0;
    int32_t gather[LMR_CUDA_GATHER_MAX];
    for (int32_t i = 0; i < n_en; i++) {
        for (int32_t j = 0; j < en[i].n; j++, t++) {
            hv.tokens[t] = en[i].tokens[j];
            hv.pos[t] = en[i].pos0 + j;
            hv.tokseq[t] = en[i].seq;
        }
        if (en[i].want_logits) {
            if (r < LMR_CUDA_GATHER_MAX) gather[r] = t - 1;
            hv.outseq[r++] = en[i].seq;
        }
        TRY(lmr_cuda_sync_table(s, en[i].seq, en[i].pos0 + en[i].n));
    }
    const int graph = decode && e_->info.executor == LMR_EXECUTOR_GRAPH;
    if (graph) { /* pad to the bucket: masked rows, logits into the spare row max_seqs */
        const int B = lmr_cuda_bucket(T);
        for (; t < B; t++, r++) {
            hv.tokens[t] = 0;
            hv.pos[t] = -1;
            hv.tokseq[t] = 0;
            hv.outseq[r] = s->params.max_seqs;
        }
        T = n_out = B;
    }
    CU_TRY(cudaMemcpyAsync(cs->d_hdr, cs->h_hdr, sizeof(int32_t) * cs->hdr_ints,
                           cudaMemcpyHostToDevice, ce->stream),
           "forward: upload of the step header");

    step_plan pl = {T, n_out, cs->h, NULL, LMR_CUDA_ATT_SPLIT, 0, 0, 0};
    if (decode) {
        pl.split = 0; /* from each token's length (lmr_cuda_att_split) */
        pl.n_splits = lmr_cuda_att_splits_max(s->params.max_ctx);
        pl.att_blocks = lmr_cuda_att_blocks(pl.n_splits, mi->n_kv_heads, T, ce->sms);
    } else {
        int per = (maxlen + LMR_CUDA_ATT_PREFILL_SPLITS - 1) / LMR_CUDA_ATT_PREFILL_SPLITS;
        pl.split = per > LMR_CUDA_ATT_SPLIT ? per : LMR_CUDA_ATT_SPLIT;
        pl.n_splits = (maxlen + pl.split - 1) / pl.split;
        if (n_en == 1) {
            pl.fused_att = T > 1 && ce->prefill_fused;
            pl.lm_x = cs->h + (size_t)(T - 1) * (size_t)mi->hidden;
        } else if (n_out > 0) {
            if (n_out > LMR_CUDA_GATHER_MAX)
                return lmr_fail(e_, LMR_ERR_UNSUPPORTED,
                                "forward: %d entries want logits in a mixed batch (at most %d)",
                                n_out, LMR_CUDA_GATHER_MAX);
            pl.lm_x = cs->x;
            pl.gather = gather;
        }
    }

    const int prof = e_->params.profile;
    if (graph) {
        cudaGraphExec_t ge = NULL;
        TRY(graph_get(s, &pl, &ge));
        if (prof) CU_TRY(cudaEventRecord(ce->ev0, ce->stream), "profile event");
        CU_TRY(cudaGraphLaunch(ge, ce->stream), "launch of the decode graph (batch %d)", T);
        e_->counters.kernels += (uint64_t)cs->graph_kernels[lmr_cuda_bucket_slot(T)];
        if (prof) {
            float ms = 0.0f;
            CU_TRY(cudaEventRecord(ce->ev1, ce->stream), "profile event");
            CU_TRY(cudaEventSynchronize(ce->ev1), "decode graph");
            CU_TRY(cudaEventElapsedTime(&ms, ce->ev0, ce->ev1), "profile time of the graph");
            e_->counters.kernel_ns += (uint64_t)((double)ms * 1e6);
        }
    } else {
        cu_ctx c = {e_, ce->stream, prof, 0};
        lmr_status st = body(s, &c, &pl);
        e_->counters.kernels += c.kernels;
        if (st != LMR_OK) {
            cudaStreamSynchronize(ce->stream);
            cudaGetLastError();
            return st;
        }
    }
    /* the logits stay in cs->logits (row = seq) until fetch_logits */
    CU_TRY(cudaStreamSynchronize(ce->stream), "forward (%d tokens, %d entries)", T, n_en);
    return LMR_OK;
}
