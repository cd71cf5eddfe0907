/* backend_cuda.cu: the CUDA backend's lifecycle: device discovery (0 devices, never an error,
 * without a driver), engine facts, model upload (matrices as stored, q/k/v stacked and gate/up
 * interleaved so each is one linear op, each matrix in its own dtype: quantised GGUF blocks go
 * up as they are; norms and biases as FP32), the session's KV pool,
 * activations and block-table mirror, fill_kv, on-device greedy sampling and the lazy copy of a
 * sequence's logits to the host (fetch_logits). The forward pass is in forward.cu, the kernels
 * in the other .cu files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "common.cuh"
#include "cuda_backend.h"

extern "C" {
#include "cpu/kernels.h"
}

#define DEFAULT_PREFILL_CHUNK 1024
/* BF16 weights of the dequantisation scratch at most (32 MiB; LMR_CUDA_DEQUANT_ELEMS=N sets
 * another cap, for the tests): a quantised matrix larger than this (lm_head, big FFNs) is
 * dequantised and multiplied a tile of rows (64 at least) at a time */
#define LMR_CUDA_WQ_ELEMS ((int64_t)16 << 20)
#define ALIGN 256

static size_t align_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

lmr_status lmr_cuda_fail(lmr_engine *e, cudaError_t err, const char *what, ...) {
    char buf[LMR_ERR_CAP / 2];
    va_list ap;
    va_start(ap, what);
    vsnprintf(buf, sizeof buf, what, ap);
    va_end(ap);
    cudaGetLastError(); /* clear a non-sticky error so later calls can run */
    return lmr_fail(e, LMR_ERR_BACKEND, "%s: %s (%s)", buf, cudaGetErrorString(err),
                    cudaGetErrorName(err));
}

void lmr_cuda_pre(cu_ctx *c) {
    if (c->prof) cudaEventRecord(((cu_engine *)c->e->priv)->ev0, c->st);
}

/* ---- profile table (profile mode only; cuda_backend.h) ---- */

#define PROF_KEYS 96
static struct {
    char key[80];
    double ms;
    long n;
} prof_tab[PROF_KEYS];
static int prof_n;
static char prof_detail[48];

void lmr_cuda_profile_detail(const cu_ctx *c, const char *fmt, ...) {
    if (!c->prof) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prof_detail, sizeof prof_detail, fmt, ap);
    va_end(ap);
}

static void prof_add(const char *kernel, double ms) {
    char key[80];
    snprintf(key, sizeof key, "%s%s%s", kernel, prof_detail[0] ? " " : "", prof_detail);
    prof_detail[0] = 0;
    int i = 0;
    while (i < prof_n && strcmp(prof_tab[i].key, key) != 0) i++;
    if (i == prof_n) {
        if (prof_n == PROF_KEYS) return;
        snprintf(prof_tab[i].key, sizeof prof_tab[i].key, "%s", key);
        prof_tab[i].ms = 0, prof_tab[i].n = 0;
        prof_n++;
    }
    prof_tab[i].ms += ms;
    prof_tab[i].n++;
}

extern "C" void lmr_cuda_profile_reset(void) { prof_n = 0; }

/* per: divide totals and counts by this (e.g. steps) so lines read "per step" */
extern "C" void lmr_cuda_profile_report(char *buf, size_t cap, double per) {
    size_t off = 0;
    int used[PROF_KEYS] = {0};
    double all = 0;
    for (int i = 0; i < prof_n; i++) all += prof_tab[i].ms;
    for (int k = 0; k < prof_n && off < cap; k++) {
        int b = -1;
        for (int i = 0; i < prof_n; i++)
            if (!used[i] && (b < 0 || prof_tab[i].ms > prof_tab[b].ms)) b = i;
        used[b] = 1;
        int w = snprintf(buf + off, cap - off, "  %9.4f ms %7.1f launches %8.2f us  %5.1f%%  %s\n",
                         prof_tab[b].ms / per, prof_tab[b].n / per,
                         prof_tab[b].ms * 1e3 / (double)prof_tab[b].n,
                         all > 0 ? 100.0 * prof_tab[b].ms / all : 0.0, prof_tab[b].key);
        if (w < 0) break;
        off += (size_t)w;
    }
    if (off < cap) snprintf(buf + off, cap - off, "  %9.4f ms in all\n", all / per);
}

