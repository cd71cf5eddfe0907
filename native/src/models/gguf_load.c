/* gguf_load.c: lmr_weights_load_gguf: one GGUF file (qwen2 or llama, as llama.cpp's converter
 * writes it) -> lmr_config from its metadata and lmr_weights under the Hugging Face names the
 * engine binds, pointing into the read-only mmap.
 *
 * Every tensor the metadata implies must be present with exactly the implied shape (GGUF's
 * ne[0] is the contiguous dimension: a Linear weight [out, in] is ne = {in, out}); 2-D weights
 * may be F32, F16, BF16, Q8_0, Q4_K or Q6_K, each tensor its own type, and 1-D ones (norms,
 * biases) F32, F16 or BF16. Any tensor the metadata does not imply is an error, as in the
 * safetensors loader. Two kinds of tensor are copied instead of used in place: llama's q and k
 * weights, whose rows the converter permutes from Hugging Face's rotate-half RoPE layout to
 * ggml's interleaved one (the copy undoes it, so one RoPE serves both formats), and a tensor
 * whose data is not aligned to its element size (a file with general.alignment below 4). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "models/gguf.h"
#include "models/io_util.h"
#include "models/model_io.h"

#define MAX_SIZE (1 << 24) /* vocab, hidden, ffn, heads*head_dim: as config.c */
#define MAX_LAYERS 4096

/* ggml type id -> LMR_DTYPE_* (-1: not run by the engine). The ids of F32, F16 and the
 * quantised types are ggml's own; BF16 is ggml's 30 and the engine's LMR_DTYPE_BF16. */
static int32_t engine_dtype(uint32_t ggml, int two_d) {
    switch (ggml) {
    case 0: return LMR_DTYPE_F32;
    case 1: return LMR_DTYPE_F16;
    case 30: return LMR_DTYPE_BF16;
    case 8: return two_d ? LMR_DTYPE_Q8_0 : -1;
    case 12: return two_d ? LMR_DTYPE_Q4_K : -1;
    case 14: return two_d ? LMR_DTYPE_Q6_K : -1;
    default: return -1;
    }
}

typedef struct {
    lmr_gguf_file *f;
    const char *arch;
    char *err;
    size_t errcap;
} meta;

/* An integer metadata value {arch}.key (or the full key when arch is NULL) in [lo, hi]. */
static lmr_status get_int(meta *m, const char *key, int required, int64_t def, int64_t lo,
                          int64_t hi, int32_t *out) {
    char full[128];
    snprintf(full, sizeof full, "%s%s%s", m->arch ? m->arch : "", m->arch ? "." : "", key);
    const lmr_gguf_kv *kv = lmr_gguf_find_kv(m->f, full);
    int64_t x;
    if (!kv) {
        if (required) {
            snprintf(m->err, m->errcap, "%s: metadata \"%s\" is missing", m->f->label, full);
            return LMR_ERR_FORMAT;
        }
        *out = (int32_t)def;
        return LMR_OK;
    }
    if (!lmr_gguf_kv_int(kv, &x)) {
        snprintf(m->err, m->errcap, "%s: metadata \"%s\" is not an integer", m->f->label, full);
        return LMR_ERR_FORMAT;
    }
    if (x < lo || x > hi) {
        snprintf(m->err, m->errcap, "%s: metadata \"%s\" is %lld (allowed %lld..%lld)", m->f->label,
                 full, (long long)x, (long long)lo, (long long)hi);
        return LMR_ERR_FORMAT;
    }
    *out = (int32_t)x;
    return LMR_OK;
}

static lmr_status get_float(meta *m, const char *key, int required, double def, double lo,
                            double hi, double *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", m->arch, key);
    const lmr_gguf_kv *kv = lmr_gguf_find_kv(m->f, full);
    if (!kv) {
        if (required) {
            snprintf(m->err, m->errcap, "%s: metadata \"%s\" is missing", m->f->label, full);
            return LMR_ERR_FORMAT;
        }
        *out = def;
        return LMR_OK;
    }
    double x;
    if (!lmr_gguf_kv_float(kv, &x) || !(x > lo && x < hi)) {
        snprintf(m->err, m->errcap, "%s: metadata \"%s\" is not a number in (%g, %g)", m->f->label,
                 full, lo, hi);
        return LMR_ERR_FORMAT;
    }
    *out = x;
    return LMR_OK;
}

