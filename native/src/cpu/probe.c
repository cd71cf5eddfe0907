/* probe.c: hardware probes: memory read bandwidth (every pool thread streams its own disjoint
 * part of one buffer with the widest loads available), 256-bit FMA throughput and thread-pool
 * dispatch cost. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../../include/lmrig.h"
#include "simd.h"

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Sums the buffer as 64-bit words (portable fallback; compilers vectorize it). */
static double read_sum_scalar(const void *buf, size_t bytes) {
    const uint64_t *w = buf;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t n = bytes / 8;
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += w[i];
        s1 += w[i + 1];
        s2 += w[i + 2];
        s3 += w[i + 3];
    }
    return (double)(s0 ^ s1 ^ s2 ^ s3);
}

#define SEGMENT_BYTES ((size_t)32 << 20) /* read by all threads at once, each timed alone */

typedef struct {
    const char *buf;
    size_t bytes;
    double sink[64]; /* per thread, so the reads can't be elided */
} bw_job;

static void bw_task(void *ctx, int ith, int nth) {
    bw_job *j = ctx;
    size_t chunk = (j->bytes / (size_t)nth) & ~(size_t)4095;
    const char *b = j->buf + chunk * (size_t)ith;
#if LMR_HAVE_AVX2
    if (lmr_isa_has_avx2(lmr_cpu_isa())) {
        j->sink[ith & 63] += lmr_read_sum_avx2(b, chunk);
        return;
    }
#endif
    j->sink[ith & 63] += read_sum_scalar(b, chunk);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Each sample is one pass over the buffer in 32 MiB segments (every thread reads its share of a
 * segment; each segment is timed alone); the sample is the median segment rate, so that a thread
 * descheduled for a while (a shared machine) spoils a few segments, not the whole figure. The
 * buffer is much larger than the last-level cache, so every segment comes from memory. */
int lmr_cpu_probe_bandwidth(lmr_pool *p, uint64_t bytes, int reps, double *samples_bps) {
    if (bytes < (1u << 20) || reps < 1 || !samples_bps) return LMR_ERR_INVALID_ARG;
    char *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, (size_t)bytes) != 0) return LMR_ERR_OUT_OF_MEMORY;
    size_t seg = (size_t)bytes < SEGMENT_BYTES ? (size_t)bytes : SEGMENT_BYTES;
    size_t n_seg = (size_t)bytes / seg;
    double *rate = malloc(sizeof(double) * n_seg);
    if (!rate) {
        free(buf);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    int nth = lmr_pool_size(p);
    double read = (double)((seg / (size_t)nth) & ~(size_t)4095) * nth;
    bw_job j = {.buf = buf, .bytes = seg};
#ifdef MADV_HUGEPAGE
    madvise(buf, (size_t)bytes, MADV_HUGEPAGE); /* as the weights are mapped: no TLB walk per 4 KiB */
#endif
    memset(buf, 1, (size_t)bytes);
    for (size_t s = 0; s < n_seg; s++) { /* untimed pass */
        j.buf = buf + s * seg;
        lmr_pool_run(p, bw_task, &j);
    }
    for (int r = 0; r < reps; r++) {
        for (size_t s = 0; s < n_seg; s++) {
            j.buf = buf + s * seg;
            double t0 = now_ns();
            lmr_pool_run(p, bw_task, &j);
            double dt = now_ns() - t0;
            rate[s] = dt > 0 ? read / (dt * 1e-9) : 0.0;
        }
        qsort(rate, n_seg, sizeof *rate, cmp_double);
        samples_bps[r] = n_seg % 2 ? rate[n_seg / 2] : 0.5 * (rate[n_seg / 2 - 1] + rate[n_seg / 2]);
    }
    free(rate);
    free(buf);
    return LMR_OK;
}

static void empty_task(void *ctx, int ith, int nth) {
    (void)ctx;
    (void)ith;
    (void)nth;
}

/* A round trip through every thread (lmr_pool_run), the cost of getting the workers to do any
 * share at all; lmr_pool_run_chunks costs less when a worker is late (the caller does its share). */
double lmr_cpu_probe_dispatch(lmr_pool *p, int n) {
    if (n < 1) return 0.0;
    for (int i = 0; i < 16; i++) lmr_pool_run(p, empty_task, NULL); /* wake the workers */
    double t0 = now_ns();
    for (int i = 0; i < n; i++) lmr_pool_run(p, empty_task, NULL);
    return (now_ns() - t0) / n;
}

typedef struct {
    int64_t n;
    double sink[64];
} fma_job;

static void fma_task(void *ctx, int ith, int nth) {
    (void)nth;
    fma_job *j = ctx;
#if LMR_HAVE_AVX2
    j->sink[ith & 63] += lmr_fma_run_avx2(j->n);
#else
    (void)j;
    (void)ith;
#endif
}

double lmr_cpu_probe_fma(lmr_pool *p, int64_t n) {
#if LMR_HAVE_AVX2
    if (n < 1 || !lmr_isa_has_avx2(lmr_cpu_isa())) return 0.0;
    fma_job j = {.n = n / 16 + 1}; /* a short untimed run wakes the workers and the clocks */
    lmr_pool_run(p, fma_task, &j);
    j.n = n;
    double t0 = now_ns();
    lmr_pool_run(p, fma_task, &j);
    double dt = (now_ns() - t0) * 1e-9;
    return dt > 0 ? 12.0 * 16.0 * (double)n * lmr_pool_size(p) / dt : 0.0;
#else
    (void)p;
    (void)n;
    return 0.0;
#endif
}
