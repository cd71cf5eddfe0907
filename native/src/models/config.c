/* config.c: Hugging Face config.json -> lmr_config for the qwen2 and llama families, and the
 * list of tensors (names and shapes) such a config implies.
 *
 * Defaults follow transformers (Qwen2Config, LlamaConfig, MistralConfig) except that the sizes
 * (hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size) must be
 * given: a config that leans on the library's defaults for them is almost surely not the model
 * the user meant. Numbers given for integer fields must have integral values (896 or 896.0).
 * Features the engine does not implement are refused as LMR_ERR_UNSUPPORTED rather than
 * silently computed wrong: rope_scaling other than "default", sliding-window attention, llama
 * attention_bias (it adds an o_proj bias) and mlp_bias, activations other than silu. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "models/model_io.h"

#define MAX_SIZE (1 << 24)        /* vocab, hidden, ffn, heads*head_dim */
#define MAX_LAYERS 4096
#define MAX_PARAMS 1099511627776.0 /* 2^40 */

typedef struct {
    const lmr_json *root;
    const char *where;
    char *err;
    size_t errcap;
} ctx;

static lmr_status fail(ctx *c, lmr_status st, const char *fmt, const char *field, const char *what) {
    char msg[256];
    snprintf(msg, sizeof msg, fmt, field, what);
    if (c->errcap) snprintf(c->err, c->errcap, "%s: %s", c->where, msg);
    return st;
}

/* Describe a JSON value briefly for messages: 12, -3, 1.5, "abc", true, an array, ... */
static void describe(const lmr_json *v, char *buf, size_t cap) {
    if (v->type == LMR_JSON_NUMBER && v->is_int) snprintf(buf, cap, "%lld", (long long)v->u.i);
    else if (v->type == LMR_JSON_NUMBER) snprintf(buf, cap, "%.17g", v->u.num);
    else if (v->type == LMR_JSON_STRING) {
        char sb[44];
        snprintf(buf, cap, "the string \"%s\"", lmr_json_show(v->u.str, v->n, sb, sizeof sb));
    }
    else if (v->type == LMR_JSON_ARRAY) snprintf(buf, cap, "an array");
    else if (v->type == LMR_JSON_OBJECT) snprintf(buf, cap, "an object");
    else snprintf(buf, cap, "%s", v->type == LMR_JSON_NULL ? "null" : v->type == LMR_JSON_TRUE ? "true" : "false");
}

static const lmr_json *field(ctx *c, const char *key) {
    const lmr_json *v = lmr_json_get(c->root, key);
    return v && v->type != LMR_JSON_NULL ? v : NULL;
}

/* An integer field in [lo, hi]; missing -> def (or an error when def < 0 and required). */
static lmr_status get_int(ctx *c, const char *key, int64_t def, int required, int64_t lo,
                          int64_t hi, int32_t *out) {
    const lmr_json *v = field(c, key);
    char got[96];
    int64_t x;
    if (!v) {
        if (required) return fail(c, LMR_ERR_FORMAT, "\"%s\" is missing%s", key, "");
        *out = (int32_t)def;
        return LMR_OK;
    }
    describe(v, got, sizeof got);
    if (!lmr_json_int(v, &x)) return fail(c, LMR_ERR_FORMAT, "\"%s\" must be an integer, got %s", key, got);
    if (x < lo || x > hi) {
        char range[128];
        snprintf(range, sizeof range, "%s (allowed %lld..%lld)", got, (long long)lo, (long long)hi);
        return fail(c, LMR_ERR_FORMAT, "\"%s\" is out of range: %s", key, range);
    }
    *out = (int32_t)x;
    return LMR_OK;
}

