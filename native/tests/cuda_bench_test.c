/* cuda_bench_test.c: the CUDA backend's figures against its own hardware limits. Under ctest
 * (no arguments) a quick smoke run on tiny-qwen2; on an H100 run
 *   build-gpu/cuda_bench_test --preset qwen2.5-1.5b
 * for: read bandwidth (probe), launch overhead (eager / graph), decode step time at batch 1 for
 * both executors vs decode_bytes / bandwidth (target within 1.2x), TTFT of a 1024-token prompt
 * (target < 10 ms), step time at position 32640 vs 1 (fill_kv), batched decode efficiency at 2,
 * 4, 8, 16, 32 and 64 sequences (targets 90% at 8, 70% at 64); then the kernel variants kept for
 * comparison, graph executor: TTFT with the flash-decoding prefill attention
 * (LMR_CUDA_PREFILL_ATTENTION=split), batches 32/64 without split-K (LMR_CUDA_SPLITK=0),
 * and batches 2-16 through the GEMV (LMR_CUDA_GEMV_MAX=16).
 * The graph run also measures energy per token and average watts (NVML, when the driver has an
 * energy counter) over ~2 s of decode at batch 1 and at max_seqs.
 * Prints one line per figure; fails only on errors (figures are benchmarks, not tests). Without
 * a device it prints a SKIP line and returns 77 (LMR_TEST_SKIP), which ctest counts as skipped. */
#define _GNU_SOURCE /* setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#ifdef LMR_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

#define LMR_TEST_SKIP 77 /* as tests/check.h (not included: this file has its own CHECK) */

#define FAIL(what, e)                                                                            \
    do {                                                                                         \
        printf("FAIL %s: %s\n", what, lmr_last_error(e));                                        \
        return 1;                                                                                \
    } while (0)

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#ifdef LMR_HAVE_CUDA
/* --kernels: per-kernel times (profile mode: events around every launch, eager executor) of a
 * 1024-token prefill, decode steps at batch 1 near position 1024 and at 32640, batches 4 and 8,
 * and greedy generation (sampling included), one table per phase, per step. */
static int kernel_profile(const char *preset) {
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = LMR_BACKEND_CUDA;
    ep.executor = LMR_EXECUTOR_EAGER;
    ep.profile = 1;
    lmr_engine *e = NULL;
    if (lmr_engine_create(&ep, &e) != LMR_OK) FAIL("engine", NULL);
    lmr_model_params mp = lmr_model_params_default();
    lmr_model *m = NULL;
    if (lmr_model_synthesize(e, preset, &mp, &m) != LMR_OK) FAIL("synthesize", e);
    lmr_model_info mi = lmr_model_info_default();
    lmr_model_info_get(m, &mi);
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = 8;
    sp.max_ctx = 32768;
    sp.kv_budget_bytes = 4ull << 30;
    lmr_session *s = NULL;
    if (lmr_session_create(m, &sp, &s) != LMR_OK) FAIL("session", e);
    enum { NP = 1024 };
    static int32_t prompt[NP], out[64];
    for (int i = 0; i < NP; i++) prompt[i] = (int32_t)((i * 7919) % mi.vocab);
    static char buf[16384];
    int32_t seqs[8] = {0, 1, 2, 3, 4, 5, 6, 7}, tok[8] = {3, 4, 5, 6, 7, 8, 9, 10};
    for (int phase = 0; phase < 6; phase++) {
        const char *what[6] = {"prefill 1024 tokens", "decode batch 1 at position ~1040",
                               "decode batch 1 at position 32640", "decode batch 4",
                               "decode batch 8", "generate 32 tokens (greedy, per token)"};
        int steps = 1, B = 1;
        if (phase == 0 || phase == 1) {
            lmr_session_reset(s, 0);
            if (phase == 1 && lmr_session_prefill(s, 0, prompt, NP) != LMR_OK) FAIL("prefill", e);
        }
        if (phase == 2 && lmr_session_fill_kv(s, 0, 32640, 3) != LMR_OK) FAIL("fill_kv", e);
        if (phase == 3 || phase == 4) {
            B = phase == 3 ? 4 : 8;
            for (int i = 0; i < B; i++) {
                lmr_session_reset(s, i);
                if (lmr_session_prefill(s, i, prompt, 16) != LMR_OK) FAIL("prefill", e);
            }
        }
        if (phase == 5) lmr_session_reset(s, 0);
        /* one untimed pass (first launches), then the measured ones */
        for (int rep = 0; rep < 2; rep++) {
            lmr_cuda_profile_reset();
            if (phase == 0) {
                lmr_session_reset(s, 0);
                if (lmr_session_prefill(s, 0, prompt, NP) != LMR_OK) FAIL("prefill", e);
            } else if (phase == 5) {
                lmr_sampler_params smp = lmr_sampler_params_default();
                lmr_generate_stats g = lmr_generate_stats_default();
                lmr_session_reset(s, 0);
                steps = 32;
                if (lmr_session_generate(s, 0, prompt, 16, 32, &smp, out, NULL, &g) != LMR_OK)
                    FAIL("generate", e);
            } else {
                steps = 10;
                for (int i = 0; i < steps; i++)
                    if (lmr_session_decode(s, seqs, tok, B) != LMR_OK) FAIL("decode", e);
            }
        }
        lmr_cuda_profile_report(buf, sizeof buf, steps);
        printf("%s kernels, %s (per %s; events around each launch):\n%s", preset, what[phase],
               phase == 0 ? "prefill" : "step", buf);
    }
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
    return 0;
}
#endif