lmr_status lmr_cuda_post(cu_ctx *c, const char *kernel) {
    lmr_engine *e_ = c->e;
    CU_TRY(cudaGetLastError(), "launch of %s", kernel);
    c->kernels++;
    if (c->prof) {
        cu_engine *ce = (cu_engine *)e_->priv;
        float ms = 0.0f;
        CU_TRY(cudaEventRecord(ce->ev1, c->st), "profile event after %s", kernel);
        CU_TRY(cudaEventSynchronize(ce->ev1), "%s", kernel);
        CU_TRY(cudaEventElapsedTime(&ms, ce->ev0, ce->ev1), "profile time of %s", kernel);
        e_->counters.kernel_ns += (uint64_t)((double)ms * 1e6);
        prof_add(kernel, ms);
    }
    return LMR_OK;
}

/* ---- devices ---- */

static cudaError_t count_err = cudaSuccess;

extern "C" int lmr_cuda_device_count(void) {
    int n = 0;
    count_err = cudaGetDeviceCount(&n);
    if (count_err != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

extern "C" const char *lmr_cuda_no_device_reason(void) {
    if (lmr_cuda_device_count() > 0) return NULL;
    return count_err != cudaSuccess ? cudaGetErrorName(count_err) : "cudaGetDeviceCount is 0";
}

/* ---- engine ---- */

static void engine_free(lmr_engine *e) {
    cu_engine *ce = (cu_engine *)e->priv;
    if (!ce) return;
    if (ce->ev0) cudaEventDestroy(ce->ev0);
    if (ce->ev1) cudaEventDestroy(ce->ev1);
    if (ce->stream) cudaStreamDestroy(ce->stream);
    free(ce);
    e->priv = NULL;
}

static lmr_status engine_init(lmr_engine *e_) {
    int dev = e_->params.device, n = lmr_cuda_device_count();
    if (dev >= n)
        return lmr_fail(e_, LMR_ERR_INVALID_ARG, "CUDA device %d does not exist (%d present)", dev,
                        n);
    cu_engine *ce = (cu_engine *)calloc(1, sizeof *ce);
    if (!ce) return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CUDA engine");
    e_->priv = ce;
    ce->device = dev;
    lmr_status st = LMR_OK;
    cudaDeviceProp p;
    int clk = 0, mclk = 0, bus = 0, drv = 0, rt = 0;
    cudaError_t err = cudaSetDevice(dev);
    const char *what = "cudaSetDevice";
    if (!err) what = "cudaGetDeviceProperties", err = cudaGetDeviceProperties(&p, dev);
    if (!err) what = "cudaDeviceGetAttribute", err = cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev);
    if (!err) err = cudaDeviceGetAttribute(&mclk, cudaDevAttrMemoryClockRate, dev);
    if (!err) err = cudaDeviceGetAttribute(&bus, cudaDevAttrGlobalMemoryBusWidth, dev);
    if (!err) what = "cudaDriverGetVersion", err = cudaDriverGetVersion(&drv);
    if (!err) what = "cudaRuntimeGetVersion", err = cudaRuntimeGetVersion(&rt);
    if (!err) what = "cudaStreamCreate", err = cudaStreamCreateWithFlags(&ce->stream, cudaStreamNonBlocking);
    if (!err) what = "cudaEventCreate", err = cudaEventCreate(&ce->ev0);
    if (!err) err = cudaEventCreate(&ce->ev1);
    if (err) {
        st = lmr_cuda_fail(e_, err, "CUDA engine on device %d: %s", dev, what);
        engine_free(e_);
        return st;
    }
    if (p.major < 8) {
        engine_free(e_);
        return lmr_fail(e_, LMR_ERR_UNSUPPORTED,
                        "CUDA device %d (%s) has compute capability %d.%d; the backend needs 8.0+",
                        dev, p.name, p.major, p.minor);
    }
    lmr_engine_info *in = &e_->info;
    in->executor = e_->params.executor;
    in->sm_count = p.multiProcessorCount;
    in->compute_capability = p.major * 10 + p.minor;
    in->clock_khz = clk;
    in->mem_clock_khz = mclk;
    in->mem_bus_bits = bus;
    in->driver_version = drv;
    in->runtime_version = rt;
    in->device_memory_bytes = p.totalGlobalMem;
    ce->sms = lmr_cuda_sms(); /* cached now, never queried during a capture */
    const char *v = getenv("LMR_CUDA_PREFILL_ATTENTION");
    ce->prefill_fused = !(v && strcmp(v, "split") == 0);
    v = getenv("LMR_CUDA_SPLITK");
    ce->splitk = !(v && strcmp(v, "0") == 0);
    v = getenv("LMR_CUDA_GEMV_MAX");
    ce->gemv_max = lmr_cuda_gemv_max_parse(v);
    snprintf(in->device_name, sizeof in->device_name, "%.127s", p.name);
    ce->nvml = lmr_cuda_nvml_device(dev); /* NULL: no energy figures */
    lmr_cuda_energy(e_, 1);
    return LMR_OK;
}

/* ---- models ---- */

static void model_free(lmr_model *m) {
    cu_model *cm = (cu_model *)m->priv;
    if (!cm) return;
    if (cm->dev) cudaFree(cm->dev); /* bytes are in m->tracked_bytes, returned by api_model.c */
    free(cm->layers);
    free(cm);
    m->priv = NULL;
}

/* Host FP32 copy of a small tensor (norm, bias; zeros when absent) uploaded to dst. */
static cudaError_t upload_f32(float *dst, const lmr_tensor *t, int64_t n, float *tmp) {
    if (t) lmr_cpu_row_to_f32(t->data, t->dtype, tmp, n);
    else memset(tmp, 0, sizeof(float) * (size_t)n);
    return cudaMemcpy(dst, tmp, sizeof(float) * (size_t)n, cudaMemcpyHostToDevice);
}

/* A weight matrix the kernels take: F32/F16/BF16, or Q8_0/Q4_K/Q6_K with whole blocks per row.
 * 0, else a named refusal into why. */
static int mat_check(const lmr_tensor *t, const char *what, int32_t layer, int64_t cols, char *why,
                     size_t cap) {
    const int dt = t->dtype, be = lmr_qd_block_elems(dt);
    if (dt == LMR_DTYPE_F32 || dt == LMR_DTYPE_F16 || dt == LMR_DTYPE_BF16 || (be && cols % be == 0))
        return 0;
    char where[32] = "";
    if (layer >= 0) snprintf(where, sizeof where, " of layer %d", layer);
    snprintf(why, cap,
             "the CUDA backend runs F32, F16, BF16, Q8_0, Q4_K and Q6_K weights (rows of whole "
             "blocks); %s%s (%s) is %s with rows of %lld",
             what, where, t->name, lmr_dtype_name(dt), (long long)cols);
    return -1;
}

static lmr_status model_init(lmr_model *m) {
    lmr_engine *e_ = m->e;
    const lmr_model_info *mi = &m->info;
    cu_model *cm = (cu_model *)calloc(1, sizeof *cm);
    if (!cm) return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CUDA model");
    m->priv = cm;
    cm->layers = (cu_layer *)calloc((size_t)mi->n_layers, sizeof(cu_layer));
    if (!cm->layers) return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CUDA model");
    const size_t hid = (size_t)mi->hidden, ffn = (size_t)mi->ffn, hd = (size_t)mi->head_dim;
    const size_t qd = (size_t)mi->n_heads * hd, kd = (size_t)mi->n_kv_heads * hd, qkv = qd + 2 * kd;
    const size_t V = (size_t)mi->vocab;
    const int tied = m->lm_head == m->embed || m->lm_head->data == m->embed->data;
    cm->embed_dt = m->embed->dtype;
    cm->lm_head_dt = m->lm_head->dtype;
    /* every matrix in its own dtype: checked, and the device bytes summed as laid out below */
    char why[320];
    if (lmr_cuda_shape_check(mi->hidden, mi->ffn, mi->n_heads, mi->n_kv_heads, mi->head_dim,
                             cm->embed_dt, why, sizeof why) ||
        mat_check(m->embed, "the embedding", -1, (int64_t)hid, why, sizeof why) ||
        mat_check(m->lm_head, "lm_head", -1, (int64_t)hid, why, sizeof why))
        return lmr_fail(e_, LMR_ERR_UNSUPPORTED, "%s", why);
    const size_t emb_b = lmr_cuda_mat_bytes(cm->embed_dt, V, hid);
    size_t total = align_up(emb_b) + (tied ? 0 : align_up(lmr_cuda_mat_bytes(cm->lm_head_dt, V, hid))) +
                   align_up(4 * hid) + align_up(8 * (hd / 2));
    int64_t dq = 0; /* largest quantised matrix */
    if (lmr_qd_block_elems(cm->embed_dt) && tied) dq = (int64_t)(V * hid);
    if (lmr_qd_block_elems(cm->lm_head_dt)) dq = (int64_t)(V * hid);
    for (int32_t l = 0; l < mi->n_layers; l++) {
        const lmr_layer_tensors *L = &m->layers[l];
        const lmr_tensor *ts[] = {L->q, L->k, L->v, L->o, L->gate, L->up, L->down};
        static const char *names[] = {"q", "k", "v", "o", "gate", "up", "down"};
        const size_t rows[] = {qd, kd, kd, hid, ffn, ffn, hid};
        const size_t cols[] = {hid, hid, hid, qd, hid, hid, ffn};
        size_t b[7];
        for (int i = 0; i < 7; i++) {
            if (mat_check(ts[i], names[i], l, (int64_t)cols[i], why, sizeof why))
                return lmr_fail(e_, LMR_ERR_UNSUPPORTED, "%s", why);
            b[i] = lmr_cuda_mat_bytes(ts[i]->dtype, rows[i], cols[i]);
            if (lmr_qd_block_elems(ts[i]->dtype) && (int64_t)(rows[i] * cols[i]) > dq)
                dq = (int64_t)(rows[i] * cols[i]);
        }
        if (L->gate->dtype != L->up->dtype) /* one interleaved matrix: silu(gate) * up epilogue */
            return lmr_fail(e_, LMR_ERR_UNSUPPORTED,
                            "the CUDA backend needs gate and up of a layer in one dtype; layer "
                            "%d has gate %s and up %s",
                            l, lmr_dtype_name(L->gate->dtype), lmr_dtype_name(L->up->dtype));
        const int stacked = L->q->dtype == L->k->dtype && L->q->dtype == L->v->dtype;
        total += stacked ? align_up(b[0] + b[1] + b[2])
                         : align_up(b[0]) + align_up(b[1]) + align_up(b[2]);
        total += (m->w.cfg.attn_bias ? align_up(4 * qkv) : 0) + align_up(b[3]) +
                 align_up(b[4] + b[5]) + align_up(b[6]) + 2 * align_up(4 * hid);
    }
    cm->dq_elems = dq;

    size_t fr = 0, tot = 0;
    CU_TRY(cudaMemGetInfo(&fr, &tot), "model upload: cudaMemGetInfo");
    if (total > fr)
        return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY,
                        "the model needs %llu bytes of device memory; %llu of %llu are free",
                        (unsigned long long)total, (unsigned long long)fr, (unsigned long long)tot);
    CU_TRY(cudaMalloc(&cm->dev, total), "model upload: cudaMalloc of %llu bytes",
           (unsigned long long)total);
    cm->dev_bytes = total;
    m->tracked_bytes += total;
    lmr_mem_add(e_, (int64_t)total);

    /* Matrices go up in their GGUF / safetensors layout as they are (quantised blocks too: no
     * dequantisation on the host). */
    size_t tmp_n = qkv > hid ? qkv : hid;
    float *tmp = (float *)malloc(sizeof(float) * (tmp_n > hd ? tmp_n : hd));
    if (!tmp) return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the upload");
    char *p = (char *)cm->dev;
    cudaError_t err = cudaSuccess;
    const char *what = "embedding";
#define TAKE(bytes) (p += align_up(bytes), p - align_up(bytes))
    cm->embed = TAKE(emb_b);
    err = cudaMemcpy((void *)cm->embed, m->embed->data, emb_b, cudaMemcpyHostToDevice);
    if (tied) {
        cm->lm_head = cm->embed;
    } else {
        const size_t lb = lmr_cuda_mat_bytes(cm->lm_head_dt, V, hid);
        cm->lm_head = TAKE(lb);
        if (!err) what = "lm_head", err = cudaMemcpy((void *)cm->lm_head, m->lm_head->data, lb,
                                                  cudaMemcpyHostToDevice);
    }
    cm->final_norm = (const float *)TAKE(4 * hid);
    if (!err) what = "final norm", err = upload_f32((float *)cm->final_norm, m->final_norm, (int64_t)hid, tmp);
    cm->inv_freq = (const double *)TAKE(8 * (hd / 2));
    if (!err) {
        double f[256];
        for (size_t i = 0; i < hd / 2; i++) f[i] = pow(mi->rope_theta, -2.0 * (double)i / (double)hd);
        what = "rope frequencies";
        err = cudaMemcpy((void *)cm->inv_freq, f, 8 * (hd / 2), cudaMemcpyHostToDevice);
    }
    for (int32_t l = 0; l < mi->n_layers && !err; l++) {
        const lmr_layer_tensors *L = &m->layers[l];
        cu_layer *c = &cm->layers[l];
        what = "layer weights";
        const size_t qb = lmr_cuda_mat_bytes(L->q->dtype, qd, hid);
        const size_t kb = lmr_cuda_mat_bytes(L->k->dtype, kd, hid);
        const size_t vb = lmr_cuda_mat_bytes(L->v->dtype, kd, hid);
        c->qkv_dt = L->q->dtype, c->k_dt = L->k->dtype, c->v_dt = L->v->dtype;
        if (c->qkv_dt == c->k_dt && c->qkv_dt == c->v_dt) { /* rows stacked: one linear */
            char *q = TAKE(qb + kb + vb);
            c->qkv = q;
            err = cudaMemcpy(q, L->q->data, qb, cudaMemcpyHostToDevice);
            if (!err) err = cudaMemcpy(q + qb, L->k->data, kb, cudaMemcpyHostToDevice);
            if (!err) err = cudaMemcpy(q + qb + kb, L->v->data, vb, cudaMemcpyHostToDevice);
        } else {
            c->qkv = TAKE(qb);
            c->k = TAKE(kb);
            c->v = TAKE(vb);
            err = cudaMemcpy((void *)c->qkv, L->q->data, qb, cudaMemcpyHostToDevice);
            if (!err) err = cudaMemcpy((void *)c->k, L->k->data, kb, cudaMemcpyHostToDevice);
            if (!err) err = cudaMemcpy((void *)c->v, L->v->data, vb, cudaMemcpyHostToDevice);
        }
        if (m->w.cfg.attn_bias) {
            float *b = (float *)TAKE(4 * qkv);
            c->qkv_b = b;
            if (!err) err = upload_f32(b, L->q_b, (int64_t)qd, tmp);
            if (!err) err = upload_f32(b + qd, L->k_b, (int64_t)kd, tmp);
            if (!err) err = upload_f32(b + qd + kd, L->v_b, (int64_t)kd, tmp);
        }
        c->o_dt = L->o->dtype;
        const size_t ob = lmr_cuda_mat_bytes(c->o_dt, hid, qd);
        c->o = TAKE(ob);
        if (!err) err = cudaMemcpy((void *)c->o, L->o->data, ob, cudaMemcpyHostToDevice);
        c->gate_up_dt = L->gate->dtype;
        const size_t row = lmr_cuda_mat_bytes(c->gate_up_dt, 1, hid); /* bytes of one row */
        char *gu = TAKE(2 * ffn * row);
        c->gate_up = gu; /* interleave: row 2i gate i, row 2i+1 up i */
        if (!err) err = cudaMemcpy2D(gu, 2 * row, L->gate->data, row, row, ffn, cudaMemcpyHostToDevice);
        if (!err) err = cudaMemcpy2D(gu + row, 2 * row, L->up->data, row, row, ffn, cudaMemcpyHostToDevice);
        c->down_dt = L->down->dtype;
        const size_t db = lmr_cuda_mat_bytes(c->down_dt, hid, ffn);
        c->down = TAKE(db);
        if (!err) err = cudaMemcpy((void *)c->down, L->down->data, db, cudaMemcpyHostToDevice);
        c->in_norm = (const float *)TAKE(4 * hid);
        c->post_norm = (const float *)TAKE(4 * hid);
        if (!err) err = upload_f32((float *)c->in_norm, L->in_norm, (int64_t)hid, tmp);
        if (!err) err = upload_f32((float *)c->post_norm, L->post_norm, (int64_t)hid, tmp);
    }
#undef TAKE
    free(tmp);
    if (err) return lmr_cuda_fail(e_, err, "model upload (%s)", what);
    if ((size_t)(p - (char *)cm->dev) != total) /* the sizes above and the layout disagree */
        return lmr_fail(e_, LMR_ERR_BACKEND, "model upload: laid out %llu of %llu bytes",
                        (unsigned long long)(p - (char *)cm->dev), (unsigned long long)total);
    return LMR_OK;
}

