/* weights_mutate_test.c: seeded mutation fuzzing of the loader. A valid micro model (config.json
 * + model.safetensors) is damaged thousands of ways (bit flips, byte changes aimed at the header
 * JSON, digit edits in shapes and offsets, insertions and deletions, truncations, length field
 * changes; and the index of a two-shard copy) and loaded each time: every load must either succeed with tensors that lie inside
 * their mappings, or fail with a one-line message naming the path. Run it under the ASan/UBSan
 * build too. LMR_MUTATE_ITERS overrides the number of cases; the seed is fixed (LMR_MUTATE_SEED
 * to vary it), so a failure is reproducible by its printed case number. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <time.h>

#include "models/model_io.h"
#include "models/test_util.h"

static const char *MICRO =
    "{\"model_type\":\"qwen2\",\"hidden_size\":16,\"intermediate_size\":32,\"num_hidden_layers\":1,"
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":64,\"tie_word_embeddings\":false}";

static uint64_t rng;

/* splitmix64 of s, never 0. */
static uint64_t mix_seed(uint64_t s) {
    uint64_t z = s + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 0x9e3779b97f4a7c15ull;
}
static uint64_t next(void) { /* xorshift64* */
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}
static uint64_t below(uint64_t n) { return n ? next() % n : 0; }

