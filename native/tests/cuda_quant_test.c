/* cuda_quant_test.c: the CUDA quantised kernels on a device (quant.cu): the GEMV of Q8_0, Q4_K,
 * Q6_K rows against lmr_cpu_matmul_ref (FP32 activations on both sides: |y - ref| <= 1e-4 of
 * sum |x w|; odd row counts, 1..19 tokens, bias and accumulate), the dequantisation against
 * lmr_dequant_row (exact), and a W with one altered scale that must miss (negative control);
 * then lmr_cuda_linear on quantised W (the engine's path: GEMV up to 8 tokens, BF16 tiles of 64
 * rows and the tensor-core GEMM above; every epilogue, with and without rmsnorm) against
 * lmr_cpu_matmul_ref (1e-4 / 1.5e-2 of max |y|).
 * Without the CUDA backend or a device it prints a SKIP line and returns the skip code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cpu/kernels.h"
#include "../src/cpu/quant.h"
#include "check.h"
#ifdef LMR_HAVE_CUDA
#include "../src/cuda/cuda_backend.h"
#include "../src/cuda/quant_cuda.h"
#endif

#ifdef LMR_HAVE_CUDA
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float rnd(float lo, float hi) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 40) * (1.0 / 16777216.0));
}

static const char *qn(int dt) {
    return dt == LMR_DTYPE_Q8_0 ? "q8_0" : dt == LMR_DTYPE_Q4_K ? "q4_K" : "q6_K";
}

/* returns 1 when within tolerance */
static int gemv_case(int dt, int n_tok, int in, int out, int bias_on, int acc, int corrupt,
                     double *worst, char *err) {
    int64_t rb = lmr_dtype_row_bytes(dt, in);
    char *W = malloc((size_t)(rb * out));
    float *row = malloc(sizeof(float) * in), *x = malloc(sizeof(float) * n_tok * in);
    float *bias = malloc(sizeof(float) * out), *y = malloc(sizeof(float) * n_tok * out);
    float *yr = malloc(sizeof(float) * n_tok * out), *wd = malloc(sizeof(float) * in);
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) row[i] = rnd(-0.1f, 0.1f);
        lmr_quantize_row(dt, row, W + rb * o, in);
    }
    for (int i = 0; i < n_tok * in; i++) x[i] = rnd(-1, 1);
    for (int i = 0; i < out; i++) bias[i] = rnd(-1, 1);
    for (int i = 0; i < n_tok * out; i++) y[i] = yr[i] = rnd(-1, 1);
    const float *b = bias_on ? bias : NULL;
    lmr_cpu_matmul_ref(x, n_tok, in, W, dt, out, b, yr, acc);
    if (corrupt) {
        uint16_t *d = dt == LMR_DTYPE_Q6_K ? &((lmr_block_q6_K *)(W + rb * (out / 2)))->d : (uint16_t *)(W + rb * (out / 2));
        *d = lmr_f32_to_f16(lmr_f16_to_f32(*d) * 1.5f);
    }
    lmr_status st = lmr_cuda_check_quant_gemv(dt, W, in, out, x, n_tok, b, y, acc, err, 256);
    int ok = st == LMR_OK;
    for (int o = 0; o < out && ok >= 0; o++) {
        lmr_dequant_row(dt, W + rb * o, wd, in);
        for (int t = 0; t < n_tok; t++) {
            double mag = (b ? fabs(b[o]) : 0) + 1e-30;
            for (int i = 0; i < in; i++) mag += fabs((double)x[t * in + i] * wd[i]);
            double e = fabs((double)y[t * out + o] - yr[t * out + o]) / mag;
            if (!(e <= 1e-4)) ok = 0;
            if (e > *worst || e != e) *worst = e;
        }
    }
    free(W), free(row), free(x), free(bias), free(y), free(yr), free(wd);
    return ok;
}
/* The engine's path, lmr_cuda_linear on quantised W (quant.cu): every mode, with and without the
 * rmsnorm, against lmr_cpu_matmul_ref on the normed FP32 x. n <= 8: the GEMV (FP32, tol 1e-4 of
 * max |y|); more: BF16 tiles of 64 rows and the tensor-core GEMM (weights and x rounded to BF16:
 * 1.5e-2, as the BF16 GEMM in cuda_parity_test). Returns the relative difference. */
