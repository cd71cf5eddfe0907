/* quant_bench.c: micro-benchmark of the quantised weight kernels (a program, not a test).
 * Decode GEMV (n_tok 1) GB/s of the bytes really read (the quantised W) for Q8_0, Q4_K, Q6_K and
 * BF16 at the Qwen2.5-1.5B shapes, and prefill GEMM GFLOP/s at 512 tokens. The types run in
 * alternating rounds (BF16, Q8_0, Q4_K, Q6_K, then again), so that a loaded machine spoils all
 * alike; each figure is the median over rounds of each round's median.
 * Run: build/lmrig-quant-bench [n_threads] [rounds] [level: avx2|avx512|neon|scalar] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "lmrig.h"
#include "quant.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static size_t row_bytes(int dt, int in) {
    return dt == LMR_DTYPE_BF16 ? (size_t)in * 2 : (size_t)lmr_dtype_row_bytes(dt, in);
}

/* One W of out x in (dt), copied until the copies total >= 256 MiB (n_tok 1: W from memory). */
typedef struct {
    char *W;
    int copies, in, out, dt;
    size_t bytes;
} wset;

static wset make_w(int dt, int in, int out, int n_tok) {
    wset w = {.in = in, .out = out, .dt = dt, .bytes = row_bytes(dt, in) * out};
    w.copies = n_tok > 1 ? 1 : (int)((256u << 20) / w.bytes) + 1;
    w.W = malloc(w.bytes * w.copies);
    float *row = malloc(sizeof(float) * in);
    uint32_t s = 12345;
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
            s = s * 1664525u + 1013904223u;
            row[i] = ((int)(s >> 9) - (1 << 22)) * (0.05f / (1 << 22));
        }
        char *dst = w.W + row_bytes(dt, in) * o;
        if (dt == LMR_DTYPE_BF16)
            for (int i = 0; i < in; i++) ((uint16_t *)dst)[i] = lmr_f32_to_bf16(row[i]);
        else lmr_quantize_row(dt, row, dst, in);
    }
    for (int c = 1; c < w.copies; c++) memcpy(w.W + w.bytes * c, w.W, w.bytes);
    free(row);
    return w;
}

static double time_w(lmr_pool *p, const wset *w, int n_tok, const float *x, float *y, int reps) {
    double t[64];
    if (reps > 64) reps = 64;
    lmr_cpu_matmul(p, x, n_tok, w->in, w->W, w->dt, w->out, NULL, y, 0);
    for (int r = 0; r < reps; r++) {
        const char *W = w->W + w->bytes * (size_t)(r % w->copies);
        double t0 = now_s();
        lmr_cpu_matmul(p, x, n_tok, w->in, W, w->dt, w->out, NULL, y, 0);
        t[r] = now_s() - t0;
    }
    return median(t, reps);
}

int main(int argc, char **argv) {
    int nth = argc > 1 ? atoi(argv[1]) : 0, rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (nth <= 0) nth = lmr_cpu_online_cores();
    if (rounds < 1) rounds = 1;
    if (argc > 3) lmr_cpu_force_level(lmr_cpu_level_parse(argv[3]));
    lmr_pool *p = lmr_pool_create(nth);
    char name[128];
    lmr_cpu_name(name, sizeof name);
    printf("cpu: %s, %d threads, kernels: %s, %d alternating rounds\n", name, nth,
           lmr_cpu_simd_name(), rounds);
    static const int dts[] = {LMR_DTYPE_BF16, LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};
    static const char *dtn[] = {"bf16", "q8_0", "q4_K", "q6_K"};
    static const struct { const char *name; int out, in; } shapes[] = {
        {"1536x1536", 1536, 1536}, {"8960x1536", 8960, 1536}, {"1536x8960", 1536, 8960},
        {"151936x1536", 151936, 1536}};
    float *x = malloc(sizeof(float) * 512 * 8960), *y = malloc(sizeof(float) * 512 * 151936);
    for (int i = 0; i < 512 * 8960; i++) x[i] = (float)(i % 7) * 0.1f - 0.3f;

    printf("decode GEMV (n_tok 1): us, GB/s of W bytes read\n");
    for (int s = 0; s < 4; s++) {
        double med[4][16];
        wset w[4];
        for (int d = 0; d < 4; d++) w[d] = make_w(dts[d], shapes[s].in, shapes[s].out, 1);
        for (int r = 0; r < rounds && r < 16; r++)
            for (int d = 0; d < 4; d++) med[d][r] = time_w(p, &w[d], 1, x, y, s == 3 ? 5 : 21);
        printf("  %-12s", shapes[s].name);
        for (int d = 0; d < 4; d++) {
            double t = median(med[d], rounds < 16 ? rounds : 16);
            printf("  %s %8.1f us %6.2f GB/s", dtn[d], t * 1e6, w[d].bytes / t / 1e9);
            free(w[d].W);
        }
        printf("\n");
    }
    printf("prefill GEMM (n_tok 512): ms, GFLOP/s\n");
    for (int s = 0; s < 3; s++) {
        double med[4][16];
        wset w[4];
        for (int d = 0; d < 4; d++) w[d] = make_w(dts[d], shapes[s].in, shapes[s].out, 512);
        for (int r = 0; r < rounds && r < 16; r++)
            for (int d = 0; d < 4; d++) med[d][r] = time_w(p, &w[d], 512, x, y, 3);
        printf("  %-12s", shapes[s].name);
        for (int d = 0; d < 4; d++) {
            double t = median(med[d], rounds < 16 ? rounds : 16);
            printf("  %s %7.1f ms %6.1f GFLOP/s", dtn[d], t * 1e3,
                   2.0 * 512 * shapes[s].in * shapes[s].out / t / 1e9);
            free(w[d].W);
        }
        printf("\n");
    }
    free(x), free(y);
    lmr_pool_destroy(p);
    return 0;
}
