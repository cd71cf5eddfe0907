/* check.cu: kernel checks for the tests (cuda_backend.h): copy host buffers to device 0, run one
 * launcher on the default stream, copy the result back. Not used by the engine. */
#include <stdio.h>
#include <string.h>

#include "common.cuh"
#include "cuda_backend.h"

/* Device buffers of one check, freed together. */
typedef struct {
    void *p[16];
    int n;
} dev_bufs;

static void *dev_put(dev_bufs *b, const void *host, size_t bytes, cudaError_t *err) {
    void *d = NULL;
    if (*err != cudaSuccess || b->n == 16) return NULL;
    if ((*err = cudaMalloc(&d, bytes ? bytes : 16)) != cudaSuccess) return NULL;
    b->p[b->n++] = d;
    if (host) *err = cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice);
    else *err = cudaMemset(d, 0, bytes);
    return d;
}

static void dev_free(dev_bufs *b) {
    for (int i = 0; i < b->n; i++) cudaFree(b->p[i]);
}

static lmr_status finish(dev_bufs *b, cudaError_t err, lmr_status st, const char *what,
                         char *msg, size_t cap) {
    if (st == LMR_OK && err == cudaSuccess) err = cudaDeviceSynchronize();
    dev_free(b);
    if (st != LMR_OK) {
        snprintf(msg, cap, "%s: %s", what, lmr_tls_error());
        return st;
    }
    if (err != cudaSuccess) {
        snprintf(msg, cap, "%s: %s", what, cudaGetErrorString(err));
        cudaGetLastError();
        return LMR_ERR_BACKEND;
    }
    return LMR_OK;
}

extern "C" lmr_status lmr_cuda_check_linear(int wdtype, int n, int in, int out, const void *W,
                                            const float *x, const float *bias, int mode,
                                            const float *norm_w, float eps, int splitk,
                                            float *y, char *msg, size_t cap) {
    dev_bufs b = {{0}, 0};
    cudaError_t err = cudaSetDevice(0);
    const size_t wb = lmr_cuda_mat_bytes(wdtype, (size_t)out, (size_t)in);
    const int yo = mode == LIN_SILU ? out / 2 : out;
    const size_t yb = sizeof(float) * (size_t)n * (size_t)yo;
    cu_linear a;
    memset(&a, 0, sizeof a);
    a.x = (const float *)dev_put(&b, x, sizeof(float) * (size_t)n * in, &err);
    a.ldx = in, a.n = n, a.in = in, a.wdtype = wdtype, a.out = out, a.ldy = yo, a.mode = mode;
    a.W = dev_put(&b, W, wb, &err);
    a.bias = bias ? (const float *)dev_put(&b, bias, sizeof(float) * (size_t)out, &err) : NULL;
    a.y = (float *)dev_put(&b, y, yb, &err);
    a.norm_w = norm_w ? (const float *)dev_put(&b, norm_w, sizeof(float) * (size_t)in, &err) : NULL;
    a.eps = eps;
    a.xa = dev_put(&b, NULL, 4 * (size_t)n * in, &err);
    a.xf = (float *)dev_put(&b, NULL, 4 * (size_t)n * in, &err);
    if (lmr_qd_block_elems(wdtype)) { /* quantised, many tokens: tiles of 64 rows */
        a.wq_elems = 64 * (int64_t)in;
        a.wq = dev_put(&b, NULL, 2 * (size_t)a.wq_elems, &err);
    }
    if (splitk) {
        a.ws_floats = lmr_cuda_splitk_ws_floats(lmr_cuda_sms());
        a.ws = (float *)dev_put(&b, NULL, sizeof(float) * (size_t)a.ws_floats, &err);
    }
    lmr_status st = LMR_OK;
    if (err == cudaSuccess) {
        cu_ctx c = {NULL, 0, 0, 0};
        st = lmr_cuda_linear(&c, &a);
        if (st == LMR_OK) err = cudaMemcpy(y, a.y, yb, cudaMemcpyDeviceToHost);
    }
    return finish(&b, err, st, "linear", msg, cap);
}

extern "C" lmr_status lmr_cuda_check_attention(const float *q, int n_tok, int pos0,
                                               const void *k_pool, const void *v_pool,
                                               int kv_dtype, int n_blocks,
                                               const int32_t *block_table, int n_table,
                                               int block_tokens, int n_heads, int n_kv_heads,
                                               int head_dim, int split, int fused,
                                               float *out, char *msg, size_t cap) {
    dev_bufs b = {{0}, 0};
    cudaError_t err = cudaSetDevice(0);
    const size_t pool = (size_t)lmr_dtype_bytes(kv_dtype) * (size_t)n_blocks * block_tokens *
                        n_kv_heads * head_dim;
    const int g = n_heads / n_kv_heads, maxlen = pos0 + n_tok;
    /* split > 0: that many keys per block (the prefill path); 0: the decode policy (keys per split
     * from each length, blocks looping over the splits); fused: unused */
    const int decode = !fused && split < 1;
    if (fused) split = maxlen;
    const int n_splits = decode ? lmr_cuda_att_splits_max(maxlen) : (maxlen + split - 1) / split;
    int32_t pos[1024], tokseq[1024];
    if (n_tok > 1024) {
        snprintf(msg, cap, "attention check: at most 1024 tokens");
        return LMR_ERR_INVALID_ARG;
    }
    for (int t = 0; t < n_tok; t++) pos[t] = pos0 + t, tokseq[t] = 0;
    cu_attention a;
    a.q = (const float *)dev_put(&b, q, sizeof(float) * (size_t)n_tok * n_heads * head_dim, &err);
    a.ldq = n_heads * head_dim, a.n_tok = n_tok, a.n_heads = n_heads, a.n_kv = n_kv_heads;
    a.head_dim = head_dim;
    a.pos = (const int32_t *)dev_put(&b, pos, sizeof(int32_t) * (size_t)n_tok, &err);
    a.tokseq = (const int32_t *)dev_put(&b, tokseq, sizeof(int32_t) * (size_t)n_tok, &err);
    a.tables = (const int32_t *)dev_put(&b, block_table, sizeof(int32_t) * (size_t)n_table, &err);
    a.mbs = n_table, a.bt = block_tokens;
    a.k_pool = dev_put(&b, k_pool, pool, &err);
    a.v_pool = dev_put(&b, v_pool, pool, &err);
    a.kv_dtype = kv_dtype, a.split = split, a.n_splits = n_splits;
    /* decode: fewer blocks than split slots, so blocks loop over splits as in decode (plan.h) */
    a.blocks = decode ? (n_splits + 1) / 2 : 0;
    a.part = (float *)dev_put(&b, NULL,
                              sizeof(float) * (size_t)n_tok * n_kv_heads * n_splits * g *
                                  (head_dim + 2),
                              &err);
    a.out = (float *)dev_put(&b, NULL, sizeof(float) * (size_t)n_tok * n_heads * head_dim, &err);
    lmr_status st = LMR_OK;
    if (err == cudaSuccess) {
        cu_ctx c = {NULL, 0, 0, 0};
        st = fused ? lmr_cuda_attention_prefill(&c, &a) : lmr_cuda_attention(&c, &a);
        if (st == LMR_OK)
            err = cudaMemcpy(out, a.out, sizeof(float) * (size_t)n_tok * n_heads * head_dim,
                             cudaMemcpyDeviceToHost);
    }
    return finish(&b, err, st, "attention", msg, cap);
}
