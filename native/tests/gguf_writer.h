/* gguf_writer.h: a small GGUF v3 writer for the tests and the fuzz seeds (header-only): writes
 * lmr_weights (Hugging Face names) as llama.cpp's converter would, into memory, and remembers
 * where each tensor info's type and offset fields are so a test can corrupt them. Options:
 * permute llama's q/k rows as the converter does (off: a negative control), the alignment, and
 * Q8_0 for the 2-D weights (quantised here: per block of 32, d = max|x| / 127, ggml's rounding),
 * or a type per 2-D weight (a mixed file such as Q4_K_M) quantised by a function the test gives. */
#ifndef LMR_TEST_GGUF_WRITER_H
#define LMR_TEST_GGUF_WRITER_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/half.h"
#include "models/model_io.h"

#define GW_MAX_T 512

typedef struct {
    uint8_t *data;
    size_t size, cap;
    int n_tensors;
    size_t type_pos[GW_MAX_T]; /* file offset of each tensor info's u32 type */
    size_t off_pos[GW_MAX_T];  /* ... and of its u64 offset */
    char names[GW_MAX_T][64];
} gw_file;

typedef struct {
    int permute;        /* llama: permute q/k rows as convert_hf_to_gguf does (1 = as real files) */
    uint32_t alignment; /* 0: 32, not written */
    int q8_0;           /* 2-D weights as Q8_0 */
    /* per-tensor types: NULL, or the LMR / ggml type id (Q8_0 8, Q4_K 12, Q6_K 14) of the 2-D
     * weight with this Hugging Face name (0: as the options above say), each row quantised by
     * quant (e.g. lmr_quantize_row) from its values as F32 */
    int (*type_of)(const char *name);
    void (*quant)(int type, const float *x, void *dst, int64_t n);
} gw_opts;

static void gw_put(gw_file *f, const void *p, size_t n) {
    if (f->size + n > f->cap) {
        f->cap = (f->size + n) * 2 + 4096;
        f->data = realloc(f->data, f->cap);
        if (!f->data) abort();
    }
    memcpy(f->data + f->size, p, n);
    f->size += n;
}
static void gw_u32(gw_file *f, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    gw_put(f, b, 4);
}
static void gw_u64(gw_file *f, uint64_t v) {
    gw_u32(f, (uint32_t)v);
    gw_u32(f, (uint32_t)(v >> 32));
}
static void gw_str(gw_file *f, const char *s) {
    gw_u64(f, strlen(s));
    gw_put(f, s, strlen(s));
}
static void gw_kv_u32(gw_file *f, const char *k, uint32_t v) { gw_str(f, k), gw_u32(f, 4), gw_u32(f, v); }
static void gw_kv_f32(gw_file *f, const char *k, float v) {
    uint32_t b;
    memcpy(&b, &v, 4);
    gw_str(f, k), gw_u32(f, 6), gw_u32(f, b);
}
static void gw_kv_str(gw_file *f, const char *k, const char *v) { gw_str(f, k), gw_u32(f, 8), gw_str(f, v); }

static const char *gw_name(const char *hf, char *buf, size_t cap) { /* cap >= 64 */
    static const char *m[][2] = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},   {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},       {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},       {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"}, {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},        {"mlp.down_proj.weight", "ffn_down.weight"}};
    if (!strcmp(hf, "model.embed_tokens.weight")) return snprintf(buf, cap, "token_embd.weight"), buf;
    if (!strcmp(hf, "model.norm.weight")) return snprintf(buf, cap, "output_norm.weight"), buf;
    if (!strcmp(hf, "lm_head.weight")) return snprintf(buf, cap, "output.weight"), buf;
    int l, k = 0;
    if (sscanf(hf, "model.layers.%d.%n", &l, &k) == 1 && k)
        for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
            if (!strcmp(hf + k, m[i][0])) return snprintf(buf, cap, "blk.%d.%s", l, m[i][1]), buf;
    return snprintf(buf, cap, "%.63s", hf), buf;
}

static float gw_elem(const lmr_tensor *t, uint64_t i) {
    if (t->dtype == LMR_DTYPE_F32) return ((const float *)t->data)[i];
    uint16_t h = ((const uint16_t *)t->data)[i];
    return t->dtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h) : lmr_f16_to_f32(h);
}

