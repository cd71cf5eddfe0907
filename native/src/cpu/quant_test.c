/* quant_test.c: the quantised weight types (Q8_0, Q4_K, Q6_K, ggml's layouts).
 * 1. Layout: block sizes and field offsets of ggml's structs.
 * 2. Dequantisation of hand-built blocks against values written down from the format's
 *    definition (scales with the high bits set, negative Q6_K scales, every nibble position).
 * 3. Round trip of the simple quantisers (error within the format's step) and of the activation
 *    quantisers (error <= half a step); a block with one altered scale fails the same bound
 *    (negative control).
 * 4. The scalar integer dot products equal the double-precision dot of the dequantised weights
 *    and dequantised activations.
 * 5. lmr_cpu_matmul / matmul_n at every kernel level (1-3 threads, odd row counts, several K,
 *    bias / accumulate) on random blocks: the scalar level equals lmr_cpu_matmul_ref (FP32
 *    activations) to 2e-5 of sum |x w|; a level with fast kernels equals the scalar integer dot
 *    of the same quantised activations to 2e-5 of sum |xq w|, and the FP32 reference within the
 *    activation rounding bound (sum |w| * half a step), and its error against FP32 must exceed
 *    2e-5 somewhere (negative control: the comparison sees the rounding). A W with one altered
 *    scale must miss the reference (negative control of the matmul check). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "quant.h"
#include "simd.h"
#include "test_util.h"

static const char *qname(int dt) {
    return dt == LMR_DTYPE_Q8_0 ? "q8_0" : dt == LMR_DTYPE_Q4_K ? "q4_K" : "q6_K";
}

static const int g_types[] = {LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};

static void check_layout(void) {
    CHECK(sizeof(lmr_block_q8_0) == 34 && offsetof(lmr_block_q8_0, qs) == 2,
          "block_q8_0: 34 bytes, qs at 2");
    CHECK(sizeof(lmr_block_q4_K) == 144 && offsetof(lmr_block_q4_K, dmin) == 2 &&
              offsetof(lmr_block_q4_K, scales) == 4 && offsetof(lmr_block_q4_K, qs) == 16,
          "block_q4_K: 144 bytes, dmin at 2, scales at 4, qs at 16");
    CHECK(sizeof(lmr_block_q6_K) == 210 && offsetof(lmr_block_q6_K, qh) == 128 &&
              offsetof(lmr_block_q6_K, scales) == 192 && offsetof(lmr_block_q6_K, d) == 208,
          "block_q6_K: 210 bytes, qh at 128, scales at 192, d at 208");
    CHECK(sizeof(lmr_block_q8_K) == 292 && offsetof(lmr_block_q8_K, bsums) == 260,
          "block_q8_K: 292 bytes, bsums at 260");
    CHECK(lmr_dtype_row_bytes(LMR_DTYPE_Q4_K, 1536) == 6 * 144 &&
              lmr_dtype_row_bytes(LMR_DTYPE_Q6_K, 8960) == 35 * 210 &&
              lmr_dtype_row_bytes(LMR_DTYPE_Q8_0, 1536) == 48 * 34 &&
              lmr_dtype_row_bytes(LMR_DTYPE_Q4_K, 100) == -1 &&
              lmr_dtype_row_bytes(LMR_DTYPE_BF16, 3) == 6 && lmr_dtype_row_bytes(99, 32) == -1,
          "row bytes: whole blocks only, unknown dtypes -1");
}

/* Hand-built blocks, expected values straight from the format's definition. */
static void check_hand_blocks(void) {
    /* Q8_0: d = 0.5 (F16 0x3800), q = i - 16 (and -128) -> 0.5 * q */
    lmr_block_q8_0 b8;
    b8.d = 0x3800;
    for (int i = 0; i < 32; i++) b8.qs[i] = (int8_t)(i - 16);
    b8.qs[31] = -128;
    float y[256];
    lmr_dequant_row_q8_0(&b8, y, 32);
    int ok = 1;
    for (int i = 0; i < 32; i++) ok &= y[i] == 0.5f * (i == 31 ? -128 : i - 16);
    CHECK(ok, "q8_0 hand block: d 0.5, q -16..14 and -128");

    /* Q4_K: d = 1 (0x3C00), dmin = 0.5 (0x3800); sub-block j: sc = 10 + 7j (38..59 for j >= 4:
     * the high bits are used), m = 60 - 8j; weight e: q = (7e + 3) % 16 -> w = sc * q - 0.5 m */
    lmr_block_q4_K b4;
    memset(&b4, 0, sizeof b4);
    b4.d = 0x3C00, b4.dmin = 0x3800;
    int sc[8], mn[8];
    for (int j = 0; j < 8; j++) {
        sc[j] = 10 + 7 * j, mn[j] = 60 - 8 * j;
        if (j < 4) { /* low 6 bits of bytes j (scale) and j + 4 (min) */
            b4.scales[j] |= (uint8_t)sc[j];
            b4.scales[j + 4] |= (uint8_t)mn[j];
        } else { /* low 4 bits in byte j + 4, high 2 bits in the top of bytes j - 4 / j */
            b4.scales[j + 4] = (uint8_t)((sc[j] & 15) | ((mn[j] & 15) << 4));
            b4.scales[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
            b4.scales[j] |= (uint8_t)((mn[j] >> 4) << 6);
        }
    }
    for (int e = 0; e < 256; e++) {
        int q = (7 * e + 3) % 16, byte = (e / 64) * 32 + e % 32;
        b4.qs[byte] |= (uint8_t)(e % 64 < 32 ? q : q << 4);
    }
    lmr_dequant_row_q4_K(&b4, y, 256);
    ok = 1;
    for (int e = 0; e < 256; e++) ok &= y[e] == sc[e / 32] * (float)((7 * e + 3) % 16) - 0.5f * mn[e / 32];
    uint8_t s7, m7;
    lmr_q4_K_scale_min(7, b4.scales, &s7, &m7);
    CHECK(ok && s7 == 59 && m7 == 4, "q4_K hand block: 8 scale/min pairs (high bits), 256 nibbles");

    /* Q6_K: d = 0.25 (0x3400), scales j - 8 (negative too), q = (5e + 3) % 64 */
    lmr_block_q6_K b6;
    memset(&b6, 0, sizeof b6);
    b6.d = 0x3400;
    for (int j = 0; j < 16; j++) b6.scales[j] = (int8_t)(j - 8);
    for (int e = 0; e < 256; e++) {
        int q = (5 * e + 3) % 64, h = e / 128, r = e % 128, l = r % 32, part = r / 32;
        /* part 0: ql[l] low, qh bits 0-1; 1: ql[l+32] low, bits 2-3; 2: ql[l] high, bits 4-5;
         * 3: ql[l+32] high, bits 6-7 */
        uint8_t *ql = b6.ql + 64 * h + l + (part & 1) * 32;
        *ql |= (uint8_t)(part < 2 ? q & 15 : (q & 15) << 4);
        b6.qh[32 * h + l] |= (uint8_t)((q >> 4) << (2 * part));
    }
    lmr_dequant_row_q6_K(&b6, y, 256);
    ok = 1;
    for (int e = 0; e < 256; e++) ok &= y[e] == 0.25f * (e / 16 - 8) * (float)((5 * e + 3) % 64 - 32);
    CHECK(ok, "q6_K hand block: 16 signed scales, 256 6-bit values");

    /* lmr_cpu_row_to_f32 dequantises (an embedding row of two Q6_K blocks) */
    lmr_block_q6_K two[2] = {b6, b6};
    two[1].d = 0x3800; /* 0.5 */
    float z[512];
    lmr_cpu_row_to_f32(two, LMR_DTYPE_Q6_K, z, 512);
    ok = 1;
    for (int e = 0; e < 256; e++) ok &= z[e] == y[e] && z[256 + e] == 2 * y[e];
    CHECK(ok, "lmr_cpu_row_to_f32 of a q6_K row: the dequantised values");
}

static double rms_rel_err(const float *a, const float *b, int n) {
    double e = 0, s = 0;
    for (int i = 0; i < n; i++) e += (a[i] - b[i]) * (double)(a[i] - b[i]), s += (double)a[i] * a[i];
    return sqrt(e / (s + 1e-300));
}

static void check_round_trip(void) {
    enum { N = 2048 };
    float *x = malloc(sizeof(float) * N), *y = malloc(sizeof(float) * N);
    void *q = malloc((size_t)lmr_dtype_row_bytes(LMR_DTYPE_Q8_0, N));
    for (int i = 0; i < N; i++) x[i] = rng_uniform(-1, 1) * (i % 97 == 0 ? 4.0f : 1.0f);
    /* per-element bounds: Q8_0 0.6 step (half a step + the F16 rounding of d); Q4_K: half a
     * step of d * sc plus half a step of dmin * m plus the 6-bit rounding of sc (a 1/63 step
     * of the range); Q6_K alike */
    static const double bound[] = {0.01, 0.12, 0.04};
    for (int k = 0; k < 3; k++) {
        int dt = g_types[k];
        lmr_quantize_row(dt, x, q, N);
        lmr_dequant_row(dt, q, y, N);
        double e = rms_rel_err(x, y, N);
        /* negative control: the same row with one block's scale altered */
        uint16_t *d = dt == LMR_DTYPE_Q6_K ? &((lmr_block_q6_K *)q)[3].d : (uint16_t *)q + (dt == LMR_DTYPE_Q8_0 ? 17 * 3 : 72 * 3);
        *d = lmr_f32_to_f16(lmr_f16_to_f32(*d) * 1.5f);
        lmr_dequant_row(dt, q, y, N);
        double ebad = rms_rel_err(x, y, N);
        CHECK(e > 0 && e <= bound[k] && ebad > bound[k],
              "%s round trip of %d values: rms rel err %.3g (<= %.2g); one scale x1.5: %.3g (> it)",
              qname(dt), N, e, bound[k], ebad);
    }
    /* activation quantisers: every element within 0.6 of a step of its block */
    lmr_block_q8_K *a = malloc(sizeof(lmr_block_q8_K) * (N / 256));
    lmr_block_q8_0 *a0 = malloc(sizeof(lmr_block_q8_0) * (N / 32));
    lmr_quantize_row_q8_K(x, a, N);
    lmr_quantize_row_q8_0(x, a0, N);
    int ok = 1, bs = 1;
    for (int i = 0; i < N; i++) {
        float amax = 0, amax0 = 0;
        for (int j = i / 256 * 256; j < i / 256 * 256 + 256; j++) amax = fmaxf(amax, fabsf(x[j]));
        for (int j = i / 32 * 32; j < i / 32 * 32 + 32; j++) amax0 = fmaxf(amax0, fabsf(x[j]));
        ok &= fabsf(x[i] - a[i / 256].d * a[i / 256].qs[i % 256]) <= 0.5f * amax / 127 * 1.0001f;
        ok &= fabsf(x[i] - lmr_f16_to_f32(a0[i / 32].d) * a0[i / 32].qs[i % 32]) <= 0.6f * amax0 / 127;
    }
    for (int b = 0; b < N / 256; b++)
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += a[b].qs[16 * j + l];
            bs &= s == a[b].bsums[j];
        }
    CHECK(ok && bs, "activation quantisers q8_K / q8_0: each value within half a step, bsums right");
    free(x), free(y), free(q), free(a), free(a0);
}

