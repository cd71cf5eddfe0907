/* api_session.c: the public C ABI for sessions: parameter resolution, every argument check
 * (a refused call changes nothing), KV block reservation, chunking of prefill, batching of
 * decode, timing and counters. The backend only computes (backend.h). Sampling and the native
 * generate loop are in api_generate.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clock.h"

#define MAX_SEQS 4096
#define MAX_BLOCK_TOKENS 1024

LMR_API lmr_session_params lmr_session_params_default(void) {
    lmr_session_params p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.max_seqs = 1;
    p.max_ctx = 0; /* min(model max_pos, 4096) */
    p.kv_dtype = LMR_DTYPE_DEFAULT;
    return p;
}

LMR_API lmr_session_info lmr_session_info_default(void) {
    lmr_session_info i;
    memset(&i, 0, sizeof i);
    i.size = sizeof i;
    return i;
}

static void session_free(lmr_session *s) {
    if (s->priv) s->m->e->ops->session_free(s);
    if (s->tracked_bytes) lmr_mem_add(s->e, -(int64_t)s->tracked_bytes);
    lmr_kv_free(&s->kv);
    free(s->seq_len);
    free(s->logits_ok);
    free(s->logits);
    free(s->rng);
    free(s->cand);
    free(s->entries);
    free(s->mark);
    free(s);
}

/* Resolve defaults and check ranges; fills r. */
static lmr_status resolve(lmr_model *m, const lmr_session_params *p, lmr_session_params *r) {
    lmr_engine *e = m->e;
    const char *fn = "lmr_session_create";
    const lmr_model_info *mi = &m->info;
    *r = *p;
    if (p->max_seqs < 1 || p->max_seqs > MAX_SEQS)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: max_seqs %d must be in [1, %d]", fn,
                        p->max_seqs, MAX_SEQS);
    if (p->max_ctx < 0)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: max_ctx %d must be >= 0 (0 = default)", fn,
                        p->max_ctx);
    if (p->max_ctx > mi->max_pos)
        return lmr_fail(e, LMR_ERR_OUT_OF_RANGE,
                        "%s: max_ctx %d exceeds the model's max_position_embeddings %d", fn,
                        p->max_ctx, mi->max_pos);
    if (p->max_ctx == 0) r->max_ctx = mi->max_pos < 4096 ? mi->max_pos : 4096;
    if (p->kv_dtype == LMR_DTYPE_DEFAULT) r->kv_dtype = e->ops->default_kv_dtype;
    if (lmr_dtype_bytes(r->kv_dtype) == 0)
        return lmr_fail(e, LMR_ERR_UNSUPPORTED,
                        "%s: kv_dtype %d is not LMR_DTYPE_F32, F16, BF16 or DEFAULT", fn,
                        p->kv_dtype);
    if (p->prefill_chunk < 0)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: prefill_chunk %d must be >= 0 (0 = default)",
                        fn, p->prefill_chunk);
    if (p->prefill_chunk == 0) r->prefill_chunk = e->ops->default_prefill_chunk;
    if (r->prefill_chunk > r->max_ctx) r->prefill_chunk = r->max_ctx;
    if (p->block_tokens < 0 || p->block_tokens > MAX_BLOCK_TOKENS)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: block_tokens %d must be in [0, %d]", fn,
                        p->block_tokens, MAX_BLOCK_TOKENS);
    if (p->block_tokens == 0) r->block_tokens = 16;
    return LMR_OK;
}

