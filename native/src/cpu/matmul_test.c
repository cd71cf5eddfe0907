/* matmul_test.c: lmr_cpu_matmul at every kernel level the CPU has (scalar, avx2, avx512 / neon;
 * 1-3 threads) against lmr_cpu_matmul_ref on random inputs of awkward sizes, all weight dtypes,
 * bias and accumulate on and off. Tolerance: |y - ref| <= 2e-5 * (sum_i |x_i W_oi| + |bias_o| +
 * |y0|): FP32 sums taken in another order differ by a few ulps of that magnitude, never more.
 * The AVX-512-BF16 kernels (BF16 weights, n_tok >= lmr_cpu_bf16x_min_tok(): the streaming
 * small-batch kernel and the packed GEMM, each tested over every token count by moving the switch
 * between them with lmr_cpu_bf16_small_range) round the activations to BF16 first: each
 * must equal the reference of bf16(x) to that same FP32 tolerance, and the reference of x to
 * 2^-8 (the BF16 rounding of x: 8 significant bits) + 2e-5 of the magnitude; its measured error against FP32 is
 * printed and must exceed 2e-5 somewhere (the negative control: the check sees the rounding). */
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
static int g_bf16x;      /* the level under test rounds x to BF16 for BF16-weight GEMMs */
static double g_bf16_err; /* largest error of such a case against the FP32 reference */

static int run_case(lmr_pool *p, int n_tok, int in, int out, int dt, int use_bias, int acc,
                    double *worst) {
    int bf16x = g_bf16x && dt == LMR_DTYPE_BF16 && n_tok >= lmr_cpu_bf16x_min_tok();
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
    float *yb = NULL, *xb = NULL; /* the reference of bf16(x) */
    if (bf16x) {
        yb = malloc(sizeof(float) * n_tok * out), xb = malloc(sizeof(float) * n_tok * in);
        for (int i = 0; i < n_tok * in; i++) xb[i] = lmr_bf16_to_f32(lmr_f32_to_bf16(x[i]));
        memcpy(yb, y0, sizeof(float) * n_tok * out);
        lmr_cpu_matmul_ref(xb, n_tok, in, W, dt, out, b, yb, acc);
    }
    int ok = 1;
    for (int t = 0; t < n_tok; t++)
        for (int o = 0; o < out; o++) {
            double mag = (b ? fabs(b[o]) : 0) + (acc ? fabs(y0[t * out + o]) : 0);
            for (int i = 0; i < in; i++) mag += fabs(x[t * in + i] * w_at(W, dt, (int64_t)o * in + i));
            double err = fabs((double)y[t * out + o] - yr[t * out + o]) / (mag + 1e-30);
            if (bf16x) {
                double eb = fabs((double)y[t * out + o] - yb[t * out + o]) / (mag + 1e-30);
                if (!(eb <= 2e-5) || !(err <= 0x1p-8 + 2e-5)) ok = 0;
                if (err > g_bf16_err) g_bf16_err = err;
                err = eb;
            } else if (!(err <= 2e-5)) ok = 0; /* NaN fails too */
            if (err > *worst || err != err) *worst = err;
        }
    free(x), free(bias), free(y0), free(y), free(yr), free(W), free(yb), free(xb);
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
            int bf16x = g_bf16x && ls[j].wdtype == LMR_DTYPE_BF16 &&
                        n_tok >= lmr_cpu_bf16x_min_tok();
            double tol = bf16x ? 0x1p-8 + 2e-5 : 2e-5;
            if (!(err <= tol)) ok = 0;
            if (err > *worst || err != err) *worst = err;
        }
        free((void *)ls[j].W), free((void *)ls[j].bias), free(ls[j].y), free(ref[j]);
    }
    free(x);
    return ok;
}

static const char *level_name(int lvl) { return lvl < 0 ? "scalar" : lmr_cpu_level_name(lvl); }

