/* safetensors.c: mmap one .safetensors file and validate its header so that every tensor the
 * loader hands out lies inside the file, has the size its shape and dtype say, and overlaps no
 * other. Holes between tensors are allowed (harmless); tensors of dtypes the engine cannot use
 * are still bounds-checked and then left to the loader (which refuses them only if needed). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "models/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    int32_t dtype; /* LMR_DTYPE_* or -1 */
    uint32_t bits;
} dtypes[] = {
    {"BF16", LMR_DTYPE_BF16, 16}, {"F16", LMR_DTYPE_F16, 16}, {"F32", LMR_DTYPE_F32, 32},
    {"F64", -1, 64},     {"I64", -1, 64},     {"U64", -1, 64},     {"I32", -1, 32},
    {"U32", -1, 32},     {"I16", -1, 16},     {"U16", -1, 16},     {"I8", -1, 8},
    {"U8", -1, 8},       {"BOOL", -1, 8},     {"F8_E4M3", -1, 8},  {"F8_E5M2", -1, 8},
    {"F8_E8M0", -1, 8},  {"C64", -1, 64},     {"F6_E2M3", -1, 6},  {"F6_E3M2", -1, 6},
    {"F4", -1, 4},
};

static void shape_str(const lmr_st_entry *e, char *buf, size_t cap) {
    size_t k = 0;
    k += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < e->n_dims && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)e->shape[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

static int by_begin(const void *a, const void *b) {
    const lmr_st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static int name_cmp(const lmr_st_entry *x, const char *name, size_t len) {
    size_t n = x->name_len < len ? x->name_len : len;
    int c = memcmp(x->name, name, n);
    return c ? c : (x->name_len > len) - (x->name_len < len);
}

static int by_name(const void *a, const void *b) {
    const lmr_st_entry *x = *(const lmr_st_entry *const *)a, *y = *(const lmr_st_entry *const *)b;
    return name_cmp(x, y->name, y->name_len);
}

/* Parse one member of the header object into e. Returns 0 or writes err. */
static lmr_status parse_entry(const lmr_st_file *f, const lmr_json *m, uint64_t data_size,
                              lmr_st_entry *e, char *err, size_t errcap) {
    char nb[112], sb[160];
    const char *nm = lmr_json_show(m->key, m->key_len, nb, sizeof nb);
    e->name = m->key;
    e->name_len = m->key_len;
#define BAD(...) \
    do { \
        char what_[400]; \
        snprintf(what_, sizeof what_, __VA_ARGS__); \
        snprintf(err, errcap, "%s: tensor \"%s\" %s", f->label, nm, what_); \
        return LMR_ERR_FORMAT; \
    } while (0)
    if (m->type != LMR_JSON_OBJECT) BAD("is described by a %s, not an object", lmr_json_type_name(m->type));
    const lmr_json *dt = lmr_json_get(m, "dtype"), *sh = lmr_json_get(m, "shape"),
                   *off = lmr_json_get(m, "data_offsets");
    if (!dt || dt->type != LMR_JSON_STRING) BAD("has no \"dtype\" string");
    if (strlen(dt->u.str) != dt->n) BAD("has a dtype string with an embedded NUL");
    if (!sh || sh->type != LMR_JSON_ARRAY) BAD("has no \"shape\" array");
    if (!off || off->type != LMR_JSON_ARRAY || off->n != 2) BAD("has no \"data_offsets\" [begin, end] array");
    if (sh->n > LMR_ST_MAX_DIMS) BAD("has %u dimensions (at most %d supported)", sh->n, LMR_ST_MAX_DIMS);
    e->dtype_name = dt->u.str;
    e->dtype = -1;
    uint32_t bits = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dt->u.str, dtypes[i].name)) e->dtype = dtypes[i].dtype, bits = dtypes[i].bits;
    e->n_dims = (int32_t)sh->n;
    uint64_t numel = 1;
    int overflow = 0;
    for (uint32_t i = 0; i < sh->n; i++) {
        int64_t d;
        if (!lmr_json_int(&sh->u.items[i], &d) || d < 0) BAD("has a shape entry that is not a non-negative integer");
        e->shape[i] = d;
        if (d && numel > UINT64_MAX / (uint64_t)d) overflow = 1;
        else numel *= (uint64_t)d;
    }
    int64_t b, en;
    if (!lmr_json_int(&off->u.items[0], &b) || !lmr_json_int(&off->u.items[1], &en) || b < 0 || en < 0)
        BAD("has data_offsets that are not non-negative integers");
    e->begin = (uint64_t)b;
    e->end = (uint64_t)en;
    shape_str(e, sb, sizeof sb);
    if (e->begin > e->end) BAD("has data_offsets [%llu, %llu] with begin after end",
                               (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_size)
        BAD("data %s at [%llu, %llu] lies past the end of the data section (%llu bytes; file %llu bytes)",
            sb, (unsigned long long)e->begin, (unsigned long long)e->end,
            (unsigned long long)data_size, (unsigned long long)f->size);
    if (bits) {
        if (overflow || numel > UINT64_MAX / bits) BAD("shape %s is absurdly large", sb);
        uint64_t need = numel * bits;
        if (need % 8 || need / 8 != e->end - e->begin)
            BAD("shape %s of %s needs %llu bytes but data_offsets [%llu, %llu] span %llu", sb,
                dt->u.str, (unsigned long long)(need / 8), (unsigned long long)e->begin,
                (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
    }
#undef BAD
    return LMR_OK;
}

static lmr_status parse_header(lmr_st_file *f, char *err, size_t errcap) {
    uint64_t hlen = f->data_off - 8, data_size = f->size - f->data_off;
    char where[300];
    snprintf(where, sizeof where, "%s header", f->label);
    lmr_json_limits lim = {LMR_ST_MAX_HEADER, 16, 4u << 20};
    int rc = lmr_json_parse((const char *)f->map + 8, hlen, &lim, where, &f->doc, err, errcap);
    if (rc) return rc == -2 ? LMR_ERR_OUT_OF_MEMORY : LMR_ERR_FORMAT;
    const lmr_json *root = lmr_json_root(f->doc);
    if (root->type != LMR_JSON_OBJECT) {
        snprintf(err, errcap, "%s: the header is a JSON %s, not an object", f->label, lmr_json_type_name(root->type));
        return LMR_ERR_FORMAT;
    }
    f->entries = calloc(root->n ? root->n : 1, sizeof *f->entries);
    f->by_name = calloc(root->n ? root->n : 1, sizeof *f->by_name);
    if (!f->entries || !f->by_name) {
        snprintf(err, errcap, "%s: out of memory for %u header entries", f->label, root->n);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < root->n; i++) {
        const lmr_json *m = &root->u.items[i];
        if (m->key_len == 12 && !memcmp(m->key, "__metadata__", 12)) {
            if (m->type != LMR_JSON_OBJECT) {
                snprintf(err, errcap, "%s: \"__metadata__\" must be an object, not %s", f->label,
                         lmr_json_type_name(m->type));
                return LMR_ERR_FORMAT;
            }
            continue;
        }
        lmr_status st = parse_entry(f, m, data_size, &f->entries[f->n], err, errcap);
        if (st) return st;
        f->n++;
    }
    qsort(f->entries, (size_t)f->n, sizeof *f->entries, by_begin);
    const lmr_st_entry *last = NULL; /* the non-empty tensor reaching furthest so far */
    for (int32_t i = 0; i < f->n; i++) {
        const lmr_st_entry *e = &f->entries[i];
        if (e->begin == e->end) continue;
        if (last && e->begin < last->end) {
            char a[112], b[112];
            snprintf(err, errcap, "%s: tensors \"%s\" [%llu, %llu] and \"%s\" [%llu, %llu] overlap",
                     f->label, lmr_json_show(last->name, last->name_len, a, sizeof a),
                     (unsigned long long)last->begin, (unsigned long long)last->end,
                     lmr_json_show(e->name, e->name_len, b, sizeof b), (unsigned long long)e->begin,
                     (unsigned long long)e->end);
            return LMR_ERR_FORMAT;
        }
        if (!last || e->end > last->end) last = e;
    }
    for (int32_t i = 0; i < f->n; i++) f->by_name[i] = &f->entries[i];
    qsort(f->by_name, (size_t)f->n, sizeof *f->by_name, by_name);
    return LMR_OK;
}

lmr_status lmr_st_open(const char *path, const char *label, lmr_st_file *f, char *err,
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
    f->size = (uint64_t)sb.st_size;
    f->mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    if (f->size < 8) {
        snprintf(err, errcap, "%s: file is %llu bytes, too short for the 8-byte header length",
                 label, (unsigned long long)f->size);
        close(fd);
        return LMR_ERR_FORMAT;
    }
    void *map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    if (map == MAP_FAILED) {
        close(fd);
        snprintf(err, errcap, "%s: cannot mmap %llu bytes: %s", label, (unsigned long long)f->size, strerror(e));
        return LMR_ERR_IO;
    }
    f->map = map;
    f->fd = fd; /* kept so the weights can see the file change under the map */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->map[i];
    lmr_status st = LMR_ERR_FORMAT;
    if (hlen < 2)
        snprintf(err, errcap, "%s: header length %llu is too small", label, (unsigned long long)hlen);
    else if (hlen > LMR_ST_MAX_HEADER)
        snprintf(err, errcap, "%s: header length %llu is over the limit of %u bytes", label,
                 (unsigned long long)hlen, LMR_ST_MAX_HEADER);
    else if (hlen > f->size - 8)
        snprintf(err, errcap, "%s: header length %llu runs past the end of the file (%llu bytes)",
                 label, (unsigned long long)hlen, (unsigned long long)f->size);
    else {
        f->data_off = 8 + hlen;
        st = parse_header(f, err, errcap);
    }
    if (st) lmr_st_close(f, 1);
    return st;
}

const lmr_st_entry *lmr_st_find(const lmr_st_file *f, const char *name) {
    size_t len = strlen(name);
    int32_t lo = 0, hi = f->n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(f->by_name[mid], name, len);
        if (!c) return f->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

void lmr_st_close(lmr_st_file *f, int unmap) {
    lmr_json_free(f->doc);
    free(f->entries);
    free(f->by_name);
    if (unmap && f->map) munmap((void *)f->map, f->size);
    if (unmap && f->map && f->fd >= 0) close(f->fd);
    const char *label = f->label;
    memset(f, 0, sizeof *f);
    f->label = label;
    f->fd = -1;
}
