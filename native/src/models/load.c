/* load.c: lmr_weights_load: a Hugging Face folder (config.json + model.safetensors, or the shards
 * named by model.safetensors.index.json) -> lmr_weights pointing into read-only mmaps.
 *
 * Every tensor the config implies must be present exactly once across the shards, with exactly
 * the implied shape and a dtype of BF16, F16 or F32 (tensors may differ in dtype). Extra
 * tensors (rotary_emb.inv_freq, lm_head.weight of a tied model) are ignored after their bounds
 * are checked. A tensor whose data is not aligned to its element size (legal in safetensors,
 * never written by the reference library) is copied into an aligned anonymous mapping, which
 * the weights then own like the file maps. Pages are not touched here: the backend decides when
 * to read (or upload) them.
 * A path to a regular file, or a folder without config.json holding one .gguf file, goes to the
 * GGUF loader (gguf_load.c) instead. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "json.h"
#include "models/io_util.h"
#include "models/model_io.h"
#include "models/safetensors.h"

#define MAX_SHARDS 4096

typedef struct {
    char dir[4096];
    char *err;
    size_t errcap;
    lmr_json_doc *index; /* NULL for a single file */
    const lmr_json *weight_map;
    char (*names)[256];  /* shard file names */
    char (*labels)[4352]; /* dir/name for messages */
    lmr_st_file *files;
    int32_t n_files;
    int maps_handed; /* the file maps are in the weights (freed by lmr_weights_free) */
} loader;

static lmr_status shard_list(loader *L, const char *index_path) {
    char *text;
    size_t len;
    lmr_status st = lmr_read_file(index_path, 64u << 20, &text, &len, L->err, L->errcap);
    if (st) return st;
    lmr_json_limits lim = lmr_json_limits_default();
    lim.max_bytes = 64u << 20;
    lim.max_values = 4u << 20;
    int rc = lmr_json_parse(text, len, &lim, index_path, &L->index, L->err, L->errcap);
    free(text);
    if (rc) return rc == -2 ? LMR_ERR_OUT_OF_MEMORY : LMR_ERR_FORMAT;
    L->weight_map = lmr_json_get(lmr_json_root(L->index), "weight_map");
    if (!L->weight_map || L->weight_map->type != LMR_JSON_OBJECT) {
        snprintf(L->err, L->errcap, "%s: no \"weight_map\" object", index_path);
        return LMR_ERR_FORMAT;
    }
    uint32_t n = L->weight_map->n;
    L->names = calloc(n ? n : 1, sizeof *L->names);
    if (!L->names) return snprintf(L->err, L->errcap, "%s: out of memory", index_path), LMR_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < n; i++) {
        const lmr_json *v = &L->weight_map->u.items[i];
        const char *s = v->type == LMR_JSON_STRING ? v->u.str : NULL;
        int ctrl = 0;
        for (uint32_t k = 0; s && k < v->n; k++) ctrl |= (unsigned char)s[k] < 0x20 || s[k] == 0x7f;
        if (!s || !*s || strlen(s) != v->n || v->n >= 256 || strchr(s, '/') || !strcmp(s, ".") ||
            !strcmp(s, "..") || ctrl) {
            char kb[104];
            snprintf(L->err, L->errcap,
                     "%s: weight_map entry \"%s\" must name a file in the same folder", index_path,
                     lmr_json_show(v->key, v->key_len, kb, sizeof kb));
            return LMR_ERR_FORMAT;
        }
        int32_t j = 0;
        while (j < L->n_files && strcmp(L->names[j], s)) j++;
        if (j == L->n_files) {
            if (L->n_files == MAX_SHARDS) {
                snprintf(L->err, L->errcap, "%s: more than %d shards", index_path, MAX_SHARDS);
                return LMR_ERR_FORMAT;
            }
            snprintf(L->names[L->n_files++], 256, "%s", s);
        }
    }
    if (!L->n_files) {
        snprintf(L->err, L->errcap, "%s: \"weight_map\" is empty", index_path);
        return LMR_ERR_FORMAT;
    }
    return LMR_OK;
}

