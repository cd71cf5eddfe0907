/* session_test.c: session behaviour through the public API: the native generate loop against the
 * same steps called one by one, its timings, sampling reseeds, counters (ops per step, profile
 * mode, memory accounting), KV pool sizing by dtype and budget, fill_kv then generate. */
#include <stdlib.h>

#include "check.h"
#include "lmrig.h"

static lmr_engine *engine(int profile) {
    lmr_engine_params p = lmr_engine_params_default();
    p.backend = LMR_BACKEND_CPU;
    p.n_threads = 2;
    p.profile = profile;
    lmr_engine *e = NULL;
    if (lmr_engine_create(&p, &e) != LMR_OK) {
        printf("FAIL engine: %s\n", lmr_last_error(NULL));
        exit(1);
    }
    return e;
}

static lmr_model *synth(lmr_engine *e, const char *preset) {
    lmr_model_params p = lmr_model_params_default();
    p.seed = 21;
    lmr_model *m = NULL;
    if (lmr_model_synthesize(e, preset, &p, &m) != LMR_OK) {
        printf("FAIL synthesize: %s\n", lmr_last_error(e));
        exit(1);
    }
    return m;
}

static lmr_session *session(lmr_model *m, int32_t max_seqs, int32_t kv_dtype) {
    lmr_session_params p = lmr_session_params_default();
    p.max_seqs = max_seqs;
    p.kv_dtype = kv_dtype;
    lmr_session *s = NULL;
    lmr_session_create(m, &p, &s);
    return s;
}

static lmr_sampler_params sampler(float t, int32_t k, float p, uint64_t seed) {
    lmr_sampler_params s = lmr_sampler_params_default();
    s.temperature = t, s.top_k = k, s.top_p = p, s.seed = seed;
    return s;
}

static void generate_matches_steps(lmr_engine *e, lmr_model *m, lmr_sampler_params sp,
                                   const char *what) {
    lmr_session *s = session(m, 2, LMR_DTYPE_DEFAULT);
    int32_t prompt[12], gen[16], manual[16];
    for (int i = 0; i < 12; i++) prompt[i] = (i * 41 + 3) % 512;
    uint64_t steps[16];
    lmr_generate_stats g = lmr_generate_stats_default();
    lmr_status st = lmr_session_generate(s, 0, prompt, 12, 16, &sp, gen, steps, &g);
    /* The same by hand on the other sequence. */
    lmr_session_prefill(s, 1, prompt, 12);
    lmr_session_sample(s, 1, &sp, &manual[0]);
    int32_t one = 1;
    for (int i = 1; i < 16; i++) {
        lmr_session_decode(s, &one, &manual[i - 1], 1);
        lmr_session_sample(s, 1, &sp, &manual[i]);
    }
    CHECK(st == LMR_OK && memcmp(gen, manual, sizeof gen) == 0,
          "%s: generate == prefill + sample + (decode + sample) x 15", what);
    int32_t len = 0;
    lmr_session_seq_len(s, 0, &len);
    CHECK(len == 12 + 16 - 1, "%s: seq_len %d after 12 prompt + 16 generated", what, len);
    uint64_t sum = 0;
    int all_pos = 1;
    for (int i = 0; i < 16; i++) sum += steps[i], all_pos &= steps[i] > 0;
    CHECK(all_pos && g.ttft_ns == steps[0] && g.n_prompt == 12 && g.n_generated == 16 &&
              g.ttft_ns >= g.prefill_ns && sum <= g.total_ns &&
              g.prefill_ns + g.decode_ns + g.sample_ns <= g.total_ns,
          "%s: timings: ttft %llu = step 0, steps sum %llu <= total %llu", what,
          (unsigned long long)g.ttft_ns, (unsigned long long)sum, (unsigned long long)g.total_ns);
    /* Reset reseeds: the same run again gives the same tokens. */
    lmr_session_reset(s, 0);
    int32_t again[16];
    lmr_session_generate(s, 0, prompt, 12, 16, &sp, again, NULL, NULL);
    CHECK(memcmp(gen, again, sizeof gen) == 0, "%s: after reset the same seed repeats", what);
    lmr_session_destroy(s);
    (void)e;
}

