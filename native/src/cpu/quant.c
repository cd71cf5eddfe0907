/* quant.c: quantised weights (Q8_0, Q4_K, Q6_K in ggml's block layouts): type facts, scalar
 * dequantisation (the specification, ports of ggml's dequantize_row_*), activation quantisers
 * (ggml's quantize_row_q8_0_ref / q8_K_ref), simple weight quantisers, the scalar integer dot
 * products, and the threaded driver of the quantised linear layers. */
#include "quant.h"

#include <math.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"

/* ---- type facts ---- */

int lmr_dtype_is_quant(int dtype) {
    return dtype == LMR_DTYPE_Q8_0 || dtype == LMR_DTYPE_Q4_K || dtype == LMR_DTYPE_Q6_K;
}

int lmr_dtype_block_elems(int dtype) {
    switch (dtype) {
    case LMR_DTYPE_F32:
    case LMR_DTYPE_F16:
    case LMR_DTYPE_BF16: return 1;
    case LMR_DTYPE_Q8_0: return LMR_QK8_0;
    case LMR_DTYPE_Q4_K:
    case LMR_DTYPE_Q6_K: return LMR_QK_K;
    default: return 0;
    }
}

size_t lmr_dtype_block_bytes(int dtype) {
    switch (dtype) {
    case LMR_DTYPE_F32: return 4;
    case LMR_DTYPE_F16:
    case LMR_DTYPE_BF16: return 2;
    case LMR_DTYPE_Q8_0: return sizeof(lmr_block_q8_0);
    case LMR_DTYPE_Q4_K: return sizeof(lmr_block_q4_K);
    case LMR_DTYPE_Q6_K: return sizeof(lmr_block_q6_K);
    default: return 0;
    }
}

int64_t lmr_dtype_row_bytes(int dtype, int64_t n) {
    int be = lmr_dtype_block_elems(dtype);
    if (be <= 0 || n < 0 || n % be) return -1;
    return n / be * (int64_t)lmr_dtype_block_bytes(dtype);
}

/* ---- dequantisation (ggml's dequantize_row_q8_0 / q4_K / q6_K) ---- */

void lmr_dequant_row_q8_0(const lmr_block_q8_0 *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK8_0; i++) {
        const float d = lmr_f16_to_f32(x[i].d);
        for (int j = 0; j < LMR_QK8_0; j++) y[i * LMR_QK8_0 + j] = x[i].qs[j] * d;
    }
}