LMR_API lmr_status lmr_session_create(lmr_model *m, const lmr_session_params *p,
                                      lmr_session **out) {
    const char *fn = "lmr_session_create";
    if (!m) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: model is NULL", fn);
    lmr_engine *e = m->e;
    if (!p || !out)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn, !p ? "params" : "out");
    *out = NULL;
    LMR_CHECK_SIZE(e, fn, "params", p, lmr_session_params);
    lmr_session_params r;
    lmr_status st = resolve(m, p, &r);
    if (st != LMR_OK) return st;

    const lmr_model_info *mi = &m->info;
    uint64_t per_tok = 2ull * (uint64_t)mi->n_layers * (uint64_t)mi->n_kv_heads *
                       (uint64_t)mi->head_dim * (uint64_t)lmr_dtype_bytes(r.kv_dtype);
    uint64_t per_block = per_tok * (uint64_t)r.block_tokens;
    int64_t blocks_seq = (r.max_ctx + r.block_tokens - 1) / r.block_tokens;
    int64_t n_blocks = blocks_seq * r.max_seqs;
    if (r.kv_budget_bytes > 0 && r.kv_budget_bytes / per_block < (uint64_t)n_blocks)
        n_blocks = (int64_t)(r.kv_budget_bytes / per_block);
    if (n_blocks < 1)
        return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY,
                        "%s: kv_budget_bytes %llu holds no KV block (%llu bytes of %d tokens)", fn,
                        (unsigned long long)r.kv_budget_bytes, (unsigned long long)per_block,
                        r.block_tokens);
    if (n_blocks > INT32_MAX)
        return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY, "%s: %lld KV blocks are too many", fn,
                        (long long)n_blocks);

    lmr_session *s = calloc(1, sizeof *s);
    if (!s) return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory", fn);
    s->m = m;
    s->e = e;
    s->params = r;
    s->kv_elem_bytes = lmr_dtype_bytes(r.kv_dtype);
    s->kv_bytes_per_token = per_tok;
    s->kv_bytes = per_block * (uint64_t)n_blocks;
    size_t ns = (size_t)r.max_seqs, vocab = (size_t)mi->vocab;
    uint64_t host = ns * vocab * sizeof(float) + vocab * sizeof(lmr_cand);
    s->seq_len = calloc(ns, sizeof *s->seq_len);
    s->logits_ok = calloc(ns, 1);
    s->mark = calloc(ns, 1);
    s->rng = calloc(ns, sizeof *s->rng);
    s->entries = calloc(ns, sizeof *s->entries);
    s->logits = calloc(ns * vocab, sizeof(float));
    s->cand = malloc(vocab * sizeof(lmr_cand));
    if (!s->seq_len || !s->logits_ok || !s->mark || !s->rng || !s->entries || !s->logits ||
        !s->cand || lmr_kv_init(&s->kv, (int32_t)n_blocks, r.block_tokens, r.max_seqs,
                                r.max_ctx) != 0) {
        session_free(s);
        return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory for %llu bytes of logits",
                        fn, (unsigned long long)host);
    }
    st = e->ops->session_init(s);
    if (st != LMR_OK) {
        char why[LMR_ERR_CAP];
        snprintf(why, sizeof why, "%s", e->err);
        session_free(s);
        return lmr_fail(e, st, "%s: %s", fn, why);
    }
    s->tracked_bytes += host; /* counted once the backend accepted the session */
    lmr_mem_add(e, (int64_t)host);
    m->n_sessions++;
    *out = s;
    return LMR_OK;
}

LMR_API void lmr_session_destroy(lmr_session *s) {
    if (!s) return;
    s->m->n_sessions--;
    session_free(s);
}

LMR_API lmr_status lmr_session_info_get(lmr_session *s, lmr_session_info *out) {
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_session_info_get: session is NULL");
    if (!out) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "lmr_session_info_get: out is NULL");
    LMR_CHECK_SIZE(s->e, "lmr_session_info_get", "out", out, lmr_session_info);
    lmr_session_info i = lmr_session_info_default();
    i.max_seqs = s->params.max_seqs;
    i.max_ctx = s->params.max_ctx;
    i.kv_dtype = s->params.kv_dtype;
    i.block_tokens = s->params.block_tokens;
    i.n_blocks = s->kv.n_blocks;
    i.free_blocks = s->kv.n_free;
    i.prefill_chunk = s->params.prefill_chunk;
    i.kv_bytes = s->kv_bytes;
    i.kv_bytes_per_token = s->kv_bytes_per_token;
    *out = i;
    return LMR_OK;
}