static void reseed_on_change(lmr_model *m) {
    lmr_session *s = session(m, 1, LMR_DTYPE_DEFAULT);
    int32_t prompt[5] = {1, 2, 3, 4, 5}, a[6], b = -1, c[6];
    lmr_session_prefill(s, 0, prompt, 5);
    lmr_sampler_params p5 = sampler(1.5f, 0, 1, 5), p6 = sampler(1.5f, 0, 1, 6);
    for (int i = 0; i < 6; i++) lmr_session_sample(s, 0, &p5, &a[i]);
    lmr_session_sample(s, 0, &p6, &b);
    for (int i = 0; i < 6; i++) lmr_session_sample(s, 0, &p5, &c[i]);
    int distinct = 0;
    for (int i = 1; i < 6; i++) distinct |= a[i] != a[0];
    CHECK(distinct, "temperature 1.5 draws vary (%d %d %d ...)", a[0], a[1], a[2]);
    CHECK(memcmp(a, c, sizeof a) == 0, "seed 5 -> 6 -> 5 reseeds: the draws of seed 5 repeat");
    lmr_session_destroy(s);
}

/* Ops per step as forward.c issues them: embedding, per layer 13 ops plus one attention per
 * sequence, final norm and lm_head. */
static void counters(void) {
    lmr_engine *e = engine(0);
    lmr_model *m = synth(e, "tiny-llama");
    lmr_counters c0 = lmr_counters_default(), c = lmr_counters_default();
    lmr_counters_get(e, &c0);
    lmr_session *s = session(m, 4, LMR_DTYPE_DEFAULT);
    lmr_session_info si = lmr_session_info_default();
    lmr_session_info_get(s, &si);
    lmr_counters_get(e, &c);
    CHECK(c.current_bytes >= c0.current_bytes + si.kv_bytes && c.peak_bytes >= c.current_bytes,
          "session adds >= its KV pool (%llu bytes) to current bytes",
          (unsigned long long)si.kv_bytes);
    lmr_counters_reset(e);
    lmr_counters_get(e, &c);
    CHECK(c.prefill_ns == 0 && c.kernels == 0 && c.peak_bytes == c.current_bytes,
          "reset zeroes counters and keeps peak = current");
    int32_t p[30], seqs[3] = {0, 1, 2}, toks[3] = {7, 8, 9};
    for (int i = 0; i < 30; i++) p[i] = i;
    for (int q = 0; q < 3; q++) lmr_session_prefill(s, q, p, 10 + q);
    lmr_session_decode(s, seqs, toks, 1);
    lmr_counters_get(e, &c);
    CHECK(c.kernels_last_step == 1 + 2 * (13 + 1) + 2, "decode of 1: %llu ops (1 + 2 x 14 + 2)",
          (unsigned long long)c.kernels_last_step);
    lmr_session_decode(s, seqs, toks, 3);
    lmr_counters_get(e, &c);
    CHECK(c.kernels_last_step == 1 + 2 * (13 + 3) + 2, "decode of 3: %llu ops (1 + 2 x 16 + 2)",
          (unsigned long long)c.kernels_last_step);
    CHECK(c.prefill_tokens == 33 && c.decode_steps == 2 && c.decode_tokens == 4 &&
              c.prefill_ns > 0 && c.decode_ns > 0 && c.kernel_ns == 0 && c.last_call_ns > 0,
          "prefill tokens %llu, steps %llu, decode tokens %llu, no kernel time without profile",
          (unsigned long long)c.prefill_tokens, (unsigned long long)c.decode_steps,
          (unsigned long long)c.decode_tokens);
    lmr_session_destroy(s);
    lmr_counters_get(e, &c);
    CHECK(c.current_bytes == c0.current_bytes, "session destroy returns its bytes (%llu == %llu)",
          (unsigned long long)c.current_bytes, (unsigned long long)c0.current_bytes);
    lmr_model_destroy(m);
    lmr_counters_get(e, &c);
    CHECK(c.current_bytes == 0, "model destroy returns its bytes (%llu left)",
          (unsigned long long)c.current_bytes);
    lmr_engine_destroy(e);

    e = engine(1);
    m = synth(e, "tiny-qwen2");
    s = session(m, 1, LMR_DTYPE_DEFAULT);
    lmr_sampler_params g = sampler(0, 0, 1, 0);
    int32_t out[8];
    lmr_session_generate(s, 0, p, 20, 8, &g, out, NULL, NULL);
    lmr_counters_get(e, &c);
    CHECK(c.kernel_ns > 0 && c.kernel_ns <= c.prefill_ns + c.decode_ns && c.sample_ns > 0,
          "profile mode: kernel time %llu ns within prefill + decode %llu ns",
          (unsigned long long)c.kernel_ns, (unsigned long long)(c.prefill_ns + c.decode_ns));
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
}