/* A random row of n weights of dtype: random bytes, scales set to finite small values. */
static void random_row(int dt, void *row, int n) {
    int64_t bytes = lmr_dtype_row_bytes(dt, n);
    for (int64_t i = 0; i < bytes; i++) ((uint8_t *)row)[i] = (uint8_t)rng_u64();
    if (dt == LMR_DTYPE_Q8_0)
        for (int b = 0; b < n / 32; b++) ((lmr_block_q8_0 *)row)[b].d = lmr_f32_to_f16(rng_uniform(0.001f, 0.01f));
    else if (dt == LMR_DTYPE_Q4_K)
        for (int b = 0; b < n / 256; b++) {
            ((lmr_block_q4_K *)row)[b].d = lmr_f32_to_f16(rng_uniform(0.0001f, 0.002f));
            ((lmr_block_q4_K *)row)[b].dmin = lmr_f32_to_f16(rng_uniform(0.0f, 0.002f));
        }
    else
        for (int b = 0; b < n / 256; b++) ((lmr_block_q6_K *)row)[b].d = lmr_f32_to_f16(rng_uniform(0.0001f, 0.001f));
}

/* The activation quantised for dt, as the fast kernels see it; dequantised into xd. */
static void *quant_act(int dt, const float *x, int n_tok, int in, float *xd) {
    size_t rb = lmr_quant_act_row_bytes(dt, in);
    char *q = malloc(rb * n_tok);
    for (int t = 0; t < n_tok; t++) {
        if (lmr_quant_act_dtype(dt) == LMR_QACT_Q8_0) {
            lmr_block_q8_0 *b = (lmr_block_q8_0 *)(q + rb * t);
            lmr_quantize_row_q8_0(x + (int64_t)t * in, b, in);
            for (int i = 0; i < in; i++) xd[(int64_t)t * in + i] = lmr_f16_to_f32(b[i / 32].d) * b[i / 32].qs[i % 32];
        } else {
            lmr_block_q8_K *b = (lmr_block_q8_K *)(q + rb * t);
            lmr_quantize_row_q8_K(x + (int64_t)t * in, b, in);
            for (int i = 0; i < in; i++) xd[(int64_t)t * in + i] = b[i / 256].d * b[i / 256].qs[i % 256];
        }
    }
    return q;
}

