/* synth.c: lmr_weights_synthesize: seeded random weights of realistic scale for a preset or a
 * config.json, in one anonymous mapping, generated in parallel at memory speed.
 *
 * Values: element i of tensor t is a function of (seed, t, i) only, so the bytes do not depend
 * on the thread count. One 64-bit draw (wyrand's output function of a counter) gives four
 * 16-bit indexes; each draw indexes a 65536-entry table holding the quantiles of a normal
 * distribution N(mean, std) at (k + 0.5) / 65536, already converted to the output dtype. So the
 * values are exactly normal up to 16-bit quantization (tails to about +-4.2 std), and the hot
 * loop is four table loads and one 64-bit store per four BF16 values.
 *
 * Scales (chosen so activations, softmax and logits behave as in a trained model):
 *   linear weights N(0, 0.02)  transformers' initializer_range for Qwen2 and Llama; a projection
 *                              of a unit-RMS input then has entries of RMS 0.02 * sqrt(in),
 *                              e.g. 0.78 for hidden 1536, so attention scores are O(1).
 *   q/k/v biases   N(0, 0.02)  small, as at initialization.
 *   RMSNorm weights N(1, 0.1)  around one, as in trained models.
 *   embedding and lm_head N(0, clamp(2 / sqrt(hidden), 0.02, 0.08)): after the final RMSNorm
 *                              the hidden state has RMS ~1, so logits have a std of about 2
 *                              (0.051 for hidden 1536), a spread like a trained model's.
 * Memory: MAP_HUGETLB when huge pages are reserved, else madvise(MADV_HUGEPAGE); pages are
 * first touched by the generating threads (faster than MAP_POPULATE's single-threaded
 * zeroing). Tensors start on 64-byte boundaries. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "models/io_util.h"
#include "models/model_io.h"
#include "host_memory.h"

#define TAB 65536
#define CHUNK_ELEMS (1u << 18) /* elements per work item (512 KiB of BF16) */

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Inverse normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
static double norm_ppf(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p > 0.5) return -norm_ppf(1 - p);
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

static uint16_t to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16); /* round to nearest even (finite f) */
}

static uint16_t to_f16(float f) { /* round to nearest even, subnormals included (|f| < 65504) */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int32_t e = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        uint32_t m = mant | 0x800000, shift = (uint32_t)(14 - e), h = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

typedef struct {
    double mean, std;
    void *tab; /* [TAB] of the output dtype */
} table;

typedef struct {
    int32_t tensor;
    uint64_t e0, e1; /* element range, e0 a multiple of 4 */
} chunk;

typedef struct {
    lmr_weights *w;
    const table **tab_of; /* per tensor */
    uint64_t *key_of;     /* per tensor */
    chunk *chunks;
    uint64_t n_chunks;
    atomic_uint_fast64_t next;
} job;

/* 64 random bits for group g of a tensor: wyrand's output function of the counter state
 * key + (g + 1) * W0, so a pure function of (key, g) that costs one 64x64->128 multiply. */
static inline uint64_t draw(uint64_t key, uint64_t g) {
    uint64_t s = key + (g + 1) * 0xa0761d6478bd642full;
    __uint128_t m = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbull);
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static void fill16(uint16_t *dst, uint64_t e0, uint64_t e1, uint64_t key, const uint16_t *tab) {
    uint64_t g = e0 / 4, g1 = e1 / 4;
    uint64_t *d = (uint64_t *)(void *)(dst + e0);
    for (; g < g1; g++) {
        uint64_t r = draw(key, g);
        *d++ = (uint64_t)tab[r & 0xffff] | (uint64_t)tab[(r >> 16) & 0xffff] << 16 |
               (uint64_t)tab[(r >> 32) & 0xffff] << 32 | (uint64_t)tab[r >> 48] << 48;
    }
    uint64_t r = draw(key, g1);
    for (uint64_t e = g1 * 4; e < e1; e++, r >>= 16) dst[e] = tab[r & 0xffff];
}

static void fill32(float *dst, uint64_t e0, uint64_t e1, uint64_t key, const float *tab) {
    for (uint64_t g = e0 / 4; g * 4 < e1; g++) {
        uint64_t r = draw(key, g);
        for (uint64_t e = g * 4; e < g * 4 + 4 && e < e1; e++, r >>= 16) dst[e] = tab[r & 0xffff];
    }
}

static void *worker(void *arg) {
    job *j = arg;
    for (;;) {
        uint64_t c = atomic_fetch_add(&j->next, 1);
        if (c >= j->n_chunks) return NULL;
        const chunk *k = &j->chunks[c];
        lmr_tensor *t = &j->w->tensors[k->tensor];
        uint64_t key = j->key_of[k->tensor];
        if (t->dtype == LMR_DTYPE_F32) fill32((float *)t->data, k->e0, k->e1, key, j->tab_of[k->tensor]->tab);
        else fill16((uint16_t *)t->data, k->e0, k->e1, key, j->tab_of[k->tensor]->tab);
    }
}

/* The (mean, std) of tensor t; see the table in the file comment. */
static void scale_of(const lmr_config *c, const char *name, double *mean, double *std) {
    *mean = 0;
    *std = 0.02;
    if (strstr(name, "norm.weight")) {
        *mean = 1;
        *std = 0.1;
    } else if (!strcmp(name, "model.embed_tokens.weight") || !strcmp(name, "lm_head.weight")) {
        double s = 2.0 / sqrt((double)c->hidden);
        *std = s < 0.02 ? 0.02 : s > 0.08 ? 0.08 : s;
    }
}

/* MemAvailable, or less inside a cgroup memory limit; UINT64_MAX when unknown. */
static uint64_t mem_available(void) {
    uint64_t b = lmr_host_available_memory();
    return b ? b : UINT64_MAX;
}

/* One anonymous mapping of *bytes (rounded up to 2 MiB when large, for huge pages). */
static void *map_anon(uint64_t *bytes) {
    void *p = MAP_FAILED;
    if (*bytes >= (64u << 20)) *bytes = (*bytes + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
#ifdef MAP_HUGETLB
    if (*bytes >= (64u << 20))
        p = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) return p;
#endif
    p = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, *bytes, MADV_HUGEPAGE);
#endif
    return p;
}

