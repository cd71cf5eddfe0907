/* weights_synth_test.c: lmr_weights_synthesize: bytes independent of the thread count, seeds
 * matter, value statistics per tensor kind, dtypes agree, layout, and refusals. With
 * LMR_SYNTH_BENCH=1 it also times the qwen2.5-1.5b preset (3.09 GB BF16) and prints GB/s. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <time.h>

#include "models/model_io.h"
#include "models/test_util.h"

/* Big enough that the embedding spans several work chunks (2M elements). */
static const char *MID_CONFIG =
    "{\"model_type\":\"qwen2\",\"hidden_size\":256,\"intermediate_size\":1024,\"num_hidden_layers\":2,"
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":8192,\"tie_word_embeddings\":false}";

static float bf16(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static float f16(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e ? ldexpf((float)(m | 1024), e - 25) : ldexpf((float)m, -24);
    return (h & 0x8000) ? -v : v;
}

static float value(const lmr_tensor *t, uint64_t i) {
    if (t->dtype == LMR_DTYPE_F32) return ((const float *)t->data)[i];
    uint16_t h = ((const uint16_t *)t->data)[i];
    return t->dtype == LMR_DTYPE_BF16 ? bf16(h) : f16(h);
}

static void stats(const lmr_tensor *t, double *mean, double *std, double *maxdev) {
    uint64_t n = t->bytes / (t->dtype == LMR_DTYPE_F32 ? 4 : 2);
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < n; i++) s += value(t, i);
    *mean = s / (double)n;
    *maxdev = 0;
    for (uint64_t i = 0; i < n; i++) {
        double d = value(t, i) - *mean;
        s2 += d * d;
        if (fabs(d) > *maxdev) *maxdev = fabs(d);
    }
    *std = sqrt(s2 / (double)n);
}

static int same(const lmr_weights *a, const lmr_weights *b) {
    if (a->n_tensors != b->n_tensors || a->total_bytes != b->total_bytes) return 0;
    for (int32_t i = 0; i < a->n_tensors; i++)
        if (memcmp(a->tensors[i].data, b->tensors[i].data, a->tensors[i].bytes)) return 0;
    return 1;
}

/* Tolerances follow the sample size: 5 standard errors of the mean and of the std estimate. */
static void check_kind(const lmr_weights *w, const char *name, double want_mean, double want_std) {
    const lmr_tensor *t = lmr_weights_find(w, name);
    double m = 0, s = 0, md = 0, n = t ? (double)(t->bytes / 2) : 1;
    if (t) stats(t, &m, &s, &md);
    double tol_std = fmax(0.02, 5 / sqrt(2 * n)) + (want_mean ? 0.03 : 0); /* + BF16 spacing near 1 */
    CHECK(t && fabs(m - want_mean) < 5 * want_std / sqrt(n) && fabs(s / want_std - 1) < tol_std &&
              md < 4.6 * want_std && (n < 1e5 || md > 3.5 * want_std),
          "%s: mean %.5f std %.5f max |dev| %.2f std (want %.3g, %.3g)", name, m, s, md / (s ? s : 1), want_mean, want_std);
}

static void determinism(const char *cfg_path) {
    char err[512] = "";
    lmr_weights a, b, c, d;
    lmr_status s1 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_BF16, 11, 0, 1, &a, err, sizeof err);
    lmr_status s2 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_BF16, 11, 0, 2, &b, err, sizeof err);
    lmr_status s3 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_BF16, 11, 0, 7, &c, err, sizeof err);
    lmr_status s4 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_BF16, 12, 0, 2, &d, err, sizeof err);
    CHECK(!s1 && !s2 && !s3 && !s4, "synthesize from a config.json path: %s", err);
    if (s1 || s2 || s3 || s4) return;
    CHECK(same(&a, &b) && same(&a, &c), "same seed: identical bytes with 1, 2 and 7 threads (%llu bytes)",
          (unsigned long long)a.total_bytes);
    CHECK(memcmp(a.tensors[0].data, d.tensors[0].data, 64) != 0, "another seed gives other values");
    int distinct = memcmp(a.tensors[2].data, a.tensors[3].data, 64) != 0;
    CHECK(distinct, "tensors of the same shape and kind differ from each other");
    CHECK(a.synthetic == 1 && a.seed == 11 && !strncmp(a.cfg.name, "lmr-synth-", 10),
          "synthetic flag, seed recorded, name %s", a.cfg.name);
    int aligned = 1;
    uint64_t sum = 0;
    for (int32_t i = 0; i < a.n_tensors; i++) {
        aligned &= (uintptr_t)a.tensors[i].data % 64 == 0;
        sum += a.tensors[i].bytes;
    }
    CHECK(aligned && sum == a.total_bytes && a.n_maps == 1, "one mapping, tensors 64-byte aligned, total_bytes = sum");
    check_kind(&a, "model.embed_tokens.weight", 0, 0.08);
    check_kind(&a, "lm_head.weight", 0, 0.08);
    check_kind(&a, "model.layers.0.mlp.up_proj.weight", 0, 0.02);
    check_kind(&a, "model.layers.1.self_attn.k_proj.weight", 0, 0.02);
    check_kind(&a, "model.layers.1.self_attn.q_proj.bias", 0, 0.02);
    check_kind(&a, "model.layers.0.input_layernorm.weight", 1, 0.1);
    check_kind(&a, "model.norm.weight", 1, 0.1);

    lmr_weights f32, f16w;
    s1 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_F32, 11, 0, 2, &f32, err, sizeof err);
    s2 = lmr_weights_synthesize(cfg_path, LMR_DTYPE_F16, 11, 0, 2, &f16w, err, sizeof err);
    int agree = !s1 && !s2 && f32.total_bytes == 2 * a.total_bytes;
    for (int32_t i = 0; agree && i < a.n_tensors; i++) {
        uint64_t n = a.tensors[i].bytes / 2;
        for (uint64_t k = 0; agree && k < n; k += 97) {
            float x = ((const float *)f32.tensors[i].data)[k];
            agree = fabsf(value(&a.tensors[i], k) - x) <= fabsf(x) / 256 + 1e-30f &&
                    fabsf(value(&f16w.tensors[i], k) - x) <= fabsf(x) / 2048 + 6e-8f;
        }
    }
    CHECK(agree, "BF16, F16 and F32 synthesis give the same values up to rounding %s", err);
    if (!s1) lmr_weights_free(&f32);
    if (!s2) lmr_weights_free(&f16w);
    lmr_weights_free(&a);
    lmr_weights_free(&b);
    lmr_weights_free(&c);
    lmr_weights_free(&d);
}