lmr_status lmr_check_seq(lmr_session *s, const char *fn, int32_t seq) {
    if (seq < 0 || seq >= s->params.max_seqs)
        return lmr_fail(s->e, LMR_ERR_OUT_OF_RANGE, "%s: seq %d is outside [0, %d) (max_seqs)",
                        fn, seq, s->params.max_seqs);
    return LMR_OK;
}

lmr_status lmr_check_tokens(lmr_session *s, const char *fn, const int32_t *tok, int32_t n) {
    int32_t vocab = s->m->info.vocab;
    for (int32_t i = 0; i < n; i++)
        if (tok[i] < 0 || tok[i] >= vocab)
            return lmr_fail(s->e, LMR_ERR_OUT_OF_RANGE,
                            "%s: token id %d at index %d is outside [0, %d) (vocab)", fn, tok[i],
                            i, vocab);
    return LMR_OK;
}

static lmr_status out_of_blocks(lmr_session *s, const char *fn, int32_t seq, int32_t need) {
    return lmr_fail(s->e, LMR_ERR_OUT_OF_MEMORY,
                    "%s: KV pool out of blocks: seq %d needs %d more, %d of %d free "
                    "(%d tokens per block; raise kv_budget_bytes or reset sequences)",
                    fn, seq, need, s->kv.n_free, s->kv.n_blocks, s->params.block_tokens);
}

/* The model's files as loaded: a file truncated under its mmap would raise SIGBUS mid-forward. */
static lmr_status files_unchanged(lmr_session *s, const char *fn) {
    if (!s->m->w.n_files) return LMR_OK;
    char why[600];
    lmr_status st = lmr_weights_check_files(&s->m->w, why, sizeof why);
    return st ? lmr_fail(s->e, st, "%s: %s", fn, why) : LMR_OK;
}

lmr_status lmr_prefill_run(lmr_session *s, const char *fn, int32_t seq, const int32_t *tokens,
                           int32_t n) {
    lmr_engine *e = s->e;
    lmr_status fst = files_unchanged(s, fn);
    if (fst) return fst;
    int32_t len = s->seq_len[seq];
    if ((int64_t)len + n > s->params.max_ctx)
        return lmr_fail(e, LMR_ERR_OUT_OF_RANGE,
                        "%s: seq %d holds %d tokens; %d more would pass max_ctx %d", fn, seq, len,
                        n, s->params.max_ctx);
    if (lmr_kv_reserve(&s->kv, seq, len + n) != 0)
        return out_of_blocks(s, fn, seq, lmr_kv_blocks_needed(&s->kv, seq, len + n));
    uint64_t t0 = lmr_now_ns();
    for (int32_t done = 0; done < n;) {
        int32_t c = n - done < s->params.prefill_chunk ? n - done : s->params.prefill_chunk;
        lmr_batch_entry en = {seq, len + done, c, done + c == n, tokens + done};
        lmr_status st = e->ops->forward(s, &en, 1);
        if (st != LMR_OK) {
            char why[LMR_ERR_CAP];
            snprintf(why, sizeof why, "%s", e->err);
            lmr_kv_truncate(&s->kv, seq, len);
            s->logits_ok[seq] = 0;
            return lmr_fail(e, st, "%s: %s", fn, why);
        }
        done += c;
    }
    uint64_t dt = lmr_now_ns() - t0;
    s->seq_len[seq] = len + n;
    lmr_logits_mark(s, seq);
    e->counters.prefill_ns += dt;
    e->counters.prefill_tokens += (uint64_t)n;
    e->counters.last_call_ns = dt;
    return LMR_OK;
}

LMR_API lmr_status lmr_session_prefill(lmr_session *s, int32_t seq, const int32_t *tokens,
                                       int32_t n) {
    const char *fn = "lmr_session_prefill";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    if (!tokens) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: tokens is NULL", fn);
    if (n <= 0) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: n %d must be > 0", fn, n);
    lmr_status st;
    if ((st = lmr_check_seq(s, fn, seq)) || (st = lmr_check_tokens(s, fn, tokens, n))) return st;
    return lmr_prefill_run(s, fn, seq, tokens, n);
}

