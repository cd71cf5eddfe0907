/* internal.h: the engine's private structures (behind the opaque handles of lmrig.h) and the
 * helpers every part of the engine shares: error messages, memory accounting, sampling. */
#ifndef LMR_INTERNAL_H
#define LMR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "lmrig.h"
#include "models/model_io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lmr_backend_ops lmr_backend_ops;
struct lmr_pool;

#define LMR_ERR_CAP 1024

struct lmr_engine {
    lmr_engine_params params;   /* as given, backend resolved (never AUTO) */
    const lmr_backend_ops *ops;
    lmr_engine_info info;       /* filled by ops->engine_init */
    lmr_counters counters;      /* current_bytes / peak_bytes kept by lmr_mem_add */
    char err[LMR_ERR_CAP];      /* last error message of any call on this engine */
    struct lmr_pool *pool;      /* host thread pool (CPU compute; host work on GPU backends) */
    void *priv;                 /* backend private state */
    int32_t n_models;           /* live models */
};

/* The tensors of one transformer layer, bound by Hugging Face name (biases NULL if absent). */
typedef struct {
    const lmr_tensor *in_norm;   /* input_layernorm.weight [hidden] */
    const lmr_tensor *q, *k, *v; /* self_attn.{q,k,v}_proj.weight [heads*head_dim, hidden] */
    const lmr_tensor *q_b, *k_b, *v_b; /* self_attn.{q,k,v}_proj.bias or NULL */
    const lmr_tensor *o;         /* self_attn.o_proj.weight [hidden, n_heads*head_dim] */
    const lmr_tensor *post_norm; /* post_attention_layernorm.weight [hidden] */
    const lmr_tensor *gate, *up; /* mlp.{gate,up}_proj.weight [ffn, hidden] */
    const lmr_tensor *down;      /* mlp.down_proj.weight [hidden, ffn] */
} lmr_layer_tensors;

struct lmr_model {
    lmr_engine *e;
    lmr_weights w;               /* owns the tensors (mmap'd or synthesized) */
    lmr_model_info info;
    const lmr_tensor *embed;     /* model.embed_tokens.weight [vocab, hidden] */
    const lmr_tensor *final_norm;/* model.norm.weight [hidden] */
    const lmr_tensor *lm_head;   /* lm_head.weight, or the embedding when tied [vocab, hidden] */
    lmr_layer_tensors *layers;   /* [n_layers] */
    uint64_t tracked_bytes;      /* engine-allocated bytes accounted to this model */
    void *priv;                  /* backend private (device copies, converted biases) */
    int32_t n_sessions;          /* live sessions */
};

/* Per-sequence random generator: xoshiro256** seeded by splitmix64. */
typedef struct {
    uint64_t s[4];
    uint64_t seed;   /* seed it was last seeded with */
    int32_t seeded;  /* 0 after reset: reseed on next use */
} lmr_rng;

typedef struct {
    float p;
    int32_t id;
} lmr_cand;

struct lmr_session {
    lmr_model *m;
    lmr_engine *e;
    lmr_session_params params;   /* resolved: no DEFAULT or 0 left */
    int32_t kv_elem_bytes;       /* bytes of one KV element */
    uint64_t kv_bytes;           /* bytes of the KV pool (all layers, K and V) */
    uint64_t kv_bytes_per_token;
    uint64_t tracked_bytes;      /* engine-allocated bytes accounted to this session */
    lmr_kv kv;                   /* block tables and free list */
    int32_t *seq_len;            /* [max_seqs] tokens in each sequence's cache */
    uint8_t *logits_ok;          /* [max_seqs] LMR_LOGITS_*: where the last token's logits are */
    float *logits;               /* [max_seqs, vocab] FP32 on the host (current when _HOST) */
    lmr_rng *rng;                /* [max_seqs] */
    lmr_cand *cand;              /* [vocab] sampling scratch */
    struct lmr_batch_entry *entries; /* [max_seqs] decode batch scratch */
    uint8_t *mark;               /* [max_seqs] duplicate check scratch, all 0 between calls */
    void *priv;                  /* backend private (KV storage, activations) */
};

/* Values of logits_ok[seq]: none (after reset, fill_kv, a failed call), current in s->logits,
 * or held only by the backend (ops->logits_on_device; lmr_logits_host fetches them once). */
