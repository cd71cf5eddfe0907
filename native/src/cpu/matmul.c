/* matmul.c: linear layers y = x W^T (+ bias) (+ y). The scalar reference, and the threaded driver
 * that splits output rows of W over the pool in contiguous ranges and hands each range to the
 * best kernel set (GEMV / small-batch / packed GEMM live in matmul_<isa>.c). */
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"

static inline float w_at(const void *W, int wdtype, int64_t i) {
    switch (wdtype) {
    case LMR_DTYPE_F16: return lmr_f16_to_f32(((const uint16_t *)W)[i]);
    case LMR_DTYPE_BF16: return lmr_bf16_to_f32(((const uint16_t *)W)[i]);
    default: return ((const float *)W)[i];
    }
}

void lmr_cpu_matmul_ref(const float *x, int n_tok, int in, const void *W, int wdtype, int out,
                        const float *bias, float *y, int accumulate) {
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (int64_t)t * in; /* [in] */
        for (int o = 0; o < out; o++) {
            float s = 0.0f;
            for (int i = 0; i < in; i++) s += xt[i] * w_at(W, wdtype, (int64_t)o * in + i);
            if (bias) s += bias[o];
            float *yo = &y[(int64_t)t * out + o];
            *yo = accumulate ? *yo + s : s;
        }
    }
}

void lmr_matmul_rows_scalar(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                            int o1, float *y, int ldy, float *scratch) {
    (void)scratch;
    for (int o = o0; o < o1; o++)
        for (int t = 0; t < n_tok; t++) {
            const float *xt = x + (int64_t)t * in;
            float s = 0.0f;
            for (int i = 0; i < in; i++) s += xt[i] * w_at(W, wdtype, (int64_t)o * in + i);
            y[(int64_t)t * ldy + o] += s;
        }
}

typedef struct {
    lmr_pool *p;
    const float *x;
    int n_tok, in, out, wdtype, accumulate, align;
    const void *W;
    const float *bias;
    float *y;
    lmr_rows_fn rows;
} matmul_job;

/* Thread ith gets rows [o0, o1): equal shares rounded to `align` rows (a kernel's row block). */
static void split_rows(int out, int align, int ith, int nth, int *o0, int *o1) {
    int blocks = (out + align - 1) / align;
    int b0 = (int)((int64_t)blocks * ith / nth), b1 = (int)((int64_t)blocks * (ith + 1) / nth);
    *o0 = b0 * align < out ? b0 * align : out;
    *o1 = b1 * align < out ? b1 * align : out;
}

static void matmul_task(void *ctx, int ith, int nth) {
    matmul_job *j = ctx;
    int o0, o1;
    split_rows(j->out, j->align, ith, nth, &o0, &o1);
    if (o0 >= o1) return;
    for (int t = 0; t < j->n_tok; t++) { /* y starts as bias / previous y / zero */
        float *yt = j->y + (int64_t)t * j->out;
        if (!j->accumulate) {
            if (j->bias) memcpy(yt + o0, j->bias + o0, (size_t)(o1 - o0) * sizeof(float));
            else memset(yt + o0, 0, (size_t)(o1 - o0) * sizeof(float));
        } else if (j->bias) {
            for (int o = o0; o < o1; o++) yt[o] += j->bias[o];
        }
    }
    float *scratch = j->n_tok > 1 ? lmr_pool_scratch(j->p, ith, LMR_GEMM_SCRATCH) : NULL;
    j->rows(j->x, j->n_tok, j->in, j->W, j->wdtype, o0, o1, j->y, j->out, scratch);
}

void lmr_cpu_matmul(lmr_pool *p, const float *x, int n_tok, int in, const void *W, int wdtype,
                    int out, const float *bias, float *y, int accumulate) {
    if (n_tok <= 0 || out <= 0) return;
    matmul_job j = {p, x, n_tok, in, out, wdtype, accumulate, 16, W, bias, y,
                    lmr_matmul_rows_scalar};
    switch (lmr_cpu_isa()) {
#if LMR_HAVE_AVX2
    case LMR_ISA_AVX2: j.rows = lmr_matmul_rows_avx2; break;
#endif
#if LMR_HAVE_NEON
    case LMR_ISA_NEON: j.rows = lmr_matmul_rows_neon; break;
#endif
    default: break;
    }
    for (int i = 0; i < lmr_pool_size(p) && n_tok > 1; i++) /* panels, allocated once */
        if (!lmr_pool_scratch(p, i, LMR_GEMM_SCRATCH)) j.rows = lmr_matmul_rows_scalar;
    lmr_pool_run(p, matmul_task, &j);
}