lmr_status lmr_decode_run(lmr_session *s, const char *fn, const int32_t *seqs,
                          const int32_t *tokens, int32_t n) {
    lmr_engine *e = s->e;
    lmr_status fst = files_unchanged(s, fn);
    if (fst) return fst;
    for (int32_t i = 0; i < n; i++) {
        int32_t q = seqs[i];
        if (s->seq_len[q] >= s->params.max_ctx)
            return lmr_fail(e, LMR_ERR_OUT_OF_RANGE,
                            "%s: seq %d (index %d) is full at max_ctx %d tokens", fn, q, i,
                            s->params.max_ctx);
    }
    for (int32_t i = 0; i < n; i++) {
        int32_t q = seqs[i];
        if (lmr_kv_reserve(&s->kv, q, s->seq_len[q] + 1) != 0) {
            int32_t need = lmr_kv_blocks_needed(&s->kv, q, s->seq_len[q] + 1);
            for (int32_t j = 0; j < i; j++) lmr_kv_truncate(&s->kv, seqs[j], s->seq_len[seqs[j]]);
            return out_of_blocks(s, fn, q, need);
        }
        s->entries[i] = (lmr_batch_entry){q, s->seq_len[q], 1, 1, tokens + i};
    }
    uint64_t k0 = e->counters.kernels, t0 = lmr_now_ns();
    lmr_status st = e->ops->forward(s, s->entries, n);
    uint64_t dt = lmr_now_ns() - t0;
    if (st != LMR_OK) {
        char why[LMR_ERR_CAP];
        snprintf(why, sizeof why, "%s", e->err);
        for (int32_t i = 0; i < n; i++) {
            lmr_kv_truncate(&s->kv, seqs[i], s->seq_len[seqs[i]]);
            s->logits_ok[seqs[i]] = 0;
        }
        return lmr_fail(e, st, "%s: %s", fn, why);
    }
    for (int32_t i = 0; i < n; i++) {
        s->seq_len[seqs[i]]++;
        lmr_logits_mark(s, seqs[i]);
    }
    e->counters.decode_ns += dt;
    e->counters.decode_steps++;
    e->counters.decode_tokens += (uint64_t)n;
    e->counters.kernels_last_step = e->counters.kernels - k0;
    e->counters.last_call_ns = dt;
    return LMR_OK;
}

LMR_API lmr_status lmr_session_decode(lmr_session *s, const int32_t *seqs, const int32_t *tokens,
                                      int32_t n) {
    const char *fn = "lmr_session_decode";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    if (!seqs || !tokens)
        return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !seqs ? "seqs" : "tokens");
    if (n <= 0 || n > s->params.max_seqs)
        return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: n %d must be in [1, %d] (max_seqs)", fn,
                        n, s->params.max_seqs);
    lmr_status st = LMR_OK;
    for (int32_t i = 0; i < n && st == LMR_OK; i++) {
        if ((st = lmr_check_seq(s, fn, seqs[i]))) break;
        if (s->mark[seqs[i]])
            st = lmr_fail(s->e, LMR_ERR_INVALID_ARG,
                          "%s: seq %d appears twice in the batch (index %d)", fn, seqs[i], i);
        else if (s->seq_len[seqs[i]] == 0)
            st = lmr_fail(s->e, LMR_ERR_STATE,
                          "%s: seq %d (index %d) is empty; prefill or fill_kv it first", fn,
                          seqs[i], i);
        s->mark[seqs[i]] = 1;
    }
    for (int32_t i = 0; i < n; i++)
        if (seqs[i] >= 0 && seqs[i] < s->params.max_seqs) s->mark[seqs[i]] = 0;
    if (st != LMR_OK || (st = lmr_check_tokens(s, fn, tokens, n))) return st;
    return lmr_decode_run(s, fn, seqs, tokens, n);
}