static void check_dot_ref(void) {
    for (int k = 0; k < 3; k++) {
        int dt = g_types[k], in = 1536, ok = 1;
        double worst = 0;
        void *w = malloc((size_t)lmr_dtype_row_bytes(dt, in));
        float *x = malloc(sizeof(float) * in), *xd = malloc(sizeof(float) * in), *wd = malloc(sizeof(float) * in);
        for (int rep = 0; rep < 20; rep++) {
            random_row(dt, w, in);
            for (int i = 0; i < in; i++) x[i] = rng_uniform(-1, 1);
            void *xq = quant_act(dt, x, 1, in, xd);
            lmr_dequant_row(dt, w, wd, in);
            double s = 0, mag = 0;
            for (int i = 0; i < in; i++) s += (double)wd[i] * xd[i], mag += fabs((double)wd[i] * xd[i]);
            double err = fabs(lmr_quant_vec_dot_ref(dt, in, w, xq) - s) / mag;
            ok &= err <= 1e-5;
            if (err > worst) worst = err;
            free(xq);
        }
        CHECK(ok, "%s scalar integer dot = dot of dequantised w and activations: worst rel err %.2g",
              qname(dt), worst);
        free(w), free(x), free(xd), free(wd);
    }
}

typedef struct {
    double worst_bf16;  /* the BF16 GEMM vs the FP32 reference, relative to sum |x w| */
    double worst_fast;  /* vs the quantised-activation reference */
    double worst_fp32;  /* vs the FP32 reference, relative to sum |x w| */
    double worst_bound; /* error against FP32 / the rounding bound */
} errs;