static lmr_status unsupported(meta *m, const char *what) {
    snprintf(m->err, m->errcap, "%s: %s", m->f->label, what);
    return LMR_ERR_UNSUPPORTED;
}

/* Hyper-parameters from the metadata, the vocabulary from token_embd's rows. */
static lmr_status config_from(lmr_gguf_file *f, lmr_config *cfg, char *err, size_t errcap) {
    meta m = {f, NULL, err, errcap};
    const lmr_gguf_kv *kv = lmr_gguf_find_kv(f, "general.architecture");
    const char *s;
    uint64_t n;
    char buf[160];
    if (!kv || !lmr_gguf_kv_string(kv, &s, &n)) {
        snprintf(err, errcap, "%s: metadata \"general.architecture\" is missing or not a string", f->label);
        return LMR_ERR_FORMAT;
    }
    if (!(n == 5 && !memcmp(s, "qwen2", 5)) && !(n == 5 && !memcmp(s, "llama", 5))) {
        size_t k = 0;
        for (uint64_t i = 0; i < n && i < 40; i++) buf[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
        buf[k] = 0;
        snprintf(err, errcap, "%s: architecture \"%s\" is not supported (supported: qwen2, llama)",
                 f->label, buf);
        return LMR_ERR_UNSUPPORTED;
    }
    memcpy(cfg->arch, s, 5);
    cfg->arch[5] = 0;
    m.arch = cfg->arch;
    lmr_status st;
    int32_t key_len, value_len, rope_dim, experts;
    if ((st = get_int(&m, "block_count", 1, 0, 1, MAX_LAYERS, &cfg->n_layers)) ||
        (st = get_int(&m, "embedding_length", 1, 0, 1, MAX_SIZE, &cfg->hidden)) ||
        (st = get_int(&m, "feed_forward_length", 1, 0, 1, MAX_SIZE, &cfg->ffn)) ||
        (st = get_int(&m, "attention.head_count", 1, 0, 1, MAX_SIZE, &cfg->n_heads)) ||
        (st = get_int(&m, "attention.head_count_kv", 0, cfg->n_heads, 1, cfg->n_heads, &cfg->n_kv_heads)) ||
        (st = get_int(&m, "context_length", 1, 0, 1, 1 << 30, &cfg->max_pos)) ||
        (st = get_int(&m, "attention.key_length", 0, 0, 2, 4096, &key_len)) ||
        (st = get_int(&m, "attention.value_length", 0, 0, 2, 4096, &value_len)) ||
        (st = get_int(&m, "rope.dimension_count", 0, 0, 1, 4096, &rope_dim)) ||
        (st = get_int(&m, "expert_count", 0, 0, 0, MAX_SIZE, &experts)) ||
        (st = get_float(&m, "rope.freq_base", 0, 10000.0, 0, 1e300, &cfg->rope_theta)) ||
        (st = get_float(&m, "attention.layer_norm_rms_epsilon", 1, 0, 0, 1, &cfg->rms_eps)))
        return st;
    if (!key_len) {
        if (cfg->hidden % cfg->n_heads) {
            snprintf(err, errcap, "%s: embedding_length %d is not divisible by head_count %d (and no key_length is given)",
                     f->label, cfg->hidden, cfg->n_heads);
            return LMR_ERR_FORMAT;
        }
        key_len = cfg->hidden / cfg->n_heads;
    }
    cfg->head_dim = key_len;
    if (cfg->head_dim % 2) {
        snprintf(err, errcap, "%s: head dimension %d is odd (RoPE rotates pairs)", f->label, cfg->head_dim);
        return LMR_ERR_FORMAT;
    }
    if (cfg->n_heads % cfg->n_kv_heads) {
        snprintf(err, errcap, "%s: head_count %d is not divisible by head_count_kv %d", f->label,
                 cfg->n_heads, cfg->n_kv_heads);
        return LMR_ERR_FORMAT;
    }
    if ((int64_t)cfg->n_heads * cfg->head_dim > MAX_SIZE) {
        snprintf(err, errcap, "%s: attention width %d x %d is over 2^24", f->label, cfg->n_heads, cfg->head_dim);
        return LMR_ERR_FORMAT;
    }
    if (value_len && value_len != key_len)
        return unsupported(&m, "attention.value_length differs from key_length, which is not supported");
    if (rope_dim && rope_dim != key_len)
        return unsupported(&m, "rope.dimension_count differs from the head dimension (partial RoPE is not supported)");
    if (experts) return unsupported(&m, "mixture-of-experts models (expert_count > 0) are not supported");
    snprintf(buf, sizeof buf, "%s.rope.scaling.type", cfg->arch);
    if ((kv = lmr_gguf_find_kv(f, buf)) && !(lmr_gguf_kv_string(kv, &s, &n) && n == 4 && !memcmp(s, "none", 4)))
        return unsupported(&m, "rope.scaling.type is set: RoPE scaling is not supported (only plain RoPE)");
    const lmr_gguf_tensor *emb = lmr_gguf_find_tensor(f, "token_embd.weight");
    if (!emb || emb->n_dims != 2 || emb->ne[1] > MAX_SIZE) {
        snprintf(err, errcap, "%s: tensor \"token_embd.weight\" is missing or not [vocab, embedding_length] "
                 "with vocab <= 2^24", f->label);
        return LMR_ERR_FORMAT;
    }
    cfg->vocab = (int32_t)emb->ne[1];
    int32_t vs;
    if ((st = get_int(&m, "vocab_size", 0, cfg->vocab, 1, MAX_SIZE, &vs))) return st;
    if (vs != cfg->vocab) {
        snprintf(err, errcap, "%s: metadata vocab_size %d disagrees with token_embd.weight's %d rows",
                 f->label, vs, cfg->vocab);
        return LMR_ERR_FORMAT;
    }
    if ((kv = lmr_gguf_find_kv(f, "tokenizer.ggml.tokens")) && kv->type == LMR_GGUF_ARRAY &&
        kv->arr_n > (uint64_t)cfg->vocab) {
        snprintf(err, errcap, "%s: the tokenizer has %llu tokens but token_embd.weight only %d rows",
                 f->label, (unsigned long long)kv->arr_n, cfg->vocab);
        return LMR_ERR_FORMAT;
    }
    m.arch = NULL;
    if (get_int(&m, "tokenizer.ggml.bos_token_id", 0, -1, INT32_MIN, INT32_MAX, &cfg->bos_token_id) ||
        get_int(&m, "tokenizer.ggml.eos_token_id", 0, -1, INT32_MIN, INT32_MAX, &cfg->eos_token_id))
        cfg->bos_token_id = cfg->eos_token_id = -1; /* informational only: never fatal */
    if (cfg->bos_token_id >= cfg->vocab || cfg->bos_token_id < 0) cfg->bos_token_id = -1;
    if (cfg->eos_token_id >= cfg->vocab || cfg->eos_token_id < 0) cfg->eos_token_id = -1;
    err[0] = 0;
    cfg->tie_embeddings = lmr_gguf_find_tensor(f, "output.weight") == NULL;
    cfg->attn_bias = !strcmp(cfg->arch, "qwen2");
    cfg->dtype = LMR_DTYPE_DEFAULT;
    return LMR_OK;
}

static const char *const layer_names[][2] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};

