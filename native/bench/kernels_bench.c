/* kernels_bench.c: micro-benchmark of the CPU kernels (a program, not a test). Prints the read
 * bandwidth probe (median), decode GEMV GB/s and % of the probe for the Qwen2.5-1.5B shapes,
 * small-batch GEMV, prefill GEMM GFLOP/s at n_tok 128 / 512, and decode attention time over a
 * paged cache at 1K / 8K / 32K positions.
 *
 * Build (after the CMake build made liblmrig_static.a in build/):
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Inative/src/cpu -Inative/include native/bench/kernels_bench.c \
 *       build/liblmrig_static.a -lpthread -lm -o build/lmrig-kernels-bench
 * Run: build/lmrig-kernels-bench [n_threads] [quick]
 *      build/lmrig-kernels-bench [n_threads] gemm [rounds]: prefill GEMM only, one layer of the
 *      Qwen2.5-0.5B and 1.5B shapes, every kernel level of the CPU in turn (A/B alternating, so
 *      that a loaded machine spoils both alike); each round first probes the 256-bit FP32 FMA
 *      peak of all threads (lmr_cpu_probe_fma) and the AVX2 lines give their share of it.
 *      build/lmrig-kernels-bench [n_threads] attn [rounds]: decode attention only, one layer of
 *      the Qwen2.5-0.5B and 1.5B shapes at 1024 and 32640 positions, F32 and BF16 KV, over 16
 *      layers' worth of caches (so that K and V come from memory, as in a real step), every
 *      kernel level in turn.
 *      build/lmrig-kernels-bench [n_threads] small [rounds]: one Qwen2.5-0.5B layer's decode
 *      linears for 1-64 tokens through the FP32 GEMV, the streaming BF16 kernel and the packed
 *      BF16 GEMM in turn (AVX-512-BF16 machines; elsewhere all three rows run the same kernels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "lmrig.h"

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

static void fill_w(void *w, int dt, size_t n) {
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        float v = ((int)(s >> 9) - (1 << 22)) * (0.05f / (1 << 22));
        if (dt == LMR_DTYPE_F32) ((float *)w)[i] = v;
        else if (dt == LMR_DTYPE_F16) ((uint16_t *)w)[i] = lmr_f32_to_f16(v);
        else ((uint16_t *)w)[i] = lmr_f32_to_bf16(v);
    }
}

/* Median seconds of one matmul; cycles through copies of W totalling >= 512 MiB so that W comes
 * from memory as in a real model (a single 1.5B layer matrix would otherwise sit in L3). */
static double time_matmul(lmr_pool *p, int n_tok, int in, int out, int dt, int reps) {
    size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2, bytes = esz * (size_t)in * out;
    int copies = (int)((512u << 20) / bytes) + 1;
    if (n_tok >= 64) copies = 1; /* compute-bound: cache residency does not matter */
    char *W = malloc(bytes * copies);
    float *x = malloc(sizeof(float) * (size_t)n_tok * in), *y = malloc(sizeof(float) * (size_t)n_tok * out);
    fill_w(W, dt, (size_t)in * out);
    for (int c = 1; c < copies; c++) memcpy(W + bytes * c, W, bytes);
    for (size_t i = 0; i < (size_t)n_tok * in; i++) x[i] = (float)(i % 7) * 0.1f - 0.3f;
    double *t = malloc(sizeof(double) * reps);
    lmr_cpu_matmul(p, x, n_tok, in, W, dt, out, NULL, y, 0); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        lmr_cpu_matmul(p, x, n_tok, in, W + bytes * (r % copies), dt, out, NULL, y, 0);
        t[r] = now_s() - t0;
    }
    double m = median(t, reps);
    free(W), free(x), free(y), free(t);
    return m;
}

