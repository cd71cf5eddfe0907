/* integrity_test.c: the engine refuses to hand out numbers it cannot stand behind. A model whose
 * final norm holds NaN makes every sampling path (sample after prefill, after decode, generate)
 * return LMR_ERR_NONFINITE naming the sequence, position and layer count, where it used to
 * "generate" token 0; a weights file truncated after the load is reported (LMR_ERR_IO) by
 * prefill, decode and generate instead of killing the process with SIGBUS. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "lmrig.h"
#include "models/safetensors.h"

static lmr_engine *E;

/* Overwrite every element of tensor `name` (BF16) in dir/model.safetensors with `bits`. */
static int poison(const char *dir, const char *name, uint16_t bits) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    lmr_st_file f;
    if (lmr_st_open(path, path, &f, err, sizeof err)) return printf("%s\n", err), 0;
    const lmr_st_entry *x = lmr_st_find(&f, name);
    int ok = x && x->dtype == LMR_DTYPE_BF16;
    uint64_t off = ok ? f.data_off + x->begin : 0, n = ok ? (x->end - x->begin) / 2 : 0;
    lmr_st_close(&f, 1);
    int fd = open(path, O_WRONLY);
    for (uint64_t i = 0; ok && i < n; i++)
        ok = pwrite(fd, &bits, 2, (off_t)(off + 2 * i)) == 2;
    close(fd);
    return ok;
}

/* Save a synthetic tiny-qwen2 (2 layers) into a fresh folder; 1 on success. */
static int saved_model(char *dir, size_t cap) {
    snprintf(dir, cap, "/tmp/lmrig-integrity-XXXXXX");
    if (!mkdtemp(dir)) return 0;
    lmr_model *m = NULL;
    lmr_model_params p = lmr_model_params_default();
    p.seed = 5;
    int ok = lmr_model_synthesize(E, "tiny-qwen2", &p, &m) == LMR_OK && lmr_model_save(m, dir) == 0;
    lmr_model_destroy(m);
    return ok;
}

static void remove_model(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
}

static void nonfinite(void) {
    char dir[256];
    CHECK(saved_model(dir, sizeof dir), "tiny-qwen2 saved to %s", dir);
    lmr_model *m = NULL;
    lmr_session *s = NULL;
    lmr_model_params mp = lmr_model_params_default();
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = 4;
    lmr_sampler_params greedy = lmr_sampler_params_default(), hot = greedy;
    hot.temperature = 0.8f;
    hot.top_k = 40;
    int32_t tok[3] = {5, 17, 301}, out = -7, gen[4];

    /* Negative control: the same folder before poisoning samples a real token. */
    CHECK(lmr_model_load(E, dir, &mp, &m) == LMR_OK && lmr_session_create(m, &sp, &s) == LMR_OK,
          "clean model loads");
    CHECK(lmr_session_prefill(s, 0, tok, 3) == LMR_OK &&
              lmr_session_sample(s, 0, &greedy, &out) == LMR_OK && out >= 0 && out < 512,
          "clean model: greedy sample gives token %d", out);
    lmr_session_destroy(s);
    lmr_model_destroy(m);

    CHECK(poison(dir, "model.norm.weight", 0x7fc0), "model.norm.weight set to NaN");
    CHECK(lmr_model_load(E, dir, &mp, &m) == LMR_OK && lmr_session_create(m, &sp, &s) == LMR_OK,
          "NaN model loads (the weights are not scanned)");
    out = -7;
    CHECK(lmr_session_prefill(s, 0, tok, 3) == LMR_OK, "prefill runs");
    CHECK_ERR(lmr_session_sample(s, 0, &greedy, &out), LMR_ERR_NONFINITE, E,
              "lmr_session_sample: seq 0 position 2: 512 of 512 logits are not finite",
              "after 2 layers");
    CHECK(out == -7, "no token handed out (out %d)", out);
    CHECK_ERR(lmr_session_sample(s, 0, &hot, &out), LMR_ERR_NONFINITE, E, "seq 0 position 2");
    int32_t q = 0, t = 9;
    CHECK(lmr_session_decode(s, &q, &t, 1) == LMR_OK, "decode runs");
    CHECK_ERR(lmr_session_sample(s, 0, &greedy, &out), LMR_ERR_NONFINITE, E, "seq 0 position 3",
              "2 layers");
    lmr_generate_stats gs = lmr_generate_stats_default();
    gs.n_generated = 99;
    CHECK_ERR(lmr_session_generate(s, 1, tok, 3, 4, &greedy, gen, NULL, &gs), LMR_ERR_NONFINITE, E,
              "lmr_session_generate: seq 1 position 2", "after 2 layers");
    CHECK(gs.n_generated == 0 && gs.n_prompt == 3 && gs.prefill_ns > 0,
          "generate's stats say the prompt ran and no token came out (%d generated)",
          gs.n_generated);
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    remove_model(dir);
}

static void truncated(void) {
    char dir[256], path[300];
    CHECK(saved_model(dir, sizeof dir), "tiny-qwen2 saved to %s", dir);
    lmr_model *m = NULL;
    lmr_session *s = NULL;
    lmr_model_params mp = lmr_model_params_default();
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = 4;
    lmr_sampler_params greedy = lmr_sampler_params_default();
    int32_t tok[3] = {5, 17, 301}, gen[4];
    CHECK(lmr_model_load(E, dir, &mp, &m) == LMR_OK && lmr_session_create(m, &sp, &s) == LMR_OK &&
              lmr_session_prefill(s, 0, tok, 3) == LMR_OK,
          "model loads and prefills");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(truncate(path, 4096) == 0, "weights truncated to 4096 bytes under the mapping");
    CHECK_ERR(lmr_session_prefill(s, 1, tok, 3), LMR_ERR_IO, E,
              "lmr_session_prefill: model.safetensors: the weights file changed after the model "
              "was loaded",
              "now 4096");
    int32_t q = 0, t = 9;
    CHECK_ERR(lmr_session_decode(s, &q, &t, 1), LMR_ERR_IO, E, "lmr_session_decode", "SIGBUS");
    CHECK_ERR(lmr_session_generate(s, 2, tok, 3, 4, &greedy, gen, NULL, NULL), LMR_ERR_IO, E,
              "lmr_session_generate", "load the model again");
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    remove_model(dir);
}

int main(void) {
    lmr_engine_params p = lmr_engine_params_default();
    p.backend = LMR_BACKEND_CPU;
    p.n_threads = 2;
    if (lmr_engine_create(&p, &E) != LMR_OK) {
        printf("FAIL engine: %s\n", lmr_last_error(NULL));
        return 1;
    }
    nonfinite();
    truncated();
    lmr_engine_destroy(E);
    return check_summary();
}
