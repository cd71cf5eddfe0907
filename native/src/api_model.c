/* api_model.c: the public C ABI for models: load (Hugging Face folder or GGUF file) or
 * synthesize weights (model_io), bind the tensors by their Hugging Face names, derive the model
 * facts (real bytes and the weight type mix), hand the model to the backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clock.h"

LMR_API lmr_model_params lmr_model_params_default(void) {
    lmr_model_params p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.dtype = LMR_DTYPE_DEFAULT;
    return p;
}

LMR_API lmr_model_info lmr_model_info_default(void) {
    lmr_model_info i;
    memset(&i, 0, sizeof i);
    i.size = sizeof i;
    return i;
}

static lmr_status find(lmr_model *m, const char *fn, const char *name, int required,
                       const lmr_tensor **out) {
    *out = lmr_weights_find(&m->w, name);
    if (!*out && required)
        return lmr_fail(m->e, LMR_ERR_FORMAT, "%s: model \"%s\" has no tensor \"%s\"", fn,
                        m->w.cfg.name, name);
    return LMR_OK;
}

/* Bind every tensor the forward pass reads; a missing one is LMR_ERR_FORMAT naming it. */
static lmr_status bind(lmr_model *m, const char *fn) {
    const lmr_config *c = &m->w.cfg;
    char nm[160];
    lmr_status st;
    if ((st = find(m, fn, "model.embed_tokens.weight", 1, &m->embed)) ||
        (st = find(m, fn, "model.norm.weight", 1, &m->final_norm)))
        return st;
    if (c->tie_embeddings) m->lm_head = m->embed;
    else if ((st = find(m, fn, "lm_head.weight", 1, &m->lm_head)))
        return st;
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    if (!m->layers) return lmr_fail(m->e, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory", fn);
    static const struct {
        const char *fmt;
        size_t off;
        int bias;
    } names[] = {
        {"input_layernorm.weight", offsetof(lmr_layer_tensors, in_norm), 0},
        {"self_attn.q_proj.weight", offsetof(lmr_layer_tensors, q), 0},
        {"self_attn.k_proj.weight", offsetof(lmr_layer_tensors, k), 0},
        {"self_attn.v_proj.weight", offsetof(lmr_layer_tensors, v), 0},
        {"self_attn.q_proj.bias", offsetof(lmr_layer_tensors, q_b), 1},
        {"self_attn.k_proj.bias", offsetof(lmr_layer_tensors, k_b), 1},
        {"self_attn.v_proj.bias", offsetof(lmr_layer_tensors, v_b), 1},
        {"self_attn.o_proj.weight", offsetof(lmr_layer_tensors, o), 0},
        {"post_attention_layernorm.weight", offsetof(lmr_layer_tensors, post_norm), 0},
        {"mlp.gate_proj.weight", offsetof(lmr_layer_tensors, gate), 0},
        {"mlp.up_proj.weight", offsetof(lmr_layer_tensors, up), 0},
        {"mlp.down_proj.weight", offsetof(lmr_layer_tensors, down), 0},
    };
    for (int32_t l = 0; l < c->n_layers; l++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (names[i].bias && !c->attn_bias) continue;
            snprintf(nm, sizeof nm, "model.layers.%d.%s", l, names[i].fmt);
            const lmr_tensor **slot =
                (const lmr_tensor **)((char *)&m->layers[l] + names[i].off);
            if ((st = find(m, fn, nm, 1, slot))) return st;
        }
    }
    return LMR_OK;
}

/* ggml's name of a weight dtype, as weight_types lists it. */
static const char *type_name(int32_t dt) {
    switch (dt) {
    case LMR_DTYPE_F32: return "f32";
    case LMR_DTYPE_F16: return "f16";
    case LMR_DTYPE_BF16: return "bf16";
    case LMR_DTYPE_Q8_0: return "q8_0";
    case LMR_DTYPE_Q4_K: return "q4_K";
    case LMR_DTYPE_Q6_K: return "q6_K";
    default: return "unknown";
    }
}

/* info->dtype (the dtype of most bytes) and info->weight_types ("q4_K:169,q6_K:29,f32:57",
 * largest share of bytes first) over the tensors the model holds. */