LMR_API lmr_status lmr_session_logits(lmr_session *s, int32_t seq, float *out, int32_t cap) {
    const char *fn = "lmr_session_logits";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    if (!out) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: out is NULL", fn);
    lmr_status st = lmr_check_seq(s, fn, seq);
    if (st != LMR_OK) return st;
    int32_t vocab = s->m->info.vocab;
    if (cap < vocab)
        return lmr_fail(s->e, LMR_ERR_BUFFER_TOO_SMALL, "%s: cap %d is below vocab %d", fn, cap,
                        vocab);
    if (!s->logits_ok[seq])
        return lmr_fail(s->e, LMR_ERR_STATE,
                        "%s: seq %d has no logits: prefill or decode it first (fill_kv and reset "
                        "leave none)",
                        fn, seq);
    const float *row = lmr_logits_host(s, fn, seq, &st);
    if (!row) return st;
    memcpy(out, row, sizeof(float) * (size_t)vocab);
    return LMR_OK;
}

void lmr_logits_mark(lmr_session *s, int32_t seq) {
    s->logits_ok[seq] = s->e->ops->logits_on_device ? LMR_LOGITS_DEVICE : LMR_LOGITS_HOST;
}

const float *lmr_logits_host(lmr_session *s, const char *fn, int32_t seq, lmr_status *st) {
    float *row = s->logits + (size_t)seq * (size_t)s->m->info.vocab;
    *st = LMR_OK;
    if (s->logits_ok[seq] != LMR_LOGITS_DEVICE) return row;
    if ((*st = s->e->ops->fetch_logits(s, seq, row)) != LMR_OK) {
        char why[LMR_ERR_CAP];
        snprintf(why, sizeof why, "%s", s->e->err);
        lmr_fail(s->e, *st, "%s: copy of seq %d's logits to the host: %s", fn, seq, why);
        return NULL;
    }
    s->logits_ok[seq] = LMR_LOGITS_HOST;
    return row;
}

LMR_API lmr_status lmr_session_seq_len(lmr_session *s, int32_t seq, int32_t *out) {
    const char *fn = "lmr_session_seq_len";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    if (!out) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: out is NULL", fn);
    lmr_status st = lmr_check_seq(s, fn, seq);
    if (st == LMR_OK) *out = s->seq_len[seq];
    return st;
}

LMR_API lmr_status lmr_session_reset(lmr_session *s, int32_t seq) {
    const char *fn = "lmr_session_reset";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    lmr_status st = lmr_check_seq(s, fn, seq);
    if (st != LMR_OK) return st;
    lmr_kv_truncate(&s->kv, seq, 0);
    s->seq_len[seq] = 0;
    s->logits_ok[seq] = 0;
    s->rng[seq].seeded = 0;
    return LMR_OK;
}

LMR_API lmr_status lmr_session_fill_kv(lmr_session *s, int32_t seq, int32_t pos, uint64_t seed) {
    const char *fn = "lmr_session_fill_kv";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    lmr_status st = lmr_check_seq(s, fn, seq);
    if (st != LMR_OK) return st;
    if (pos < 0 || pos > s->params.max_ctx)
        return lmr_fail(s->e, LMR_ERR_OUT_OF_RANGE, "%s: pos %d is outside [0, %d] (max_ctx)", fn,
                        pos, s->params.max_ctx);
    int32_t bt = s->params.block_tokens, want = (pos + bt - 1) / bt;
    if (want > s->kv.n_free + s->kv.n_held[seq])
        return out_of_blocks(s, fn, seq, want - s->kv.n_held[seq]);
    lmr_kv_truncate(&s->kv, seq, pos < s->seq_len[seq] ? pos : s->seq_len[seq]);
    lmr_kv_reserve(&s->kv, seq, pos); /* fits: checked above */
    s->logits_ok[seq] = 0;
    s->seq_len[seq] = 0;
    if (pos > 0 && (st = s->e->ops->fill_kv(s, seq, pos, seed)) != LMR_OK) {
        char why[LMR_ERR_CAP];
        snprintf(why, sizeof why, "%s", s->e->err);
        lmr_kv_truncate(&s->kv, seq, 0);
        return lmr_fail(s->e, st, "%s: %s", fn, why);
    }
    s->seq_len[seq] = pos;
    return LMR_OK;
}
