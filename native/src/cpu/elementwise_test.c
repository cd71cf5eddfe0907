/* elementwise_test.c: rmsnorm and silu_mul dispatched against forced-scalar (relative 2e-6 for
 * silu: a vector exp within 2e-7; rmsnorm 1e-5: FP32 sums of ~9k squares in another order),
 * rope against a double-precision formula
 * (1e-5 of the vector's scale), on odd sizes and all weight dtypes. */
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "test_util.h"

static void test_rmsnorm(void) {
    const int ns[] = {1, 7, 33, 1536, 8961};
    const int dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    for (int d = 0; d < 3; d++)
        for (int k = 0; k < 5; k++) {
            int n = ns[k], n_tok = 3;
            float *x = malloc(sizeof(float) * n * n_tok), *wf = malloc(sizeof(float) * n);
            float *a = malloc(sizeof(float) * n * n_tok), *b = malloc(sizeof(float) * n * n_tok);
            uint16_t *wh = malloc(2 * n);
            for (int i = 0; i < n * n_tok; i++) x[i] = rng_uniform(-3, 3);
            for (int i = 0; i < n; i++) wf[i] = rng_uniform(0.5f, 1.5f);
            if (dts[d] != LMR_DTYPE_F32) lmr_cpu_row_from_f32(wf, dts[d], wh, n);
            const void *w = dts[d] == LMR_DTYPE_F32 ? (const void *)wf : wh;
            lmr_cpu_force_scalar(1);
            lmr_cpu_rmsnorm(x, w, dts[d], 1e-6f, n_tok, n, a);
            lmr_cpu_force_scalar(0);
            lmr_cpu_rmsnorm(x, w, dts[d], 1e-6f, n_tok, n, b);
            double worst = 0;
            for (int i = 0; i < n * n_tok; i++) {
                double e = fabs((double)a[i] - b[i]) / (fabs(a[i]) + 1e-30);
                if (e > worst || e != e) worst = e;
            }
            CHECK(worst <= 1e-5, "rmsnorm dtype %d n %d: worst rel err %.2g", dts[d], n, worst);
            free(x), free(wf), free(a), free(b), free(wh);
        }
}

static void test_rope(void) {
    const int hds[] = {64, 128, 6};
    for (int k = 0; k < 3; k++) {
        int hd = hds[k], n_tok = 5, n_heads = 3, n = n_tok * n_heads * hd;
        int32_t pos[5] = {0, 1, 17, 4095, 32767};
        float *x = malloc(sizeof(float) * n), *x0 = malloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) x0[i] = x[i] = rng_uniform(-1, 1);
        lmr_cpu_rope(x, n_tok, n_heads, hd, pos, 1e6);
        double worst = 0;
        for (int t = 0; t < n_tok; t++)
            for (int h = 0; h < n_heads; h++)
                for (int i = 0; i < hd / 2; i++) {
                    const float *v = x0 + (t * n_heads + h) * hd;
                    const float *g = x + (t * n_heads + h) * hd;
                    double a = pos[t] * pow(1e6, -2.0 * i / hd);
                    double r0 = v[i] * cos(a) - v[i + hd / 2] * sin(a);
                    double r1 = v[i + hd / 2] * cos(a) + v[i] * sin(a);
                    double e = fmax(fabs(g[i] - r0), fabs(g[i + hd / 2] - r1));
                    if (e > worst || e != e) worst = e;
                }
        CHECK(worst <= 1e-5, "rope hd %d positions up to 32767: worst abs err %.2g", hd, worst);
        free(x), free(x0);
    }
}

static void test_silu(void) {
    const int ns[] = {1, 9, 8960 * 3 + 5};
    for (int k = 0; k < 3; k++) {
        int n = ns[k];
        float *g = malloc(sizeof(float) * n), *u = malloc(sizeof(float) * n);
        float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) g[i] = rng_uniform(-12, 12), u[i] = rng_uniform(-2, 2);
        const float edge[] = {0.0f, -0.0f, 100.0f, -100.0f, 88.0f, -88.0f, 89.0f, -89.0f, 1e-8f};
        for (int i = 0; i < 9 && i < n; i++) g[i] = edge[i];
        memcpy(a, g, sizeof(float) * n);
        memcpy(b, g, sizeof(float) * n);
        lmr_cpu_force_scalar(1);
        lmr_cpu_silu_mul(a, u, 1, n);
        lmr_cpu_force_scalar(0);
        lmr_cpu_silu_mul(b, u, 1, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double e = fabs((double)a[i] - b[i]) / (fabs(a[i]) + 1e-30);
            if (a[i] == b[i]) e = 0;
            if (e > worst || e != e) worst = e;
        }
        CHECK(worst <= 2e-6, "silu_mul n %d (with 0, +-88, +-89, +-100): worst rel err %.2g", n, worst);
        free(g), free(u), free(a), free(b);
    }
}

int main(void) {
    test_rmsnorm();
    test_rope();
    test_silu();
    return test_summary();
}
