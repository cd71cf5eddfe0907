/* matmul_test.c: lmr_cpu_matmul (dispatched and forced-scalar, 1-3 threads) against
 * lmr_cpu_matmul_ref on random inputs of awkward sizes, all weight dtypes, bias and accumulate
 * on and off. Tolerance: |y - ref| <= 2e-5 * (sum_i |x_i W_oi| + |bias_o| + |y0|): FP32 sums
 * taken in another order differ by a few ulps of that magnitude, never more. */
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "test_util.h"

static float w_at(const void *W, int dt, int64_t i) {
    if (dt == LMR_DTYPE_F32) return ((const float *)W)[i];
    uint16_t h = ((const uint16_t *)W)[i];
    return dt == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h) : lmr_f16_to_f32(h);
}

static const char *dt_name(int dt) {
    return dt == LMR_DTYPE_F32 ? "f32" : dt == LMR_DTYPE_F16 ? "f16" : "bf16";
}

/* One configuration; returns 1 if within tolerance. */
static int run_case(lmr_pool *p, int n_tok, int in, int out, int dt, int use_bias, int acc,
                    double *worst) {
    size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2;
    float *x = malloc(sizeof(float) * n_tok * in), *bias = malloc(sizeof(float) * out);
    float *y0 = malloc(sizeof(float) * n_tok * out), *y = malloc(sizeof(float) * n_tok * out);
    float *yr = malloc(sizeof(float) * n_tok * out);
    void *W = malloc(esz * out * in);
    for (int i = 0; i < n_tok * in; i++) x[i] = rng_uniform(-1, 1);
    for (int i = 0; i < out; i++) bias[i] = rng_uniform(-1, 1);
    for (int i = 0; i < n_tok * out; i++) y0[i] = rng_uniform(-1, 1);
    for (int64_t i = 0; i < (int64_t)out * in; i++) {
        float v = rng_uniform(-0.1f, 0.1f);
        if (dt == LMR_DTYPE_F32) ((float *)W)[i] = v;
        else if (dt == LMR_DTYPE_F16) ((uint16_t *)W)[i] = lmr_f32_to_f16(v);
        else ((uint16_t *)W)[i] = lmr_f32_to_bf16(v);
    }
    memcpy(y, y0, sizeof(float) * n_tok * out);
    memcpy(yr, y0, sizeof(float) * n_tok * out);
    const float *b = use_bias ? bias : NULL;
    lmr_cpu_matmul(p, x, n_tok, in, W, dt, out, b, y, acc);
    lmr_cpu_matmul_ref(x, n_tok, in, W, dt, out, b, yr, acc);
    int ok = 1;
    for (int t = 0; t < n_tok; t++)
        for (int o = 0; o < out; o++) {
            double mag = (b ? fabs(b[o]) : 0) + (acc ? fabs(y0[t * out + o]) : 0);
            for (int i = 0; i < in; i++) mag += fabs(x[t * in + i] * w_at(W, dt, (int64_t)o * in + i));
            double err = fabs((double)y[t * out + o] - yr[t * out + o]) / (mag + 1e-30);
            if (!(err <= 2e-5)) ok = 0; /* NaN fails too */
            if (err > *worst || err != err) *worst = err;
        }
    free(x), free(bias), free(y0), free(y), free(yr), free(W);
    return ok;
}

/* lmr_cpu_matmul_n over n linears (mixed dtypes, out sizes, bias, accumulate) equals n
 * separate reference calls. */
