/* save.c: lmr_weights_save: write a Hugging Face folder (config.json + model.safetensors) that
 * lmr_weights_load and transformers both read. Each file is written to "<name>.tmp" and renamed
 * into place, so a crash never leaves a half-written file under the real name. The safetensors
 * header is padded with spaces to a multiple of 8 bytes (as the reference writer does), so every
 * tensor starts 8-byte aligned when tensors are laid out back to back in weights order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "models/io_util.h"
#include "models/model_io.h"

static const char *dtype_st(int32_t d) { return d == LMR_DTYPE_F32 ? "F32" : d == LMR_DTYPE_F16 ? "F16" : "BF16"; }
static const char *dtype_torch(int32_t d) {
    return d == LMR_DTYPE_F32 ? "float32" : d == LMR_DTYPE_F16 ? "float16" : "bfloat16";
}

static void config_json(const lmr_weights *w, lmr_jw *j) {
    const lmr_config *c = &w->cfg;
    int qwen = !strcmp(c->arch, "qwen2");
    int32_t dt = w->n_tensors ? w->tensors[0].dtype : c->dtype;
    lmr_jw_begin_object(j);
    lmr_jw_key(j, "architectures");
    lmr_jw_begin_array(j);
    lmr_jw_string(j, qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    lmr_jw_end_array(j);
    lmr_jw_key(j, "model_type");
    lmr_jw_string(j, qwen ? "qwen2" : "llama");
    lmr_jw_key(j, "hidden_act");
    lmr_jw_string(j, "silu");
#define INT(k, v) lmr_jw_key(j, k), lmr_jw_int(j, v)
    INT("hidden_size", c->hidden);
    INT("intermediate_size", c->ffn);
    INT("num_hidden_layers", c->n_layers);
    INT("num_attention_heads", c->n_heads);
    INT("num_key_value_heads", c->n_kv_heads);
    if (c->head_dim * c->n_heads != c->hidden) INT("head_dim", c->head_dim);
    INT("vocab_size", c->vocab);
    INT("max_position_embeddings", c->max_pos);
    if (c->bos_token_id >= 0) INT("bos_token_id", c->bos_token_id);
    if (c->eos_token_id >= 0) INT("eos_token_id", c->eos_token_id);
#undef INT
    lmr_jw_key(j, "rope_theta");
    lmr_jw_double(j, c->rope_theta);
    lmr_jw_key(j, "rms_norm_eps");
    lmr_jw_double(j, c->rms_eps);
    lmr_jw_key(j, "rope_scaling");
    lmr_jw_null(j);
    lmr_jw_key(j, "tie_word_embeddings");
    lmr_jw_bool(j, c->tie_embeddings);
    if (qwen) {
        lmr_jw_key(j, "use_sliding_window");
        lmr_jw_bool(j, 0);
    } else {
        lmr_jw_key(j, "attention_bias");
        lmr_jw_bool(j, 0);
    }
    lmr_jw_key(j, "torch_dtype");
    lmr_jw_string(j, dtype_torch(dt));
    lmr_jw_end_object(j);
    lmr_jw_raw(j, "\n", 1);
}

/* {"__metadata__": {...}, name: {dtype, shape, data_offsets}, ...} padded to 8 bytes. */
static void header_json(const lmr_weights *w, lmr_jw *j) {
    uint64_t off = 0;
    lmr_jw_begin_object(j);
    lmr_jw_key(j, "__metadata__");
    lmr_jw_begin_object(j);
    lmr_jw_key(j, "format");
    lmr_jw_string(j, "pt");
    lmr_jw_end_object(j);
    for (int32_t i = 0; i < w->n_tensors; i++) {
        const lmr_tensor *t = &w->tensors[i];
        lmr_jw_key(j, t->name);
        lmr_jw_begin_object(j);
        lmr_jw_key(j, "dtype");
        lmr_jw_string(j, dtype_st(t->dtype));
        lmr_jw_key(j, "shape");
        lmr_jw_begin_array(j);
        for (int d = 0; d < t->n_dims; d++) lmr_jw_int(j, t->shape[d]);
        lmr_jw_end_array(j);
        lmr_jw_key(j, "data_offsets");
        lmr_jw_begin_array(j);
        lmr_jw_int(j, (int64_t)off);
        lmr_jw_int(j, (int64_t)(off + t->bytes));
        lmr_jw_end_array(j);
        lmr_jw_end_object(j);
        off += t->bytes;
    }
    lmr_jw_end_object(j);
    while (!j->failed && j->len % 8) lmr_jw_raw(j, " ", 1);
}

