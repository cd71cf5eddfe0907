/* gguf.c: mmap one GGUF file and validate its header, so that every metadata value read later
 * and every tensor the loader hands out lies inside the file, has the size its shape and type
 * say, and overlaps no other. Every count is checked against the bytes left before anything is
 * allocated for it, so a hostile header costs at most its own size in memory and time. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "models/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ggml's types: name, elements per block, bytes per block (ggml.c type_traits). Ids missing
 * here (4, 5, 31-33, 36-38: removed or never released) are unknown. */
static const struct {
    uint32_t id;
    const char *name;
    uint32_t blck, bytes;
} types[] = {
    {0, "f32", 1, 4},        {1, "f16", 1, 2},       {2, "q4_0", 32, 18},
    {3, "q4_1", 32, 20},     {6, "q5_0", 32, 22},    {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},     {9, "q8_1", 32, 36},    {10, "q2_K", 256, 84},
    {11, "q3_K", 256, 110},  {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},  {15, "q8_K", 256, 292}, {16, "iq2_xxs", 256, 66},
    {17, "iq2_xs", 256, 74}, {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},  {21, "iq3_s", 256, 110}, {22, "iq2_s", 256, 82},
    {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},      {25, "i16", 1, 2},
    {26, "i32", 1, 4},       {27, "i64", 1, 8},      {28, "f64", 1, 8},
    {29, "iq1_m", 256, 56},  {30, "bf16", 1, 2},     {34, "tq1_0", 256, 54},
    {35, "tq2_0", 256, 66},  {39, "mxfp4", 32, 17},
};

static int type_index(uint32_t id) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].id == id) return (int)i;
    return -1;
}

const char *lmr_gguf_type_name(uint32_t type) {
    int i = type_index(type);
    return i < 0 ? NULL : types[i].name;
}
uint32_t lmr_gguf_block_elems(uint32_t type) {
    int i = type_index(type);
    return i < 0 ? 0 : types[i].blck;
}
uint32_t lmr_gguf_block_bytes(uint32_t type) {
    int i = type_index(type);
    return i < 0 ? 0 : types[i].bytes;
}

/* Bytes of one scalar value type (0 for string, array and unknown types). */
static uint32_t scalar_bytes(uint32_t t) {
    static const uint8_t sz[LMR_GGUF_N_TYPES] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < LMR_GGUF_N_TYPES ? sz[t] : 0;
}

static const char *value_type_name(uint32_t t) {
    static const char *n[LMR_GGUF_N_TYPES] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                              "bool", "string", "array", "u64", "i64", "f64"};
    return t < LMR_GGUF_N_TYPES ? n[t] : "unknown";
}

/* A cursor over the header; every read checks the bytes left. */
typedef struct {
    const uint8_t *p;
    uint64_t pos, size;
    const char *label;
    char *err;
    size_t errcap;
} cur;

#define FAIL(c, ...) \
    do { \
        char what_[320]; \
        snprintf(what_, sizeof what_, __VA_ARGS__); \
        snprintf((c)->err, (c)->errcap, "%s: %s", (c)->label, what_); \
        return LMR_ERR_FORMAT; \
    } while (0)

static uint64_t left(const cur *c) { return c->size - c->pos; }

static lmr_status need(cur *c, uint64_t n, const char *what) {
    if (n > left(c))
        FAIL(c, "the file ends inside %s (at byte %llu, %llu bytes needed, %llu left)", what,
             (unsigned long long)c->pos, (unsigned long long)n, (unsigned long long)left(c));
    return LMR_OK;
}