#define LMR_LOGITS_NONE 0
#define LMR_LOGITS_HOST 1
#define LMR_LOGITS_DEVICE 2

/* One entry of a forward batch: n tokens of sequence seq starting at position pos0. */
typedef struct lmr_batch_entry {
    int32_t seq;
    int32_t pos0;        /* position of tokens[0]; the sequence's length before this call */
    int32_t n;           /* tokens (> 1 only for a prefill chunk, which comes alone) */
    int32_t want_logits; /* 1: write logits of the last token to s->logits + seq * vocab */
    const int32_t *tokens;
} lmr_batch_entry;

/* Format a message into e's error buffer (or this thread's when e is NULL); returns st. */
lmr_status lmr_fail(lmr_engine *e, lmr_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Return LMR_ERR_INVALID_ARG from the calling function, with the message on e (this thread's
 * when NULL), when the caller's struct *ptr has a size field other than sizeof(type):
 * "fn: what size is N, expected M (use type_default)". The one struct-size check of the ABI. */
#define LMR_CHECK_SIZE(e, fn, what, ptr, type) \
    do { \
        if ((ptr)->size != sizeof(type)) \
            return lmr_fail((e), LMR_ERR_INVALID_ARG, \
                            "%s: %s size is %u, expected %zu (use " #type "_default)", (fn), \
                            (what), (unsigned)(ptr)->size, sizeof(type)); \
    } while (0)
/* Buffer for the message of calls without an engine. */
char *lmr_tls_error(void);
/* Account delta bytes (negative on free) to e's current/peak counters. */
void lmr_mem_add(lmr_engine *e, int64_t delta);
/* Bytes of one element of a LMR_DTYPE_* (0 for an unknown dtype). */
int32_t lmr_dtype_bytes(int32_t dtype);
const char *lmr_dtype_name(int32_t dtype);

/* ---- session steps shared by api_session.c and api_generate.c (arguments checked) ---- */
lmr_status lmr_check_seq(lmr_session *s, const char *fn, int32_t seq);
lmr_status lmr_check_tokens(lmr_session *s, const char *fn, const int32_t *tok, int32_t n);
/* Append n tokens to seq in prefill chunks; logits of the last one. */
lmr_status lmr_prefill_run(lmr_session *s, const char *fn, int32_t seq, const int32_t *tokens,
                           int32_t n);
/* One decode step over n distinct non-empty sequences. */
lmr_status lmr_decode_run(lmr_session *s, const char *fn, const int32_t *seqs,
                          const int32_t *tokens, int32_t n);
/* After a successful forward that wrote seq's logits: LMR_LOGITS_HOST, or _DEVICE when the
 * backend keeps them (every place that sets logits after a forward goes through this). */
void lmr_logits_mark(lmr_session *s, int32_t seq);
/* seq's logits (logits_ok[seq] != NONE) on the host: s->logits + seq * vocab, fetched from the
 * backend first when only it holds them. NULL on a failed fetch (*st and the message set). */
const float *lmr_logits_host(lmr_session *s, const char *fn, int32_t seq, lmr_status *st);

/* ---- host sampling (sample.c) ---- */
void lmr_rng_seed(lmr_rng *r, uint64_t seed);
uint64_t lmr_rng_next(lmr_rng *r);
double lmr_rng_uniform(lmr_rng *r); /* [0, 1) with 53 bits */
/* Check the values of a sampler params struct (not NULL, size checked); writes the problem to
 * err. */
lmr_status lmr_sampler_check(const lmr_sampler_params *p, char *err, size_t errcap);
/* Non-finite (NaN or infinite) values in logits[vocab]: the count, and the first one's index in
 * *first (-1 when none). */
int32_t lmr_logits_nonfinite(const float *logits, int32_t vocab, int32_t *first);
/* Sample from logits[vocab] as p says (p checked). cand: scratch [vocab]. Returns -1 when a
 * logit is NaN or infinite (no token can be drawn); the caller reports LMR_ERR_NONFINITE. A
 * backend's own sampler (ops->sample) signals the same with a token outside [0, vocab). */
int32_t lmr_sample_logits(const float *logits, int32_t vocab, const lmr_sampler_params *p,
                          lmr_rng *rng, lmr_cand *cand);

#ifdef __cplusplus
}
#endif
#endif /* LMR_INTERNAL_H */
