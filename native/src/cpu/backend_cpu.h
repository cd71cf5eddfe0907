/* backend_cpu.h: private state of the CPU backend, shared by backend_cpu.c (lifecycle, KV
 * storage, fill_kv) and forward.c (the forward pass). */
#ifndef LMR_BACKEND_CPU_H
#define LMR_BACKEND_CPU_H

#include "backend.h"

typedef struct {
    float *qkv_bias; /* [n_layers, q_dim + 2 * kv_dim] FP32 (q, k, v biases), NULL without */
} lmr_cpu_model;

typedef struct {
    void *kv;           /* [n_layers][K, V][n_blocks, block_tokens, n_kv_heads, head_dim] */
    size_t kv_map;      /* bytes mapped for kv */
    size_t layer_bytes; /* bytes of one layer's K (or V) pool */
    int32_t max_tok;    /* tokens one forward call can hold: max(prefill_chunk, max_seqs) */
    void *scratch;      /* one mapping for all activations below */
    size_t scratch_map;
    float *h;           /* [max_tok, hidden] residual stream */
    float *x;           /* [max_tok, hidden] normed input of a block */
    float *q;           /* [max_tok, n_heads * head_dim] */
    float *k, *v;       /* [max_tok, n_kv_heads * head_dim] */
    float *att;         /* [max_tok, n_heads * head_dim] attention output */
    float *gate, *up;   /* [max_tok, ffn] */
    float *logits;      /* [max_seqs, vocab] rows of a batched lm_head */
    int32_t *pos;       /* [max_tok] position of each token */
} lmr_cpu_session;

static inline char *lmr_cpu_k_pool(const lmr_cpu_session *c, int32_t layer) {
    return (char *)c->kv + (size_t)layer * 2 * c->layer_bytes;
}
static inline char *lmr_cpu_v_pool(const lmr_cpu_session *c, int32_t layer) {
    return (char *)c->kv + ((size_t)layer * 2 + 1) * c->layer_bytes;
}

lmr_status lmr_cpu_forward(lmr_session *s, const lmr_batch_entry *entries, int32_t n_entries);

#endif /* LMR_BACKEND_CPU_H */