/* The dispatched-kernel checks at the current level. */
static void check_level(lmr_pool *pools[3]) {
    const int toks[] = {1, 2, 3, 7, 16, 64, 130};
    const int ins[] = {1, 7, 17, 64, 333, 1000};
    const int outs[] = {1, 5, 16, 33, 100};
    const int dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    const char *lv = lmr_cpu_simd_name();
    for (int d = 0; d < 3; d++)
        for (int ti = 0; ti < 7; ti++) {
            int ok = 1, n = 0;
            double worst = 0;
            for (int ii = 0; ii < 6; ii++)
                for (int oi = 0; oi < 5; oi++) {
                    int bias = (ii + oi) & 1, acc = (ii + oi + ti) % 3 == 0;
                    lmr_pool *p = pools[(ii + oi + ti) % 3];
                    ok &= run_case(p, toks[ti], ins[ii], outs[oi], dts[d], bias, acc, &worst);
                    n++;
                }
            CHECK(ok, "%s %s n_tok %d: %d shapes (in 1..1000, out 1..100), worst rel err %.2g", lv,
                  dt_name(dts[d]), toks[ti], n, worst);
        }
    /* shapes that cross the GEMM cache blocks (K > 256, rows > 128 / 256 per thread) */
    const int big[][3] = {{1, 1536, 300}, {5, 1536, 300}, {130, 600, 290}, {64, 2100, 140},
                          {40, 896, 600}, {33, 513, 47}};
    for (int i = 0; i < 6; i++)
        for (int d = 0; d < 3; d++) {
            double worst = 0;
            int ok = run_case(pools[1], big[i][0], big[i][1], big[i][2], dts[d], 1, i & 1, &worst);
            CHECK(ok, "%s %s n_tok %d in %d out %d: worst rel err %.2g", lv, dt_name(dts[d]),
                  big[i][0], big[i][1], big[i][2], worst);
        }
    /* token counts around the GEMV/GEMM switch (16 on AVX2, 8 on AVX-512-BF16 and NEON) and
     * whose last GEMM tiles are re-cut in halves (AVX2: 7..9 rows left; AVX-512: 13..21) */
    const int tails[] = {7, 8, 9, 13, 14, 15, 16, 17, 19, 20, 21, 25};
    for (int i = 0; i < (int)(sizeof tails / sizeof *tails); i++) {
        double worst = 0;
        int ok = run_case(pools[i % 3], tails[i], 300, 70, LMR_DTYPE_BF16, 1, i & 1, &worst);
        CHECK(ok, "%s bf16 n_tok %d in 300 out 70 (GEMM tail tiles): worst rel err %.2g", lv,
              tails[i], worst);
    }
    for (int n = 1; n <= LMR_MATMUL_MAX; n++)
        for (int k = 0; k < 3; k++) {
            const int tk[] = {1, 5, 70};
            double worst = 0;
            int ok = run_multi(pools[(n + k) % 3], tk[k], 333, n, &worst);
            CHECK(ok, "%s matmul_n of %d linears, n_tok %d: worst rel err %.2g", lv, n, tk[k],
                  worst);
        }
}

int main(void) {
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
            printf("skip: %s level: this CPU (or build) lacks it\n", level_name(lvl));
            continue;
        }
        lmr_cpu_force_level(lvl);
        g_bf16x = (lmr_cpu_simd_used() & LMR_SIMD_AVX512BF16) != 0;
        /* AVX-512-BF16: the default switch, then every token count through the packed GEMM only
         * (range [2, 2)), then through the streaming small-batch kernel only (range [2, inf)) */
        static const int ranges[3][2] = {{-1, -1}, {2, 2}, {2, 1 << 30}};
        static const char *range_name[3] = {"default switch", "packed GEMM only",
                                            "streaming kernel only"};
        for (int ri = 0; ri < (g_bf16x ? 3 : 1); ri++) {
            lmr_cpu_bf16_small_range(ranges[ri][0], ranges[ri][1]);
            if (g_bf16x) printf("# %s: BF16 weights, %s\n", lmr_cpu_simd_name(), range_name[ri]);
            g_bf16_err = 0;
            check_level(pools);
            if (g_bf16x) /* negative control: the BF16 rounding of x shows against the FP32 path */
                CHECK(g_bf16_err > 2e-5 && g_bf16_err <= 0x1p-8 + 2e-5,
                      "%s (%s) bf16 kernels vs FP32 reference: worst rel err %.2g (> 2e-5: the "
                      "rounding of x to BF16 is seen; <= 2^-8 + 2e-5: bounded by it)",
                      lmr_cpu_simd_name(), range_name[ri], g_bf16_err);
        }
        lmr_cpu_bf16_small_range(-1, -1);
    }
    lmr_cpu_force_level(-1);
    for (int i = 0; i < 3; i++) lmr_pool_destroy(pools[i]);
    return test_summary();
}