static void pool_sizes(lmr_model *m) {
    const int32_t dts[3] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    const uint64_t per_tok[3] = {512, 256, 256};
    for (int i = 0; i < 3; i++) {
        lmr_session *s = session(m, 3, dts[i]);
        lmr_session_info si = lmr_session_info_default();
        lmr_session_info_get(s, &si);
        /* default max_ctx min(512, 4096) = 512: 32 blocks of 16 per sequence */
        CHECK(si.kv_bytes_per_token == per_tok[i] && si.n_blocks == 96 &&
                  si.kv_bytes == 96ull * 16 * per_tok[i] && si.max_ctx == 512,
              "kv %s: %llu bytes per token, %d blocks, %llu bytes", dts[i] ? "16-bit" : "F32",
              (unsigned long long)si.kv_bytes_per_token, si.n_blocks,
              (unsigned long long)si.kv_bytes);
        lmr_session_destroy(s);
    }
}

static void fill_then_generate(lmr_model *m) {
    lmr_session *s = session(m, 2, LMR_DTYPE_BF16);
    int32_t prompt[4] = {9, 8, 7, 6}, out[5], len = 0;
    lmr_sampler_params g = sampler(0, 0, 1, 0);
    lmr_status st = lmr_session_fill_kv(s, 1, 300, 77);
    st = st ? st : lmr_session_generate(s, 1, prompt, 4, 5, &g, out, NULL, NULL);
    lmr_session_seq_len(s, 1, &len);
    CHECK(st == LMR_OK && len == 300 + 4 + 4, "fill_kv(300) then generate 4 + 5: seq_len %d",
          len);
    lmr_session_info si = lmr_session_info_default();
    lmr_session_info_get(s, &si);
    CHECK(si.free_blocks == si.n_blocks - 20, "%d of %d blocks held (ceil(308 / 16) = 20)",
          si.n_blocks - si.free_blocks, si.n_blocks);
    lmr_session_fill_kv(s, 1, 10, 77);
    lmr_session_info_get(s, &si);
    CHECK(si.free_blocks == si.n_blocks - 1, "fill_kv(10) shrinks the table to 1 block");
    lmr_session_destroy(s);
}

int main(void) {
    lmr_engine *e = engine(0);
    lmr_model *m = synth(e, "tiny-qwen2");
    generate_matches_steps(e, m, sampler(0, 0, 1, 0), "greedy");
    generate_matches_steps(e, m, sampler(0.8f, 40, 0.9f, 1234), "t 0.8, top_k 40, top_p 0.9");
    reseed_on_change(m);
    pool_sizes(m);
    fill_then_generate(m);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
    counters();
    return check_summary();
}