static void refusals(const char *dir) {
    char err[512] = "", path[300];
    lmr_weights w;
    lmr_status st = lmr_weights_synthesize("qwen2.5-7b", LMR_DTYPE_BF16, 1, 0, 1, &w, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG && t_has(err, "unknown model preset \"qwen2.5-7b\"") && t_has(err, "config.json"),
          "unknown preset: %s", err);
    st = lmr_weights_synthesize("tiny-qwen2", 9, 1, 0, 1, &w, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG && t_has(err, "dtype 9"), "bad dtype: %s", err);
    st = lmr_weights_synthesize("tiny-qwen2", LMR_DTYPE_BF16, 1, -1, 1, &w, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG && t_has(err, "n_layers -1"), "bad n_layers: %s", err);
    st = lmr_weights_synthesize("/nonexistent/config.json", LMR_DTYPE_BF16, 1, 0, 1, &w, err, sizeof err);
    CHECK(st == LMR_ERR_IO && t_has(err, "/nonexistent/config.json: cannot open"), "missing config path: %s", err);
    st = lmr_weights_synthesize(NULL, LMR_DTYPE_BF16, 1, 0, 1, &w, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG, "NULL spec: %s", err);
    t_write_str(dir, "huge.json", "{\"model_type\":\"qwen2\",\"hidden_size\":8192,\"intermediate_size\":8192,"
                                  "\"num_hidden_layers\":1,\"num_attention_heads\":64,\"vocab_size\":16777216,"
                                  "\"tie_word_embeddings\":true}");
    snprintf(path, sizeof path, "%s/huge.json", dir);
    st = lmr_weights_synthesize(path, LMR_DTYPE_BF16, 1, 0, 2, &w, err, sizeof err);
    CHECK(st == LMR_ERR_OUT_OF_MEMORY && t_has(err, "needs 27") && t_has(err, "bytes of memory are available"),
          "256 GiB model refused before allocating: %s", err);
    st = lmr_weights_synthesize("tiny-llama", LMR_DTYPE_DEFAULT, 5, 5, 0, &w, err, sizeof err);
    CHECK(st == LMR_OK && w.cfg.n_layers == 5 && w.n_tensors == 1 + 5 * 9 + 2 && w.tensors[0].dtype == LMR_DTYPE_BF16 &&
              !strcmp(w.cfg.name, "tiny-llama"),
          "n_layers override 5, DEFAULT dtype is BF16, 0 threads = all cores %s", err);
    if (!st) lmr_weights_free(&w);
    lmr_weights_free(NULL);
}

static void bench(void) {
    if (!getenv("LMR_SYNTH_BENCH")) return;
    for (int threads = 1; threads <= 2; threads++) {
        char err[512] = "";
        lmr_weights w;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        lmr_status st = lmr_weights_synthesize("qwen2.5-1.5b", LMR_DTYPE_BF16, 1, 0, threads, &w, err, sizeof err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        CHECK(st == LMR_OK && w.total_bytes == 3087428608ull, "bench qwen2.5-1.5b, %d thread(s): %.3f s, %.2f GB/s %s",
              threads, s, 3087428608.0 / s / 1e9, err);
        if (!st) lmr_weights_free(&w);
    }
}

int main(void) {
    char dir[256], path[300];
    t_tmpdir("synth", dir, sizeof dir);
    t_write_str(dir, "config.json", MID_CONFIG);
    snprintf(path, sizeof path, "%s/config.json", dir);
    determinism(path);
    refusals(dir);
    bench();
    t_rmdir(dir);
    return t_done();
}
