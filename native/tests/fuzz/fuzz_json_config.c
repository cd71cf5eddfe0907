/* fuzz_json_config.c: libFuzzer target for the JSON parser and config.json parsing. The input
 * is parsed as JSON (default limits) and as a config.json; both must return without crashing,
 * and a failure must leave a one-line message. Build: see build.sh (libFuzzer) or driver.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "models/model_io.h"

/* Seeds for driver.c: a micro config and every preset's config.json as lmr_weights_save writes
 * it (synthesized with one layer, so it stays small). */
void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size));
void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size)) {
    static const char micro[] =
        "{\"model_type\":\"qwen2\",\"hidden_size\":16,\"intermediate_size\":32,"
        "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,"
        "\"vocab_size\":64,\"tie_word_embeddings\":false,\"rope_theta\":1e6,\"eos_token_id\":[1,2]}";
    add((const unsigned char *)micro, strlen(micro));
    const char *presets[] = {"tiny-qwen2", "tiny-llama"};
    for (int i = 0; i < 2; i++) {
        char tmp[64], p[128], err[512];
        snprintf(tmp, sizeof tmp, "/tmp/lmr-fuzz-cfg-%d", (int)getpid());
        lmr_weights w;
        if (lmr_weights_synthesize(presets[i], LMR_DTYPE_BF16, 1, 1, 1, &w, err, sizeof err) ||
            lmr_weights_save(&w, tmp, err, sizeof err)) {
            fprintf(stderr, "fuzz seeds: %s\n", err);
            abort();
        }
        lmr_weights_free(&w);
        snprintf(p, sizeof p, "%s/config.json", tmp);
        FILE *f = fopen(p, "rb");
        static unsigned char buf[65536];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f) fclose(f);
        add(buf, n);
        unlink(p);
        snprintf(p, sizeof p, "%s/model.safetensors", tmp);
        unlink(p);
        rmdir(tmp);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    char err[512];
    lmr_json_doc *d = NULL;
    err[0] = 0;
    if (lmr_json_parse((const char *)data, size, NULL, "fuzz", &d, err, sizeof err) != 0) {
        if (!err[0] || strchr(err, '\n')) abort();
    }
    lmr_json_free(d);
    lmr_config c;
    err[0] = 0;
    if (lmr_config_parse((const char *)data, size, "config.json", &c, err, sizeof err) != LMR_OK) {
        if (!err[0] || strchr(err, '\n')) abort();
    } else {
        lmr_tensor t[64];
        int32_t n = lmr_config_tensors(&c, t, 64);
        if (n < 3 || c.hidden <= 0 || c.n_heads % c.n_kv_heads) abort();
    }
    return 0;
}