static double time_attention(lmr_pool *p, int n_pos, int dt, int reps) {
    const int n_heads = 12, n_kv = 2, hd = 128, bt = 16;
    int n_blocks = (n_pos + bt - 1) / bt;
    size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2, n = (size_t)n_blocks * bt * n_kv * hd;
    void *K = malloc(esz * n), *V = malloc(esz * n);
    fill_w(K, dt, n);
    fill_w(V, dt, n);
    int32_t *table = malloc(sizeof(int32_t) * n_blocks);
    for (int i = 0; i < n_blocks; i++) table[i] = (i * 7919) % n_blocks == i ? i : i; /* identity */
    float q[12 * 128], o[12 * 128];
    for (int i = 0; i < 12 * 128; i++) q[i] = (float)(i % 13) * 0.05f;
    double *t = malloc(sizeof(double) * reps);
    lmr_cpu_attention(p, q, 1, n_pos - 1, K, V, dt, table, bt, n_heads, n_kv, hd, o);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        lmr_cpu_attention(p, q, 1, n_pos - 1, K, V, dt, table, bt, n_heads, n_kv, hd, o);
        t[r] = now_s() - t0;
    }
    double m = median(t, reps);
    free(K), free(V), free(table), free(t);
    return m;
}

/* One layer's prefill GEMMs (q, k, v, o, gate, up, down) of a hidden x inter, kv-width shape. */
static double layer_gemm_s(lmr_pool *p, int n_tok, int h, int kv, int inter) {
    const int ls[][2] = {{h, h}, {kv, h}, {kv, h}, {h, h}, {inter, h}, {inter, h}, {h, inter}};
    double total = 0;
    for (int s = 0; s < 7; s++) total += time_matmul(p, n_tok, ls[s][1], ls[s][0], LMR_DTYPE_BF16, 3);
    return total;
}

static int gemm_ab(lmr_pool *p, int rounds) {
    static const struct { const char *name; int h, kv, inter; } m[] = {
        {"qwen2.5-0.5b", 896, 128, 4864}, {"qwen2.5-1.5b", 1536, 256, 8960}};
    int max = lmr_cpu_level_max(), levels[3], n_lv = 0;
    for (int l = 1; l <= max && l <= 2; l++) levels[n_lv++] = l; /* avx2, avx512 */
    if (max == 3) levels[n_lv++] = 3;
    if (!n_lv) levels[n_lv++] = 0;
    for (int r = 0; r < rounds; r++) {
        /* the 256-bit FMA peak of all threads, best of 3 probes of ~40 ms, for the AVX2 lines */
        double peak = 0;
        lmr_cpu_force_level(1);
        for (int i = 0; i < 3; i++) {
            double f = lmr_cpu_probe_fma(p, 20000000);
            peak = f > peak ? f : peak;
        }
        if (peak > 0) printf("round %d FMA peak (256-bit FP32, %d threads) %7.1f GFLOP/s\n", r,
                             lmr_pool_size(p), peak / 1e9);
        for (int mi = 0; mi < 2; mi++)
            for (int tk = 128; tk <= 512; tk *= 4)
                for (int l = 0; l < n_lv; l++) {
                    lmr_cpu_force_level(levels[l]);
                    double t = layer_gemm_s(p, tk, m[mi].h, m[mi].kv, m[mi].inter);
                    double f = 2.0 * tk * ((double)m[mi].h * (2 * m[mi].h + 2 * m[mi].kv) +
                                           3.0 * m[mi].h * m[mi].inter);
                    printf("round %d %s n_tok %3d %-26s %7.2f ms/layer %7.1f GFLOP/s", r,
                           m[mi].name, tk, lmr_cpu_simd_name(), t * 1e3, f / t / 1e9);
                    if (levels[l] == 1 && peak > 0) printf(" %5.1f%% of FMA peak", 100 * f / t / peak);
                    printf("\n");
                    fflush(stdout);
                }
    }
    lmr_cpu_force_level(-1);
    return 0;
}

