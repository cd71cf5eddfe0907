/* fuzz_gguf.c: libFuzzer target for the GGUF parser and loader. The input is parsed from memory
 * (lmr_gguf_parse, every metadata value read back through the typed getters) and loaded as a
 * model file from a RAM-backed folder (lmr_weights_load): each must fail with a one-line message
 * or hand out tensors that lie inside their mappings (every byte is read). Seeds (driver.c): a
 * micro qwen2 in F32 and in Q8_0 and a micro llama in BF16 (q/k permuted as llama.cpp writes
 * them), written by tests/gguf_writer.h; under libFuzzer, build.sh's corpus. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../gguf_writer.h"
#include "models/gguf.h"
#include "models/model_io.h"

static char dir[64];

static void one_seed(void (*add)(const unsigned char *, size_t), const char *arch, int32_t dtype,
                     int q8) {
    char tmp[64], p[128], err[512], cfg[512];
    snprintf(tmp, sizeof tmp, "/tmp/lmr-fuzz-gguf-seed-%d", (int)getpid());
    mkdir(tmp, 0700);
    snprintf(p, sizeof p, "%s/config.json", tmp);
    snprintf(cfg, sizeof cfg,
             "{\"model_type\":\"%s\",\"hidden_size\":32,\"intermediate_size\":64,"
             "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,"
             "\"vocab_size\":64,\"tie_word_embeddings\":%s}",
             arch, arch[0] == 'q' ? "true" : "false");
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    fputs(cfg, f);
    fclose(f);
    lmr_weights w;
    if (lmr_weights_synthesize(p, dtype, 1, 0, 1, &w, err, sizeof err)) {
        fprintf(stderr, "fuzz seeds: %s\n", err);
        abort();
    }
    gw_opts o = {1, 0, q8, NULL, NULL};
    gw_file g;
    gw_write(&w, &o, &g);
    add(g.data, g.size);
    free(g.data);
    lmr_weights_free(&w);
    unlink(p);
    rmdir(tmp);
}

void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size));
void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size)) {
    one_seed(add, "qwen2", LMR_DTYPE_F32, 0);
    one_seed(add, "qwen2", LMR_DTYPE_F32, 1);
    one_seed(add, "llama", LMR_DTYPE_BF16, 0);
}

static void remove_dir(void) {
    char p[128];
    snprintf(p, sizeof p, "%s/model.gguf", dir);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    char err[1024] = "";
    lmr_gguf_file f;
    if (lmr_gguf_parse(data, size, "fuzz.gguf", &f, err, sizeof err) != LMR_OK) {
        if (!err[0] || strchr(err, '\n')) abort();
    } else {
        volatile int64_t sink = 0;
        for (uint64_t i = 0; i < f.n_kv; i++) {
            int64_t x;
            double d;
            const char *s;
            uint64_t n;
            if (lmr_gguf_kv_int(&f.kv[i], &x)) sink += x;
            if (lmr_gguf_kv_float(&f.kv[i], &d)) sink += (int64_t)(d == d);
            if (lmr_gguf_kv_string(&f.kv[i], &s, &n)) sink += n ? s[n - 1] : 0;
            if (f.kv[i].key_len) sink += f.kv[i].key[f.kv[i].key_len - 1];
        }
        for (uint64_t i = 0; i < f.n_tensors; i++) {
            const lmr_gguf_tensor *t = &f.tensors[i];
            if (f.data_off + t->offset + t->bytes > size) abort();
            sink += data[f.data_off + t->offset + t->bytes - 1];
        }
        lmr_gguf_close(&f, 0);
    }
    if (!dir[0]) {
        struct stat sb;
        snprintf(dir, sizeof dir, "/dev/shm/lmr-fuzz-gguf-%d", (int)getpid());
        if (stat("/dev/shm", &sb)) snprintf(dir, sizeof dir, "/tmp/lmr-fuzz-gguf-%d", (int)getpid());
        mkdir(dir, 0700);
        atexit(remove_dir);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp) abort();
    if (size && fwrite(data, 1, size, fp) != size) abort();
    fclose(fp);
    lmr_weights w;
    err[0] = 0;
    if (lmr_weights_load(path, &w, err, sizeof err) != LMR_OK) {
        if (!err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    volatile uint8_t sink = 0;
    for (int32_t i = 0; i < w.n_tensors; i++)
        for (uint64_t k = 0; k < w.tensors[i].bytes; k++) sink ^= ((const uint8_t *)w.tensors[i].data)[k];
    lmr_weights_free(&w);
    return 0;
}