static lmr_status open_shards(loader *L) {
    L->labels = calloc((size_t)L->n_files, sizeof *L->labels);
    L->files = calloc((size_t)L->n_files, sizeof *L->files);
    if (!L->labels || !L->files) {
        snprintf(L->err, L->errcap, "%s: out of memory", L->dir);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    for (int32_t i = 0; i < L->n_files; i++) L->files[i].fd = -1;
    for (int32_t i = 0; i < L->n_files; i++) {
        lmr_status st = lmr_path_join(L->dir, L->names[i], L->labels[i], sizeof L->labels[i], L->err, L->errcap);
        if (st) return st;
        struct stat sb;
        if (L->index && stat(L->labels[i], &sb)) {
            snprintf(L->err, L->errcap, "%s: shard named in model.safetensors.index.json is missing",
                     L->labels[i]);
            return LMR_ERR_IO;
        }
        if ((st = lmr_st_open(L->labels[i], L->labels[i], &L->files[i], L->err, L->errcap))) return st;
    }
    return LMR_OK;
}

static void shape_str(int n, const int64_t *s, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)s[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* Find t in the shards, check it and point t->data at it. */
static lmr_status bind(loader *L, lmr_weights *w, lmr_tensor *t) {
    const lmr_st_entry *e = NULL;
    int32_t in = -1;
    char want[96], got[160];
    for (int32_t i = 0; i < L->n_files; i++) {
        const lmr_st_entry *x = lmr_st_find(&L->files[i], t->name);
        if (!x) continue;
        if (e) {
            snprintf(L->err, L->errcap, "%s: tensor \"%s\" is also in %s", L->labels[in], t->name, L->labels[i]);
            return LMR_ERR_FORMAT;
        }
        e = x, in = i;
    }
    shape_str(t->n_dims, t->shape, want, sizeof want);
    if (!e) {
        snprintf(L->err, L->errcap, "%s: tensor \"%s\" %s (implied by config.json) is missing from %s",
                 L->dir, t->name, want, L->index ? "every shard" : "model.safetensors");
        return LMR_ERR_FORMAT;
    }
    const lmr_st_file *f = &L->files[in];
    const lmr_json *mapped = L->index ? lmr_json_get(L->weight_map, t->name) : NULL;
    if (L->index && (!mapped || strcmp(mapped->u.str, L->names[in]))) {
        snprintf(L->err, L->errcap, "%s: tensor \"%s\" is in this shard but the index maps it to %s",
                 f->label, t->name, mapped ? mapped->u.str : "nothing");
        return LMR_ERR_FORMAT;
    }
    if (e->dtype < 0) {
        char db[40];
        snprintf(L->err, L->errcap, "%s: tensor \"%s\" has dtype %s, which is unsupported (use BF16, F16 or F32)",
                 f->label, t->name, lmr_json_show(e->dtype_name, strlen(e->dtype_name), db, sizeof db));
        return LMR_ERR_UNSUPPORTED;
    }
    int same = e->n_dims == t->n_dims;
    for (int d = 0; same && d < t->n_dims; d++) same = e->shape[d] == t->shape[d];
    if (!same) {
        shape_str(e->n_dims, e->shape, got, sizeof got);
        snprintf(L->err, L->errcap, "%s: tensor \"%s\" has shape %s but config.json implies %s",
                 f->label, t->name, got, want);
        return LMR_ERR_FORMAT;
    }
    t->dtype = e->dtype;
    t->bytes = e->end - e->begin;
    const uint8_t *p = f->map + f->data_off + e->begin;
    if ((uintptr_t)p % lmr_dtype_size(e->dtype)) {
        void *copy = mmap(NULL, t->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (copy == MAP_FAILED) {
            snprintf(L->err, L->errcap, "%s: tensor \"%s\" is unaligned and no memory for its %llu-byte copy",
                     f->label, t->name, (unsigned long long)t->bytes);
            return LMR_ERR_OUT_OF_MEMORY;
        }
        memcpy(copy, p, t->bytes);
        lmr_weights_add_map(w, copy, t->bytes);
        p = copy;
    }
    t->data = p;
    return LMR_OK;
}

/* Tensors the engine may leave unread: rotary tables it recomputes and a tied model's copy of
 * the embedding. */
static int ignorable(const lmr_config *cfg, const char *name, uint32_t len) {
    static const char inv[] = "rotary_emb.inv_freq";
    size_t k = sizeof inv - 1;
    if (len >= k && !memcmp(name + len - k, inv, k)) return 1;
    return cfg->tie_embeddings && len == 14 && !memcmp(name, "lm_head.weight", 14);
}

/* Every tensor of the files is bound or ignorable: a config with fewer layers (or without the
 * biases) the files hold would otherwise drop weights without a word. Names the first few. */
static lmr_status unused(loader *L, const lmr_weights *w) {
    int32_t count = 0;
    size_t k = 0;
    char names[600] = "";
    for (int32_t i = 0; i < L->n_files; i++) {
        const lmr_st_file *f = &L->files[i];
        for (int32_t j = 0; j < f->n; j++) {
            const lmr_st_entry *x = &f->entries[j];
            if (ignorable(&w->cfg, x->name, x->name_len)) continue;
            int bound = 0;
            for (int32_t t = 0; !bound && t < w->n_tensors; t++)
                bound = strlen(w->tensors[t].name) == x->name_len &&
                        !memcmp(w->tensors[t].name, x->name, x->name_len);
            if (bound) continue;
            if (count++ < 4 && k < sizeof names) {
                char nb[112];
                k += (size_t)snprintf(names + k, sizeof names - k, "%s\"%s\"", k ? ", " : "",
                                      lmr_json_show(x->name, x->name_len, nb, sizeof nb));
            }
        }
    }
    if (!count) return LMR_OK;
    snprintf(L->err, L->errcap,
             "%s: %d tensor%s in the weights %s not used by config.json (num_hidden_layers %d): "
             "%s%s; the config and the weights disagree",
             L->dir, count, count == 1 ? "" : "s", count == 1 ? "is" : "are", w->cfg.n_layers,
             names, count > 4 ? ", ..." : "");
    return LMR_ERR_FORMAT;
}

static lmr_status load(loader *L, lmr_weights *w) {
    char path[4352];
    lmr_status st;
    struct stat sb;
    if (stat(L->dir, &sb)) {
        snprintf(L->err, L->errcap, "%s: model folder does not exist", L->dir);
        return LMR_ERR_IO;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(L->err, L->errcap, "%s: not a folder (give the folder holding config.json)", L->dir);
        return LMR_ERR_IO;
    }
    if ((st = lmr_path_join(L->dir, "config.json", path, sizeof path, L->err, L->errcap)) ||
        (st = lmr_config_load_file(path, &w->cfg, L->err, L->errcap)))
        return st;
    if ((st = lmr_path_join(L->dir, "model.safetensors.index.json", path, sizeof path, L->err, L->errcap)))
        return st;
    if (!stat(path, &sb)) {
        if ((st = shard_list(L, path))) return st;
    } else {
        if ((st = lmr_path_join(L->dir, "model.safetensors", path, sizeof path, L->err, L->errcap))) return st;
        if (stat(path, &sb)) {
            snprintf(L->err, L->errcap, "%s: no model.safetensors or model.safetensors.index.json", L->dir);
            return LMR_ERR_IO;
        }
        L->names = calloc(1, sizeof *L->names);
        if (!L->names) return LMR_ERR_OUT_OF_MEMORY;
        snprintf(L->names[0], 256, "model.safetensors");
        L->n_files = 1;
    }
    if ((st = open_shards(L))) return st;
    int32_t n = lmr_config_tensors(&w->cfg, NULL, 0);
    w->tensors = calloc((size_t)n, sizeof *w->tensors);
    w->maps = calloc((size_t)(L->n_files + n), sizeof *w->maps);
    w->map_sizes = calloc((size_t)(L->n_files + n), sizeof *w->map_sizes);
    if (!w->tensors || !w->maps || !w->map_sizes) {
        snprintf(L->err, L->errcap, "%s: out of memory for %d tensors", L->dir, n);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    w->n_tensors = lmr_config_tensors(&w->cfg, w->tensors, n);
    w->fds = calloc((size_t)L->n_files, sizeof *w->fds);
    w->file_sizes = calloc((size_t)L->n_files, sizeof *w->file_sizes);
    w->file_mtimes_ns = calloc((size_t)L->n_files, sizeof *w->file_mtimes_ns);
    w->file_names = calloc((size_t)L->n_files, sizeof *w->file_names);
    if (!w->fds || !w->file_sizes || !w->file_mtimes_ns || !w->file_names) {
        snprintf(L->err, L->errcap, "%s: out of memory for %d files", L->dir, L->n_files);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    for (int32_t i = 0; i < L->n_files; i++) { /* the weights own the maps and fds from here on */
        lmr_weights_add_map(w, (void *)L->files[i].map, L->files[i].size);
        w->fds[i] = L->files[i].fd;
        L->files[i].fd = -1;
        w->file_sizes[i] = L->files[i].size;
        w->file_mtimes_ns[i] = L->files[i].mtime_ns;
        snprintf(w->file_names[i], sizeof w->file_names[i], "%.63s", L->names[i]);
        w->n_files = i + 1;
    }
    L->maps_handed = 1;
    for (int32_t i = 0; i < n; i++) {
        if ((st = bind(L, w, &w->tensors[i]))) return st;
        w->total_bytes += w->tensors[i].bytes;
    }
    return unused(L, w);
}

/* A folder without config.json: its one .gguf file into path[cap] (1), none (0), or an error
 * naming two of them (-1). */
static int one_gguf(const char *dir, char *path, size_t cap, char *err, size_t errcap) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char first[256] = "";
    int n = 0;
    while (d && (e = readdir(d))) {
        size_t k = strlen(e->d_name);
        if (k < 6 || strcmp(e->d_name + k - 5, ".gguf") || e->d_name[0] == '.') continue;
        if (n++ == 0) snprintf(first, sizeof first, "%s", e->d_name);
        else {
            snprintf(err, errcap, "%s: holds several .gguf files (%s, %s); give the file's path",
                     dir, first, e->d_name);
            closedir(d);
            return -1;
        }
    }
    if (d) closedir(d);
    if (n && lmr_path_join(dir, first, path, cap, err, errcap)) return -1;
    return n;
}

lmr_status lmr_weights_load(const char *dir, lmr_weights *out, char *err, size_t errcap) {
    char dummy[1];
    if (!err || !errcap) err = dummy, errcap = sizeof dummy;
    err[0] = 0;
    memset(out, 0, sizeof *out);
    if (!dir || !*dir) {
        snprintf(err, errcap, "model folder: no path given");
        return LMR_ERR_INVALID_ARG;
    }
    /* A regular file is a GGUF; so is a folder's only .gguf when it has no config.json. */
    struct stat sb;
    if (!stat(dir, &sb) && S_ISREG(sb.st_mode)) return lmr_weights_load_gguf(dir, out, err, errcap);
    if (!stat(dir, &sb) && S_ISDIR(sb.st_mode)) {
        char p[4352];
        if (lmr_path_join(dir, "config.json", p, sizeof p, err, errcap)) return LMR_ERR_INVALID_ARG;
        if (stat(p, &sb)) {
            int n = one_gguf(dir, p, sizeof p, err, errcap);
            if (n < 0) return LMR_ERR_INVALID_ARG;
            if (n) return lmr_weights_load_gguf(p, out, err, errcap);
        } /* no .gguf either: the message below says config.json is missing */
    }
    loader L;
    memset(&L, 0, sizeof L);
    if (strlen(dir) >= sizeof L.dir) {
        snprintf(err, errcap, "%.100s...: path too long", dir);
        return LMR_ERR_INVALID_ARG;
    }
    snprintf(L.dir, sizeof L.dir, "%s", dir);
    L.err = err;
    L.errcap = errcap;
    lmr_status st = load(&L, out);
    for (int32_t i = 0; L.files && i < L.n_files; i++) lmr_st_close(&L.files[i], !L.maps_handed);
    free(L.files);
    free(L.labels);
    free(L.names);
    lmr_json_free(L.index);
    if (st) lmr_weights_free(out);
    return st;
}