static lmr_status write_all(int fd, const void *buf, uint64_t n, const char *path, char *err, size_t errcap) {
    const uint8_t *p = buf;
    while (n) {
        size_t k = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t r = write(fd, p, k);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            snprintf(err, errcap, "%s: write failed: %s", path, r < 0 ? strerror(errno) : "no progress");
            return LMR_ERR_IO;
        }
        p += r;
        n -= (uint64_t)r;
    }
    return LMR_OK;
}

/* Write parts to dir/name via dir/name.tmp and rename. The tensors follow `head` when w != NULL. */
static lmr_status write_file(const char *dir, const char *name, const void *head, size_t head_len,
                             const lmr_weights *w, char *err, size_t errcap) {
    char path[4352], tmp[4400];
    lmr_status st = lmr_path_join(dir, name, path, sizeof path, err, errcap);
    if (st) return st;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* Replace only a regular file (or nothing): never a FIFO, device or folder of that name. */
    struct stat sb;
    if (!lstat(path, &sb) && !S_ISREG(sb.st_mode) && !(S_ISLNK(sb.st_mode) && !stat(path, &sb) &&
                                                        S_ISREG(sb.st_mode))) {
        snprintf(err, errcap, "%s: exists and is not a regular file; refusing to replace it", path);
        return LMR_ERR_IO;
    }
    /* O_NONBLOCK: a FIFO left at the temporary name fails (no reader) instead of hanging. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot create: %s", tmp, strerror(errno));
        return LMR_ERR_IO;
    }
    st = write_all(fd, head, head_len, tmp, err, errcap);
    for (int32_t i = 0; !st && w && i < w->n_tensors; i++)
        st = write_all(fd, w->tensors[i].data, w->tensors[i].bytes, tmp, err, errcap);
    if (close(fd) && !st) {
        snprintf(err, errcap, "%s: close failed: %s", tmp, strerror(errno));
        st = LMR_ERR_IO;
    }
    if (!st && rename(tmp, path)) {
        snprintf(err, errcap, "%s: cannot rename to %s: %s", tmp, name, strerror(errno));
        st = LMR_ERR_IO;
    }
    if (st) unlink(tmp);
    return st;
}

/* mkdir -p */
static lmr_status make_dir(const char *dir, char *err, size_t errcap) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        snprintf(err, errcap, "%.100s...: path too long", dir);
        return LMR_ERR_INVALID_ARG;
    }
    for (char *s = p + 1;; s++) {
        if (*s && *s != '/') continue;
        char c = *s;
        *s = 0;
        struct stat sb;
        if (mkdir(p, 0755) && errno != EEXIST) {
            snprintf(err, errcap, "%s: cannot create folder: %s", p, strerror(errno));
            return LMR_ERR_IO;
        }
        if (stat(p, &sb) || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errcap, "%s: exists and is not a folder", p);
            return LMR_ERR_IO;
        }
        if (!c) return LMR_OK;
        *s = c;
    }
}

lmr_status lmr_weights_save(const lmr_weights *w, const char *dir, char *err, size_t errcap) {
    char dummy[1];
    if (!err || !errcap) err = dummy, errcap = sizeof dummy;
    err[0] = 0;
    if (!w || !w->n_tensors || !dir || !*dir) {
        snprintf(err, errcap, "save: %s", !dir || !*dir ? "no folder given" : "no weights");
        return LMR_ERR_INVALID_ARG;
    }
    for (int32_t i = 0; i < w->n_tensors; i++) /* safetensors has no quantised block types */
        if (w->tensors[i].dtype != LMR_DTYPE_F32 && w->tensors[i].dtype != LMR_DTYPE_F16 &&
            w->tensors[i].dtype != LMR_DTYPE_BF16) {
            snprintf(err, errcap,
                     "save: tensor \"%s\" is quantised (a GGUF block type), which safetensors "
                     "cannot hold", w->tensors[i].name);
            return LMR_ERR_UNSUPPORTED;
        }
    lmr_status st = make_dir(dir, err, errcap);
    if (st) return st;
    lmr_jw cj, hj;
    lmr_jw_init(&cj);
    lmr_jw_init(&hj);
    config_json(w, &cj);
    lmr_jw_raw(&hj, "\0\0\0\0\0\0\0\0", 8); /* room for the length */
    header_json(w, &hj);
    if (cj.failed || hj.failed) {
        snprintf(err, errcap, "%s: out of memory building the headers", dir);
        st = LMR_ERR_OUT_OF_MEMORY;
    } else {
        uint64_t n = hj.len - 8;
        for (int i = 0; i < 8; i++) hj.buf[i] = (char)(n >> (8 * i));
        st = write_file(dir, "model.safetensors", hj.buf, hj.len, w, err, errcap);
        if (!st) st = write_file(dir, "config.json", cj.buf, cj.len, NULL, err, errcap);
    }
    lmr_jw_free(&cj);
    lmr_jw_free(&hj);
    return st;
}