int main(int argc, char **argv) {
#ifndef LMR_HAVE_CUDA
    printf("SKIP cuda: the CUDA backend is not compiled into this build\n");
    return LMR_TEST_SKIP;
#else
    const char *why = lmr_cuda_no_device_reason();
    if (why) {
        printf("SKIP cuda: no CUDA device (%s)\n", why);
        return LMR_TEST_SKIP;
    }
    const char *preset = "tiny-qwen2";
    int full = 0;
    int kernels = 0;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--preset")) preset = argv[i + 1], full = 1;
        if (!strcmp(argv[i], "--kernels")) kernels = 1;
    }
    if (kernels) return kernel_profile(preset);
    /* runs 0, 1: eager, graph; then graph with one kernel variant each (engine environment):
     * 2: flash-decoding prefill attention; 3: no split-K; 4: the GEMV for up to 16 tokens */
    enum { NX = 5 };
    int32_t ex[NX] = {LMR_EXECUTOR_EAGER};
    for (int x = 1; x < NX; x++) ex[x] = LMR_EXECUTOR_GRAPH;
    const char *names[NX] = {"eager", "graph", "graph prefill-attention=split", "graph splitk=0",
                             "graph gemv-max=16"};
    const char *env_name[NX] = {NULL, NULL, "LMR_CUDA_PREFILL_ATTENTION", "LMR_CUDA_SPLITK",
                                "LMR_CUDA_GEMV_MAX"};
    const char *env_val[NX] = {NULL, NULL, "split", "0", "16"};
    double bw = 0, step_ms[2] = {0, 0};
    for (int x = 0; x < (full ? NX : 2); x++) {
        lmr_engine_params ep = lmr_engine_params_default();
        ep.backend = LMR_BACKEND_CUDA;
        ep.executor = ex[x];
        if (env_name[x]) setenv(env_name[x], env_val[x], 1);
        lmr_engine *e = NULL;
        if (lmr_engine_create(&ep, &e) != LMR_OK) FAIL("engine", NULL);
        if (env_name[x]) unsetenv(env_name[x]); /* read by engine creation only */
        lmr_engine_info in = lmr_engine_info_default();
        lmr_engine_info_get(e, &in);
        if (x == 0) {
            printf("device %s, %d SMs, cc %d, %d kHz SM / %d kHz memory, %d-bit bus, %.1f GiB, "
                   "driver %d, runtime %d\n",
                   in.device_name, in.sm_count, in.compute_capability, in.clock_khz,
                   in.mem_clock_khz, in.mem_bus_bits, (double)in.device_memory_bytes / (1 << 30),
                   in.driver_version, in.runtime_version);
            double s[5];
            if (lmr_probe_bandwidth(e, full ? 2ull << 30 : 256ull << 20, 5, s) != LMR_OK)
                FAIL("probe_bandwidth", e);
            for (int i = 0; i < 5; i++) bw = s[i] > bw ? s[i] : bw;
            double le, lg;
            if (lmr_probe_launch(e, 10000, &le, &lg) != LMR_OK) FAIL("probe_launch", e);
            printf("read bandwidth %.1f GB/s (best of 5); launch %.0f ns eager, %.0f ns per graph "
                   "node\n", bw / 1e9, le, lg);
        }
        lmr_model_params mp = lmr_model_params_default();
        lmr_model *m = NULL;
        if (lmr_model_synthesize(e, preset, &mp, &m) != LMR_OK) FAIL("synthesize", e);
        lmr_model_info mi = lmr_model_info_default();
        lmr_model_info_get(m, &mi);
        lmr_session_params sp = lmr_session_params_default();
        sp.max_seqs = full ? 64 : 8;
        sp.max_ctx = full ? 32768 : mi.max_pos;
        sp.kv_budget_bytes = full ? (8ull << 30) : 0;
        lmr_session *s = NULL;
        if (lmr_session_create(m, &sp, &s) != LMR_OK) FAIL("session", e);

        /* TTFT: prefill + first greedy sample of a 1024-token (smoke: 100) prompt */
        int np = full ? 1024 : 100, ngen = full ? 128 : 16;
        int32_t *prompt = malloc(sizeof(int32_t) * (size_t)np), *out = malloc(sizeof(int32_t) * (size_t)ngen);
        uint64_t *st = malloc(sizeof(uint64_t) * (size_t)ngen);
        for (int i = 0; i < np; i++) prompt[i] = (int32_t)((i * 7919) % mi.vocab);
        lmr_sampler_params smp = lmr_sampler_params_default();
        lmr_generate_stats g = lmr_generate_stats_default();
        for (int rep = 0; rep < 3; rep++) { /* the last rep is reported (first ones warm up) */
            lmr_session_reset(s, 0);
            if (lmr_session_generate(s, 0, prompt, np, ngen, &smp, out, st, &g) != LMR_OK)
                FAIL("generate", e);
        }
        qsort(st + 1, (size_t)ngen - 1, sizeof st[0], cmp_u64);
        double med = (double)st[1 + (ngen - 1) / 2] / 1e6;
        if (x < 2) step_ms[x] = med;
        double limit = (double)mi.decode_bytes / bw * 1e3;
        lmr_counters c = lmr_counters_default();
        lmr_counters_get(e, &c);
        printf("%s %s: TTFT(%d) %.2f ms; decode step median %.3f ms (%.0f tok/s), limit %.3f ms "
               "-> %.2fx of the limit, %llu kernels/step\n",
               preset, names[x], np, (double)g.ttft_ns / 1e6, med, 1e3 / med, limit,
               med / limit, (unsigned long long)c.kernels_last_step);

        /* step time at a deep position vs position 1 (fill_kv) */
        int deep = sp.max_ctx - 128;
        uint64_t at[2] = {0, 0};
        int pos[2] = {1, deep};
        const int sweep = x < 2;
        for (int k = 0; k < 2 && sweep; k++) {
            if (lmr_session_fill_kv(s, 0, pos[k], 3) != LMR_OK) FAIL("fill_kv", e);
            int32_t tok = 5;
            uint64_t best = UINT64_MAX;
            for (int i = 0; i < 20; i++) {
                if (lmr_session_decode(s, (int32_t[]){0}, &tok, 1) != LMR_OK) FAIL("decode", e);
                lmr_counters_get(e, &c);
                if (c.last_call_ns < best) best = c.last_call_ns;
            }
            at[k] = best;
        }
        double kvb = (double)mi.kv_bytes_per_token * deep / 1e6; /* engine default KV dtype */
        if (sweep) printf("%s %s: step at position 1 %.3f ms, at %d %.3f ms (+%.3f ms; the extra %.0f MB "
               "of KV explain %.3f ms)\n",
               preset, names[x], at[0] / 1e6, deep, at[1] / 1e6,
               (at[1] - (double)at[0]) / 1e6, kvb, kvb * 1e6 / bw * 1e3);

        /* batched decode efficiency: tokens/s of B sequences / (B x tokens/s of one) */
        /* batch 1 reference for the efficiency: position 1 above, or measured again */
        if (x >= 2) {
            lmr_session_reset(s, 0);
            if (lmr_session_prefill(s, 0, prompt, 16) != LMR_OK) FAIL("prefill", e);
            uint64_t best = UINT64_MAX;
            for (int i = 0; i < 20; i++) {
                int32_t tok = 5;
                if (lmr_session_decode(s, (int32_t[]){0}, &tok, 1) != LMR_OK) FAIL("decode", e);
                lmr_counters_get(e, &c);
                if (c.last_call_ns < best) best = c.last_call_ns;
            }
            at[0] = best;
        }
        /* energy per token (NVML) over ~2 s of decode (smoke: 0.3 s), graph executor: batch 1
         * and the largest batch */
        for (int k = 0; k < 2 && x == 1; k++) {
            const int B = k == 0 ? 1 : sp.max_seqs;
            int32_t seqs[64], tok[64];
            for (int i = 0; i < B; i++) {
                seqs[i] = i, tok[i] = 3 + i;
                lmr_session_reset(s, i);
                if (lmr_session_prefill(s, i, prompt, 16) != LMR_OK) FAIL("prefill", e);
            }
            lmr_counters_reset(e);
            const uint64_t window = full ? 2000000000ull : 300000000ull;
            int steps = 0;
            do {
                if (steps > 0 && steps % 400 == 0) /* stay inside max_ctx (>= 512) */
                    for (int i = 0; i < B; i++) {
                        lmr_session_reset(s, i);
                        if (lmr_session_prefill(s, i, prompt, 16) != LMR_OK) FAIL("prefill", e);
                    }
                if (lmr_session_decode(s, seqs, tok, B) != LMR_OK) FAIL("energy decode", e);
                steps++;
                lmr_counters_get(e, &c);
            } while (c.decode_ns < window);
            if (c.energy_ns == 0)
                printf("%s %s: energy batch %d: absent (no NVML energy counter)\n", preset,
                       names[x], B);
            else
                printf("%s %s: energy batch %d: %.3f J/token, %.0f W average (%.1f J over %.2f s, "
                       "%llu tokens)\n",
                       preset, names[x], B, c.energy_mj / 1e3 / (double)c.decode_tokens,
                       c.energy_mj * 1e6 / (double)c.energy_ns, c.energy_mj / 1e3,
                       c.energy_ns / 1e9, (unsigned long long)c.decode_tokens);
        }

        int bs[6] = {2, 4, 8, 16, 32, 64}, nbs = full ? 6 : 3;
        for (int k = x == 2 ? nbs : 0; k < nbs && sp.max_seqs >= bs[k]; k++) {
            int B = bs[k];
            if (x == 3 && B < 32) continue; /* split-K only changes 17..64 */
            if (x == 4 && B > 16) continue; /* the GEMV takes 16 tokens at most */
            int32_t seqs[64], tok[64];
            for (int i = 0; i < B; i++) {
                seqs[i] = i, tok[i] = 3 + i;
                lmr_session_reset(s, i);
                if (lmr_session_prefill(s, i, prompt, 16) != LMR_OK) FAIL("prefill", e);
            }
            uint64_t best = UINT64_MAX;
            for (int i = 0; i < 20; i++) {
                if (lmr_session_decode(s, seqs, tok, B) != LMR_OK) FAIL("batched decode", e);
                lmr_counters_get(e, &c);
                if (c.last_call_ns < best) best = c.last_call_ns;
            }
            printf("%s %s: batch %d step %.3f ms, efficiency %.0f%%\n", preset, names[x], B,
                   best / 1e6, 100.0 * at[0] / (double)best);
        }
        free(prompt), free(out), free(st);
        lmr_session_destroy(s);
        lmr_model_destroy(m);
        lmr_engine_destroy(e);
    }
    printf("executor ratio (graph TPS / eager TPS) at batch 1: %.2f\n", step_ms[0] / step_ms[1]);
    printf("ok   benchmark ran\n");
    return 0;
#endif
}
