/* fuzz_safetensors.c: libFuzzer target for the safetensors loader. The input becomes
 * model.safetensors next to a fixed micro config.json in a RAM-backed folder, then
 * lmr_weights_load runs on it: it must fail with a one-line message or hand out tensors that lie
 * inside their mappings (every byte is read). Seeds: run `fuzz_safetensors -seed_corpus=...` on
 * files written by lmr_weights_save, or let build.sh make one. */
#define _GNU_SOURCE
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

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/dev/shm/lmr-fuzz-%d", (int)getpid());
        mkdir(dir, 0700);
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