/* The GGUF name of a Hugging Face tensor name (into buf); 0 when it has none. */
static int gguf_name(const char *hf, char *buf, size_t cap) {
    if (!strcmp(hf, "model.embed_tokens.weight")) return snprintf(buf, cap, "token_embd.weight"), 1;
    if (!strcmp(hf, "model.norm.weight")) return snprintf(buf, cap, "output_norm.weight"), 1;
    if (!strcmp(hf, "lm_head.weight")) return snprintf(buf, cap, "output.weight"), 1;
    int layer, k = 0;
    if (sscanf(hf, "model.layers.%d.%n", &layer, &k) != 1 || !k) return 0;
    for (size_t i = 0; i < sizeof layer_names / sizeof layer_names[0]; i++)
        if (!strcmp(hf + k, layer_names[i][0]))
            return snprintf(buf, cap, "blk.%d.%s", layer, layer_names[i][1]), 1;
    return 0;
}

static void *anon_copy(uint64_t bytes) {
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Undo convert_hf_to_gguf's permute of a llama q/k weight: GGUF row h*hd + 2j + s holds Hugging
 * Face row h*hd + s*hd/2 + j. Whole rows move, so any row type (quantised blocks too) works. */
static void unpermute(const uint8_t *src, uint8_t *dst, int64_t rows, int64_t heads, uint64_t row_bytes) {
    int64_t hd = rows / heads, half = hd / 2;
    for (int64_t h = 0; h < heads; h++)
        for (int64_t j = 0; j < half; j++)
            for (int64_t s = 0; s < 2; s++)
                memcpy(dst + (uint64_t)(h * hd + s * half + j) * row_bytes,
                       src + (uint64_t)(h * hd + 2 * j + s) * row_bytes, row_bytes);
}

static lmr_status bind(lmr_gguf_file *f, lmr_weights *w, lmr_tensor *t, char *err, size_t errcap) {
    char gn[96];
    gguf_name(t->name, gn, sizeof gn);
    const lmr_gguf_tensor *g = lmr_gguf_find_tensor(f, gn);
    char want[64], got[96];
    if (t->n_dims == 2) snprintf(want, sizeof want, "{%lld, %lld}", (long long)t->shape[1], (long long)t->shape[0]);
    else snprintf(want, sizeof want, "{%lld}", (long long)t->shape[0]);
    if (!g) {
        snprintf(err, errcap, "%s: tensor \"%s\" ne %s (implied by the metadata) is missing", f->label, gn, want);
        return LMR_ERR_FORMAT;
    }
    int same = (uint64_t)t->shape[0] == (t->n_dims == 2 ? g->ne[1] : g->ne[0]) &&
               (t->n_dims == 1 || (uint64_t)t->shape[1] == g->ne[0]);
    for (int d = t->n_dims; d < LMR_GGUF_MAX_DIMS; d++) same = same && g->ne[d] == 1;
    if (!same) {
        size_t k = (size_t)snprintf(got, sizeof got, "{");
        for (int d = 0; d < g->n_dims; d++)
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%llu", d ? ", " : "", (unsigned long long)g->ne[d]);
        snprintf(got + k, sizeof got - k, "}");
        snprintf(err, errcap, "%s: tensor \"%s\" has ne %s but the metadata implies %s", f->label, gn, got, want);
        return LMR_ERR_FORMAT;
    }
    int32_t dt = engine_dtype(g->type, t->n_dims == 2);
    if (dt < 0) {
        snprintf(err, errcap, "%s: tensor \"%s\" has type %s, which is unsupported (%s)", f->label, gn,
                 lmr_gguf_type_name(g->type),
                 t->n_dims == 2 ? "use F32, F16, BF16, Q8_0, Q4_K or Q6_K: e.g. a Q8_0 or Q4_K_M file"
                                : "1-D tensors must be F32, F16 or BF16");
        return LMR_ERR_UNSUPPORTED;
    }
    t->dtype = dt;
    t->bytes = g->bytes;
    const uint8_t *p = f->map + f->data_off + g->offset;
    int64_t heads = 0;
    if (!strcmp(w->cfg.arch, "llama") && strstr(gn, ".attn_q.")) heads = w->cfg.n_heads;
    if (!strcmp(w->cfg.arch, "llama") && strstr(gn, ".attn_k.")) heads = w->cfg.n_kv_heads;
    if (heads || (uintptr_t)p % (dt == LMR_DTYPE_F32 ? 4 : 2)) {
        uint8_t *copy = anon_copy(t->bytes);
        if (!copy) {
            snprintf(err, errcap, "%s: no memory for a %llu-byte copy of tensor \"%s\"", f->label,
                     (unsigned long long)t->bytes, gn);
            return LMR_ERR_OUT_OF_MEMORY;
        }
        if (heads) unpermute(p, copy, t->shape[0], heads, t->bytes / (uint64_t)t->shape[0]);
        else memcpy(copy, p, t->bytes);
        mprotect(copy, t->bytes ? t->bytes : 1, PROT_READ);
        lmr_weights_add_map(w, copy, t->bytes ? t->bytes : 1);
        p = copy;
    }
    t->data = p;
    return LMR_OK;
}

/* Every tensor of the file is bound: extra layers, biases or tables (rope_freqs.weight of RoPE
 * scaling) would otherwise change the model without a word. Names the first few. */
static lmr_status unused(lmr_gguf_file *f, const lmr_weights *w, char *err, size_t errcap) {
    int32_t count = 0;
    size_t k = 0;
    char names[400] = "", gn[96];
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        int bound = 0;
        for (int32_t t = 0; !bound && t < w->n_tensors; t++)
            bound = gguf_name(w->tensors[t].name, gn, sizeof gn) && !strcmp(gn, f->tensors[i].name);
        if (bound) continue;
        if (count++ < 4 && k < sizeof names)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s\"%s\"", k ? ", " : "", f->tensors[i].name);
    }
    if (!count) return LMR_OK;
    snprintf(err, errcap, "%s: %d tensor%s in the file %s not used by a %s model with block_count %d: %s%s",
             f->label, count, count == 1 ? "" : "s", count == 1 ? "is" : "are", w->cfg.arch,
             w->cfg.n_layers, names, count > 4 ? ", ..." : "");
    return LMR_ERR_UNSUPPORTED;
}