/* The bytes of t as written: as stored (rows permuted for llama q/k), or Q8_0. *type: ggml id. */
static uint8_t *gw_tensor(const lmr_weights *w, const lmr_tensor *t, const gw_opts *o,
                          uint32_t *type, uint64_t *bytes) {
    int64_t rows = t->shape[0], cols = t->n_dims == 2 ? t->shape[1] : 1;
    int64_t heads = 0;
    if (o->permute && !strcmp(w->cfg.arch, "llama") && t->n_dims == 2) {
        if (strstr(t->name, "q_proj")) heads = w->cfg.n_heads;
        if (strstr(t->name, "k_proj")) heads = w->cfg.n_kv_heads;
    }
    int q8 = o->q8_0 && t->n_dims == 2 && cols % 32 == 0;
    const int qt = o->type_of && o->quant && t->n_dims == 2 ? o->type_of(t->name) : 0;
    *type = qt ? (uint32_t)qt : q8 ? 8 : t->dtype == LMR_DTYPE_F32 ? 0 : t->dtype == LMR_DTYPE_F16 ? 1 : 30;
    uint64_t row_bytes = q8 ? (uint64_t)cols / 32 * 34 : t->bytes / (uint64_t)rows;
    if (qt) /* blocks of 32 weights in 34 bytes (Q8_0), 256 in 144 (Q4_K) or 210 (Q6_K) */
        row_bytes = qt == 8 ? (uint64_t)cols / 32 * 34 : (uint64_t)cols / 256 * (qt == 12 ? 144 : 210);
    float *xr = qt ? malloc(sizeof(float) * (size_t)cols) : NULL;
    *bytes = row_bytes * (uint64_t)rows;
    uint8_t *out = malloc(*bytes ? *bytes : 1);
    for (int64_t r = 0; r < rows; r++) {
        int64_t src = r;
        if (heads) { /* GGUF row h*hd + 2j + s <- HF row h*hd + s*hd/2 + j */
            int64_t hd = rows / heads, h = r / hd, i = r % hd;
            src = h * hd + (i % 2) * (hd / 2) + i / 2;
        }
        uint8_t *dst = out + (uint64_t)r * row_bytes;
        if (qt) {
            for (int64_t k = 0; k < cols; k++) xr[k] = gw_elem(t, (uint64_t)(src * cols + k));
            o->quant(qt, xr, dst, cols);
            continue;
        }
        if (!q8) {
            memcpy(dst, (const uint8_t *)t->data + (uint64_t)src * row_bytes, row_bytes);
            continue;
        }
        for (int64_t b = 0; b < cols / 32; b++) {
            float x[32], amax = 0;
            for (int k = 0; k < 32; k++) {
                x[k] = gw_elem(t, (uint64_t)(src * cols + b * 32 + k));
                amax = fmaxf(amax, fabsf(x[k]));
            }
            float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
            uint16_t dh = lmr_f32_to_f16(d);
            memcpy(dst + b * 34, &dh, 2);
            for (int k = 0; k < 32; k++) dst[b * 34 + 2 + k] = (uint8_t)(int8_t)roundf(x[k] * id);
        }
    }
    free(xr);
    return out;
}

/* The whole file in f (free f->data). */
static void gw_write(const lmr_weights *w, const gw_opts *o, gw_file *f) {
    memset(f, 0, sizeof *f);
    const lmr_config *c = &w->cfg;
    char k[160], nb[64];
    uint32_t align = o->alignment ? o->alignment : 32;
    uint8_t *data[GW_MAX_T];
    uint64_t bytes[GW_MAX_T];
    uint32_t types[GW_MAX_T];
    int n = w->n_tensors < GW_MAX_T ? w->n_tensors : GW_MAX_T;
    for (int i = 0; i < n; i++) data[i] = gw_tensor(w, &w->tensors[i], o, &types[i], &bytes[i]);
    gw_put(f, "GGUF", 4);
    gw_u32(f, 3);
    gw_u64(f, (uint64_t)n);
    gw_u64(f, 11 + (o->alignment ? 1 : 0) + 1);
    gw_kv_str(f, "general.architecture", c->arch);
    if (o->alignment) gw_kv_u32(f, "general.alignment", o->alignment);
#define KV(suffix, fn, v) snprintf(k, sizeof k, "%s." suffix, c->arch), fn(f, k, v)
    KV("block_count", gw_kv_u32, (uint32_t)c->n_layers);
    KV("context_length", gw_kv_u32, (uint32_t)c->max_pos);
    KV("embedding_length", gw_kv_u32, (uint32_t)c->hidden);
    KV("feed_forward_length", gw_kv_u32, (uint32_t)c->ffn);
    KV("attention.head_count", gw_kv_u32, (uint32_t)c->n_heads);
    KV("attention.head_count_kv", gw_kv_u32, (uint32_t)c->n_kv_heads);
    KV("attention.key_length", gw_kv_u32, (uint32_t)c->head_dim);
    KV("rope.dimension_count", gw_kv_u32, (uint32_t)c->head_dim);
    KV("rope.freq_base", gw_kv_f32, (float)c->rope_theta);
    KV("attention.layer_norm_rms_epsilon", gw_kv_f32, (float)c->rms_eps);
#undef KV
    gw_str(f, "tokenizer.ggml.tokens"); /* a string array, as real files carry */
    gw_u32(f, 9), gw_u32(f, 8), gw_u64(f, 3);
    gw_str(f, "<s>"), gw_str(f, "</s>"), gw_str(f, "a");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        const lmr_tensor *t = &w->tensors[i];
        gw_str(f, gw_name(t->name, nb, sizeof nb));
        snprintf(f->names[i], sizeof f->names[i], "%s", nb);
        gw_u32(f, (uint32_t)t->n_dims);
        for (int d = t->n_dims - 1; d >= 0; d--) gw_u64(f, (uint64_t)t->shape[d]);
        f->type_pos[i] = f->size;
        gw_u32(f, types[i]);
        f->off_pos[i] = f->size;
        gw_u64(f, off);
        off += (bytes[i] + align - 1) / align * align;
    }
    f->n_tensors = n;
    static const uint8_t zeros[1] = {0};
    while (f->size % align) gw_put(f, zeros, 1);
    for (int i = 0; i < n; i++) {
        gw_put(f, data[i], bytes[i]);
        while (f->size % align) gw_put(f, zeros, 1);
        free(data[i]);
    }
}

__attribute__((unused)) static int gw_save(const gw_file *f, const char *path) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t n = fwrite(f->data, 1, f->size, fp);
    fclose(fp);
    return n == f->size ? 0 : -1;
}

#endif /* LMR_TEST_GGUF_WRITER_H */
