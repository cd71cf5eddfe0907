/* api_generate.c: the public C ABI for sampling and the native generate loop, which times each
 * step itself (step_ns[0] = TTFT = prefill + first sample; step_ns[i] = decode forward + sample)
 * so no FFI or caller overhead enters the figures. */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "clock.h"

LMR_API lmr_sampler_params lmr_sampler_params_default(void) {
    lmr_sampler_params p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.temperature = 0.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    return p;
}

LMR_API lmr_generate_stats lmr_generate_stats_default(void) {
    lmr_generate_stats g;
    memset(&g, 0, sizeof g);
    g.size = sizeof g;
    return g;
}

/* No token could be drawn from seq's logits (a sampler returned `token`, outside the vocab):
 * LMR_ERR_NONFINITE naming the sequence, position, layer count and the bad logits. */
static lmr_status nonfinite(lmr_session *s, const char *fn, int32_t seq, int32_t token) {
    lmr_engine *e = s->e;
    int32_t vocab = s->m->info.vocab;
    lmr_status st = LMR_OK;
    const float *row = lmr_logits_host(s, fn, seq, &st);
    if (!row) return st;
    int32_t first, bad = lmr_logits_nonfinite(row, vocab, &first);
    if (!bad)
        return lmr_fail(e, LMR_ERR_BACKEND, "%s: seq %d: the sampler returned token %d outside "
                        "[0, %d) from finite logits", fn, seq, token, vocab);
    return lmr_fail(e, LMR_ERR_NONFINITE,
                    "%s: seq %d position %d: %d of %d logits are not finite (first: token %d = "
                    "%g) after %d layers; the weights or activations overflowed or hold NaN",
                    fn, seq, s->seq_len[seq] - 1, bad, vocab, first, (double)row[first],
                    s->m->info.n_layers);
}

/* Sample seq's next token (arguments checked, logits present); adds its time to *ns. */
static lmr_status sample_run(lmr_session *s, const char *fn, int32_t seq,
                             const lmr_sampler_params *p, int32_t *out, uint64_t *ns) {
    lmr_engine *e = s->e;
    uint64_t t0 = lmr_now_ns();
    lmr_rng *r = &s->rng[seq];
    if (!r->seeded || r->seed != p->seed) lmr_rng_seed(r, p->seed);
    lmr_status st = LMR_OK;
    int32_t tok = -1;
    if (e->ops->sample) {
        st = e->ops->sample(s, seq, p, &tok);
        if (st != LMR_OK) {
            char why[LMR_ERR_CAP];
            snprintf(why, sizeof why, "%s", e->err);
            return lmr_fail(e, st, "%s: %s", fn, why);
        }
    } else {
        const float *row = lmr_logits_host(s, fn, seq, &st);
        if (!row) return st;
        tok = lmr_sample_logits(row, s->m->info.vocab, p, r, s->cand);
    }
    if (tok < 0 || tok >= s->m->info.vocab) return nonfinite(s, fn, seq, tok);
    *out = tok;
    uint64_t dt = lmr_now_ns() - t0;
    e->counters.sample_ns += dt;
    *ns += dt;
    return st;
}

static lmr_status check_sampler(lmr_session *s, const char *fn, const lmr_sampler_params *p) {
    if (!p) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: sampler params are NULL", fn);
    LMR_CHECK_SIZE(s->e, fn, "sampler params", p, lmr_sampler_params);
    char err[256];
    lmr_status st = lmr_sampler_check(p, err, sizeof err);
    return st == LMR_OK ? st : lmr_fail(s->e, st, "%s: %s", fn, err);
}