/* The dtype holding the most bytes (the model's headline dtype). */
static int32_t main_dtype(const lmr_weights *w) {
    static const int32_t dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16,
                                  LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};
    uint64_t best = 0;
    int32_t dt = LMR_DTYPE_F32;
    for (size_t i = 0; i < sizeof dts / sizeof dts[0]; i++) {
        uint64_t b = 0;
        for (int32_t t = 0; t < w->n_tensors; t++)
            if (w->tensors[t].dtype == dts[i]) b += w->tensors[t].bytes;
        if (b > best) best = b, dt = dts[i];
    }
    return dt;
}

static lmr_status load(lmr_gguf_file *f, const char *path, lmr_weights *w, char *err, size_t errcap) {
    lmr_status st = config_from(f, &w->cfg, err, errcap);
    if (st) return st;
    lmr_path_base(path, w->cfg.name, sizeof w->cfg.name);
    int32_t n = lmr_config_tensors(&w->cfg, NULL, 0);
    w->tensors = calloc((size_t)n, sizeof *w->tensors);
    w->maps = calloc((size_t)n + 1, sizeof *w->maps);
    w->map_sizes = calloc((size_t)n + 1, sizeof *w->map_sizes);
    w->fds = calloc(1, sizeof *w->fds);
    w->file_sizes = calloc(1, sizeof *w->file_sizes);
    w->file_mtimes_ns = calloc(1, sizeof *w->file_mtimes_ns);
    w->file_names = calloc(1, sizeof *w->file_names);
    if (!w->tensors || !w->maps || !w->map_sizes || !w->fds || !w->file_sizes ||
        !w->file_mtimes_ns || !w->file_names) {
        snprintf(err, errcap, "%s: out of memory for %d tensors", f->label, n);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    w->n_tensors = lmr_config_tensors(&w->cfg, w->tensors, n);
    /* the weights own the map and fd from here on */
    lmr_weights_add_map(w, (void *)f->map, f->size);
    w->fds[0] = f->fd;
    f->fd = -1;
    w->file_sizes[0] = f->size;
    w->file_mtimes_ns[0] = f->mtime_ns;
    snprintf(w->file_names[0], sizeof w->file_names[0], "%.63s", w->cfg.name);
    w->n_files = 1;
    for (int32_t i = 0; i < n; i++) {
        if ((st = bind(f, w, &w->tensors[i], err, errcap))) return st;
        w->total_bytes += w->tensors[i].bytes;
    }
    if ((st = unused(f, w, err, errcap))) return st;
    w->cfg.dtype = main_dtype(w);
    return LMR_OK;
}

lmr_status lmr_weights_load_gguf(const char *path, lmr_weights *out, char *err, size_t errcap) {
    char dummy[1];
    if (!err || !errcap) err = dummy, errcap = sizeof dummy;
    err[0] = 0;
    memset(out, 0, sizeof *out);
    if (!path || !*path) {
        snprintf(err, errcap, "GGUF file: no path given");
        return LMR_ERR_INVALID_ARG;
    }
    lmr_gguf_file f;
    lmr_status st = lmr_gguf_open(path, path, &f, err, errcap);
    if (st) return st;
    st = load(&f, path, out, err, errcap);
    lmr_gguf_close(&f, f.fd >= 0); /* unmapped here unless handed to the weights */
    if (st) lmr_weights_free(out);
    return st;
}