static lmr_status get_double(ctx *c, const char *key, double def, double lo, double hi,
                             double *out) {
    const lmr_json *v = field(c, key);
    char got[96];
    if (!v) {
        *out = def;
        return LMR_OK;
    }
    describe(v, got, sizeof got);
    if (v->type != LMR_JSON_NUMBER) return fail(c, LMR_ERR_FORMAT, "\"%s\" must be a number, got %s", key, got);
    double x = lmr_json_num(v);
    if (!(x > lo && x < hi)) return fail(c, LMR_ERR_FORMAT, "\"%s\" is out of range: %s", key, got);
    *out = x;
    return LMR_OK;
}

static lmr_status get_bool(ctx *c, const char *key, int def, int32_t *out) {
    const lmr_json *v = field(c, key);
    char got[96];
    if (!v) {
        *out = def;
        return LMR_OK;
    }
    if (v->type != LMR_JSON_TRUE && v->type != LMR_JSON_FALSE) {
        describe(v, got, sizeof got);
        return fail(c, LMR_ERR_FORMAT, "\"%s\" must be true or false, got %s", key, got);
    }
    *out = v->type == LMR_JSON_TRUE;
    return LMR_OK;
}

/* model_type first; architectures only when model_type is absent. */
static lmr_status detect_arch(ctx *c, lmr_config *cfg, int *mistral) {
    const lmr_json *mt = field(c, "model_type"), *ar = field(c, "architectures");
    char got[96];
    *mistral = 0;
    if (mt) {
        if (mt->type != LMR_JSON_STRING) {
            describe(mt, got, sizeof got);
            return fail(c, LMR_ERR_FORMAT, "\"%s\" must be a string, got %s", "model_type", got);
        }
        const char *t = mt->u.str;
        char sb[64];
        if (!strcmp(t, "qwen2")) strcpy(cfg->arch, "qwen2");
        else if (!strcmp(t, "llama")) strcpy(cfg->arch, "llama");
        else if (!strcmp(t, "mistral")) strcpy(cfg->arch, "llama"), *mistral = 1;
        else return fail(c, LMR_ERR_UNSUPPORTED, "model_type \"%s\" is not supported%s", lmr_json_show(t, mt->n, sb, sizeof sb),
                         " (supported: qwen2, llama, mistral)");
        return LMR_OK;
    }
    if (!ar) return fail(c, LMR_ERR_FORMAT, "neither \"%s\" nor \"architectures\" is given%s", "model_type", "");
    if (ar->type != LMR_JSON_ARRAY || ar->n == 0 || ar->u.items[0].type != LMR_JSON_STRING) {
        describe(ar, got, sizeof got);
        return fail(c, LMR_ERR_FORMAT, "\"%s\" must be a non-empty array of strings, got %s",
                    "architectures", got);
    }
    const char *a = ar->u.items[0].u.str;
    char sb[64];
    if (!strcmp(a, "Qwen2ForCausalLM")) strcpy(cfg->arch, "qwen2");
    else if (!strcmp(a, "LlamaForCausalLM")) strcpy(cfg->arch, "llama");
    else if (!strcmp(a, "MistralForCausalLM")) strcpy(cfg->arch, "llama"), *mistral = 1;
    else return fail(c, LMR_ERR_UNSUPPORTED, "architecture \"%s\" is not supported%s",
                     lmr_json_show(a, ar->u.items[0].n, sb, sizeof sb),
                     " (supported: Qwen2ForCausalLM, LlamaForCausalLM, MistralForCausalLM)");
    return LMR_OK;
}