LMR_API lmr_status lmr_session_sample(lmr_session *s, int32_t seq, const lmr_sampler_params *p,
                                      int32_t *out_token) {
    const char *fn = "lmr_session_sample";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    if (!out_token) return lmr_fail(s->e, LMR_ERR_INVALID_ARG, "%s: out_token is NULL", fn);
    lmr_status st;
    if ((st = lmr_check_seq(s, fn, seq)) || (st = check_sampler(s, fn, p))) return st;
    if (!s->logits_ok[seq])
        return lmr_fail(s->e, LMR_ERR_STATE,
                        "%s: seq %d has no logits to sample: prefill or decode it first", fn, seq);
    uint64_t ns = 0;
    st = sample_run(s, fn, seq, p, out_token, &ns);
    if (st == LMR_OK) s->e->counters.last_call_ns = ns;
    return st;
}

LMR_API lmr_status lmr_session_generate(lmr_session *s, int32_t seq, const int32_t *prompt,
                                        int32_t n_prompt, int32_t n_gen,
                                        const lmr_sampler_params *sp, int32_t *out_tokens,
                                        uint64_t *step_ns, lmr_generate_stats *stats) {
    const char *fn = "lmr_session_generate";
    if (!s) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: session is NULL", fn);
    lmr_engine *e = s->e;
    if (!prompt || !out_tokens)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !prompt ? "prompt" : "out_tokens");
    if (n_prompt <= 0 || n_gen <= 0)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s %d must be > 0", fn,
                        n_prompt <= 0 ? "n_prompt" : "n_gen", n_prompt <= 0 ? n_prompt : n_gen);
    if (stats) LMR_CHECK_SIZE(e, fn, "stats", stats, lmr_generate_stats);
    lmr_status st;
    if ((st = lmr_check_seq(s, fn, seq)) || (st = check_sampler(s, fn, sp)) ||
        (st = lmr_check_tokens(s, fn, prompt, n_prompt)))
        return st;
    /* The last generated token is sampled, never appended. */
    int64_t end = (int64_t)s->seq_len[seq] + n_prompt + n_gen - 1;
    if (end > s->params.max_ctx)
        return lmr_fail(e, LMR_ERR_OUT_OF_RANGE,
                        "%s: seq %d holds %d tokens; %d prompt + %d generated would pass max_ctx "
                        "%d",
                        fn, seq, s->seq_len[seq], n_prompt, n_gen, s->params.max_ctx);
    int32_t bt = s->params.block_tokens, want = (int32_t)((end + bt - 1) / bt);
    if (want > s->kv.n_free + s->kv.n_held[seq])
        return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY,
                        "%s: KV pool out of blocks: seq %d needs %d blocks for %lld tokens, %d "
                        "free of %d",
                        fn, seq, want, (long long)end, s->kv.n_free + s->kv.n_held[seq],
                        s->kv.n_blocks);

    lmr_generate_stats g = lmr_generate_stats_default();
    g.n_prompt = n_prompt;
    uint64_t t0 = lmr_now_ns();
    if ((st = lmr_prefill_run(s, fn, seq, prompt, n_prompt))) return st;
    uint64_t t1 = lmr_now_ns();
    g.prefill_ns = t1 - t0;
    if ((st = sample_run(s, fn, seq, sp, &out_tokens[0], &g.sample_ns))) {
        if (stats) *stats = g; /* n_generated 0: the prompt ran, no token came out */
        return st;
    }
    uint64_t prev = lmr_now_ns();
    g.ttft_ns = prev - t0;
    if (step_ns) step_ns[0] = g.ttft_ns;
    g.n_generated = 1;
    for (int32_t i = 1; i < n_gen; i++) {
        uint64_t a = lmr_now_ns();
        if ((st = lmr_decode_run(s, fn, &seq, &out_tokens[i - 1], 1))) break;
        g.decode_ns += lmr_now_ns() - a;
        if ((st = sample_run(s, fn, seq, sp, &out_tokens[i], &g.sample_ns))) break;
        uint64_t now = lmr_now_ns();
        if (step_ns) step_ns[i] = now - prev;
        prev = now;
        g.n_generated = i + 1;
    }
    g.total_ns = lmr_now_ns() - t0;
    e->counters.last_call_ns = g.total_ns;
    if (stats) *stats = g;
    return st;
}
