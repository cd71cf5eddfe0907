/* cuda_logits_test.c: the bookkeeping of device-resident logits (backend.h logits_on_device,
 * fetch_logits), as the CUDA backend uses it, checked on any machine: a fake "device" backend
 * wraps the CPU backend, moves each forward's logits into its own buffer and poisons the host
 * rows with NaN, so any host read that skips the fetch shows. Against a plain CPU engine:
 * logits read after prefill/decode are identical, fetched once per forward and only when read;
 * a decode step and on-device greedy sampling fetch nothing; host sampling fetches each step;
 * reset/fill_kv leave none; a failed fetch reports and can be retried. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"

#define MAX_SEQS 2

static float *dev_logits;  /* [MAX_SEQS, vocab]: the fake device's rows */
static int32_t dev_vocab;
static int fetches, fail_fetch;

static lmr_status fake_forward(lmr_session *s, const lmr_batch_entry *en, int32_t n) {
    lmr_status st = lmr_cpu_backend.forward(s, en, n);
    if (st != LMR_OK) return st;
    for (int32_t i = 0; i < n; i++) {
        if (!en[i].want_logits) continue;
        float *host = s->logits + (size_t)en[i].seq * (size_t)dev_vocab;
        memcpy(dev_logits + (size_t)en[i].seq * (size_t)dev_vocab, host,
               sizeof(float) * (size_t)dev_vocab);
        for (int32_t k = 0; k < dev_vocab; k++) host[k] = NAN;
    }
    return LMR_OK;
}

static lmr_status fake_fetch(lmr_session *s, int32_t seq, float *out) {
    if (fail_fetch) return lmr_fail(s->e, LMR_ERR_BACKEND, "fake device lost");
    fetches++;
    memcpy(out, dev_logits + (size_t)seq * (size_t)dev_vocab, sizeof(float) * (size_t)dev_vocab);
    return LMR_OK;
}

/* Greedy "on the device" (no fetch); other samplers through the host path, as cuda does. */
static lmr_status fake_sample(lmr_session *s, int32_t seq, const lmr_sampler_params *p,
                              int32_t *out) {
    if (p->temperature == 0.0f || p->top_k == 1) {
        const float *x = dev_logits + (size_t)seq * (size_t)dev_vocab;
        int32_t b = 0;
        for (int32_t i = 1; i < dev_vocab; i++)
            if (x[i] > x[b]) b = i;
        *out = b;
        return LMR_OK;
    }
    lmr_status st;
    const float *row = lmr_logits_host(s, "sample", seq, &st);
    if (!row) return st;
    *out = lmr_sample_logits(row, dev_vocab, p, &s->rng[seq], s->cand);
    return LMR_OK;
}

static lmr_backend_ops fake;

typedef struct {
    lmr_engine *e;
    lmr_model *m;
    lmr_session *s;
} rig;

static rig open_rig(int use_fake) {
    rig r = {NULL, NULL, NULL};
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = LMR_BACKEND_CPU;
    ep.n_threads = 1;
    if (lmr_engine_create(&ep, &r.e) != LMR_OK) return r;
    if (use_fake) r.e->ops = &fake;
    lmr_model_params mp = lmr_model_params_default();
    mp.seed = 7;
    if (lmr_model_synthesize(r.e, "tiny-qwen2", &mp, &r.m) != LMR_OK) return r;
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = MAX_SEQS;
    sp.max_ctx = 256;
    lmr_session_create(r.m, &sp, &r.s);
    return r;
}

static void close_rig(rig *r) {
    lmr_session_destroy(r->s);
    lmr_model_destroy(r->m);
    lmr_engine_destroy(r->e);
}

static int same_logits(rig *a, rig *b, int32_t seq, float *x, float *y) {
    if (lmr_session_logits(a->s, seq, x, dev_vocab) != LMR_OK) return 0;
    if (lmr_session_logits(b->s, seq, y, dev_vocab) != LMR_OK) return 0;
    return memcmp(x, y, sizeof(float) * (size_t)dev_vocab) == 0;
}