/* One configuration at the current level; returns 1 if within tolerance. corrupt: alter one
 * scale of W after computing the references (the check must then fail). */
static int run_case(lmr_pool *p, int dt, int n_tok, int in, int out, int use_bias, int acc,
                    int corrupt, errs *e) {
    int gemm = lmr_cpu_isa() != 0 && n_tok >= LMR_QGEMM_MIN_TOK;
    int bf16 = gemm && (lmr_cpu_simd_used() & LMR_SIMD_AVX512BF16) && in % 2 == 0;
    int fast = !gemm && lmr_quant_dot(lmr_cpu_isa(), dt) != NULL;
    int64_t rb = lmr_dtype_row_bytes(dt, in);
    char *W = malloc((size_t)(rb * out));
    float *x = malloc(sizeof(float) * n_tok * in), *xd = malloc(sizeof(float) * n_tok * in);
    float *wd = malloc(sizeof(float) * in), *bias = malloc(sizeof(float) * out);
    float *y0 = malloc(sizeof(float) * n_tok * out), *y = malloc(sizeof(float) * n_tok * out);
    float *yr = malloc(sizeof(float) * n_tok * out);
    for (int o = 0; o < out; o++) random_row(dt, W + rb * o, in);
    for (int i = 0; i < n_tok * in; i++) x[i] = rng_uniform(-1, 1);
    for (int i = 0; i < out; i++) bias[i] = rng_uniform(-1, 1);
    for (int i = 0; i < n_tok * out; i++) y0[i] = rng_uniform(-1, 1);
    void *xq = quant_act(dt, x, n_tok, in, xd);
    const float *b = use_bias ? bias : NULL;
    memcpy(yr, y0, sizeof(float) * n_tok * out);
    lmr_cpu_matmul_ref(x, n_tok, in, W, dt, out, b, yr, acc);
    double *mag = calloc((size_t)n_tok * out, sizeof(double)), *magq = calloc((size_t)n_tok * out, sizeof(double));
    double *bnd = calloc((size_t)n_tok * out, sizeof(double)), *yq = calloc((size_t)n_tok * out, sizeof(double));
    size_t xrb = lmr_quant_act_row_bytes(dt, in);
    for (int o = 0; o < out; o++) {
        lmr_dequant_row(dt, W + rb * o, wd, in);
        for (int t = 0; t < n_tok; t++) {
            double m = (b ? fabs(b[o]) : 0) + (acc ? fabs(y0[t * out + o]) : 0), mq = m, bd = 0;
            for (int i = 0; i < in; i++) {
                m += fabs((double)x[t * in + i] * wd[i]);
                mq += fabs((double)xd[t * in + i] * wd[i]);
                bd += fabs((double)wd[i] * (x[t * in + i] - xd[t * in + i]));
            }
            mag[t * out + o] = m, magq[t * out + o] = mq, bnd[t * out + o] = bd;
            yq[t * out + o] = (b ? b[o] : 0) + (acc ? y0[t * out + o] : 0) +
                              lmr_quant_vec_dot_ref(dt, in, W + rb * o, (char *)xq + xrb * t);
        }
    }
    if (corrupt) { /* the first F16 scale of the middle row, x 1.5 */
        uint16_t *d = dt == LMR_DTYPE_Q6_K ? &((lmr_block_q6_K *)(W + rb * (out / 2)))->d : (uint16_t *)(W + rb * (out / 2));
        *d = lmr_f32_to_f16(lmr_f16_to_f32(*d) * 1.5f);
    }
    memcpy(y, y0, sizeof(float) * n_tok * out);
    lmr_cpu_matmul(p, x, n_tok, in, W, dt, out, b, y, acc);
    int ok = 1;
    for (int i = 0; i < n_tok * out; i++) {
        double e32 = fabs((double)y[i] - yr[i]) / (mag[i] + 1e-30);
        if (bf16) { /* x and W rounded to BF16: 2^-9 each, relative */
            if (!(e32 <= 0x1p-8 + 2e-5)) ok = 0;
            if (e32 > e->worst_bf16 || e32 != e32) e->worst_bf16 = e32;
        } else if (!fast) {
            if (!(e32 <= 2e-5)) ok = 0;
        } else {
            double ef = fabs((double)y[i] - yq[i]) / (magq[i] + 1e-30);
            double eb = fabs((double)y[i] - yr[i]) / (bnd[i] * 1.001 + 2e-5 * mag[i] + 1e-30);
            if (!(ef <= 2e-5) || !(eb <= 1)) ok = 0;
            if (ef > e->worst_fast || ef != ef) e->worst_fast = ef;
            if (eb > e->worst_bound || eb != eb) e->worst_bound = eb;
        }
        if (e32 > e->worst_fp32 || e32 != e32) e->worst_fp32 = e32;
    }
    free(W), free(x), free(xd), free(wd), free(bias), free(y0), free(y), free(yr), free(xq);
    free(mag), free(magq), free(bnd), free(yq);
    return ok;
}