/* ---- sessions ---- */

static void session_free(lmr_session *s) {
    cu_session *c = (cu_session *)s->priv;
    if (!c) return;
    for (int i = 0; i < LMR_CUDA_BUCKET_SLOTS; i++)
        if (c->graphs[i]) cudaGraphExecDestroy(c->graphs[i]);
    if (c->logits_pinned) cudaHostUnregister(s->logits);
    if (c->h_hdr) cudaFreeHost(c->h_hdr);
    if (c->h_tok) cudaFreeHost(c->h_tok);
    if (c->kv) cudaFree(c->kv);
    if (c->scratch) cudaFree(c->scratch);
    free(c->h_shadow);
    free(c);
    s->priv = NULL;
}

static lmr_status session_init(lmr_session *s) {
    lmr_engine *e_ = s->e;
    const lmr_model_info *mi = &s->m->info;
    const lmr_session_params *p = &s->params;
    if (p->kv_dtype != LMR_DTYPE_BF16 && p->kv_dtype != LMR_DTYPE_F16 &&
        p->kv_dtype != LMR_DTYPE_F32)
        return lmr_fail(e_, LMR_ERR_UNSUPPORTED, "kv_dtype %s", lmr_dtype_name(p->kv_dtype));
    cu_session *c = (cu_session *)calloc(1, sizeof *c);
    if (!c) return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CUDA session");
    s->priv = c;
    /* decode batches are padded to their bucket (graph executor): rows for the largest one */
    const int mb = lmr_cuda_bucket(p->max_seqs);
    const int mt = p->prefill_chunk > mb ? p->prefill_chunk : mb;
    c->max_tok = mt;
    c->max_bucket = mb;
    const size_t T = (size_t)mt, f = 4, hid = (size_t)mi->hidden, ffn = (size_t)mi->ffn;
    const size_t hd = (size_t)mi->head_dim, nkv = (size_t)mi->n_kv_heads;
    const size_t qd = (size_t)mi->n_heads * hd, kd = nkv * hd;
    const size_t g = (size_t)(mi->n_heads / mi->n_kv_heads);
    size_t max_in = hid > qd ? hid : qd;
    if (ffn > max_in) max_in = ffn;
    const size_t mbs = (size_t)s->kv.max_blocks_seq, ms = (size_t)p->max_seqs;
    const size_t dec_splits = (size_t)lmr_cuda_att_splits_max(p->max_ctx);
    size_t part_rows = (size_t)mb * nkv * dec_splits * g;
    if (T * nkv * LMR_CUDA_ATT_PREFILL_SPLITS * g > part_rows)
        part_rows = T * nkv * LMR_CUDA_ATT_PREFILL_SPLITS * g;
    c->part_floats = part_rows * (hd + 2);
    c->hdr_ints = 3 * T + (size_t)mb;
    c->ws_floats = lmr_cuda_splitk_ws_floats(((cu_engine *)e_->priv)->sms);
    /* quantised matrices for more than LMR_CUDA_QGEMV_MAX tokens: BF16 tiles of at most
     * LMR_CUDA_WQ_ELEMS weights (the whole matrix when smaller), 64 rows at least */
    const int64_t dq = ((const cu_model *)s->m->priv)->dq_elems;
    const char *ev = getenv("LMR_CUDA_DEQUANT_ELEMS"); /* tests: smaller tiles */
    const int64_t cap = ev && atoll(ev) > 0 ? atoll(ev) : LMR_CUDA_WQ_ELEMS;
    int64_t wq = dq < cap ? dq : cap;
    if (dq && wq < 64 * (int64_t)max_in) wq = 64 * (int64_t)max_in;
    c->wq_elems = wq;
    size_t sizes[] = {T * hid * f, T * hid * f, T * (qd + 2 * kd) * f, T * qd * f, T * ffn * f,
                      T * max_in * 4 /* xa: room for FP32 too */, T * max_in * f,
                      c->part_floats * f, (ms + 1) * (size_t)mi->vocab * f, ms * mbs * 4,
                      c->hdr_ints * 4, ALIGN, (size_t)c->ws_floats * f, (size_t)wq * 2};
    const int nb = (int)(sizeof sizes / sizeof sizes[0]);
    size_t scratch = 0;
    for (int i = 0; i < nb; i++) scratch += align_up(sizes[i]);
    c->layer_bytes = (size_t)s->kv_bytes / 2 / (size_t)mi->n_layers;
    size_t fr = 0, tot = 0;
    CU_TRY(cudaMemGetInfo(&fr, &tot), "session: cudaMemGetInfo");
    uint64_t need = s->kv_bytes + scratch;
    if (need > fr)
        return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY,
                        "the KV pool (%llu bytes) and activations (%llu bytes) need %llu bytes; "
                        "%llu bytes of device memory are free",
                        (unsigned long long)s->kv_bytes, (unsigned long long)scratch,
                        (unsigned long long)need, (unsigned long long)fr);
    CU_TRY(cudaMalloc(&c->kv, (size_t)s->kv_bytes), "session: cudaMalloc of the %llu-byte KV pool",
           (unsigned long long)s->kv_bytes);
    CU_TRY(cudaMalloc(&c->scratch, scratch), "session: cudaMalloc of %llu bytes of activations",
           (unsigned long long)scratch);
    c->scratch_bytes = scratch;
    s->tracked_bytes += need;
    lmr_mem_add(e_, (int64_t)need);
    char *b = (char *)c->scratch;
    void **bufs[] = {(void **)&c->h, (void **)&c->x, (void **)&c->qkv, (void **)&c->att,
                     (void **)&c->act, &c->xa, (void **)&c->xf, (void **)&c->part,
                     (void **)&c->logits, (void **)&c->tables, (void **)&c->d_hdr,
                     (void **)&c->d_tok, (void **)&c->ws, &c->wq};
    for (int i = 0; i < nb; i++) {
        *bufs[i] = b;
        b += align_up(sizes[i]);
    }
    if (!wq) c->wq = NULL;
    cu_engine *ce = (cu_engine *)e_->priv;
    CU_TRY(cudaMemsetAsync(c->scratch, 0, scratch, ce->stream), "session: clear activations");
    CU_TRY(cudaMemsetAsync(c->tables, 0xFF, ms * mbs * 4, ce->stream), "session: clear tables");
    CU_TRY(cudaMemsetAsync(c->kv, 0, (size_t)s->kv_bytes, ce->stream), "session: clear KV pool");
    CU_TRY(cudaMallocHost((void **)&c->h_hdr, c->hdr_ints * 4), "session: pinned header");
    CU_TRY(cudaMallocHost((void **)&c->h_tok, 4 * 4), "session: pinned token");
    c->h_shadow = (int32_t *)malloc(ms * mbs * 4);
    if (!c->h_shadow)
        return lmr_fail(e_, LMR_ERR_OUT_OF_MEMORY, "no host memory for the CUDA session");
    memset(c->h_shadow, 0xFF, ms * mbs * 4);
    /* pinned logits make fetch_logits' copy faster; pageable still works */
    if (cudaHostRegister(s->logits, ms * (size_t)mi->vocab * 4, cudaHostRegisterDefault) ==
        cudaSuccess)
        c->logits_pinned = 1;
    else
        cudaGetLastError();
    CU_TRY(cudaStreamSynchronize(ce->stream), "session: initialise");
    return LMR_OK;
}