/* Tables for the distinct (mean, std) pairs; at most 4 exist (linear, bias, norm, embedding). */
static lmr_status build_tables(lmr_weights *w, const table **tab_of, table *tabs, int *n_tabs,
                               char *err, size_t errcap) {
    float *z = malloc(TAB * sizeof *z); /* standard normal quantiles */
    if (!z) return snprintf(err, errcap, "synthesis: out of memory"), LMR_ERR_OUT_OF_MEMORY;
    for (int k = 0; k < TAB / 2; k++) {
        z[k] = (float)norm_ppf((k + 0.5) / TAB);
        z[TAB - 1 - k] = -z[k]; /* exactly symmetric: mean 0 */
    }
    for (int32_t i = 0; i < w->n_tensors; i++) {
        double mean, std;
        scale_of(&w->cfg, w->tensors[i].name, &mean, &std);
        int k = 0;
        while (k < *n_tabs && !(tabs[k].mean == mean && tabs[k].std == std)) k++;
        if (k == *n_tabs) {
            uint32_t es = lmr_dtype_size(w->cfg.dtype);
            tabs[k].mean = mean;
            tabs[k].std = std;
            tabs[k].tab = malloc((size_t)TAB * es);
            if (!tabs[k].tab) {
                free(z);
                return snprintf(err, errcap, "synthesis: out of memory"), LMR_ERR_OUT_OF_MEMORY;
            }
            (*n_tabs)++;
            for (int e = 0; e < TAB; e++) {
                float v = (float)(mean + std * z[e]);
                if (w->cfg.dtype == LMR_DTYPE_F32) ((float *)tabs[k].tab)[e] = v;
                else ((uint16_t *)tabs[k].tab)[e] = w->cfg.dtype == LMR_DTYPE_BF16 ? to_bf16(v) : to_f16(v);
            }
        }
        tab_of[i] = &tabs[k];
    }
    free(z);
    return LMR_OK;
}

static lmr_status resolve(const char *spec, int32_t dtype, int32_t n_layers, lmr_config *cfg,
                          char *err, size_t errcap) {
    lmr_status st;
    if (!spec || !*spec) return snprintf(err, errcap, "synthesis: no preset name or config.json path given"), LMR_ERR_INVALID_ARG;
    if (lmr_config_preset(spec, cfg, NULL, 0)) {
        if (strchr(spec, '/') || strstr(spec, ".json")) {
            if ((st = lmr_config_load_file(spec, cfg, err, errcap))) return st;
        } else {
            lmr_config_preset(spec, cfg, err, errcap);
            size_t k = strlen(err);
            snprintf(err + k, errcap - k, " or the path of a config.json");
            return LMR_ERR_INVALID_ARG;
        }
    }
    if (dtype == LMR_DTYPE_DEFAULT) dtype = LMR_DTYPE_BF16;
    if (dtype != LMR_DTYPE_BF16 && dtype != LMR_DTYPE_F16 && dtype != LMR_DTYPE_F32)
        return snprintf(err, errcap, "synthesis of %s: dtype %d is not BF16, F16 or F32", spec, (int)dtype),
               LMR_ERR_INVALID_ARG;
    if (n_layers < 0 || n_layers > 4096)
        return snprintf(err, errcap, "synthesis of %s: n_layers %d is out of range 0..4096", spec, (int)n_layers),
               LMR_ERR_INVALID_ARG;
    if (n_layers) cfg->n_layers = n_layers;
    cfg->dtype = dtype;
    return LMR_OK;
}