/* Decode attention of one layer, median over reps, cycling through `copies` separate caches. */
static double attn_layer_s(lmr_pool *p, int n_heads, int n_kv, int hd, int n_pos, int dt,
                           int copies, void **K, void **V, const int32_t *table, int reps) {
    float q[16 * 128], o[16 * 128];
    for (int i = 0; i < n_heads * hd; i++) q[i] = (float)(i % 13) * 0.05f;
    double *t = malloc(sizeof(double) * reps);
    lmr_cpu_attention(p, q, 1, n_pos - 1, K[0], V[0], dt, table, 16, n_heads, n_kv, hd, o);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        for (int c = 0; c < copies; c++)
            lmr_cpu_attention(p, q, 1, n_pos - 1, K[c], V[c], dt, table, 16, n_heads, n_kv, hd, o);
        t[r] = (now_s() - t0) / copies;
    }
    double m = median(t, reps);
    free(t);
    return m;
}

static int attn_ab(lmr_pool *p, int rounds) {
    static const struct { const char *name; int heads, kv, hd; } m[] = {
        {"qwen2.5-0.5b", 14, 2, 64}, {"qwen2.5-1.5b", 12, 2, 128}};
    const int lens[] = {1024, 32640}, dts[] = {LMR_DTYPE_F32, LMR_DTYPE_BF16};
    enum { COPIES = 16 };
    int max = lmr_cpu_level_max(), levels[3], n_lv = 0;
    for (int l = 1; l <= max && l <= 2; l++) levels[n_lv++] = l;
    if (max == 3) levels[n_lv++] = 3;
    if (!n_lv) levels[n_lv++] = 0;
    for (int mi = 0; mi < 2; mi++)
        for (int li = 0; li < 2; li++)
            for (int d = 0; d < 2; d++) {
                int n_pos = lens[li], n_blocks = (n_pos + 15) / 16;
                size_t esz = dts[d] == LMR_DTYPE_F32 ? 4 : 2;
                size_t n = (size_t)n_blocks * 16 * m[mi].kv * m[mi].hd;
                void *K[COPIES], *V[COPIES];
                int32_t *table = malloc(sizeof(int32_t) * n_blocks);
                for (int i = 0; i < n_blocks; i++) table[i] = i;
                for (int c = 0; c < COPIES; c++) {
                    K[c] = malloc(esz * n), V[c] = malloc(esz * n);
                    fill_w(K[c], dts[d], n);
                    fill_w(V[c], dts[d], n);
                }
                for (int r = 0; r < rounds; r++)
                    for (int l = 0; l < n_lv; l++) {
                        lmr_cpu_force_level(levels[l]);
                        double t = attn_layer_s(p, m[mi].heads, m[mi].kv, m[mi].hd, n_pos,
                                                dts[d], COPIES, K, V, table, 5);
                        printf("round %d %s %5d positions KV %-4s %-26s %8.1f us/layer %6.2f "
                               "GB/s of K+V\n", r, m[mi].name, n_pos,
                               dts[d] == LMR_DTYPE_F32 ? "f32" : "bf16", lmr_cpu_simd_name(),
                               t * 1e6, 2.0 * esz * n / t / 1e9);
                        fflush(stdout);
                    }
                for (int c = 0; c < COPIES; c++) free(K[c]), free(V[c]);
                free(table);
            }
    lmr_cpu_force_level(-1);
    return 0;
}

/* Small-batch decode linears: one Qwen2.5-0.5B layer's q, k, v, o, gate, up, down (BF16) for
 * n_tok 1..64, through each kernel in turn (FP32 GEMV, streaming BF16, packed BF16 GEMM, moved
 * with lmr_cpu_bf16_small_range), over 16 layers' worth of weights so that W comes from memory. */