lmr_status lmr_cuda_sync_table(lmr_session *s, int32_t seq, int32_t n) {
    lmr_engine *e_ = s->e;
    cu_session *c = (cu_session *)s->priv;
    const int32_t mbs = s->kv.max_blocks_seq, nb = (n + s->params.block_tokens - 1) / s->params.block_tokens;
    const int32_t *tab = lmr_kv_table(&s->kv, seq);
    int32_t *sh = c->h_shadow + (size_t)seq * mbs;
    if (nb == 0 || memcmp(tab, sh, sizeof(int32_t) * (size_t)nb) == 0) return LMR_OK;
    memcpy(sh, tab, sizeof(int32_t) * (size_t)nb);
    /* pageable source: staged before the call returns; ordered on the engine's stream */
    cudaError_t err = cudaMemcpyAsync(c->tables + (size_t)seq * mbs, tab,
                                      sizeof(int32_t) * (size_t)nb, cudaMemcpyHostToDevice,
                                      ((cu_engine *)e_->priv)->stream);
    if (err) {
        memset(sh, 0xFE, sizeof(int32_t) * (size_t)mbs); /* unknown: upload again next time */
        return lmr_cuda_fail(e_, err, "upload of seq %d's block table", seq);
    }
    return LMR_OK;
}

static lmr_status fill_kv(lmr_session *s, int32_t seq, int32_t pos, uint64_t seed) {
    lmr_engine *e_ = s->e;
    cu_session *c = (cu_session *)s->priv;
    const lmr_model_info *mi = &s->m->info;
    lmr_status st = lmr_cuda_sync_table(s, seq, pos);
    if (st) return st;
    cu_ctx ctx = {e_, ((cu_engine *)e_->priv)->stream, 0, 0};
    if ((st = lmr_cuda_fill_kv(&ctx, c->kv, c->layer_bytes, mi->n_layers, pos,
                               c->tables + (size_t)seq * s->kv.max_blocks_seq,
                               s->params.block_tokens, mi->n_kv_heads * mi->head_dim,
                               s->params.kv_dtype, seed)))
        return st;
    CU_TRY(cudaStreamSynchronize(ctx.st), "fill_kv");
    return LMR_OK;
}

