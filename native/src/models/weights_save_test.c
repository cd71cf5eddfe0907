/* weights_save_test.c: synthesize -> save -> load round trips (every preset family and dtype),
 * config.json keys as written, header alignment, and save errors. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "models/model_io.h"
#include "models/test_util.h"

static int same_config(const lmr_config *a, const lmr_config *b) {
    return !strcmp(a->arch, b->arch) && a->n_layers == b->n_layers && a->hidden == b->hidden &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim &&
           a->ffn == b->ffn && a->vocab == b->vocab && a->max_pos == b->max_pos &&
           a->tie_embeddings == b->tie_embeddings && a->attn_bias == b->attn_bias &&
           a->dtype == b->dtype && a->bos_token_id == b->bos_token_id &&
           a->eos_token_id == b->eos_token_id && a->rope_theta == b->rope_theta &&
           a->rms_eps == b->rms_eps;
}

static int same_bytes(const lmr_weights *a, const lmr_weights *b) {
    if (a->n_tensors != b->n_tensors) return 0;
    for (int32_t i = 0; i < a->n_tensors; i++) {
        const lmr_tensor *x = &a->tensors[i], *y = lmr_weights_find(b, x->name);
        if (!y || y->dtype != x->dtype || y->bytes != x->bytes || memcmp(x->data, y->data, x->bytes)) return 0;
    }
    return 1;
}

static void round_trip(const char *spec, int32_t dtype, int32_t n_layers) {
    char dir[256], err[512];
    lmr_weights w, r;
    t_tmpdir("save", dir, sizeof dir);
    lmr_status st = lmr_weights_synthesize(spec, dtype, 7, n_layers, 2, &w, err, sizeof err);
    CHECK(st == LMR_OK, "synthesize %s dtype %d: %s", spec, dtype, err);
    st = lmr_weights_save(&w, dir, err, sizeof err);
    CHECK(st == LMR_OK, "save %s: %s", spec, err);
    st = lmr_weights_load(dir, &r, err, sizeof err);
    CHECK(st == LMR_OK, "load saved %s: %s", spec, err);
    CHECK(st == LMR_OK && same_config(&w.cfg, &r.cfg), "%s: loaded config equals the synthesized one", spec);
    CHECK(st == LMR_OK && same_bytes(&w, &r), "%s: every tensor byte-identical after the round trip", spec);
    CHECK(st == LMR_OK && r.total_bytes == w.total_bytes && r.synthetic == 0,
          "%s: %llu bytes, loaded not synthetic", spec, (unsigned long long)r.total_bytes);
    size_t n;
    char *st_file = t_read(dir, "model.safetensors", &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (uint8_t)st_file[i];
    CHECK(hlen % 8 == 0 && n == 8 + hlen + w.total_bytes, "%s: header length %llu is 8-aligned, file %zu bytes",
          spec, (unsigned long long)hlen, n);
    free(st_file);
    char *cfg = t_read(dir, "config.json", &n);
    CHECK(t_has(cfg, "\"model_type\":") && t_has(cfg, "\"torch_dtype\":") &&
              t_has(cfg, "\"tie_word_embeddings\":") && t_has(cfg, "\"rope_theta\":") &&
              t_has(cfg, "\"num_key_value_heads\":") && t_has(cfg, "\"architectures\":"),
          "%s: config.json has the Hugging Face keys", spec);
    free(cfg);
    struct stat sb;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/model.safetensors.tmp", dir);
    CHECK(stat(tmp, &sb) != 0, "%s: no .tmp file left behind", spec);
    lmr_weights_free(&r);
    lmr_weights_free(&w);
    t_rmdir(dir);
}

int main(void) {
    round_trip("tiny-qwen2", LMR_DTYPE_BF16, 0);
    round_trip("tiny-llama", LMR_DTYPE_BF16, 0);
    round_trip("tiny-qwen2", LMR_DTYPE_F16, 0);
    round_trip("tiny-llama", LMR_DTYPE_F32, 3);
    round_trip("qwen2.5-0.5b", LMR_DTYPE_BF16, 1); /* real shapes, one layer: head_dim omitted */

    char dir[256], err[512], path[300];
    lmr_weights w;
    lmr_status st = lmr_weights_synthesize("tiny-llama", LMR_DTYPE_BF16, 1, 0, 1, &w, err, sizeof err);
    CHECK(st == LMR_OK, "synthesize for error cases");
    t_tmpdir("save", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/nested/deeper", dir);
    st = lmr_weights_save(&w, path, err, sizeof err);
    CHECK(st == LMR_OK, "save creates missing parent folders: %s", err);
    snprintf(path, sizeof path, "%s/nested/deeper/config.json/x", dir);
    st = lmr_weights_save(&w, path, err, sizeof err);
    CHECK(st == LMR_ERR_IO && t_has(err, "config.json"), "save under a file is an IO error naming it: %s", err);
    st = lmr_weights_save(&w, NULL, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG, "save with no folder: %s", err);
    lmr_weights empty;
    memset(&empty, 0, sizeof empty);
    st = lmr_weights_save(&empty, dir, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG, "save of empty weights: %s", err);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CHECK(system(path) == 0, "cleanup");
    lmr_weights_free(&w);
    return t_done();
}