static void type_mix(const lmr_model *m, lmr_model_info *i) {
    static const int32_t dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16,
                                  LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};
    enum { N = sizeof dts / sizeof dts[0] };
    uint64_t bytes[N] = {0};
    int32_t count[N] = {0}, used[N] = {0};
    for (int32_t t = 0; t < m->w.n_tensors; t++)
        for (int k = 0; k < N; k++)
            if (m->w.tensors[t].dtype == dts[k]) bytes[k] += m->w.tensors[t].bytes, count[k]++;
    size_t len = 0;
    i->weight_types[0] = 0;
    for (int r = 0; r < N; r++) {
        int best = -1;
        for (int k = 0; k < N; k++)
            if (count[k] && !used[k] && (best < 0 || bytes[k] > bytes[best])) best = k;
        if (best < 0) break;
        used[best] = 1;
        if (r == 0) i->dtype = dts[best];
        if (len < sizeof i->weight_types)
            len += (size_t)snprintf(i->weight_types + len, sizeof i->weight_types - len, "%s%s:%d",
                                    r ? "," : "", type_name(dts[best]), count[best]);
    }
}

static void fill_info(lmr_model *m) {
    const lmr_config *c = &m->w.cfg;
    lmr_model_info *i = &m->info;
    *i = lmr_model_info_default();
    i->n_layers = c->n_layers;
    i->hidden = c->hidden;
    i->n_heads = c->n_heads;
    i->n_kv_heads = c->n_kv_heads;
    i->head_dim = c->head_dim;
    i->ffn = c->ffn;
    i->vocab = c->vocab;
    i->max_pos = c->max_pos;
    i->tie_embeddings = c->tie_embeddings;
    i->dtype = m->embed->dtype;
    i->synthetic = m->w.synthetic;
    i->rope_theta = c->rope_theta;
    i->rms_eps = c->rms_eps;
    i->seed = m->w.synthetic ? m->w.seed : 0;
    /* A tied checkpoint may still ship lm_head.weight: it is not read, so not counted. */
    for (int32_t t = 0; t < m->w.n_tensors; t++) {
        const lmr_tensor *x = &m->w.tensors[t];
        if (c->tie_embeddings && strcmp(x->name, "lm_head.weight") == 0) continue;
        uint64_t n = 1;
        for (int d = 0; d < x->n_dims; d++) n *= (uint64_t)x->shape[d];
        i->n_params += n;
        i->weight_bytes += x->bytes;
    }
    /* A decode step reads every weight but the embedding table (one row of it), and the logits
     * read the lm_head, which is the embedding table itself when tied. */
    i->decode_bytes = i->weight_bytes - (c->tie_embeddings ? 0 : m->embed->bytes);
    i->kv_bytes_per_token = 2ull * (uint64_t)c->n_layers * (uint64_t)c->n_kv_heads *
                            (uint64_t)c->head_dim *
                            (uint64_t)lmr_dtype_bytes(m->e->ops->default_kv_dtype);
    snprintf(i->arch, sizeof i->arch, "%s", c->arch);
    snprintf(i->name, sizeof i->name, "%s", c->name);
    type_mix(m, i);
}

static void model_free(lmr_model *m) {
    if (m->priv) m->e->ops->model_free(m);
    if (m->tracked_bytes) lmr_mem_add(m->e, -(int64_t)m->tracked_bytes);
    lmr_weights_free(&m->w);
    free(m->layers);
    free(m);
}

/* Common tail of load and synthesize: m->w is filled; bind, describe, hand to the backend. */
static lmr_status finish(lmr_model *m, const char *fn, uint64_t t0, lmr_model **out) {
    lmr_engine *e = m->e;
    if (m->w.synthetic) {
        m->tracked_bytes = m->w.total_bytes;
        lmr_mem_add(e, (int64_t)m->tracked_bytes);
    }
    lmr_status st = bind(m, fn);
    if (st == LMR_OK) {
        fill_info(m);
        st = e->ops->model_init(m);
        if (st != LMR_OK) {
            char why[LMR_ERR_CAP];
            snprintf(why, sizeof why, "%s", e->err);
            lmr_fail(e, st, "%s: %s", fn, why);
        }
    }
    if (st != LMR_OK) {
        model_free(m);
        return st;
    }
    m->info.load_ns = lmr_now_ns() - t0;
    e->n_models++;
    *out = m;
    return LMR_OK;
}