/* matmul_n of several quantised linears (mixed types) and one BF16 one equals separate calls. */
static int run_multi(lmr_pool *p, int n_tok, int in) {
    const int dts[] = {LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K, LMR_DTYPE_BF16, LMR_DTYPE_Q8_0};
    const int outs[] = {40, 17, 33, 9};
    lmr_linear ls[4];
    float *sep[4], *x = malloc(sizeof(float) * n_tok * in);
    for (int i = 0; i < n_tok * in; i++) x[i] = rng_uniform(-1, 1);
    for (int j = 0; j < 4; j++) {
        int dt = dts[j], out = outs[j];
        size_t rb = dt == LMR_DTYPE_BF16 ? (size_t)in * 2 : (size_t)lmr_dtype_row_bytes(dt, in);
        char *W = malloc(rb * out);
        for (int o = 0; o < out; o++) {
            if (dt == LMR_DTYPE_BF16)
                for (int i = 0; i < in; i++) ((uint16_t *)(W + rb * o))[i] = lmr_f32_to_bf16(rng_uniform(-0.1f, 0.1f));
            else random_row(dt, W + rb * o, in);
        }
        float *bias = j & 1 ? malloc(sizeof(float) * out) : NULL;
        for (int i = 0; bias && i < out; i++) bias[i] = rng_uniform(-1, 1);
        float *y = malloc(sizeof(float) * n_tok * out);
        sep[j] = malloc(sizeof(float) * n_tok * out);
        for (int i = 0; i < n_tok * out; i++) y[i] = sep[j][i] = rng_uniform(-1, 1);
        ls[j] = (lmr_linear){W, dt, out, bias, y, j == 2};
        lmr_cpu_matmul(p, x, n_tok, in, W, dt, out, bias, sep[j], j == 2);
    }
    lmr_cpu_matmul_n(p, x, n_tok, in, ls, 4);
    int ok = 1;
    for (int j = 0; j < 4; j++) {
        for (int i = 0; i < n_tok * ls[j].out; i++) ok &= ls[j].y[i] == sep[j][i];
        free((void *)ls[j].W), free((void *)ls[j].bias), free(ls[j].y), free(sep[j]);
    }
    free(x);
    return ok;
}