/* Lay the tensors out in one mapping and cut them into chunks. */
static lmr_status plan(lmr_weights *w, job *j, char *err, size_t errcap) {
    int32_t n = lmr_config_tensors(&w->cfg, NULL, 0);
    uint64_t off = 0;
    w->tensors = calloc((size_t)n, sizeof *w->tensors);
    w->maps = calloc(1, sizeof *w->maps);
    w->map_sizes = calloc(1, sizeof *w->map_sizes);
    if (!w->tensors || !w->maps || !w->map_sizes)
        return snprintf(err, errcap, "synthesis of %s: out of memory", w->cfg.name), LMR_ERR_OUT_OF_MEMORY;
    w->n_tensors = lmr_config_tensors(&w->cfg, w->tensors, n);
    for (int32_t i = 0; i < n; i++) {
        uint64_t el = w->tensors[i].bytes / lmr_dtype_size(w->tensors[i].dtype);
        j->n_chunks += (el + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
        w->tensors[i].data = (const void *)(uintptr_t)off; /* offset until mapped */
        off += (w->tensors[i].bytes + 63) & ~(uint64_t)63;
        w->total_bytes += w->tensors[i].bytes;
    }
    uint64_t avail = mem_available();
    if (off > avail) {
        snprintf(err, errcap, "synthesis of %s: needs %llu bytes of weights but only %llu bytes of memory are available",
                 w->cfg.name, (unsigned long long)off, (unsigned long long)avail);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    uint64_t size = off;
    uint8_t *base = map_anon(&size);
    j->chunks = malloc(j->n_chunks * sizeof *j->chunks);
    if (!base || !j->chunks) {
        if (base) munmap(base, size);
        snprintf(err, errcap, "synthesis of %s: cannot map %llu bytes", w->cfg.name, (unsigned long long)size);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    lmr_weights_add_map(w, base, size);
    uint64_t c = 0;
    for (int32_t i = 0; i < n; i++) {
        lmr_tensor *t = &w->tensors[i];
        t->data = base + (uintptr_t)t->data;
        uint64_t el = t->bytes / lmr_dtype_size(t->dtype);
        for (uint64_t e = 0; e < el; e += CHUNK_ELEMS, c++) {
            j->chunks[c].tensor = i;
            j->chunks[c].e0 = e;
            j->chunks[c].e1 = e + CHUNK_ELEMS < el ? e + CHUNK_ELEMS : el;
        }
    }
    return LMR_OK;
}

lmr_status lmr_weights_synthesize(const char *spec, int32_t dtype, uint64_t seed, int32_t n_layers,
                                  int32_t n_threads, lmr_weights *out, char *err, size_t errcap) {
    char dummy[1];
    if (!err || !errcap) err = dummy, errcap = sizeof dummy;
    err[0] = 0;
    memset(out, 0, sizeof *out);
    lmr_status st = resolve(spec, dtype, n_layers, &out->cfg, err, errcap);
    if (st) return st;
    out->synthetic = 1;
    out->seed = seed;
    job j;
    memset(&j, 0, sizeof j);
    table tabs[8];
    int n_tabs = 0;
    j.w = out;
    j.tab_of = calloc((size_t)lmr_config_tensors(&out->cfg, NULL, 0), sizeof *j.tab_of);
    j.key_of = calloc((size_t)lmr_config_tensors(&out->cfg, NULL, 0), sizeof *j.key_of);
    if (!j.tab_of || !j.key_of) st = LMR_ERR_OUT_OF_MEMORY, snprintf(err, errcap, "synthesis: out of memory");
    if (!st) st = plan(out, &j, err, errcap);
    if (!st) st = build_tables(out, j.tab_of, tabs, &n_tabs, err, errcap);
    if (!st) {
        for (int32_t i = 0; i < out->n_tensors; i++) j.key_of[i] = mix64(mix64(seed) ^ mix64((uint64_t)i + 1));
        if (n_threads <= 0) n_threads = (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
        if (n_threads < 1) n_threads = 1;
        if (n_threads > 256) n_threads = 256;
        pthread_t th[256];
        int started = 0;
        for (int i = 1; i < n_threads; i++)
            if (!pthread_create(&th[started], NULL, worker, &j)) started++;
        worker(&j);
        for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    }
    for (int k = 0; k < n_tabs; k++) free(tabs[k].tab);
    free(j.tab_of);
    free(j.key_of);
    free(j.chunks);
    if (st) lmr_weights_free(out);
    return st;
}
