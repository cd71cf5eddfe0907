/* backend_cpu.c: the CPU backend's lifecycle: engine facts, probes, model binding (weights used
 * in place; only the small q/k/v biases are converted to FP32), the session's KV pool and
 * activation scratch, and fill_kv. The forward pass is in forward.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend_cpu.h"
#include "kernels.h"

#define DEFAULT_PREFILL_CHUNK 512 /* tokens; a W panel is packed once a chunk (~2% over 256) */

static lmr_status cpu_engine_init(lmr_engine *e) {
    e->info.executor = LMR_EXECUTOR_EAGER; /* GRAPH runs as EAGER on the CPU */
    snprintf(e->info.device_name, sizeof e->info.device_name, "%s", e->info.cpu_name);
    return LMR_OK;
}

static void cpu_engine_free(lmr_engine *e) { (void)e; }

static lmr_status cpu_probe_bandwidth(lmr_engine *e, uint64_t bytes, int32_t reps,
                                      double *samples) {
    uint64_t avail = lmr_cpu_available_memory();
    if (bytes > avail / 2)
        return lmr_fail(e, LMR_ERR_OUT_OF_MEMORY,
                        "lmr_probe_bandwidth: a %llu-byte buffer is over half the %llu bytes of "
                        "available memory",
                        (unsigned long long)bytes, (unsigned long long)avail);
    int rc = lmr_cpu_probe_bandwidth(e->pool, bytes, reps, samples);
    if (rc != LMR_OK)
        return lmr_fail(e, rc, "lmr_probe_bandwidth: could not allocate or read %llu bytes",
                        (unsigned long long)bytes);
    return LMR_OK;
}

static lmr_status cpu_probe_launch(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns) {
    *eager_ns = lmr_cpu_probe_dispatch(e->pool, n);
    *graph_ns = *eager_ns; /* no graphs on the CPU: the same dispatch */
    return LMR_OK;
}

/* ---- models ---- */

static void bias_to_f32(const lmr_tensor *t, float *dst, int64_t n) {
    if (t) lmr_cpu_row_to_f32(t->data, t->dtype, dst, n);
    else memset(dst, 0, sizeof(float) * (size_t)n);
}