static uint64_t rd(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static lmr_status u32(cur *c, uint32_t *out, const char *what) {
    lmr_status st = need(c, 4, what);
    if (st) return st;
    *out = (uint32_t)rd(c->p + c->pos, 4);
    c->pos += 4;
    return LMR_OK;
}

static lmr_status u64(cur *c, uint64_t *out, const char *what) {
    lmr_status st = need(c, 8, what);
    if (st) return st;
    *out = rd(c->p + c->pos, 8);
    c->pos += 8;
    return LMR_OK;
}

static lmr_status str(cur *c, const char **s, uint64_t *len, const char *what) {
    lmr_status st = u64(c, len, what);
    if (st || (st = need(c, *len, what))) return st;
    *s = (const char *)c->p + c->pos;
    c->pos += *len;
    return LMR_OK;
}

/* A name for messages: printable ASCII, at most 60 bytes, the rest elided. */
static const char *show(const char *s, uint64_t n, char *buf, size_t cap) {
    size_t k = 0;
    for (uint64_t i = 0; i < n && k + 4 < cap && i < 60; i++)
        buf[k++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
    if (n > 60 && k + 4 < cap) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = 0;
    return buf;
}

static lmr_status read_kv(cur *c, lmr_gguf_kv *kv) {
    char kb[72];
    lmr_status st = str(c, &kv->key, &kv->key_len, "a metadata key");
    if (st) return st;
    if (kv->key_len == 0 || kv->key_len > LMR_GGUF_MAX_KEY)
        FAIL(c, "a metadata key is %llu bytes long (1 to %d allowed)",
             (unsigned long long)kv->key_len, LMR_GGUF_MAX_KEY);
    show(kv->key, kv->key_len, kb, sizeof kb);
    if ((st = u32(c, &kv->type, "a metadata value type"))) return st;
    if (kv->type >= LMR_GGUF_N_TYPES) FAIL(c, "metadata \"%s\" has unknown value type %u", kb, kv->type);
    if (kv->type == LMR_GGUF_STRING) {
        const char *s;
        if ((st = str(c, &s, &kv->arr_n, "a metadata string"))) return st;
        kv->val = (const uint8_t *)s;
        return LMR_OK;
    }
    if (kv->type != LMR_GGUF_ARRAY) {
        uint32_t n = scalar_bytes(kv->type);
        if ((st = need(c, n, "a metadata value"))) return st;
        kv->val = c->p + c->pos;
        c->pos += n;
        return LMR_OK;
    }
    if ((st = u32(c, &kv->arr_type, "an array element type")) ||
        (st = u64(c, &kv->arr_n, "an array length")))
        return st;
    if (kv->arr_type >= LMR_GGUF_N_TYPES || kv->arr_type == LMR_GGUF_ARRAY)
        FAIL(c, "metadata array \"%s\" has element type %s (%u), which GGUF does not allow", kb,
             value_type_name(kv->arr_type), kv->arr_type);
    kv->val = c->p + c->pos;
    if (kv->arr_type != LMR_GGUF_STRING) {
        uint64_t es = scalar_bytes(kv->arr_type);
        if (kv->arr_n > left(c) / es)
            FAIL(c, "metadata array \"%s\" of %llu %s values runs past the end of the file", kb,
                 (unsigned long long)kv->arr_n, value_type_name(kv->arr_type));
        c->pos += kv->arr_n * es;
        return LMR_OK;
    }
    if (kv->arr_n > left(c) / 8)
        FAIL(c, "metadata array \"%s\" of %llu strings runs past the end of the file", kb,
             (unsigned long long)kv->arr_n);
    for (uint64_t i = 0; i < kv->arr_n; i++) {
        const char *s;
        uint64_t n;
        if ((st = str(c, &s, &n, "a string of a metadata array"))) return st;
    }
    return LMR_OK;
}

static lmr_status read_tensor(cur *c, lmr_gguf_tensor *t) {
    const char *name;
    uint64_t len;
    char nb[72];
    lmr_status st = str(c, &name, &len, "a tensor name");
    if (st) return st;
    show(name, len, nb, sizeof nb);
    if (len == 0 || len >= LMR_GGUF_MAX_NAME || memchr(name, 0, len))
        FAIL(c, "tensor name \"%s\" (%llu bytes) must be 1 to %d bytes without NUL", nb,
             (unsigned long long)len, LMR_GGUF_MAX_NAME - 1);
    memcpy(t->name, name, len);
    t->name[len] = 0;
    uint32_t nd;
    if ((st = u32(c, &nd, "a tensor's dimension count"))) return st;
    if (nd < 1 || nd > LMR_GGUF_MAX_DIMS)
        FAIL(c, "tensor \"%s\" has %u dimensions (1 to %d allowed)", nb, nd, LMR_GGUF_MAX_DIMS);
    t->n_dims = (int32_t)nd;
    for (int d = 0; d < LMR_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < nd; d++) {
        if ((st = u64(c, &t->ne[d], "a tensor's shape"))) return st;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX)
            FAIL(c, "tensor \"%s\" has dimension %u of %llu elements", nb, d,
                 (unsigned long long)t->ne[d]);
    }
    if ((st = u32(c, &t->type, "a tensor's type")) || (st = u64(c, &t->offset, "a tensor's offset")))
        return st;
    int ti = type_index(t->type);
    if (ti < 0) FAIL(c, "tensor \"%s\" has unknown ggml type %u", nb, t->type);
    if (t->ne[0] % types[ti].blck)
        FAIL(c, "tensor \"%s\" of type %s has rows of %llu elements, not a multiple of its block of %u",
             nb, types[ti].name, (unsigned long long)t->ne[0], types[ti].blck);
    uint64_t rows = 1, row_bytes = t->ne[0] / types[ti].blck * types[ti].bytes;
    int over = t->ne[0] / types[ti].blck > UINT64_MAX / types[ti].bytes;
    for (int d = 1; d < LMR_GGUF_MAX_DIMS; d++) {
        if (rows > UINT64_MAX / t->ne[d]) over = 1;
        else rows *= t->ne[d];
    }
    if (over || rows > UINT64_MAX / row_bytes)
        FAIL(c, "tensor \"%s\" has a shape whose byte size overflows 64 bits", nb);
    t->bytes = rows * row_bytes;
    return LMR_OK;
}

static int by_key(const void *a, const void *b) {
    const lmr_gguf_kv *x = *(const lmr_gguf_kv *const *)a, *y = *(const lmr_gguf_kv *const *)b;
    uint64_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, n);
    return r ? r : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int by_tname(const void *a, const void *b) {
    const lmr_gguf_tensor *x = *(const lmr_gguf_tensor *const *)a, *y = *(const lmr_gguf_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int by_offset(const void *a, const void *b) {
    const lmr_gguf_tensor *x = *(const lmr_gguf_tensor *const *)a, *y = *(const lmr_gguf_tensor *const *)b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* Duplicate keys and names, alignment, offsets and overlaps. tmp: scratch of max(n_kv,
 * n_tensors) pointers. */
static lmr_status check_tables(cur *c, lmr_gguf_file *f, const void **tmp) {
    char nb[72], ob[72];
    for (uint64_t i = 0; i < f->n_kv; i++) tmp[i] = &f->kv[i];
    qsort(tmp, f->n_kv, sizeof *tmp, by_key);
    for (uint64_t i = 1; i < f->n_kv; i++)
        if (!by_key(&tmp[i - 1], &tmp[i]))
            FAIL(c, "metadata key \"%s\" appears twice",
                 show(((const lmr_gguf_kv *)tmp[i])->key, ((const lmr_gguf_kv *)tmp[i])->key_len, nb, sizeof nb));
    f->alignment = 32;
    const lmr_gguf_kv *al = lmr_gguf_find_kv(f, "general.alignment");
    if (al) {
        if (al->type != LMR_GGUF_U32) FAIL(c, "general.alignment is a %s, not a u32", value_type_name(al->type));
        uint32_t a = (uint32_t)rd(al->val, 4);
        if (a == 0 || (a & (a - 1))) FAIL(c, "general.alignment %u is not a power of two", a);
        f->alignment = a;
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) tmp[i] = &f->tensors[i];
    qsort(tmp, f->n_tensors, sizeof *tmp, by_tname);
    for (uint64_t i = 1; i < f->n_tensors; i++)
        if (!by_tname(&tmp[i - 1], &tmp[i]))
            FAIL(c, "tensor \"%s\" appears twice", ((const lmr_gguf_tensor *)tmp[i])->name);
    uint64_t a = f->alignment;
    f->data_off = c->pos + (a - c->pos % a) % a;
    if (f->data_off < c->pos) FAIL(c, "the data section offset overflows");
    uint64_t data_size = f->data_off <= f->size ? f->size - f->data_off : 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const lmr_gguf_tensor *t = &f->tensors[i];
        show(t->name, strlen(t->name), nb, sizeof nb);
        if (t->offset % a)
            FAIL(c, "tensor \"%s\" has offset %llu, not a multiple of the alignment %u", nb,
                 (unsigned long long)t->offset, f->alignment);
        if (t->offset > data_size || t->bytes > data_size - t->offset)
            FAIL(c, "tensor \"%s\" (%llu bytes at offset %llu) lies past the end of the data section "
                    "(%llu bytes; file %llu bytes)",
                 nb, (unsigned long long)t->bytes, (unsigned long long)t->offset,
                 (unsigned long long)data_size, (unsigned long long)f->size);
    }
    for (uint64_t i = 0; i < f->n_tensors; i++) tmp[i] = &f->tensors[i];
    qsort(tmp, f->n_tensors, sizeof *tmp, by_offset);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        const lmr_gguf_tensor *x = tmp[i - 1], *y = tmp[i];
        if (y->offset < x->offset + x->bytes)
            FAIL(c, "tensors \"%s\" [%llu, %llu) and \"%s\" [%llu, %llu) overlap",
                 show(x->name, strlen(x->name), nb, sizeof nb), (unsigned long long)x->offset,
                 (unsigned long long)(x->offset + x->bytes), show(y->name, strlen(y->name), ob, sizeof ob),
                 (unsigned long long)y->offset, (unsigned long long)(y->offset + y->bytes));
    }
    return LMR_OK;
}

static lmr_status parse(lmr_gguf_file *f, char *err, size_t errcap) {
    cur c = {f->map, 0, f->size, f->label, err, errcap};
    if (f->size < 4 || memcmp(f->map, "GGUF", 4))
        FAIL(&c, "not a GGUF file (the first 4 bytes are not \"GGUF\"; a model is a .gguf file or "
                 "a Hugging Face folder)");
    c.pos = 4;
    lmr_status st;
    if ((st = u32(&c, &f->version, "the version"))) return st;
    if (f->version == 0x03000000u || f->version == 0x02000000u)
        FAIL(&c, "a big-endian GGUF file, which this engine does not read");
    if (f->version != 2 && f->version != 3)
        FAIL(&c, "GGUF version %u is not supported (versions 2 and 3 are)", f->version);
    if ((st = u64(&c, &f->n_tensors, "the tensor count")) || (st = u64(&c, &f->n_kv, "the metadata count")))
        return st;
    if (f->n_tensors > LMR_GGUF_MAX_TENSORS || f->n_kv > LMR_GGUF_MAX_KV)
        FAIL(&c, "%llu tensors and %llu metadata entries are over the limits (%d, %d)",
             (unsigned long long)f->n_tensors, (unsigned long long)f->n_kv, LMR_GGUF_MAX_TENSORS,
             LMR_GGUF_MAX_KV);
    /* the smallest entry is 13 bytes (key, type, u8), the smallest tensor info 33 bytes */
    if (f->n_kv > left(&c) / 13 || f->n_tensors > (left(&c) - f->n_kv * 13) / 33)
        FAIL(&c, "%llu metadata entries and %llu tensors cannot fit in the file's %llu bytes",
             (unsigned long long)f->n_kv, (unsigned long long)f->n_tensors, (unsigned long long)f->size);
    f->kv = calloc(f->n_kv ? f->n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof *f->tensors);
    uint64_t nt = f->n_kv > f->n_tensors ? f->n_kv : f->n_tensors;
    const void **tmp = calloc(nt ? nt : 1, sizeof *tmp);
    if (!f->kv || !f->tensors || !tmp) {
        free(tmp);
        snprintf(err, errcap, "%s: out of memory for the header tables", f->label);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    for (uint64_t i = 0; i < f->n_kv && !st; i++) st = read_kv(&c, &f->kv[i]);
    for (uint64_t i = 0; i < f->n_tensors && !st; i++) st = read_tensor(&c, &f->tensors[i]);
    if (!st) st = check_tables(&c, f, tmp);
    free(tmp);
    return st;
}

lmr_status lmr_gguf_parse(const uint8_t *data, uint64_t size, const char *label, lmr_gguf_file *f,
                          char *err, size_t errcap) {
    memset(f, 0, sizeof *f);
    f->label = label;
    f->fd = -1;
    f->map = data;
    f->size = size;
    lmr_status st = parse(f, err, errcap);
    if (st) lmr_gguf_close(f, 0);
    return st;
}

lmr_status lmr_gguf_open(const char *path, const char *label, lmr_gguf_file *f, char *err,
                         size_t errcap) {
    memset(f, 0, sizeof *f);
    f->label = label;
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot open: %s", label, strerror(errno));
        return LMR_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        snprintf(err, errcap, "%s: not a regular file", label);
        close(fd);
        return LMR_ERR_IO;
    }
    if (sb.st_size < 24) {
        snprintf(err, errcap, "%s: file is %lld bytes, too short for a GGUF header", label,
                 (long long)sb.st_size);
        close(fd);
        return LMR_ERR_FORMAT;
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        close(fd);
        snprintf(err, errcap, "%s: cannot mmap %lld bytes: %s", label, (long long)sb.st_size, strerror(e));
        return LMR_ERR_IO;
    }
    f->map = map;
    f->size = (uint64_t)sb.st_size;
    f->fd = fd;
    f->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    lmr_status st = parse(f, err, errcap);
    if (st) lmr_gguf_close(f, 1);
    return st;
}

const lmr_gguf_kv *lmr_gguf_find_kv(const lmr_gguf_file *f, const char *key) {
    size_t n = strlen(key);
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (f->kv[i].key_len == n && !memcmp(f->kv[i].key, key, n)) return &f->kv[i];
    return NULL;
}

const lmr_gguf_tensor *lmr_gguf_find_tensor(const lmr_gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

int lmr_gguf_kv_int(const lmr_gguf_kv *kv, int64_t *out) {
    const uint8_t *p = kv->val;
    switch (kv->type) {
    case LMR_GGUF_U8: *out = p[0]; return 1;
    case LMR_GGUF_I8: *out = (int8_t)p[0]; return 1;
    case LMR_GGUF_U16: *out = (int64_t)rd(p, 2); return 1;
    case LMR_GGUF_I16: *out = (int16_t)rd(p, 2); return 1;
    case LMR_GGUF_U32: *out = (int64_t)rd(p, 4); return 1;
    case LMR_GGUF_I32: *out = (int32_t)rd(p, 4); return 1;
    case LMR_GGUF_I64: *out = (int64_t)rd(p, 8); return 1;
    case LMR_GGUF_U64:
        if (rd(p, 8) > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)rd(p, 8);
        return 1;
    default: return 0;
    }
}

int lmr_gguf_kv_float(const lmr_gguf_kv *kv, double *out) {
    if (kv->type == LMR_GGUF_F32) {
        uint32_t b = (uint32_t)rd(kv->val, 4);
        float x;
        memcpy(&x, &b, 4);
        *out = x;
        return 1;
    }
    if (kv->type == LMR_GGUF_F64) {
        uint64_t b = rd(kv->val, 8);
        memcpy(out, &b, 8);
        return 1;
    }
    return 0;
}

int lmr_gguf_kv_string(const lmr_gguf_kv *kv, const char **s, uint64_t *len) {
    if (kv->type != LMR_GGUF_STRING) return 0;
    *s = (const char *)kv->val;
    *len = kv->arr_n;
    return 1;
}

void lmr_gguf_close(lmr_gguf_file *f, int unmap) {
    free(f->kv);
    free(f->tensors);
    if (unmap && f->map && f->fd >= 0) {
        munmap((void *)f->map, f->size);
        close(f->fd);
    }
    const char *label = f->label;
    memset(f, 0, sizeof *f);
    f->label = label;
    f->fd = -1;
}