static lmr_status check_unsupported(ctx *c, const lmr_config *cfg, int mistral) {
    const lmr_json *v;
    char got[96];
    if ((v = field(c, "rope_scaling"))) {
        const lmr_json *t = lmr_json_get(v, "rope_type");
        if (!t) t = lmr_json_get(v, "type");
        if (v->type != LMR_JSON_OBJECT || !t || t->type != LMR_JSON_STRING) {
            describe(v, got, sizeof got);
            return fail(c, LMR_ERR_FORMAT, "\"%s\" must be null or an object with a \"rope_type\", got %s",
                        "rope_scaling", got);
        }
        if (strcmp(t->u.str, "default"))
            return fail(c, LMR_ERR_UNSUPPORTED, "rope_scaling type \"%s\" is %s", lmr_json_show(t->u.str, t->n, got, 44),
                        "not supported (only plain RoPE: rope_scaling null)");
    }
    if ((v = field(c, "hidden_act")) && (v->type != LMR_JSON_STRING || strcmp(v->u.str, "silu"))) {
        describe(v, got, sizeof got);
        return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\" %s is not supported (only silu)", "hidden_act", got);
    }
    int32_t b = 0;
    if (!strcmp(cfg->arch, "qwen2")) {
        if (get_bool(c, "use_sliding_window", 0, &b)) return LMR_ERR_FORMAT;
        if (b) return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\": true (sliding-window attention) is %s",
                           "use_sliding_window", "not supported");
        return LMR_OK;
    }
    if (mistral && (v = field(c, "sliding_window")))
        return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\" is set: sliding-window attention is %s",
                    "sliding_window", "not supported (use null)");
    if (get_bool(c, "attention_bias", 0, &b)) return LMR_ERR_FORMAT;
    if (b) return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\": true is not supported for llama %s",
                       "attention_bias", "(it adds biases to q/k/v/o_proj)");
    if (get_bool(c, "mlp_bias", 0, &b)) return LMR_ERR_FORMAT;
    if (b) return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\": true is %s", "mlp_bias", "not supported");
    return LMR_OK;
}

static lmr_status token_ids(ctx *c, lmr_config *cfg) {
    const lmr_json *v = field(c, "eos_token_id");
    char got[96];
    if (get_int(c, "bos_token_id", -1, 0, 0, cfg->vocab - 1, &cfg->bos_token_id)) return LMR_ERR_FORMAT;
    cfg->eos_token_id = -1;
    if (!v) return LMR_OK;
    if (v->type == LMR_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++) {
            int64_t x;
            describe(&v->u.items[i], got, sizeof got);
            if (!lmr_json_int(&v->u.items[i], &x) || x < 0 || x >= cfg->vocab)
                return fail(c, LMR_ERR_FORMAT, "\"%s\" holds %s, not a token id below vocab_size",
                            "eos_token_id", got);
            if (i == 0) cfg->eos_token_id = (int32_t)x;
        }
        return LMR_OK;
    }
    return get_int(c, "eos_token_id", -1, 0, 0, cfg->vocab - 1, &cfg->eos_token_id) ? LMR_ERR_FORMAT : LMR_OK;
}

static int32_t dtype_of(const lmr_json *v) {
    if (!v || v->type != LMR_JSON_STRING) return LMR_DTYPE_DEFAULT;
    if (!strcmp(v->u.str, "bfloat16")) return LMR_DTYPE_BF16;
    if (!strcmp(v->u.str, "float16")) return LMR_DTYPE_F16;
    if (!strcmp(v->u.str, "float32")) return LMR_DTYPE_F32;
    return LMR_DTYPE_DEFAULT;
}

/* Parameters as lmr_config_tensors lists them (tied embedding counted once), in double so that
 * absurd configs cannot overflow while being checked. */
static double count_params(const lmr_config *c) {
    double h = c->hidden, q = (double)c->n_heads * c->head_dim, kv = (double)c->n_kv_heads * c->head_dim;
    double layer = 2 * h + q * h * 2 + kv * h * 2 + 3.0 * c->ffn * h + (c->attn_bias ? q + 2 * kv : 0);
    return (double)c->vocab * h * (c->tie_embeddings ? 1 : 2) + h + layer * c->n_layers;
}