int main(void) {
    fake = lmr_cpu_backend;
    fake.name = "fake-device";
    fake.forward = fake_forward;
    fake.logits_on_device = 1;
    fake.fetch_logits = fake_fetch;
    CHECK(lmr_cpu_backend.logits_on_device == 0 && lmr_cpu_backend.fetch_logits == NULL,
          "the CPU backend keeps host logits");

    rig ref = open_rig(0), dev = open_rig(1);
    CHECK(ref.s && dev.s, "engines, models and sessions");
    if (!ref.s || !dev.s) return check_summary();
    lmr_model_info mi = lmr_model_info_default();
    lmr_model_info_get(ref.m, &mi);
    dev_vocab = mi.vocab;
    dev_logits = calloc((size_t)MAX_SEQS * (size_t)dev_vocab, sizeof(float));
    float *x = malloc(sizeof(float) * (size_t)dev_vocab), *y = malloc(sizeof(float) * (size_t)dev_vocab);
    int32_t prompt[12] = {3, 17, 99, 4, 250, 7, 8, 64, 1, 2, 300, 5};

    lmr_session_prefill(ref.s, 0, prompt, 12);
    lmr_session_prefill(dev.s, 0, prompt, 12);
    CHECK(fetches == 0 && dev.s->logits_ok[0] == LMR_LOGITS_DEVICE,
          "prefill leaves the logits on the device (%d fetches)", fetches);
    CHECK(same_logits(&dev, &ref, 0, x, y) && fetches == 1, "prefill logits equal, 1 fetch (%d)",
          fetches);
    CHECK(same_logits(&dev, &ref, 0, x, y) && fetches == 1, "a second read does not fetch (%d)",
          fetches);

    int32_t tok = 42, seqs[2] = {0, 1}, toks[2] = {11, 12};
    lmr_session_decode(ref.s, seqs, &tok, 1);
    lmr_session_decode(dev.s, seqs, &tok, 1);
    CHECK(fetches == 1, "decode copies no logits (%d fetches)", fetches);
    CHECK(same_logits(&dev, &ref, 0, x, y) && fetches == 2, "decode logits equal (%d fetches)",
          fetches);

    lmr_session_prefill(ref.s, 1, prompt + 3, 5);
    lmr_session_prefill(dev.s, 1, prompt + 3, 5);
    lmr_session_decode(ref.s, seqs, toks, 2);
    lmr_session_decode(dev.s, seqs, toks, 2);
    CHECK(same_logits(&dev, &ref, 1, x, y) && fetches == 3,
          "batched decode: reading seq 1 fetches seq 1 only (%d)", fetches);
    CHECK(dev.s->logits_ok[0] == LMR_LOGITS_DEVICE && same_logits(&dev, &ref, 0, x, y) &&
              fetches == 4,
          "seq 0 still on the device, then equal (%d)", fetches);

    /* a failed fetch: an error naming the copy, the logits stay readable afterwards */
    lmr_session_decode(ref.s, seqs, toks, 2);
    lmr_session_decode(dev.s, seqs, toks, 2);
    fail_fetch = 1;
    CHECK_ERR(lmr_session_logits(dev.s, 0, x, dev_vocab), LMR_ERR_BACKEND, dev.e, "copy of seq 0",
              "fake device lost");
    fail_fetch = 0;
    CHECK(same_logits(&dev, &ref, 0, x, y), "after a failed fetch the next read works");

    lmr_session_reset(dev.s, 1);
    CHECK_ERR(lmr_session_logits(dev.s, 1, x, dev_vocab), LMR_ERR_STATE, dev.e, "no logits");
    lmr_session_fill_kv(dev.s, 1, 20, 3);
    CHECK_ERR(lmr_session_logits(dev.s, 1, x, dev_vocab), LMR_ERR_STATE, dev.e, "no logits");

    /* generate: greedy and seeded temperature sampling, host sampler and "device" sampler */
    for (int variant = 0; variant < 3; variant++) {
        lmr_sampler_params sp = lmr_sampler_params_default();
        if (variant == 2) sp.temperature = 0.8f, sp.top_k = 20, sp.seed = 5;
        fake.sample = variant == 0 ? NULL : fake_sample;
        int32_t a[16], b[16];
        lmr_session_reset(ref.s, 0);
        lmr_session_reset(dev.s, 0);
        int f0 = fetches;
        lmr_status s1 = lmr_session_generate(ref.s, 0, prompt, 12, 16, &sp, a, NULL, NULL);
        lmr_status s2 = lmr_session_generate(dev.s, 0, prompt, 12, 16, &sp, b, NULL, NULL);
        int want = variant == 1 ? 0 : 16;
        CHECK(s1 == LMR_OK && s2 == LMR_OK && memcmp(a, b, sizeof a) == 0 &&
                  fetches - f0 == want,
              "generate %s: same 16 tokens, %d fetches (want %d)",
              variant == 0 ? "greedy, host sampler" : variant == 1 ? "greedy, device sampler"
                                                                   : "temperature, device op",
              fetches - f0, want);
    }
    int32_t t1 = -1, t2 = -2;
    lmr_sampler_params gp = lmr_sampler_params_default();
    lmr_session_sample(ref.s, 0, &gp, &t1);
    lmr_session_sample(dev.s, 0, &gp, &t2);
    CHECK(t1 == t2, "lmr_session_sample on device logits: %d == %d", t2, t1);

    free(x), free(y), free(dev_logits);
    close_rig(&dev), close_rig(&ref);
    return check_summary();
}