static int small_ab(lmr_pool *p, int rounds) {
    static const int ls[7][2] = {{896, 896}, {128, 896}, {128, 896}, {896, 896},
                                 {4864, 896}, {4864, 896}, {896, 4864}}; /* out, in */
    size_t off[8] = {0};
    for (int i = 0; i < 7; i++) off[i + 1] = off[i] + (size_t)ls[i][0] * ls[i][1];
    const int copies = 16;
    uint16_t *W = malloc(2 * off[7] * copies);
    fill_w(W, LMR_DTYPE_BF16, off[7]);
    for (int c = 1; c < copies; c++) memcpy(W + off[7] * c, W, 2 * off[7]);
    float *x = malloc(sizeof(float) * 64 * 4864), *y = malloc(sizeof(float) * 64 * 4864);
    for (int i = 0; i < 64 * 4864; i++) x[i] = (float)(i % 7) * 0.1f - 0.3f;
    static const struct { const char *name; int lo, hi; } path[] = {
        {"fp32 gemv (avx2 gemm >= 16)", 1 << 30, 1 << 30},
        {"bf16 streaming", 2, 1 << 30},
        {"bf16 packed gemm", 2, 2}};
    const int toks[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64}, reps = 2 * copies;
    double t[2 * 16];
    printf("%s, 2 x 16 layers per figure (median), one Qwen2.5-0.5B layer's decode linears:\n",
           lmr_cpu_simd_name());
    for (int r = 0; r < rounds; r++)
        for (int ti = 0; ti < 12; ti++)
            for (int k = 0; k < 3; k++) {
                lmr_cpu_bf16_small_range(path[k].lo, path[k].hi);
                for (int rep = 0; rep < reps; rep++) {
                    double t0 = now_s();
                    const uint16_t *Wc = W + off[7] * (rep % copies);
                    for (int i = 0; i < 7; i++)
                        lmr_cpu_matmul(p, x, toks[ti], ls[i][1], Wc + off[i], LMR_DTYPE_BF16,
                                       ls[i][0], NULL, y, 0);
                    t[rep] = now_s() - t0;
                }
                double m = median(t, reps);
                printf("round %d n_tok %2d %-28s %7.1f us/layer %6.1f tok/ms %6.1f GB/s\n", r,
                       toks[ti], path[k].name, m * 1e6, toks[ti] / m / 1e3, 2.0 * off[7] / m / 1e9);
                fflush(stdout);
            }
    lmr_cpu_bf16_small_range(-1, -1);
    free(W), free(x), free(y);
    return 0;
}