static lmr_status parse_root(ctx *c, lmr_config *cfg) {
    int mistral;
    lmr_status st;
    if (c->root->type != LMR_JSON_OBJECT)
        return fail(c, LMR_ERR_FORMAT, "the top level must be an object, not %s%s",
                    lmr_json_type_name(c->root->type), "");
    if ((st = detect_arch(c, cfg, &mistral))) return st;
    int qwen = !strcmp(cfg->arch, "qwen2");
    if (get_int(c, "hidden_size", 0, 1, 1, MAX_SIZE, &cfg->hidden) ||
        get_int(c, "intermediate_size", 0, 1, 1, MAX_SIZE, &cfg->ffn) ||
        get_int(c, "num_hidden_layers", 0, 1, 1, MAX_LAYERS, &cfg->n_layers) ||
        get_int(c, "num_attention_heads", 0, 1, 1, MAX_SIZE, &cfg->n_heads) ||
        get_int(c, "vocab_size", 0, 1, 1, MAX_SIZE, &cfg->vocab) ||
        get_int(c, "num_key_value_heads", cfg->n_heads, 0, 1, cfg->n_heads, &cfg->n_kv_heads) ||
        get_int(c, "max_position_embeddings", qwen ? 32768 : mistral ? 131072 : 2048, 0, 1,
                1 << 30, &cfg->max_pos) ||
        get_int(c, "head_dim", 0, 0, 2, 4096, &cfg->head_dim) ||
        get_double(c, "rope_theta", 10000.0, 0, 1e300, &cfg->rope_theta) ||
        get_double(c, "rms_norm_eps", 1e-6, 0, 1, &cfg->rms_eps) ||
        get_bool(c, "tie_word_embeddings", 0, &cfg->tie_embeddings))
        return LMR_ERR_FORMAT;
    /* transformers 5 writes RoPE settings as "rope_parameters": {"rope_theta", "rope_type"} */
    const lmr_json *rp = field(c, "rope_parameters");
    if (rp) {
        const lmr_json *th = lmr_json_get(rp, "rope_theta"), *ty = lmr_json_get(rp, "rope_type");
        char got[96];
        describe(rp, got, sizeof got);
        if (rp->type != LMR_JSON_OBJECT)
            return fail(c, LMR_ERR_FORMAT, "\"%s\" must be null or an object, got %s",
                        "rope_parameters", got);
        if (ty && (ty->type != LMR_JSON_STRING || strcmp(ty->u.str, "default")))
            return fail(c, LMR_ERR_UNSUPPORTED, "\"%s\" rope_type %s",
                        "rope_parameters", "is not supported (only plain RoPE: \"default\")");
        if (th && !field(c, "rope_theta")) {
            describe(th, got, sizeof got);
            if (th->type != LMR_JSON_NUMBER || !(lmr_json_num(th) > 0 && lmr_json_num(th) < 1e300))
                return fail(c, LMR_ERR_FORMAT, "\"%s\" rope_theta is out of range: %s",
                            "rope_parameters", got);
            cfg->rope_theta = lmr_json_num(th);
        }
    }
    char buf[96];
    if (cfg->head_dim == 0) {
        if (cfg->hidden % cfg->n_heads) {
            snprintf(buf, sizeof buf, "%d is not divisible by num_attention_heads %d", cfg->hidden, cfg->n_heads);
            return fail(c, LMR_ERR_FORMAT, "\"%s\" %s (and no head_dim is given)", "hidden_size", buf);
        }
        cfg->head_dim = cfg->hidden / cfg->n_heads;
    }
    if (cfg->head_dim % 2) {
        snprintf(buf, sizeof buf, "%d is odd", cfg->head_dim);
        return fail(c, LMR_ERR_FORMAT, "head dimension %s%s (RoPE rotates pairs)", buf, "");
    }
    if (cfg->n_heads % cfg->n_kv_heads) {
        snprintf(buf, sizeof buf, "%d is not divisible by num_key_value_heads %d", cfg->n_heads, cfg->n_kv_heads);
        return fail(c, LMR_ERR_FORMAT, "\"%s\" %s", "num_attention_heads", buf);
    }
    if ((int64_t)cfg->n_heads * cfg->head_dim > MAX_SIZE) {
        snprintf(buf, sizeof buf, "%d x %d", cfg->n_heads, cfg->head_dim);
        return fail(c, LMR_ERR_FORMAT, "attention width %s (%s) is over 2^24", "num_attention_heads x head_dim", buf);
    }
    cfg->attn_bias = qwen;
    cfg->dtype = dtype_of(field(c, "torch_dtype") ? field(c, "torch_dtype") : field(c, "dtype"));
    if ((st = check_unsupported(c, cfg, mistral)) || (st = token_ids(c, cfg))) return st;
    double np = count_params(cfg);
    if (np > MAX_PARAMS) {
        snprintf(buf, sizeof buf, "%.4g", np);
        return fail(c, LMR_ERR_FORMAT, "the sizes give %s parameters, over the limit of 2^40%s", buf, "");
    }
    return LMR_OK;
}