static lmr_status cpu_model_init(lmr_model *m) {
    lmr_cpu_model *cm = calloc(1, sizeof *cm);
    if (!cm) return lmr_fail(m->e, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CPU model");
    m->priv = cm;
    const lmr_model_info *mi = &m->info;
    if (!m->w.cfg.attn_bias) return LMR_OK;
    int64_t qd = (int64_t)mi->n_heads * mi->head_dim, kd = (int64_t)mi->n_kv_heads * mi->head_dim;
    size_t bytes = sizeof(float) * (size_t)mi->n_layers * (size_t)(qd + 2 * kd);
    cm->qkv_bias = malloc(bytes);
    if (!cm->qkv_bias)
        return lmr_fail(m->e, LMR_ERR_OUT_OF_MEMORY, "no host memory for %zu bytes of biases",
                        bytes);
    m->tracked_bytes += bytes;
    lmr_mem_add(m->e, (int64_t)bytes);
    for (int32_t l = 0; l < mi->n_layers; l++) {
        float *b = cm->qkv_bias + (size_t)l * (size_t)(qd + 2 * kd);
        bias_to_f32(m->layers[l].q_b, b, qd);
        bias_to_f32(m->layers[l].k_b, b + qd, kd);
        bias_to_f32(m->layers[l].v_b, b + qd + kd, kd);
    }
    return LMR_OK;
}

static void cpu_model_free(lmr_model *m) {
    lmr_cpu_model *cm = m->priv;
    free(cm->qkv_bias); /* its bytes are in m->tracked_bytes, returned by api_model.c */
    free(cm);
    m->priv = NULL;
}

/* ---- sessions ---- */

static void *map_zeroed(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static size_t round_up(size_t n) { return (n + 63) & ~(size_t)63; }

static lmr_status cpu_session_init(lmr_session *s) {
    const lmr_model_info *mi = &s->m->info;
    const lmr_session_params *p = &s->params;
    lmr_cpu_session *c = calloc(1, sizeof *c);
    if (!c) return lmr_fail(s->e, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CPU session");
    s->priv = c;
    c->max_tok = p->prefill_chunk > p->max_seqs ? p->prefill_chunk : p->max_seqs;
    size_t T = (size_t)c->max_tok, hid = (size_t)mi->hidden, f = sizeof(float);
    size_t qd = (size_t)mi->n_heads * (size_t)mi->head_dim;
    size_t kd = (size_t)mi->n_kv_heads * (size_t)mi->head_dim;
    size_t sizes[] = {T * hid * f,  T * hid * f, T * qd * f, T * kd * f, T * kd * f, T * qd * f,
                      T * (size_t)mi->ffn * f, T * (size_t)mi->ffn * f,
                      (size_t)p->max_seqs * (size_t)mi->vocab * f, T * sizeof(int32_t)};
    size_t scratch = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) scratch += round_up(sizes[i]);
    c->layer_bytes = (size_t)s->kv_bytes / 2 / (size_t)mi->n_layers;
    uint64_t need = s->kv_bytes + scratch, avail = lmr_cpu_available_memory();
    if (need > avail)
        return lmr_fail(s->e, LMR_ERR_OUT_OF_MEMORY,
                        "the KV pool (%llu bytes) and activations (%llu bytes) need %llu bytes; "
                        "%llu bytes of host memory are available",
                        (unsigned long long)s->kv_bytes, (unsigned long long)scratch,
                        (unsigned long long)need, (unsigned long long)avail);
    c->kv = map_zeroed((size_t)s->kv_bytes);
    c->scratch = map_zeroed(scratch);
    if (!c->kv || !c->scratch)
        return lmr_fail(s->e, LMR_ERR_OUT_OF_MEMORY, "could not map %llu bytes of host memory",
                        (unsigned long long)need);
    c->kv_map = (size_t)s->kv_bytes;
    c->scratch_map = scratch;
    s->tracked_bytes += need;
    lmr_mem_add(s->e, (int64_t)need);
    char *b = c->scratch;
    float **bufs[] = {&c->h, &c->x, &c->q, &c->k, &c->v, &c->att, &c->gate, &c->up, &c->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        *bufs[i] = (float *)b;
        b += round_up(sizes[i]);
    }
    c->pos = (int32_t *)b;
    return LMR_OK;
}

static void cpu_session_free(lmr_session *s) {
    lmr_cpu_session *c = s->priv;
    if (c->kv) munmap(c->kv, c->kv_map);
    if (c->scratch) munmap(c->scratch, c->scratch_map);
    free(c);
    s->priv = NULL;
}

/* ---- fill_kv ----
 * K and V entries are independent, approximately standard normal (sum of four 16-bit uniforms,
 * centred and scaled to unit variance), the scale of the normalised activations the projections
 * see; keys then give attention scores q.k/sqrt(d) of the spread a trained model's do, so softmax
 * is neither one-hot nor flat. Each (layer, position) row has its own generator, so the values
 * are the same for any thread count. */

typedef struct {
    lmr_session *s;
    int32_t seq, pos;
    uint64_t seed;
} fill_job;

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_row(float *dst, int64_t n, uint64_t state) {
    for (int64_t i = 0; i < n; i++) {
        state += 0x9E3779B97F4A7C15ull;
        uint64_t r = mix64(state);
        double sum = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) +
                     (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
        dst[i] = (float)((sum / 65536.0 - 2.0) * 1.7320508075688772);
    }
}

static void fill_task(void *ctx, int ith, int nth) {
    fill_job *j = ctx;
    lmr_session *s = j->s;
    const lmr_cpu_session *c = s->priv;
    const lmr_model_info *mi = &s->m->info;
    int64_t kd = (int64_t)mi->n_kv_heads * mi->head_dim;
    int32_t bt = s->params.block_tokens;
    const int32_t *table = lmr_kv_table(&s->kv, j->seq);
    float row[1024];
    int64_t rows = (int64_t)mi->n_layers * j->pos;
    for (int64_t r = ith; r < rows; r += nth) {
        int32_t l = (int32_t)(r / j->pos), p = (int32_t)(r % j->pos);
        size_t off = ((size_t)table[p / bt] * (size_t)bt + (size_t)(p % bt)) * (size_t)kd *
                     (size_t)s->kv_elem_bytes;
        for (int kv = 0; kv < 2; kv++) {
            char *dst = (kv ? lmr_cpu_v_pool(c, l) : lmr_cpu_k_pool(c, l)) + off;
            uint64_t st = mix64(j->seed ^ mix64(((uint64_t)l << 33) ^ ((uint64_t)p << 1) ^
                                                (uint64_t)kv));
            for (int64_t i = 0; i < kd; i += 1024) {
                int64_t n = kd - i < 1024 ? kd - i : 1024;
                fill_row(row, n, st + (uint64_t)i);
                lmr_cpu_row_from_f32(row, s->params.kv_dtype, dst + i * s->kv_elem_bytes, n);
            }
        }
    }
}

static lmr_status cpu_fill_kv(lmr_session *s, int32_t seq, int32_t pos, uint64_t seed) {
    fill_job j = {s, seq, pos, seed};
    lmr_pool_run(s->e->pool, fill_task, &j);
    return LMR_OK;
}

const lmr_backend_ops lmr_cpu_backend = {
    .name = "cpu",
    .default_kv_dtype = LMR_DTYPE_F32,
    .default_prefill_chunk = DEFAULT_PREFILL_CHUNK,
    .engine_init = cpu_engine_init,
    .engine_free = cpu_engine_free,
    .probe_bandwidth = cpu_probe_bandwidth,
    .probe_launch = cpu_probe_launch,
    .model_init = cpu_model_init,
    .model_free = cpu_model_free,
    .session_init = cpu_session_init,
    .session_free = cpu_session_free,
    .forward = lmr_cpu_forward,
    .fill_kv = cpu_fill_kv,
    .sample = NULL,
};