int main(int argc, char **argv) {
    int nth = argc > 1 ? atoi(argv[1]) : 0;
    int quick = argc > 2;
    if (nth <= 0) nth = lmr_cpu_online_cores();
    lmr_pool *p = lmr_pool_create(nth);
    if (argc > 2 && !strcmp(argv[2], "gemm")) {
        int rc = gemm_ab(p, argc > 3 ? atoi(argv[3]) : 3);
        lmr_pool_destroy(p);
        return rc;
    }
    if (argc > 2 && !strcmp(argv[2], "small")) {
        int rc = small_ab(p, argc > 3 ? atoi(argv[3]) : 2);
        lmr_pool_destroy(p);
        return rc;
    }
    if (argc > 2 && !strcmp(argv[2], "attn")) {
        int rc = attn_ab(p, argc > 3 ? atoi(argv[3]) : 2);
        lmr_pool_destroy(p);
        return rc;
    }
    char name[128];
    lmr_cpu_name(name, sizeof name);
    printf("cpu: %s, %d threads, kernels: %s\n", name, nth, lmr_cpu_simd_name());

    double bw[9];
    lmr_cpu_probe_bandwidth(p, 1ull << 30, 9, bw);
    double probe = median(bw, 9), probe_max = bw[8]; /* median() sorted bw */
    printf("probe read bandwidth (1 GiB): median of 9 %.2f GB/s, best %.2f GB/s (%% below: of "
           "the best)\n", probe / 1e9, probe_max / 1e9);
    probe = probe_max;
    printf("dispatch: %.0f ns per empty pool run\n\n", lmr_cpu_probe_dispatch(p, 2000));

    static const struct { const char *name; int out, in; } shapes[] = {
        {"q 1536x1536", 1536, 1536}, {"k/v 256x1536", 256, 1536},  {"qkv 2048x1536", 2048, 1536},
        {"o 1536x1536", 1536, 1536}, {"gate/up 8960x1536", 8960, 1536},
        {"down 1536x8960", 1536, 8960}, {"lm_head 151936x1536", 151936, 1536},
    };
    int reps = quick ? 9 : 31;
    printf("decode GEMV (n_tok 1), BF16 weights:\n");
    for (int s = 0; s < 7; s++) {
        double t = time_matmul(p, 1, shapes[s].in, shapes[s].out, LMR_DTYPE_BF16, s == 6 ? 7 : reps);
        double gbs = 2.0 * shapes[s].in * shapes[s].out / t;
        printf("  %-22s %8.1f us  %6.2f GB/s  %5.1f%% of probe\n", shapes[s].name, t * 1e6,
               gbs / 1e9, 100 * gbs / probe);
    }
    const int dts[] = {LMR_DTYPE_F16, LMR_DTYPE_F32};
    for (int d = 0; d < 2; d++) {
        double t = time_matmul(p, 1, 1536, 8960, dts[d], reps);
        double gbs = (dts[d] == LMR_DTYPE_F32 ? 4.0 : 2.0) * 1536 * 8960 / t;
        printf("  gate %s               %8.1f us  %6.2f GB/s  %5.1f%% of probe\n",
               dts[d] == LMR_DTYPE_F16 ? "F16" : "F32", t * 1e6, gbs / 1e9, 100 * gbs / probe);
    }
    printf("\nbatched decode, gate/up 8960x1536 BF16 (time per call, per token):\n");
    const int batch[] = {2, 3, 4, 7, 8, 16, 32, 64};
    for (int b = 0; b < 8; b++) {
        double t = time_matmul(p, batch[b], 1536, 8960, LMR_DTYPE_BF16, reps);
        printf("  n_tok %3d %9.1f us  %7.1f us/token  %6.1f GFLOP/s\n", batch[b], t * 1e6,
               t * 1e6 / batch[b], 2.0 * batch[b] * 1536 * 8960 / t / 1e9);
    }
    printf("\nprefill GEMM, BF16, the layer shapes of Qwen2.5-1.5B (q, k, v, o, gate, up, down):\n");
    const int toks[] = {128, 512};
    for (int k = 0; k < 2; k++) {
        double total_t = 0, total_f = 0;
        static const int ls[][2] = {{1536, 1536}, {256, 1536}, {256, 1536}, {1536, 1536},
                                    {8960, 1536}, {8960, 1536}, {1536, 8960}};
        for (int s = 0; s < 7; s++) {
            double t = time_matmul(p, toks[k], ls[s][1], ls[s][0], LMR_DTYPE_BF16, quick ? 3 : 5);
            double f = 2.0 * toks[k] * ls[s][0] * ls[s][1];
            total_t += t;
            total_f += f;
            if (s == 4 || s == 6 || s == 0)
                printf("  n_tok %d %5dx%-5d %7.1f GFLOP/s\n", toks[k], ls[s][0], ls[s][1], f / t / 1e9);
        }
        printf("  n_tok %d layer total: %.1f GFLOP/s (%.1f ms per layer)\n", toks[k],
               total_f / total_t / 1e9, total_t * 1e3);
    }
    printf("\ndecode attention (12 heads, 2 KV heads, hd 128, block 16):\n");
    const int lens[] = {1024, 8192, 32768};
    const int kvd[] = {LMR_DTYPE_F32, LMR_DTYPE_BF16, LMR_DTYPE_F16};
    for (int l = 0; l < 3; l++)
        for (int d = 0; d < 3; d++) {
            double t = time_attention(p, lens[l], kvd[d], quick ? 9 : 31);
            double bytes = 2.0 * lens[l] * 2 * 128 * (kvd[d] == LMR_DTYPE_F32 ? 4 : 2);
            printf("  %5d positions KV %-4s %8.1f us  %6.2f GB/s of K+V\n", lens[l],
                   kvd[d] == LMR_DTYPE_F32 ? "f32" : kvd[d] == LMR_DTYPE_F16 ? "f16" : "bf16",
                   t * 1e6, bytes / t / 1e9);
        }
    lmr_pool_destroy(p);
    return 0;
}