/* backend.h fetch_logits: seq's row of the device logits to the host. */
static lmr_status fetch_logits(lmr_session *s, int32_t seq, float *out) {
    lmr_engine *e_ = s->e;
    cu_session *c = (cu_session *)s->priv;
    const size_t vocab = (size_t)s->m->info.vocab;
    cudaStream_t st = ((cu_engine *)e_->priv)->stream;
    CU_TRY(cudaMemcpyAsync(out, c->logits + (size_t)seq * vocab, sizeof(float) * vocab,
                           cudaMemcpyDeviceToHost, st),
           "copy of seq %d's logits", seq);
    CU_TRY(cudaStreamSynchronize(st), "copy of seq %d's logits", seq);
    return LMR_OK;
}

/* Greedy (temperature 0 or top_k 1) runs on the device and copies back one int; the other
 * samplers use the host code on the logits (fetched once, lmr_logits_host), so the sequence's
 * generator advances exactly as on the CPU backend. */
static lmr_status sample(lmr_session *s, int32_t seq, const lmr_sampler_params *p, int32_t *out) {
    lmr_engine *e_ = s->e;
    cu_session *c = (cu_session *)s->priv;
    const int vocab = s->m->info.vocab;
    if (!(p->temperature == 0.0f || p->top_k == 1)) {
        lmr_status st;
        const float *row = lmr_logits_host(s, "sample", seq, &st);
        if (!row) return st;
        *out = lmr_sample_logits(row, vocab, p, &s->rng[seq], s->cand);
        return LMR_OK;
    }
    cu_ctx ctx = {e_, ((cu_engine *)e_->priv)->stream, e_->params.profile, 0};
    lmr_status st = lmr_cuda_argmax(&ctx, c->logits + (size_t)seq * (size_t)vocab, vocab, c->d_tok);
    if (st) return st;
    CU_TRY(cudaMemcpyAsync(c->h_tok, c->d_tok, 4, cudaMemcpyDeviceToHost, ctx.st), "sample: copy");
    CU_TRY(cudaStreamSynchronize(ctx.st), "sample");
    *out = *c->h_tok;
    return LMR_OK;
}

static lmr_status probe_bandwidth(lmr_engine *e, uint64_t bytes, int32_t reps, double *samples) {
    return lmr_cuda_probe_bandwidth(e, bytes, reps, samples);
}
static lmr_status probe_launch(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns) {
    return lmr_cuda_probe_launch(e, n, eager_ns, graph_ns);
}

extern "C" const lmr_backend_ops lmr_cuda_backend = {
    "cuda",
    LMR_DTYPE_BF16,
    DEFAULT_PREFILL_CHUNK,
    engine_init,
    engine_free,
    probe_bandwidth,
    probe_launch,
    model_init,
    model_free,
    session_init,
    session_free,
    lmr_cuda_forward,
    fill_kv,
    sample,
    1, /* logits_on_device */
    fetch_logits,
    lmr_cuda_energy,
};
