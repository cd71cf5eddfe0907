/* fuzz_json_config.c: libFuzzer target for the JSON parser and config.json parsing. The input
 * is parsed as JSON (default limits) and as a config.json; both must return without crashing,
 * and a failure must leave a one-line message. Build: see build.sh. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "models/model_io.h"

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