lmr_status lmr_config_parse(const char *json, size_t len, const char *where, lmr_config *out,
                            char *err, size_t errcap) {
    lmr_json_doc *doc = NULL;
    if (!where) where = "config.json";
    if (err && errcap) err[0] = 0;
    memset(out, 0, sizeof *out);
    int rc = lmr_json_parse(json, len, NULL, where, &doc, err, errcap);
    if (rc) return rc == -2 ? LMR_ERR_OUT_OF_MEMORY : LMR_ERR_FORMAT;
    ctx c = {lmr_json_root(doc), where, err, err ? errcap : 0};
    lmr_status st = parse_root(&c, out);
    lmr_json_free(doc);
    if (st) memset(out, 0, sizeof *out);
    return st;
}

static void add(lmr_tensor *out, int32_t cap, int32_t *n, int32_t dtype, const char *name,
                int64_t d0, int64_t d1) {
    if (*n < cap) {
        lmr_tensor *t = &out[*n];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", name);
        t->dtype = dtype;
        t->n_dims = d1 ? 2 : 1;
        t->shape[0] = d0;
        t->shape[1] = d1;
        t->bytes = (uint64_t)d0 * (uint64_t)(d1 ? d1 : 1) * (dtype == LMR_DTYPE_F32 ? 4 : 2);
    }
    (*n)++;
}

/* Order: embedding, then per layer in forward order, final norm, lm_head (untied only). A tied
 * checkpoint that still stores lm_head.weight has it ignored, as transformers does. dtype of the
 * entries: the config's torch_dtype, BF16 when unknown. */
int32_t lmr_config_tensors(const lmr_config *c, lmr_tensor *out, int32_t cap) {
    int32_t n = 0, dt = c->dtype >= 0 ? c->dtype : LMR_DTYPE_BF16;
    int64_t h = c->hidden, q = (int64_t)c->n_heads * c->head_dim, kv = (int64_t)c->n_kv_heads * c->head_dim;
    char name[128];
    add(out, cap, &n, dt, "model.embed_tokens.weight", c->vocab, h);
    for (int32_t i = 0; i < c->n_layers; i++) {
#define T(suffix, d0, d1) \
    snprintf(name, sizeof name, "model.layers.%d.%s", (int)i, suffix), add(out, cap, &n, dt, name, d0, d1)
        T("input_layernorm.weight", h, 0);
        T("self_attn.q_proj.weight", q, h);
        if (c->attn_bias) T("self_attn.q_proj.bias", q, 0);
        T("self_attn.k_proj.weight", kv, h);
        if (c->attn_bias) T("self_attn.k_proj.bias", kv, 0);
        T("self_attn.v_proj.weight", kv, h);
        if (c->attn_bias) T("self_attn.v_proj.bias", kv, 0);
        T("self_attn.o_proj.weight", h, q);
        T("post_attention_layernorm.weight", h, 0);
        T("mlp.gate_proj.weight", c->ffn, h);
        T("mlp.up_proj.weight", c->ffn, h);
        T("mlp.down_proj.weight", h, c->ffn);
#undef T
    }
    add(out, cap, &n, dt, "model.norm.weight", h, 0);
    if (!c->tie_embeddings) add(out, cap, &n, dt, "lm_head.weight", c->vocab, h);
    return n;
}