static double linear_case(int dt, int n, int in, int out, int mode, int norm, char *err) {
    int64_t rb = lmr_dtype_row_bytes(dt, in);
    char *W = malloc((size_t)(rb * out));
    float *row = malloc(sizeof(float) * in), *x = malloc(sizeof(float) * n * in);
    float *xn = malloc(sizeof(float) * n * in), *nw = malloc(sizeof(float) * in);
    float *b = malloc(sizeof(float) * out), *y = malloc(sizeof(float) * n * out);
    float *ref = malloc(sizeof(float) * n * out);
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) row[i] = rnd(-0.1f, 0.1f);
        lmr_quantize_row(dt, row, W + rb * o, in);
    }
    for (int i = 0; i < n * in; i++) x[i] = rnd(-1, 1);
    for (int i = 0; i < in; i++) nw[i] = rnd(0.5f, 1.5f);
    for (int i = 0; i < out; i++) b[i] = rnd(-1, 1);
    for (int i = 0; i < n * out; i++) y[i] = ref[i] = rnd(-1, 1);
    memcpy(xn, x, sizeof(float) * n * in);
    if (norm) lmr_cpu_rmsnorm(x, nw, LMR_DTYPE_F32, 1e-6f, n, in, xn);
    lmr_cpu_matmul_ref(xn, n, in, W, dt, out, mode == 0 ? b : NULL, ref, mode == 1);
    int yo = out;
    if (mode == 2) { /* silu(row 2i) * row 2i+1 */
        yo = out / 2;
        for (int t = 0; t < n; t++)
            for (int i = 0; i < yo; i++) {
                float g = ref[t * out + 2 * i], u = ref[t * out + 2 * i + 1];
                ref[t * yo + i] = g / (1.0f + expf(-g)) * u;
            }
    }
    lmr_status st = lmr_cuda_check_linear(dt, n, in, out, W, x, mode == 0 ? b : NULL, mode,
                                          norm ? nw : NULL, 1e-6f, 1, y, err, 256);
    double d = 0, mx = 0;
    for (int i = 0; i < n * yo; i++)
        d = fmax(d, fabs((double)y[i] - ref[i])), mx = fmax(mx, fabs((double)ref[i]));
    free(W), free(row), free(x), free(xn), free(nw), free(b), free(y), free(ref);
    return st == LMR_OK ? d / fmax(mx, 1e-30) : 1e9;
}
#endif

int main(void) {
#ifndef LMR_HAVE_CUDA
    (void)check_summary;
    printf("SKIP cuda: the CUDA backend is not compiled into this build\n");
    return check_skip();
#else
    const char *why = lmr_cuda_no_device_reason();
    if (why) {
        printf("SKIP cuda: no CUDA device (%s)\n", why);
        return check_skip();
    }
    static const int dts[] = {LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};
    char err[256] = "";
    for (int k = 0; k < 3; k++) {
        int dt = dts[k], ok = 1, n = 0;
        double worst = 0;
        const int toks[] = {1, 2, 5, 8, 19};
        const int ins[] = {256, 1536, 2304};
        const int outs[] = {1, 7, 33, 130};
        for (int ti = 0; ti < 5; ti++)
            for (int ii = 0; ii < 3; ii++)
                for (int oi = 0; oi < 4; oi++, n++)
                    ok &= gemv_case(dt, toks[ti], ins[ii], outs[oi], (ti + oi) & 1, (ii + oi) % 3 == 0, 0, &worst, err);
        CHECK(ok, "%s GEMV: %d shapes vs lmr_cpu_matmul_ref: worst rel err %.2g (<= 1e-4) %s", qn(dt), n, worst, err);
        double w2 = 0;
        CHECK(!gemv_case(dt, 3, 512, 21, 0, 0, 1, &w2, err), "%s GEMV: a W with one scale x1.5 misses (negative control)", qn(dt));
        enum { N = 4096 };
        uint8_t *w = malloc((size_t)lmr_dtype_row_bytes(dt, N));
        float *src = malloc(sizeof(float) * N), *ref = malloc(sizeof(float) * N), *got = malloc(sizeof(float) * N);
        for (int i = 0; i < N; i++) src[i] = rnd(-1, 1);
        lmr_quantize_row(dt, src, w, N);
        lmr_dequant_row(dt, w, ref, N);
        lmr_status st = lmr_cuda_check_quant_dequant(dt, w, N, got, err, sizeof err);
        CHECK(st == LMR_OK && !memcmp(ref, got, sizeof(float) * N), "%s dequantisation = lmr_dequant_row bit for bit %s", qn(dt), err);
        free(w), free(src), free(ref), free(got);
    }
    for (int k = 0; k < 3; k++) { /* lmr_cuda_linear: GEMV up to 8 tokens, BF16 tiles above */
        const int ns[] = {1, 3, 8, 9, 40};
        for (int ni = 0; ni < 5; ni++)
            for (int mode = 0; mode < 3; mode++) {
                const int n = ns[ni], norm = mode != 1;
                const double tol = n <= 8 ? 1e-4 : 1.5e-2;
                const double r = linear_case(dts[k], n, 512, 202, mode, norm, err);
                CHECK(r <= tol, "%s linear n=%d in=512 out=202 mode=%d norm=%d (%s): rel %.2e <= "
                      "%.0e %s", qn(dts[k]), n, mode, norm, n <= 8 ? "GEMV" : "BF16 tiles", r,
                      tol, err);
            }
    }
    char e2[256];
    float y1[4];
    CHECK(lmr_cuda_check_quant_gemv(LMR_DTYPE_Q4_K, y1, 100, 1, y1, 1, NULL, y1, 0, e2, sizeof e2) == LMR_ERR_UNSUPPORTED,
          "Q4_K GEMV with in 100 is refused: %s", e2);
    return check_summary();
#endif
}