static int run_multi(lmr_pool *p, int n_tok, int in, int n, double *worst) {
    static const int outs[] = {300, 17, 33, 1000};
    static const int dts[] = {LMR_DTYPE_BF16, LMR_DTYPE_F16, LMR_DTYPE_F32, LMR_DTYPE_BF16};
    lmr_linear ls[LMR_MATMUL_MAX];
    float *ref[LMR_MATMUL_MAX], *x = malloc(sizeof(float) * n_tok * in);
    for (int i = 0; i < n_tok * in; i++) x[i] = rng_uniform(-1, 1);
    for (int j = 0; j < n; j++) {
        int out = outs[j], dt = dts[j];
        size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2;
        void *W = malloc(esz * out * in);
        /* odd linears have a bias, even ones none (allocated only when used: freed via ls[j]) */
        float *bias = j & 1 ? malloc(sizeof(float) * out) : NULL;
        float *y = malloc(sizeof(float) * n_tok * out);
        ref[j] = malloc(sizeof(float) * n_tok * out);
        for (int64_t i = 0; i < (int64_t)out * in; i++) {
            float v = rng_uniform(-0.1f, 0.1f);
            if (dt == LMR_DTYPE_F32) ((float *)W)[i] = v;
            else if (dt == LMR_DTYPE_F16) ((uint16_t *)W)[i] = lmr_f32_to_f16(v);
            else ((uint16_t *)W)[i] = lmr_f32_to_bf16(v);
        }
        for (int i = 0; bias && i < out; i++) bias[i] = rng_uniform(-1, 1);
        for (int i = 0; i < n_tok * out; i++) y[i] = ref[j][i] = rng_uniform(-1, 1);
        ls[j] = (lmr_linear){W, dt, out, bias, y, j == 2};
        lmr_cpu_matmul_ref(x, n_tok, in, W, dt, out, ls[j].bias, ref[j], ls[j].accumulate);
    }
    lmr_cpu_matmul_n(p, x, n_tok, in, ls, n);
    int ok = 1;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < n_tok * ls[j].out; i++) {
            double err = fabs((double)ls[j].y[i] - ref[j][i]) / (fabs(ref[j][i]) + 0.05 * in);
            if (!(err <= 2e-5)) ok = 0;
            if (err > *worst || err != err) *worst = err;
        }
        free((void *)ls[j].W), free((void *)ls[j].bias), free(ls[j].y), free(ref[j]);
    }
    free(x);
    return ok;
}

int main(void) {
    const int toks[] = {1, 2, 3, 7, 64, 130};
    const int ins[] = {1, 7, 17, 64, 333, 1000};
    const int outs[] = {1, 5, 16, 33, 100};
    const int dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    lmr_pool *pools[3] = {lmr_pool_create(1), lmr_pool_create(2), lmr_pool_create(3)};
    for (int scalar = 0; scalar <= 1; scalar++) {
        lmr_cpu_force_scalar(scalar);
        for (int d = 0; d < 3; d++)
            for (int ti = 0; ti < 6; ti++) {
                int ok = 1, n = 0;
                double worst = 0;
                for (int ii = 0; ii < 6; ii++)
                    for (int oi = 0; oi < 5; oi++) {
                        int bias = (ii + oi) & 1, acc = (ii + oi + ti) % 3 == 0;
                        lmr_pool *p = pools[(ii + oi + ti) % 3];
                        ok &= run_case(p, toks[ti], ins[ii], outs[oi], dts[d], bias, acc, &worst);
                        n++;
                    }
                CHECK(ok, "%s %s n_tok %d: %d shapes (in 1..1000, out 1..100), worst rel err %.2g",
                      scalar ? "scalar" : lmr_cpu_simd_name(), dt_name(dts[d]), toks[ti], n, worst);
            }
    }
    lmr_cpu_force_scalar(0);
    /* shapes that cross the GEMM cache blocks (K > 256, rows > 128 per thread) */
    const int big[][3] = {{1, 1536, 300}, {5, 1536, 300}, {130, 600, 290}, {64, 2100, 140}};
    for (int i = 0; i < 4; i++)
        for (int d = 0; d < 3; d++) {
            double worst = 0;
            int ok = run_case(pools[1], big[i][0], big[i][1], big[i][2], dts[d], 1, i & 1, &worst);
            CHECK(ok, "%s %s n_tok %d in %d out %d: worst rel err %.2g", lmr_cpu_simd_name(),
                  dt_name(dts[d]), big[i][0], big[i][1], big[i][2], worst);
        }
    /* token counts around the GEMV/GEMM switch (16 on AVX2, 8 on NEON) and whose last GEMM tiles
     * are re-cut (7 = 4 + 3, 8 = 4 + 4, 9 = 5 + 4: 19, 20, 21 on AVX2) */
    const int tails[] = {8, 9, 13, 14, 15, 16, 17, 19, 20, 21};
    for (int i = 0; i < (int)(sizeof tails / sizeof *tails); i++) {
        double worst = 0;
        int ok = run_case(pools[i % 3], tails[i], 300, 70, LMR_DTYPE_BF16, 1, i & 1, &worst);
        CHECK(ok, "%s bf16 n_tok %d in 300 out 70 (GEMM tail tiles): worst rel err %.2g",
              lmr_cpu_simd_name(), tails[i], worst);
    }
    for (int n = 1; n <= LMR_MATMUL_MAX; n++)
        for (int k = 0; k < 3; k++) {
            const int tk[] = {1, 5, 70};
            double worst = 0;
            int ok = run_multi(pools[(n + k) % 3], tk[k], 333, n, &worst);
            CHECK(ok, "matmul_n of %d linears, n_tok %d: worst rel err %.2g", n, tk[k], worst);
        }
    for (int i = 0; i < 3; i++) lmr_pool_destroy(pools[i]);
    return test_summary();
}