static void check_level(lmr_pool *pools[3]) {
    const char *lv = lmr_cpu_simd_name();
    const int toks[] = {1, 2, 5, 17, LMR_QGEMM_MIN_TOK + 1};
    const int outs[] = {1, 7, 9, 33, 100};
    const int scalar = lmr_cpu_isa() == 0;
    const int bf16 = !scalar && (lmr_cpu_simd_used() & LMR_SIMD_AVX512BF16);
    for (int k = 0; k < 3; k++) {
        int dt = g_types[k], has_dot = !scalar && lmr_quant_dot(lmr_cpu_isa(), dt) != NULL;
        const int ins_k[] = {256, 512, 1536, 2304};
        const int ins_0[] = {32, 96, 288, 1536};
        const int *ins = dt == LMR_DTYPE_Q8_0 ? ins_0 : ins_k;
        errs e = {0, 0, 0, 0};
        for (int ti = 0; ti < 5; ti++) {
            int ok = 1, n = 0, gemm = !scalar && toks[ti] >= LMR_QGEMM_MIN_TOK;
            errs e1 = {0, 0, 0, 0};
            for (int ii = 0; ii < 4; ii++)
                for (int oi = 0; oi < 5; oi++, n++)
                    ok &= run_case(pools[(ii + oi + ti) % 3], dt, toks[ti], ins[ii], outs[oi],
                                   (ii + oi) & 1, (ii + oi + ti) % 3 == 0, 0, &e1);
            if (gemm && bf16)
                CHECK(ok, "%s %s n_tok %d: %d shapes (dequantised tiles, BF16 GEMM): vs FP32 "
                      "worst rel err %.2g (<= 2^-8 + 2e-5)", lv, qname(dt), toks[ti], n, e1.worst_bf16);
            else if (has_dot && !gemm)
                CHECK(ok, "%s %s n_tok %d: %d shapes: vs integer reference worst %.2g (<= 2e-5), "
                      "vs FP32 worst %.2g of the rounding bound (<= 1)", lv, qname(dt),
                      toks[ti], n, e1.worst_fast, e1.worst_bound);
            else
                CHECK(ok, "%s %s n_tok %d: %d shapes (%s): vs FP32 reference worst rel err %.2g "
                      "(<= 2e-5)", lv, qname(dt), toks[ti], n,
                      gemm ? "dequantised tiles, FP32 GEMM" : "dequantise-then-dot", e1.worst_fp32);
            if (!gemm && e1.worst_fp32 > e.worst_fp32) e.worst_fp32 = e1.worst_fp32;
            if (e1.worst_bf16 > e.worst_bf16) e.worst_bf16 = e1.worst_bf16;
        }
        if (has_dot) /* negative control: the activation rounding is visible against FP32 */
            CHECK(e.worst_fp32 > 2e-5, "%s %s: integer kernels vs FP32 reference worst rel err %.2g "
                  "(> 2e-5: the 8-bit activations are seen)", lv, qname(dt), e.worst_fp32);
        /* a prefill-sized case over the tile and chunk boundaries */
        errs eb = {0, 0, 0, 0};
        int ok = run_case(pools[1], dt, 70, dt == LMR_DTYPE_Q8_0 ? 1024 : 1280, 131, 1, 0, 0, &eb);
        if (bf16) e.worst_bf16 = eb.worst_bf16 > e.worst_bf16 ? eb.worst_bf16 : e.worst_bf16;
        CHECK(ok, "%s %s n_tok 70 in %d out 131: vs FP32 worst rel err %.2g", lv, qname(dt),
              dt == LMR_DTYPE_Q8_0 ? 1024 : 1280, bf16 ? eb.worst_bf16 : eb.worst_fp32);
        if (bf16) /* negative control: the BF16 rounding is visible against FP32 */
            CHECK(e.worst_bf16 > 2e-5, "%s %s: BF16 GEMM vs FP32 worst rel err %.2g (> 2e-5: the "
                  "rounding is seen)", lv, qname(dt), e.worst_bf16);
        for (int c = 0; c < 2; c++) {
            errs ec = {0, 0, 0, 0};
            int nt = c ? LMR_QGEMM_MIN_TOK + 3 : 3;
            int bad = !run_case(pools[2], dt, nt, 512, 21, 0, 0, 1, &ec);
            CHECK(bad, "%s %s n_tok %d: a W with one scale x1.5 misses the reference (negative "
                  "control)", lv, qname(dt), nt);
        }
    }
#if LMR_HAVE_AVX512
    if (lmr_cpu_isa() == LMR_ISA_AVX512 && __builtin_cpu_supports("avx512vnni"))
        CHECK(lmr_quant_dot(LMR_ISA_AVX512, LMR_DTYPE_Q4_K) != lmr_quant_dot(LMR_ISA_AVX2, LMR_DTYPE_Q4_K) &&
                  lmr_quant_dot(LMR_ISA_AVX512, LMR_DTYPE_Q8_0) != lmr_quant_dot(LMR_ISA_AVX2, LMR_DTYPE_Q8_0) &&
                  lmr_quant_dot(LMR_ISA_AVX512, LMR_DTYPE_Q6_K) != lmr_quant_dot(LMR_ISA_AVX2, LMR_DTYPE_Q6_K),
              "%s: the CPU has AVX-512-VNNI: the checks above ran the VNNI kernels", lv);
#endif
    /* the multi-token dots (batched decode) equal the single-token dot bit for bit, per token */
    for (int k = 0; k < 3; k++) {
        int dt = g_types[k];
        lmr_qdotn_fn dn = lmr_quant_dotn(lmr_cpu_isa(), dt);
        lmr_qdot_fn d1 = lmr_quant_dot(lmr_cpu_isa(), dt);
        if (!dn || !d1) continue;
        int ok = 1, cases = 0;
        const int ins[] = {256, 768, 2304};
        for (int ii = 0; ii < 3; ii++) {
            int in = ins[ii];
            char *w = malloc((size_t)lmr_dtype_row_bytes(dt, in));
            float *x = malloc(sizeof(float) * LMR_QDOTN_MAX * in);
            float *xd = malloc(sizeof(float) * LMR_QDOTN_MAX * in);
            for (int rep = 0; rep < 8; rep++) {
                random_row(dt, w, in);
                for (int i = 0; i < LMR_QDOTN_MAX * in; i++) x[i] = rng_uniform(-1, 1);
                char *xq = quant_act(dt, x, LMR_QDOTN_MAX, in, xd);
                size_t xr = lmr_quant_act_row_bytes(dt, in);
                for (int T = 1; T <= LMR_QDOTN_MAX; T++) {
                    float out[LMR_QDOTN_MAX];
                    dn(in, w, xq, xr, T, out);
                    for (int t = 0; t < T; t++) {
                        float one = d1(in, w, xq + xr * t);
                        ok &= memcmp(&one, &out[t], sizeof one) == 0;
                        cases++;
                    }
                }
                free(xq);
            }
            free(w), free(x), free(xd);
        }
        CHECK(ok, "%s %s: %d multi-token dots (1-%d tokens) equal the single-token dot bit for bit",
              lv, qname(dt), cases, LMR_QDOTN_MAX);
    }
    CHECK(run_multi(pools[2], 1, 512) && run_multi(pools[1], 9, 768) &&
              run_multi(pools[0], LMR_QGEMM_MIN_TOK + 2, 512),
          "%s matmul_n of q4_K, q6_K, bf16, q8_0 linears = separate calls", lv);
}

int main(void) {
    check_layout();
    check_hand_blocks();
    check_round_trip();
    check_dot_ref();
    lmr_pool *pools[3] = {lmr_pool_create(1), lmr_pool_create(2), lmr_pool_create(3)};
    int max = lmr_cpu_level_max();
#if defined(__x86_64__) || defined(__i386__)
    const int levels[] = {0, 1, 2}; /* scalar, avx2, avx512 */
#else
    const int levels[] = {0, 3}; /* scalar, neon */
#endif
    for (int li = 0; li < (int)(sizeof levels / sizeof *levels); li++) {
        int lvl = levels[li];
        if (lvl != 0 && (lvl > max || (max == 3) != (lvl == 3))) {
            printf("skip: %s level: this CPU (or build) lacks it\n", lmr_cpu_level_name(lvl));
            continue;
        }
        lmr_cpu_force_level(lvl);
        printf("level %s: quantised dot kernels %s\n", lmr_cpu_simd_name(),
               lmr_quant_kernels_name(lmr_cpu_isa()));
        check_level(pools);
    }
    lmr_cpu_force_level(-1);
    for (int i = 0; i < 3; i++) lmr_pool_destroy(pools[i]);
    return test_summary();
}