LMR_API lmr_status lmr_model_load(lmr_engine *e, const char *dir, const lmr_model_params *p,
                                  lmr_model **out) {
    const char *fn = "lmr_model_load";
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: engine is NULL", fn);
    if (!out || !dir || !p)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !out ? "out" : !dir ? "dir" : "params");
    *out = NULL;
    LMR_CHECK_SIZE(e, fn, "params", p, lmr_model_params);
    if (p->dtype != LMR_DTYPE_DEFAULT)
        return lmr_fail(e, LMR_ERR_UNSUPPORTED,
                        "%s: dtype %d asked, but loading keeps the stored dtype (use DEFAULT)", fn,
                        p->dtype);
    if (p->n_layers != 0)
        return lmr_fail(e, LMR_ERR_INVALID_ARG,
                        "%s: n_layers %d is for synthesize only; must be 0 when loading", fn,
                        p->n_layers);
    uint64_t t0 = lmr_now_ns();
    lmr_model *m = calloc(1, sizeof *m);
    if (!m) return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory", fn);
    m->e = e;
    char err[LMR_ERR_CAP / 2];
    lmr_status st = lmr_weights_load(dir, &m->w, err, sizeof err);
    if (st != LMR_OK) {
        model_free(m);
        return lmr_fail(e, st, "%s: %s", fn, err);
    }
    return finish(m, fn, t0, out);
}

LMR_API lmr_status lmr_model_synthesize(lmr_engine *e, const char *spec,
                                        const lmr_model_params *p, lmr_model **out) {
    const char *fn = "lmr_model_synthesize";
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: engine is NULL", fn);
    if (!out || !spec || !p)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !out ? "out" : !spec ? "spec" : "params");
    *out = NULL;
    LMR_CHECK_SIZE(e, fn, "params", p, lmr_model_params);
    int32_t dtype = p->dtype == LMR_DTYPE_DEFAULT ? LMR_DTYPE_BF16 : p->dtype;
    if (lmr_dtype_bytes(dtype) == 0)
        return lmr_fail(e, LMR_ERR_UNSUPPORTED,
                        "%s: dtype %d is not LMR_DTYPE_F32, F16, BF16 or DEFAULT", fn, p->dtype);
    if (p->n_layers < 0)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: n_layers %d must be >= 0", fn, p->n_layers);
    uint64_t t0 = lmr_now_ns();
    lmr_model *m = calloc(1, sizeof *m);
    if (!m) return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory", fn);
    m->e = e;
    char err[LMR_ERR_CAP / 2];
    lmr_status st = lmr_weights_synthesize(spec, dtype, p->seed, p->n_layers, e->info.n_threads,
                                           &m->w, err, sizeof err);
    if (st != LMR_OK) {
        model_free(m);
        return lmr_fail(e, st, "%s: %s", fn, err);
    }
    return finish(m, fn, t0, out);
}

LMR_API lmr_status lmr_model_save(lmr_model *m, const char *dir) {
    if (!m) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_model_save: model is NULL");
    if (!dir) return lmr_fail(m->e, LMR_ERR_INVALID_ARG, "lmr_model_save: dir is NULL");
    char err[LMR_ERR_CAP / 2];
    lmr_status st = lmr_weights_save(&m->w, dir, err, sizeof err);
    return st == LMR_OK ? st : lmr_fail(m->e, st, "lmr_model_save: %s", err);
}

/* Refuses (message on the engine) while sessions are open, as lmr_engine_destroy does. */
LMR_API void lmr_model_destroy(lmr_model *m) {
    if (!m) return;
    if (m->n_sessions > 0) {
        lmr_fail(m->e, LMR_ERR_STATE,
                 "lmr_model_destroy: %d sessions still open; destroy them first", m->n_sessions);
        return;
    }
    m->e->n_models--;
    model_free(m);
}

LMR_API lmr_status lmr_model_presets(char *buf, uint64_t cap, uint64_t *needed) {
    const char *fn = "lmr_model_presets";
    if (!needed) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: needed is NULL", fn);
    const char *names = lmr_config_preset_names();
    uint64_t n = (uint64_t)strlen(names) + 1;
    *needed = n;
    if (!buf || cap < n)
        return lmr_fail(NULL, LMR_ERR_BUFFER_TOO_SMALL, "%s: buffer of %llu bytes, %llu needed",
                        fn, (unsigned long long)(buf ? cap : 0), (unsigned long long)n);
    memcpy(buf, names, n);
    return LMR_OK;
}

LMR_API lmr_status lmr_model_info_get(lmr_model *m, lmr_model_info *out) {
    if (!m) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_model_info_get: model is NULL");
    if (!out) return lmr_fail(m->e, LMR_ERR_INVALID_ARG, "lmr_model_info_get: out is NULL");
    LMR_CHECK_SIZE(m->e, "lmr_model_info_get", "out", out, lmr_model_info);
    *out = m->info;
    return LMR_OK;
}