/* Mutate buf[*n] (capacity cap) in place; hlen_end is where the header ends in the original. */
static void mutate(uint8_t *b, size_t *n, size_t cap, size_t hlen_end, int is_st) {
    static const char interesting[] = "\"{}[],:0123456789-eE.\\ntfu \x00\xff";
    size_t span = is_st && below(4) && hlen_end < *n ? hlen_end : *n; /* mostly aim at the header */
    switch (below(9)) {
    case 0: /* bit flip */
        if (*n) b[below(span)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* interesting byte */
        if (*n) b[below(span)] = (uint8_t)interesting[below(sizeof interesting - 1)];
        break;
    case 2: { /* edit a digit (shapes, offsets, sizes) */
        for (int tries = 0; tries < 64 && *n; tries++) {
            size_t i = below(span);
            if (b[i] >= '0' && b[i] <= '9') {
                b[i] = (uint8_t)('0' + below(10));
                break;
            }
        }
        break;
    }
    case 3: { /* insert bytes (digits make numbers huge) */
        size_t at = below(span + 1), k = 1 + below(12);
        if (*n + k > cap) break;
        memmove(b + at + k, b + at, *n - at);
        for (size_t i = 0; i < k; i++) b[at + i] = below(2) ? (uint8_t)('0' + below(10)) : (uint8_t)interesting[below(sizeof interesting - 1)];
        *n += k;
        break;
    }
    case 4: { /* delete bytes */
        size_t at = below(span), k = 1 + below(16);
        if (at + k > *n) k = *n - at;
        memmove(b + at, b + at + k, *n - at - k);
        *n -= k;
        break;
    }
    case 5: /* truncate */
        *n = below(*n + 1);
        break;
    case 6: /* header length field */
        if (is_st && *n >= 8) {
            uint64_t v = 0;
            for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
            uint64_t choices[] = {0, 1, 2, v - 1, v + 1, v + 8, v - 8, (uint64_t)*n, (uint64_t)*n - 8, UINT64_MAX,
                                  1ull << 63, 100000001, next()};
            v = choices[below(sizeof choices / sizeof choices[0])];
            for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
        }
        break;
    case 7: /* random byte anywhere */
        if (*n) b[below(*n)] = (uint8_t)next();
        break;
    default: { /* swap two header spans (moves keys and values around) */
        if (span < 16) break;
        size_t k = 1 + below(8), x = below(span - k), y = below(span - k);
        uint8_t tmp[8];
        memcpy(tmp, b + x, k);
        memmove(b + x, b + y, k);
        memcpy(b + y, tmp, k);
        break;
    }
    }
}

/* A successful load must hand out tensors inside its mappings; read every byte. */
static int sane(const lmr_weights *w) {
    uint64_t total = 0;
    volatile uint8_t sink = 0;
    for (int32_t i = 0; i < w->n_tensors; i++) {
        const lmr_tensor *t = &w->tensors[i];
        int inside = 0;
        for (int32_t m = 0; m < w->n_maps; m++) {
            const uint8_t *lo = w->maps[m], *hi = lo + w->map_sizes[m], *p = t->data;
            if (p >= lo && p + t->bytes <= hi) inside = 1;
        }
        if (!inside || (uintptr_t)t->data % 2) return 0;
        for (uint64_t k = 0; k < t->bytes; k++) sink ^= ((const uint8_t *)t->data)[k];
        total += t->bytes;
    }
    (void)sink;
    return total == w->total_bytes;
}

/* A sharded copy of the micro model in sdir: two shards and their index; returns the index text. */
static char *make_shards(const lmr_weights *w, const char *sdir, size_t *len) {
    char tmp[256], err[512];
    const char *names[2] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    int32_t half = w->n_tensors / 2;
    for (int s = 0; s < 2; s++) {
        lmr_weights part = *w;
        part.tensors = w->tensors + (s ? half : 0);
        part.n_tensors = s ? w->n_tensors - half : half;
        t_tmpdir("mutpart", tmp, sizeof tmp);
        if (lmr_weights_save(&part, tmp, err, sizeof err)) exit(2);
        size_t n;
        char *b = t_read(tmp, "model.safetensors", &n);
        t_write(sdir, names[s], b, n);
        free(b);
        if (!s) t_copy(tmp, sdir, "config.json");
        t_rmdir(tmp);
    }
    size_t cap = 16384, k;
    char *idx = malloc(cap);
    k = (size_t)snprintf(idx, cap, "{\"metadata\": {\"total_size\": %llu}, \"weight_map\": {",
                         (unsigned long long)w->total_bytes);
    for (int32_t i = 0; i < w->n_tensors; i++)
        k += (size_t)snprintf(idx + k, cap - k, "%s\"%s\": \"%s\"", i ? ", " : "", w->tensors[i].name,
                              names[i >= half]);
    k += (size_t)snprintf(idx + k, cap - k, "}}");
    *len = k;
    return idx;
}

int main(void) {
    char base[256], dir[256], sdir[256], err[1024], path[300];
    const char *env = getenv("LMR_MUTATE_ITERS");
    long iters = env ? atol(env) : 15000;
    /* Every seed its own run: mixed by splitmix64 (an OR with 1 made seeds 2k and 2k+1 equal);
     * xorshift needs a non-zero state. */
    uint64_t seed = getenv("LMR_MUTATE_SEED") ? strtoull(getenv("LMR_MUTATE_SEED"), NULL, 10) : 0;
    rng = getenv("LMR_MUTATE_SEED") ? mix_seed(seed) : 0x9e3779b97f4a7c15ull;
    alarm(120); /* a hang fails the test */
    t_tmpdir("mutbase", base, sizeof base);
    snprintf(dir, sizeof dir, "/dev/shm/lmr-mut-XXXXXX"); /* RAM-backed when there is one */
    if (!mkdtemp(dir)) t_tmpdir("mut", dir, sizeof dir);
    snprintf(sdir, sizeof sdir, "/dev/shm/lmr-mutsh-XXXXXX");
    if (!mkdtemp(sdir)) t_tmpdir("mutsh", sdir, sizeof sdir);
    t_write_str(base, "config.json", MICRO);
    snprintf(path, sizeof path, "%s/config.json", base);
    lmr_weights w;
    lmr_status st = lmr_weights_synthesize(path, LMR_DTYPE_BF16, 5, 0, 1, &w, err, sizeof err);
    if (!st) st = lmr_weights_save(&w, base, err, sizeof err);
    size_t idx_n = 0;
    uint8_t *idx_orig = st ? NULL : (uint8_t *)make_shards(&w, sdir, &idx_n);
    lmr_weights_free(&w);
    CHECK(st == LMR_OK, "micro fixture saved %s", err);
    size_t st_n, cfg_n;
    uint8_t *st_orig = (uint8_t *)t_read(base, "model.safetensors", &st_n);
    uint8_t *cfg_orig = (uint8_t *)t_read(base, "config.json", &cfg_n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | st_orig[i];
    size_t hend = 8 + (size_t)hl; /* end of the header in the original file */
    size_t cap = (st_n > idx_n ? st_n : idx_n) + 4096;
    uint8_t *buf = malloc(cap);

    long counts[10] = {0}, bad_msg = 0, bad_ok = 0, bad_status = 0;
    long first_bad = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int last = -1; /* which file the previous case damaged: 1 config.json, 0 model.safetensors */
    for (long it = 0; it < iters; it++) {
        const char *target = dir;
        if (idx_orig && below(8) == 0) { /* the index of the sharded copy */
            size_t n = idx_n;
            memcpy(buf, idx_orig, n);
            for (int m = 0, k = 1 + (int)below(3); m < k; m++) mutate(buf, &n, cap, n, 0);
            t_write(sdir, "model.safetensors.index.json", buf, n);
            target = sdir;
            goto load;
        }
        int on_config = below(5) == 0;
        size_t n = on_config ? cfg_n : st_n;
        memcpy(buf, on_config ? cfg_orig : st_orig, n);
        int k = 1 + (int)below(3);
        for (int m = 0; m < k; m++) mutate(buf, &n, cap, hend, !on_config);
        t_write(dir, on_config ? "config.json" : "model.safetensors", buf, n);
        if (last == -1 || last == !on_config) /* the other file: write or restore it */
            t_write(dir, on_config ? "model.safetensors" : "config.json", on_config ? st_orig : cfg_orig,
                    on_config ? st_n : cfg_n);
        last = on_config;
    load:
        err[0] = 0;
        st = lmr_weights_load(target, &w, err, sizeof err);
        if (st == LMR_OK) {
            if (!sane(&w)) bad_ok++, first_bad = first_bad < 0 ? it : first_bad;
            lmr_weights_free(&w);
        } else if (st < LMR_ERR_BUFFER_TOO_SMALL || st > 0) {
            bad_status++, first_bad = first_bad < 0 ? it : first_bad;
        } else if (!t_has(err, target) || strchr(err, '\n') || strlen(err) < 20) {
            if (bad_msg++ < 5) printf("     case %ld: bad message: %s\n", it, err);
            first_bad = first_bad < 0 ? it : first_bad;
        }
        if (st <= 0 && st >= LMR_ERR_BUFFER_TOO_SMALL) counts[-st]++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECK(bad_ok == 0 && bad_status == 0 && bad_msg == 0,
          "%ld mutated loads in %.1f s: %ld ok, %ld FORMAT, %ld UNSUPPORTED, %ld IO, %ld other; first bad case %ld",
          iters, secs, counts[0], counts[-LMR_ERR_FORMAT], counts[-LMR_ERR_UNSUPPORTED], counts[-LMR_ERR_IO],
          iters - counts[0] - counts[-LMR_ERR_FORMAT] - counts[-LMR_ERR_UNSUPPORTED] - counts[-LMR_ERR_IO], first_bad);
    CHECK(iters < 1000 || (counts[0] > iters / 50 && counts[-LMR_ERR_FORMAT] > iters / 4),
          "the mutations reach both outcomes (some loads succeed, many are refused)");
    free(buf);
    free(st_orig);
    free(cfg_orig);
    free(idx_orig);
    t_rmdir(sdir);
    t_rmdir(dir);
    t_rmdir(base);
    return t_done();
}
