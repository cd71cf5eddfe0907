/* pool_test.c: every ith runs exactly once per dispatch (and every chunk once per run_chunks),
 * across many dispatches and pool sizes; the probes return sane values. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>

#include "kernels.h"
#include "test_util.h"

typedef struct {
    atomic_int count[16];
    atomic_int bad_nth;
    int nth;
} counts;

static void count_task(void *ctx, int ith, int nth) {
    counts *c = ctx;
    if (nth != c->nth || ith < 0 || ith >= nth) atomic_fetch_add(&c->bad_nth, 1);
    else atomic_fetch_add(&c->count[ith], 1);
}

/* run_chunks: every chunk exactly once per dispatch, whichever thread claims it */
typedef struct {
    atomic_int count[64];
    atomic_int bad;
    int nth;
} chunk_counts;

static void chunk_task(void *ctx, int ith, int chunk) {
    chunk_counts *c = ctx;
    if (ith < 0 || ith >= c->nth || chunk < 0 || chunk >= 64) atomic_fetch_add(&c->bad, 1);
    else atomic_fetch_add(&c->count[chunk], 1);
    if (chunk % 7 == 3) { /* an uneven chunk, so that claims interleave */
        volatile int s = 0;
        for (int i = 0; i < 2000; i++) s += i;
    }
}

static int check_chunks(lmr_pool *p, int nth) {
    int ok = 1;
    const int ns[] = {1, 2, 3, 8, 17, 64};
    for (int k = 0; k < 6; k++) {
        chunk_counts c = {.nth = nth};
        const int n_disp = 500;
        for (int i = 0; i < n_disp; i++) {
            lmr_pool_run_chunks(p, chunk_task, &c, ns[k]);
            if (i == n_disp / 2) {
                struct timespec ts = {0, 20 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
        ok &= atomic_load(&c.bad) == 0;
        for (int i = 0; i < 64; i++) ok &= atomic_load(&c.count[i]) == (i < ns[k] ? n_disp : 0);
    }
    return ok;
}

int main(void) {
    const int sizes[] = {1, 2, 3, 5};
    const int n_disp = 3000;
    for (int s = 0; s < 4; s++) {
        lmr_pool *p = lmr_pool_create(sizes[s]);
        CHECK(p && lmr_pool_size(p) == sizes[s], "create pool of %d", sizes[s]);
        if (!p) continue;
        counts c = {.nth = sizes[s]};
        for (int i = 0; i < n_disp; i++) {
            lmr_pool_run(p, count_task, &c);
            if (i == n_disp / 2) { /* let the workers fall asleep, then wake them again */
                struct timespec ts = {0, 30 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
        int ok = atomic_load(&c.bad_nth) == 0;
        for (int i = 0; i < sizes[s]; i++) ok &= atomic_load(&c.count[i]) == n_disp;
        CHECK(ok, "pool of %d: every ith ran exactly once in each of %d dispatches", sizes[s], n_disp);
        CHECK(check_chunks(p, sizes[s]), "pool of %d: every chunk ran exactly once (1..64 chunks)",
              sizes[s]);
        counts c2 = {.nth = sizes[s]}; /* run after run_chunks: still every ith once */
        for (int i = 0; i < 100; i++) {
            lmr_pool_run(p, count_task, &c2);
            lmr_pool_run_chunks(p, chunk_task, &(chunk_counts){.nth = sizes[s]}, 5);
        }
        ok = atomic_load(&c2.bad_nth) == 0;
        for (int i = 0; i < sizes[s]; i++) ok &= atomic_load(&c2.count[i]) == 100;
        CHECK(ok, "pool of %d: run and run_chunks alternate", sizes[s]);
        double ns = lmr_cpu_probe_dispatch(p, 200);
        /* a figure, not a speed test: on a busy machine one dispatch can wait for time slices */
        CHECK(ns > 0 && ns < 1e12, "pool of %d: dispatch costs %.0f ns", sizes[s], ns);
        lmr_pool_destroy(p);
    }
    lmr_pool_destroy(NULL);
    CHECK(lmr_pool_create(0) == NULL, "pool of 0 threads refused");
    lmr_pool *p = lmr_pool_create(2);
    double bps[3] = {0};
    int st = lmr_cpu_probe_bandwidth(p, 64u << 20, 3, bps);
    CHECK(st == 0 && bps[0] > 1e8 && bps[2] > 1e8, "bandwidth probe 64 MiB: %.1f GB/s", bps[2] / 1e9);
    CHECK(lmr_cpu_probe_bandwidth(p, 64u << 20, 0, bps) != 0, "bandwidth probe refuses 0 reps");
    lmr_pool_destroy(p);
    char name[128];
    lmr_cpu_name(name, sizeof name);
    CHECK(name[0] != 0, "cpu name \"%s\", simd \"%s\", %d cores", name, lmr_cpu_simd_name(),
          lmr_cpu_online_cores());
    CHECK(lmr_cpu_physical_memory() > 0 && lmr_cpu_available_memory() > 0 &&
              lmr_cpu_available_memory() <= lmr_cpu_physical_memory(),
          "memory: %.1f GiB physical, %.1f GiB available", lmr_cpu_physical_memory() / 1073741824.0,
          lmr_cpu_available_memory() / 1073741824.0);
    CHECK((lmr_cpu_simd_used() & ~lmr_cpu_simd_flags()) == 0, "kernels use only what the CPU has");
    lmr_cpu_force_scalar(1);
    CHECK(lmr_cpu_simd_used() == 0, "force_scalar: simd_used 0, name %s", lmr_cpu_simd_name());
    lmr_cpu_force_scalar(0);
    return test_summary();
}