void lmr_dequant_row_q4_K(const lmr_block_q4_K *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK_K; i++) {
        const uint8_t *q = x[i].qs;
        const float d = lmr_f16_to_f32(x[i].d), min = lmr_f16_to_f32(x[i].dmin);
        int is = 0;
        uint8_t sc, m;
        for (int j = 0; j < LMR_QK_K; j += 64) {
            lmr_q4_K_scale_min(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            lmr_q4_K_scale_min(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

void lmr_dequant_row_q6_K(const lmr_block_q6_K *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK_K; i++) {
        const float d = lmr_f16_to_f32(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int h = 0; h < LMR_QK_K; h += 128) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void lmr_dequant_row(int dtype, const void *x, float *y, int64_t n) {
    switch (dtype) {
    case LMR_DTYPE_Q8_0: lmr_dequant_row_q8_0(x, y, n); break;
    case LMR_DTYPE_Q4_K: lmr_dequant_row_q4_K(x, y, n); break;
    case LMR_DTYPE_Q6_K: lmr_dequant_row_q6_K(x, y, n); break;
    default: break;
    }
}

/* ---- quantisers ---- */

static inline int nearest_int(float f) { return (int)lrintf(f); } /* ties to even, as ggml's */

void lmr_quantize_row_q8_0(const float *x, lmr_block_q8_0 *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK8_0; i++) {
        float amax = 0.0f;
        for (int j = 0; j < LMR_QK8_0; j++) amax = fmaxf(amax, fabsf(x[i * LMR_QK8_0 + j]));
        const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
        y[i].d = lmr_f32_to_f16(d);
        for (int j = 0; j < LMR_QK8_0; ++j) y[i].qs[j] = (int8_t)roundf(x[i * LMR_QK8_0 + j] * id);
    }
}

void lmr_quantize_row_q8_K(const float *x, lmr_block_q8_K *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK_K; i++, x += LMR_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < LMR_QK_K; ++j) {
            float ax = fabsf(x[j]);
            if (ax > amax) amax = ax, max = x[j];
        }
        if (!amax) {
            y[i].d = 0;
            memset(y[i].qs, 0, sizeof y[i].qs);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < LMR_QK_K; ++j) {
            int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < LMR_QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void lmr_quantize_row_q4_K(const float *x, lmr_block_q4_K *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK_K; i++, x += LMR_QK_K) {
        float scale[8], min[8], max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; j++) { /* w = scale * q - min, q in 0..15, min >= 0 */
            float lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) lo = fminf(lo, x[32 * j + l]), hi = fmaxf(hi, x[32 * j + l]);
            scale[j] = (hi - lo) / 15, min[j] = -lo;
            max_scale = fmaxf(max_scale, scale[j]), max_min = fmaxf(max_min, min[j]);
        }
        const float d = max_scale / 63, dmin = max_min / 63;
        y[i].d = lmr_f32_to_f16(d), y[i].dmin = lmr_f32_to_f16(dmin);
        const float dq = lmr_f16_to_f32(y[i].d), dminq = lmr_f16_to_f32(y[i].dmin);
        uint8_t ls[8], lm[8], L[LMR_QK_K];
        memset(y[i].scales, 0, sizeof y[i].scales);
        for (int j = 0; j < 8; j++) {
            ls[j] = (uint8_t)(dq > 0 ? clampi(nearest_int(scale[j] / dq), 0, 63) : 0);
            lm[j] = (uint8_t)(dminq > 0 ? clampi(nearest_int(min[j] / dminq), 0, 63) : 0);
            if (j < 4) {
                y[i].scales[j] = ls[j];
                y[i].scales[j + 4] = lm[j];
            } else {
                y[i].scales[j + 4] = (uint8_t)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                y[i].scales[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
                y[i].scales[j - 0] |= (uint8_t)((lm[j] >> 4) << 6);
            }
            const float s = dq * ls[j], m = dminq * lm[j];
            for (int l = 0; l < 32; l++)
                L[32 * j + l] = (uint8_t)(s > 0 ? clampi(nearest_int((x[32 * j + l] + m) / s), 0, 15) : 0);
        }
        uint8_t *q = y[i].qs;
        for (int j = 0; j < LMR_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

void lmr_quantize_row_q6_K(const float *x, lmr_block_q6_K *y, int64_t n) {
    for (int64_t i = 0; i < n / LMR_QK_K; i++, x += LMR_QK_K) {
        float scale[16], max_scale = 0;
        for (int j = 0; j < 16; j++) { /* w = scale * q, q in -31..31 */
            float amax = 0;
            for (int l = 0; l < 16; l++) amax = fmaxf(amax, fabsf(x[16 * j + l]));
            scale[j] = amax / 31;
            max_scale = fmaxf(max_scale, scale[j]);
        }
        const float d = max_scale / 127;
        y[i].d = lmr_f32_to_f16(d);
        const float dq = lmr_f16_to_f32(y[i].d);
        uint8_t L[LMR_QK_K];
        for (int j = 0; j < 16; j++) {
            int sc = dq > 0 ? clampi(nearest_int(scale[j] / dq), 0, 127) : 0;
            y[i].scales[j] = (int8_t)sc;
            const float s = dq * sc;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (uint8_t)(32 + (s > 0 ? clampi(nearest_int(x[16 * j + l] / s), -32, 31) : 0));
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < LMR_QK_K; j += 128, ql += 64, qh += 32)
            for (int l = 0; l < 32; ++l) {
                ql[l + 0] = (uint8_t)((L[j + l] & 0xF) | ((L[j + l + 64] & 0xF) << 4));
                ql[l + 32] = (uint8_t)((L[j + l + 32] & 0xF) | ((L[j + l + 96] & 0xF) << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                  ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
    }
}

void lmr_quantize_row(int dtype, const float *x, void *dst, int64_t n) {
    switch (dtype) {
    case LMR_DTYPE_Q8_0: lmr_quantize_row_q8_0(x, dst, n); break;
    case LMR_DTYPE_Q4_K: lmr_quantize_row_q4_K(x, dst, n); break;
    case LMR_DTYPE_Q6_K: lmr_quantize_row_q6_K(x, dst, n); break;
    default: break;
    }
}

/* ---- scalar integer dot products (the specification of the fast kernels) ---- */

int lmr_quant_act_dtype(int wdtype) {
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: return LMR_QACT_Q8_0;
    case LMR_DTYPE_Q4_K:
    case LMR_DTYPE_Q6_K: return LMR_QACT_Q8_K;
    default: return -1;
    }
}

size_t lmr_quant_act_row_bytes(int wdtype, int in) {
    switch (lmr_quant_act_dtype(wdtype)) {
    case LMR_QACT_Q8_0: return (size_t)(in / LMR_QK8_0) * sizeof(lmr_block_q8_0);
    case LMR_QACT_Q8_K: return (size_t)(in / LMR_QK_K) * sizeof(lmr_block_q8_K);
    default: return 0;
    }
}

static float dot_q8_0_ref(int n, const void *wv, const void *xv) {
    const lmr_block_q8_0 *w = wv, *x = xv;
    float s = 0;
    for (int b = 0; b < n / LMR_QK8_0; b++) {
        int sumi = 0;
        for (int j = 0; j < LMR_QK8_0; j++) sumi += w[b].qs[j] * x[b].qs[j];
        s += (float)sumi * (lmr_f16_to_f32(w[b].d) * lmr_f16_to_f32(x[b].d));
    }
    return s;
}

static float dot_q4_K_ref(int n, const void *wv, const void *xv) {
    const lmr_block_q4_K *w = wv;
    const lmr_block_q8_K *x = xv;
    float s = 0;
    for (int b = 0; b < n / LMR_QK_K; b++) {
        int sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            lmr_q4_K_scale_min(j, w[b].scales, &sc, &m);
            const uint8_t *q = w[b].qs + 32 * (j / 2);
            const int8_t *a = x[b].qs + 32 * j;
            int dot = 0;
            for (int l = 0; l < 32; l++) dot += (j & 1 ? q[l] >> 4 : q[l] & 0xF) * a[l];
            sumi += sc * dot;
            summ += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        s += x[b].d * lmr_f16_to_f32(w[b].d) * (float)sumi -
             x[b].d * lmr_f16_to_f32(w[b].dmin) * (float)summ;
    }
    return s;
}

static float dot_q6_K_ref(int n, const void *wv, const void *xv) {
    const lmr_block_q6_K *w = wv;
    const lmr_block_q8_K *x = xv;
    float s = 0;
    for (int b = 0; b < n / LMR_QK_K; b++) {
        int sub[16] = {0};
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[b].ql + 64 * h, *qh = w[b].qh + 32 * h;
            const int8_t *a = x[b].qs + 128 * h;
            for (int l = 0; l < 32; l++) {
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                sub[8 * h + (l + 0) / 16] += q1 * a[l];
                sub[8 * h + (l + 32) / 16] += q2 * a[l + 32];
                sub[8 * h + (l + 64) / 16] += q3 * a[l + 64];
                sub[8 * h + (l + 96) / 16] += q4 * a[l + 96];
            }
        }
        int sumi = 0;
        for (int j = 0; j < 16; j++) sumi += w[b].scales[j] * sub[j];
        s += lmr_f16_to_f32(w[b].d) * x[b].d * (float)sumi;
    }
    return s;
}

static lmr_qdot_fn dot_ref(int wdtype) {
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: return dot_q8_0_ref;
    case LMR_DTYPE_Q4_K: return dot_q4_K_ref;
    case LMR_DTYPE_Q6_K: return dot_q6_K_ref;
    default: return NULL;
    }
}

float lmr_quant_vec_dot_ref(int wdtype, int n, const void *w, const void *xq) {
    lmr_qdot_fn f = dot_ref(wdtype);
    return f ? f(n, w, xq) : 0.0f;
}

lmr_qdot_fn lmr_quant_dot(int isa, int wdtype) {
    lmr_qdot_fn f = NULL;
    (void)wdtype;
    switch (isa) {
#if LMR_HAVE_AVX512
    case LMR_ISA_AVX512: f = lmr_quant_dot_avx512(wdtype); break;
#endif
#if LMR_HAVE_NEON
    case LMR_ISA_NEON: f = lmr_quant_dot_neon(wdtype); break;
#endif
    default: break;
    }
#if LMR_HAVE_AVX2
    if (!f && lmr_isa_has_avx2(isa)) f = lmr_quant_dot_avx2(wdtype);
#endif
    return f;
}

lmr_qdotn_fn lmr_quant_dotn(int isa, int wdtype) {
#if LMR_HAVE_AVX512
    if (isa == LMR_ISA_AVX512) return lmr_quant_dotn_avx512(wdtype);
#endif
    (void)isa, (void)wdtype;
    return NULL;
}

const char *lmr_quant_kernels_name(int isa) {
#if LMR_HAVE_AVX512
    if (isa == LMR_ISA_AVX512 && lmr_quant_dot_avx512(LMR_DTYPE_Q4_K)) return "avx512-vnni";
#endif
#if LMR_HAVE_AVX2
    if (lmr_isa_has_avx2(isa)) return "avx2";
#endif
#if LMR_HAVE_NEON
    if (isa == LMR_ISA_NEON) return lmr_quant_neon_dotprod() ? "neon-dotprod" : "neon";
#endif
    (void)isa;
    return "scalar";
}

/* ---- reference linear layer ---- */

void lmr_matmul_ref_quant(const float *x, int n_tok, int in, const void *W, int wdtype, int out,
                          const float *bias, float *y, int accumulate) {
    const int be = lmr_dtype_block_elems(wdtype);
    const size_t bb = lmr_dtype_block_bytes(wdtype);
    const int64_t row_bytes = lmr_dtype_row_bytes(wdtype, in);
    float wb[LMR_QK_K];
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (int64_t)t * in;
        for (int o = 0; o < out; o++) {
            const char *wr = (const char *)W + (int64_t)o * row_bytes;
            float s = 0.0f;
            for (int b = 0; b < in / be; b++) {
                lmr_dequant_row(wdtype, wr + (size_t)b * bb, wb, be);
                for (int i = 0; i < be; i++) s += xt[b * be + i] * wb[i];
            }
            if (bias) s += bias[o];
            float *yo = &y[(int64_t)t * out + o];
            *yo = accumulate ? *yo + s : s;
        }
    }
}

/* ---- threaded driver ---- */

#define CHUNKS_PER_THREAD 4
#define MAX_CHUNKS 64

typedef struct {
    int8_t j;
    int o0, o1;
} qchunk;

typedef struct {
    lmr_pool *p;
    const float *x;
    int n_tok, in, isa;
    const lmr_linear *ls;
    void *xq[2]; /* quantised activations by LMR_QACT_*: [n_tok] rows */
    size_t xq_row[2];
    int gemm;           /* dequantised tiles through the float GEMM */
    const uint16_t *xb; /* bf16(x) [n_tok, in] for the AVX-512-BF16 GEMM, or NULL (FP32 GEMM) */
    int n_chunks;
    qchunk chunks[MAX_CHUNKS];
} qjob;

#if LMR_HAVE_AVX512
static void to_bf16_task(void *ctx, int ith, int nth) { /* tokens split evenly over the pool */
    qjob *j = ctx;
    int t0 = (int)((int64_t)j->n_tok * ith / nth), t1 = (int)((int64_t)j->n_tok * (ith + 1) / nth);
    if (t1 > t0)
        lmr_x_to_bf16_avx512(j->x + (int64_t)t0 * j->in, t1 - t0, j->in,
                             (uint16_t *)j->xb + (int64_t)t0 * j->in, j->in);
}
#endif

static void quantize_task(void *ctx, int ith, int nth) { /* tokens split evenly over the pool */
    qjob *j = ctx;
    int t0 = (int)((int64_t)j->n_tok * ith / nth), t1 = (int)((int64_t)j->n_tok * (ith + 1) / nth);
    for (int t = t0; t < t1; t++) {
        const float *xt = j->x + (int64_t)t * j->in;
        if (j->xq[LMR_QACT_Q8_0])
            lmr_quantize_row_q8_0(xt, (lmr_block_q8_0 *)((char *)j->xq[LMR_QACT_Q8_0] +
                                                         t * j->xq_row[LMR_QACT_Q8_0]), j->in);
        if (j->xq[LMR_QACT_Q8_K])
            lmr_quantize_row_q8_K(xt, (lmr_block_q8_K *)((char *)j->xq[LMR_QACT_Q8_K] +
                                                         t * j->xq_row[LMR_QACT_Q8_K]), j->in);
    }
}

/* Scalar level: each W block dequantised once and applied to every token (FP32 activations). */
static void rows_dequant(const qjob *j, const lmr_linear *L, int o0, int o1) {
    const int be = lmr_dtype_block_elems(L->wdtype), in = j->in;
    const size_t bb = lmr_dtype_block_bytes(L->wdtype);
    const int64_t row_bytes = lmr_dtype_row_bytes(L->wdtype, in);
    float wb[LMR_QK_K];
    for (int o = o0; o < o1; o++) {
        const char *wr = (const char *)L->W + (int64_t)o * row_bytes;
        for (int b = 0; b < in / be; b++) {
            lmr_dequant_row(L->wdtype, wr + (size_t)b * bb, wb, be);
            for (int t = 0; t < j->n_tok; t++) {
                const float *xt = j->x + (int64_t)t * in + (int64_t)b * be;
                float s = 0.0f;
                for (int i = 0; i < be; i++) s += xt[i] * wb[i];
                L->y[(int64_t)t * L->out + o] += s;
            }
        }
    }
}

/* Prefill: tiles of LMR_QGEMM_ROWS rows dequantised (to BF16 for the AVX-512-BF16 GEMM, else
 * FP32) into the thread's scratch after its GEMM panel, then the level's float GEMM. Returns 0
 * when there is no memory for the tile (the caller then takes the integer path). */
static int rows_gemm(const qjob *j, int ith, const lmr_linear *L, int o0, int o1) {
    const int in = j->in, bf16 = j->xb != NULL;
    const size_t tile = (size_t)LMR_QGEMM_ROWS * in * (bf16 ? 2 : 4);
    char *s = lmr_pool_scratch(j->p, ith, LMR_GEMM_SCRATCH + tile + (bf16 ? (size_t)in * 4 : 0));
    if (!s) return 0;
    void *wt = s + LMR_GEMM_SCRATCH;
    float *row = (float *)(s + LMR_GEMM_SCRATCH + tile); /* BF16: one FP32 row before rounding */
    const int64_t row_bytes = lmr_dtype_row_bytes(L->wdtype, in);
    for (int r0 = o0; r0 < o1; r0 += LMR_QGEMM_ROWS) {
        int nr = o1 - r0 < LMR_QGEMM_ROWS ? o1 - r0 : LMR_QGEMM_ROWS;
        for (int r = 0; r < nr; r++) {
            const void *src = (const char *)L->W + (int64_t)(r0 + r) * row_bytes;
            if (!bf16) {
                lmr_dequant_row(L->wdtype, src, (float *)wt + (size_t)r * in, in);
                continue;
            }
            lmr_dequant_row(L->wdtype, src, row, in);
            uint16_t *dst = (uint16_t *)wt + (size_t)r * in;
            for (int i = 0; i < in; i++) dst[i] = lmr_f32_to_bf16(row[i]);
        }
#if LMR_HAVE_AVX512
        if (bf16) {
            lmr_matmul_rows_bf16_avx512(j->xb, in, j->n_tok, in, wt, 0, nr, L->y + r0, L->out, s);
            continue;
        }
#endif
#if LMR_HAVE_AVX2
        lmr_matmul_rows_avx2(j->x, j->n_tok, in, wt, LMR_DTYPE_F32, 0, nr, L->y + r0, L->out, (float *)s);
#elif LMR_HAVE_NEON
        lmr_matmul_rows_neon(j->x, j->n_tok, in, wt, LMR_DTYPE_F32, 0, nr, L->y + r0, L->out, (float *)s);
#else
        lmr_matmul_rows_scalar(j->x, j->n_tok, in, wt, LMR_DTYPE_F32, 0, nr, L->y + r0, L->out, NULL);
#endif
    }
    return 1;
}

static void quant_task(void *ctx, int ith, int chunk) {
    qjob *j = ctx;
    const qchunk *c = &j->chunks[chunk];
    const lmr_linear *L = &j->ls[c->j];
    int o0 = c->o0, o1 = c->o1;
    for (int t = 0; t < j->n_tok; t++) { /* y starts as bias / previous y / zero */
        float *yt = L->y + (int64_t)t * L->out;
        if (!L->accumulate) {
            if (L->bias) memcpy(yt + o0, L->bias + o0, (size_t)(o1 - o0) * sizeof(float));
            else memset(yt + o0, 0, (size_t)(o1 - o0) * sizeof(float));
        } else if (L->bias) {
            for (int o = o0; o < o1; o++) yt[o] += L->bias[o];
        }
    }
    if (j->gemm && rows_gemm(j, ith, L, o0, o1)) return;
    lmr_qdot_fn dot = j->isa == LMR_ISA_SCALAR ? NULL : lmr_quant_dot(j->isa, L->wdtype);
    if (!dot) {
        rows_dequant(j, L, o0, o1);
        return;
    }
    const int act = lmr_quant_act_dtype(L->wdtype), in = j->in;
    if (act < 0 || !j->xq[act]) {
        rows_dequant(j, L, o0, o1);
        return;
    }
    const char *xq = j->xq[act];
    const size_t xrow = j->xq_row[act];
    const int64_t row_bytes = lmr_dtype_row_bytes(L->wdtype, in);
    const char *W = L->W;
    lmr_qdotn_fn dotn = j->n_tok > 1 ? lmr_quant_dotn(j->isa, L->wdtype) : NULL;
    if (dotn) { /* each row's blocks unpacked once for up to LMR_QDOTN_MAX tokens */
        float r[LMR_QDOTN_MAX];
        for (int o = o0; o < o1; o++)
            for (int t0 = 0; t0 < j->n_tok; t0 += LMR_QDOTN_MAX) {
                int nt = j->n_tok - t0 < LMR_QDOTN_MAX ? j->n_tok - t0 : LMR_QDOTN_MAX;
                dotn(in, W + (int64_t)o * row_bytes, xq + (size_t)t0 * xrow, xrow, nt, r);
                for (int t = 0; t < nt; t++) L->y[(int64_t)(t0 + t) * L->out + o] += r[t];
            }
        return;
    }
    for (int r0 = o0; r0 < o1; r0 += LMR_QTILE) { /* a tile of W rows stays in L1 over all tokens */
        int r1 = r0 + LMR_QTILE < o1 ? r0 + LMR_QTILE : o1;
        for (int t = 0; t < j->n_tok; t++) {
            float *yt = L->y + (int64_t)t * L->out;
            const void *xt = xq + (size_t)t * xrow;
            for (int o = r0; o < r1; o++) yt[o] += dot(in, W + (int64_t)o * row_bytes, xt);
        }
    }
}

static void plan_chunks(qjob *j, int n, int nth) {
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += j->ls[i].out;
    int want = nth == 1 ? n : nth * CHUNKS_PER_THREAD;
    if (want > MAX_CHUNKS - LMR_MATMUL_MAX) want = MAX_CHUNKS - LMR_MATMUL_MAX;
    int64_t size = (total + want - 1) / want;
    size = (size + LMR_QTILE - 1) / LMR_QTILE * LMR_QTILE;
    if (size < LMR_QTILE) size = LMR_QTILE;
    j->n_chunks = 0;
    for (int i = 0; i < n; i++) {
        int out = j->ls[i].out;
        int pieces = (int)((out + size - 1) / size);
        if (pieces < 1) pieces = 1;
        int tiles = (out + LMR_QTILE - 1) / LMR_QTILE;
        for (int c = 0; c < pieces; c++) {
            int b0 = (int)((int64_t)tiles * c / pieces), b1 = (int)((int64_t)tiles * (c + 1) / pieces);
            int o0 = b0 * LMR_QTILE < out ? b0 * LMR_QTILE : out;
            int o1 = c == pieces - 1 ? out : b1 * LMR_QTILE < out ? b1 * LMR_QTILE : out;
            if (o0 < o1) j->chunks[j->n_chunks++] = (qchunk){(int8_t)i, o0, o1};
        }
    }
}

void lmr_matmul_quant_n(lmr_pool *p, const float *x, int n_tok, int in, const lmr_linear *ls,
                        int n) {
    if (n_tok <= 0 || n <= 0) return;
    if (n > LMR_MATMUL_MAX) n = LMR_MATMUL_MAX;
    qjob j = {.p = p, .x = x, .n_tok = n_tok, .in = in, .ls = ls, .isa = lmr_cpu_isa()};
    /* what the activations are needed as: bf16(x) for the AVX-512-BF16 GEMM, Q8_0 / Q8_K blocks
     * for the integer dot kernels, nothing else (FP32 GEMM, scalar level) */
    int need[2] = {0, 0}, want_xb = 0;
    j.gemm = j.isa != LMR_ISA_SCALAR && n_tok >= LMR_QGEMM_MIN_TOK;
#if LMR_HAVE_AVX512
    want_xb = j.gemm && j.isa == LMR_ISA_AVX512 && in % 2 == 0;
#endif
    if (j.isa != LMR_ISA_SCALAR && !j.gemm)
        for (int i = 0; i < n; i++)
            if (lmr_quant_dot(j.isa, ls[i].wdtype)) need[lmr_quant_act_dtype(ls[i].wdtype)] = 1;
    size_t xb_bytes = want_xb ? (((size_t)n_tok * in * sizeof(uint16_t) + 63) & ~(size_t)63) : 0;
    size_t r0 = need[0] ? lmr_quant_act_row_bytes(LMR_DTYPE_Q8_0, in) : 0;
    size_t r1 = need[1] ? lmr_quant_act_row_bytes(LMR_DTYPE_Q4_K, in) : 0;
    size_t off1 = ((size_t)n_tok * r0 + 63) & ~(size_t)63;
    if (xb_bytes || r0 || r1) {
        char *buf = lmr_pool_shared_scratch(p, xb_bytes + off1 + (size_t)n_tok * r1);
        if (!buf) { /* no memory for the activations: the paths that need none */
            j.isa = j.gemm && !want_xb ? j.isa : LMR_ISA_SCALAR;
        } else if (want_xb) {
            j.xb = (const uint16_t *)buf;
#if LMR_HAVE_AVX512
            lmr_pool_run(p, to_bf16_task, &j);
#endif
        } else {
            j.xq[0] = need[0] ? buf : NULL, j.xq_row[0] = r0;
            j.xq[1] = need[1] ? buf + off1 : NULL, j.xq_row[1] = r1;
            lmr_pool_run(p, quantize_task, &j);
        }
    }
    plan_chunks(&j, n, lmr_pool_size(p));
    lmr_pool_run_chunks(p, quant_task, &j, j.n_chunks);
}
