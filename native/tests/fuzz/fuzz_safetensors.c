/* fuzz_safetensors.c: libFuzzer target for the safetensors loader. The input becomes
 * model.safetensors next to a fixed micro config.json in a RAM-backed folder, then
 * lmr_weights_load runs on it: it must fail with a one-line message or hand out tensors that lie
 * inside their mappings (every byte is read). Seeds: lmr_fuzz_seeds (the micro model saved in
 * BF16 and F32, used by the plain driver.c), or build.sh's corpus under libFuzzer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/model_io.h"

static const char *CONFIG =
    "{\"model_type\":\"qwen2\",\"hidden_size\":16,\"intermediate_size\":32,\"num_hidden_layers\":1,"
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":64,\"tie_word_embeddings\":false}";
static char dir[64];

static void put(const char *name, const void *data, size_t n) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
}

/* The micro model saved by lmr_weights_save, BF16 and F32: the seeds for driver.c. */
void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size));
void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size)) {
    char tmp[64], p[128], err[512];
    snprintf(tmp, sizeof tmp, "/tmp/lmr-fuzz-seed-%d", (int)getpid());
    mkdir(tmp, 0700);
    snprintf(p, sizeof p, "%s/config.json", tmp);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    fputs(CONFIG, f);
    fclose(f);
    for (int dt = 0; dt < 3; dt += 2) { /* LMR_DTYPE_F32, LMR_DTYPE_BF16 */
        lmr_weights w;
        if (lmr_weights_synthesize(p, dt, 1, 0, 1, &w, err, sizeof err) ||
            lmr_weights_save(&w, tmp, err, sizeof err)) {
            fprintf(stderr, "fuzz seeds: %s\n", err);
            abort();
        }
        lmr_weights_free(&w);
        char st[128];
        snprintf(st, sizeof st, "%s/model.safetensors", tmp);
        FILE *g = fopen(st, "rb");
        static unsigned char buf[1 << 20];
        size_t n = g ? fread(buf, 1, sizeof buf, g) : 0;
        if (g) fclose(g);
        add(buf, n);
        unlink(st);
    }
    unlink(p);
    rmdir(tmp);
}

static void remove_dir(void) {
    char p[128];
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (!dir[0]) {
        struct stat sb;
        snprintf(dir, sizeof dir, "/dev/shm/lmr-fuzz-%d", (int)getpid());
        if (stat("/dev/shm", &sb)) snprintf(dir, sizeof dir, "/tmp/lmr-fuzz-%d", (int)getpid());
        mkdir(dir, 0700);
        atexit(remove_dir);
        put("config.json", CONFIG, strlen(CONFIG));
    }
    put("model.safetensors", data, size);
    char err[1024] = "";
    lmr_weights w;
    if (lmr_weights_load(dir, &w, err, sizeof err) != LMR_OK) {
        if (!err[0] || strchr(err, '\n')) abort();
        return 0;
    }
    volatile uint8_t sink = 0;
    for (int32_t i = 0; i < w.n_tensors; i++)
        for (uint64_t k = 0; k < w.tensors[i].bytes; k++) sink ^= ((const uint8_t *)w.tensors[i].data)[k];
    lmr_weights_free(&w);
    return 0;
}
