/* engine_bench.c: a CPU benchmark of the engine alone (no FFI): prefill tokens/s at given prompt
 * lengths (llama-bench's ppN), decode tokens/s over N generated tokens (tgN), and decode bytes/s
 * as a fraction of the measured read bandwidth. Weights are synthetic (a preset's real shapes).
 *
 *   lmrig-bench [--preset qwen2.5-1.5b] [--threads 0] [--prompts 128,512] [--gen 128]
 *               [--reps 3] [--dtype bf16|f16|f32] [--chunk 0] [--layers 0] [--batch 1]
 *               [--profile 0|1] [--positions 1024,4096] [--kv f32|bf16|f16]
 *
 * Figures are medians over --reps runs (after one warm-up run), timed by the engine itself, with
 * the slowest and fastest run's figure beside them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmrig.h"

#define MAX_PROMPTS 8

typedef struct {
    const char *preset;
    int threads, gen, reps, chunk, layers, batch, profile, n_prompts, n_positions;
    int prompts[MAX_PROMPTS], positions[MAX_PROMPTS];
    int dtype, kv; /* weights; KV cache (-1: the backend's default) */
} args;

/* LMR_DTYPE_* for "f32", "bf16", "f16"; -1 for anything else */
static int parse_dtype(const char *v) {
    return !strcmp(v, "f32") ? LMR_DTYPE_F32 : !strcmp(v, "bf16") ? LMR_DTYPE_BF16
           : !strcmp(v, "f16") ? LMR_DTYPE_F16 : -1;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static int cmp_f64(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static uint64_t median_u64(uint64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_list(const char *v, int *out) {
    int n = 0;
    for (char *s = (char *)v; *s && n < MAX_PROMPTS;) {
        out[n++] = (int)strtol(s, &s, 10);
        if (*s == ',') s++;
    }
    return n;
}

static int parse(int argc, char **argv, args *a) {
    *a = (args){"qwen2.5-1.5b", 0, 128, 3, 0, 0, 1, 0, 2, 0, {128, 512}, {0}, LMR_DTYPE_BF16, -1};
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return fprintf(stderr, "missing value after %s\n", k), -1;
        i++;
        if (!strcmp(k, "--preset")) a->preset = v;
        else if (!strcmp(k, "--threads")) a->threads = atoi(v);
        else if (!strcmp(k, "--gen")) a->gen = atoi(v);
        else if (!strcmp(k, "--reps")) a->reps = atoi(v);
        else if (!strcmp(k, "--chunk")) a->chunk = atoi(v);
        else if (!strcmp(k, "--layers")) a->layers = atoi(v);
        else if (!strcmp(k, "--batch")) a->batch = atoi(v);
        else if (!strcmp(k, "--profile")) a->profile = atoi(v);
        else if (!strcmp(k, "--dtype") || !strcmp(k, "--kv")) {
            int d = parse_dtype(v);
            if (d < 0) return fprintf(stderr, "%s %s: expected f32, bf16 or f16\n", k, v), -1;
            *(!strcmp(k, "--kv") ? &a->kv : &a->dtype) = d;
        } else if (!strcmp(k, "--prompts")) {
            a->n_prompts = parse_list(v, a->prompts);
        } else if (!strcmp(k, "--positions")) {
            a->n_positions = parse_list(v, a->positions);
        } else return fprintf(stderr, "unknown option %s\n", k), -1;
    }
    if (a->reps < 1 || a->gen < 2 || a->batch < 1 || a->n_prompts < 1)
        return fprintf(stderr, "--reps >= 1, --gen >= 2, --batch >= 1, --prompts non-empty\n"), -1;
    return 0;
}

#define TRY(call, e)                                                                             \
    do {                                                                                         \
        if ((call) != LMR_OK) {                                                                  \
            fprintf(stderr, "%s failed: %s\n", #call, lmr_last_error(e));                        \
            return 1;                                                                            \
        }                                                                                        \
    } while (0)

int main(int argc, char **argv) {
    args a;
    if (parse(argc, argv, &a) != 0) return 2;
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = LMR_BACKEND_CPU;
    ep.n_threads = a.threads;
    ep.profile = a.profile;
    lmr_engine *e = NULL;
    TRY(lmr_engine_create(&ep, &e), NULL);
    lmr_engine_info ei = lmr_engine_info_default();
    lmr_engine_info_get(e, &ei);
    printf("cpu: %s, %d threads of %d cores, kernels %s\nbuild: %s\n", ei.cpu_name, ei.n_threads,
           ei.n_cores, ei.simd_name, ei.build_flags);

    double bw[5];
    TRY(lmr_probe_bandwidth(e, 512ull << 20, 5, bw), e);
    qsort(bw, 5, sizeof bw[0], cmp_f64);
    double eager_ns = 0, graph_ns = 0;
    TRY(lmr_probe_launch(e, 2000, &eager_ns, &graph_ns), e);
    /* The host's bandwidth moves between probes: percentages use the best sample (the ceiling the
     * machine showed), and the probe is repeated at the end to show how much it moved. */
    const double ceiling = bw[4];
    printf("read bandwidth: %.2f GB/s median, %.2f best of 5 x 512 MiB (percentages use the best), "
           "dispatch %.0f ns\n", bw[2] / 1e9, ceiling / 1e9, eager_ns);

    lmr_model_params mp = lmr_model_params_default();
    mp.dtype = a.dtype;
    mp.n_layers = a.layers;
    mp.seed = 1;
    lmr_model *m = NULL;
    TRY(lmr_model_synthesize(e, a.preset, &mp, &m), e);
    lmr_model_info mi = lmr_model_info_default();
    lmr_model_info_get(m, &mi);
    printf("model: %s (%s, %d layers), %.3f B params, %.3f GB weights, %.3f GB per decode step, "
           "synthesized in %.2f s\n",
           mi.name, mi.arch, mi.n_layers, mi.n_params / 1e9, mi.weight_bytes / 1e9,
           mi.decode_bytes / 1e9, mi.load_ns / 1e9);

    int max_prompt = 0;
    for (int i = 0; i < a.n_prompts; i++)
        if (a.prompts[i] > max_prompt) max_prompt = a.prompts[i];
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = a.batch;
    for (int i = 0; i < a.n_positions; i++)
        if (a.positions[i] + 16 > max_prompt) max_prompt = a.positions[i] + 16;
    sp.max_ctx = (max_prompt > a.gen ? max_prompt : a.gen) + 8;
    sp.prefill_chunk = a.chunk;
    if (a.kv >= 0) sp.kv_dtype = a.kv;
    lmr_session *s = NULL;
    TRY(lmr_session_create(m, &sp, &s), e);
    lmr_session_info si = lmr_session_info_default();
    lmr_session_info_get(s, &si);
    printf("kv cache: %s, %llu bytes per token\n",
           si.kv_dtype == LMR_DTYPE_F32 ? "f32" : si.kv_dtype == LMR_DTYPE_F16 ? "f16" : "bf16",
           (unsigned long long)si.kv_bytes_per_token);
    lmr_counters_reset(e);

    int32_t *tok = malloc(sizeof(int32_t) * (size_t)(max_prompt + a.gen + a.batch));
    for (int i = 0; i < max_prompt + a.gen + a.batch; i++)
        tok[i] = (int32_t)((i * 7919 + 13) % mi.vocab);
    uint64_t *t = malloc(sizeof(uint64_t) * (size_t)(a.reps * (a.gen + 1)));
    lmr_counters c = lmr_counters_default();

    for (int i = 0; i < a.n_prompts; i++) {
        int n = a.prompts[i];
        for (int r = 0; r <= a.reps; r++) { /* run 0 is the warm-up */
            lmr_session_reset(s, 0);
            TRY(lmr_session_prefill(s, 0, tok, n), e);
            lmr_counters_get(e, &c);
            if (r) t[r - 1] = c.last_call_ns;
        }
        uint64_t med = median_u64(t, a.reps); /* sorts t: t[0] fastest, t[reps - 1] slowest */
        printf("pp%-5d %8.2f tokens/s  (%.1f ms; %d reps %.2f-%.2f; chunk %d", n, n / (med / 1e9),
               med / 1e6, a.reps, n / (t[a.reps - 1] / 1e9), n / (t[0] / 1e9), si.prefill_chunk);
        if (a.profile) printf(", ops %.1f%% of the time", 100.0 * c.kernel_ns / c.prefill_ns);
        printf(")\n");
        lmr_counters_reset(e);
    }

    /* tgN: a 1-token prompt, then N decode steps, each forward + greedy sample. */
    lmr_sampler_params greedy = lmr_sampler_params_default();
    int n_out = a.gen + 1 > 17 ? a.gen + 1 : 17;
    int32_t *out = malloc(sizeof(int32_t) * (size_t)n_out);
    uint64_t *steps = malloc(sizeof(uint64_t) * (size_t)n_out);
    uint64_t *tg = malloc(sizeof(uint64_t) * (size_t)a.reps);
    for (int r = 0; r <= a.reps; r++) {
        lmr_session_reset(s, 0);
        TRY(lmr_session_generate(s, 0, tok, 1, a.gen + 1, &greedy, out, steps, NULL), e);
        uint64_t sum = 0;
        for (int i = 1; i <= a.gen; i++) sum += steps[i];
        if (r) {
            tg[r - 1] = sum;
            memcpy(t + (size_t)(r - 1) * a.gen, steps + 1, sizeof(uint64_t) * (size_t)a.gen);
        }
    }
    uint64_t med = median_u64(tg, a.reps), step = median_u64(t, a.reps * a.gen);
    double tg_lo = a.gen / (tg[a.reps - 1] / 1e9), tg_hi = a.gen / (tg[0] / 1e9);
    lmr_counters_get(e, &c);
    if (a.profile)
        printf("generate: ops %.1f%% of forward time, sampling %.1f%% of the time\n",
               100.0 * c.kernel_ns / (c.decode_ns + c.prefill_ns),
               100.0 * c.sample_ns / (c.decode_ns + c.prefill_ns + c.sample_ns));
    /* Bytes one step reads: the weights plus, on average, half the generated context's KV. */
    double kv = (double)si.kv_bytes_per_token * (a.gen / 2.0), bytes = mi.decode_bytes + kv;
    printf("tg%-5d %8.2f tokens/s  (%d reps %.2f-%.2f; median step %.2f ms, %llu ops per step)\n",
           a.gen, a.gen / (med / 1e9), a.reps, tg_lo, tg_hi, step / 1e6,
           (unsigned long long)c.kernels_last_step);
    printf("decode reads %.3f GB per step: %.2f GB/s = %.1f%% of measured bandwidth\n",
           bytes / 1e9, bytes / (step / 1e9) / 1e9, 100.0 * bytes / (step / 1e9) / ceiling);

    /* Step time at cache position P: fill_kv to P, then 16 greedy steps. */
    for (int i = 0; i < a.n_positions; i++) {
        TRY(lmr_session_fill_kv(s, 0, a.positions[i], 7), e);
        TRY(lmr_session_generate(s, 0, tok, 1, 17, &greedy, out, steps, NULL), e);
        uint64_t at = median_u64(steps + 1, 16);
        double kvb = (double)si.kv_bytes_per_token * a.positions[i];
        printf("step at position %-6d %.2f ms (reads %.3f GB: %.1f%% of bandwidth)\n",
               a.positions[i], at / 1e6, (mi.decode_bytes + kvb) / 1e9,
               100.0 * (mi.decode_bytes + kvb) / (at / 1e9) / ceiling);
    }

    if (a.batch > 1) { /* batched decode: all sequences step together */
        int32_t *seqs = malloc(sizeof(int32_t) * (size_t)a.batch);
        for (int q = 0; q < a.batch; q++) {
            seqs[q] = q;
            lmr_session_reset(s, q);
            TRY(lmr_session_prefill(s, q, tok + q, 1), e);
        }
        uint64_t sum = 0;
        for (int i = 0; i < a.gen; i++) {
            TRY(lmr_session_decode(s, seqs, tok + i, a.batch), e);
            lmr_counters_get(e, &c);
            sum += c.last_call_ns;
        }
        printf("batch %d: %.2f tokens/s total (%.2f ms per step; %.2fx batch 1)\n", a.batch,
               a.batch * a.gen / (sum / 1e9), sum / 1e6 / a.gen,
               (a.batch * a.gen / (sum / 1e9)) / (a.gen / (med / 1e9)));
        free(seqs);
    }
    TRY(lmr_probe_bandwidth(e, 512ull << 20, 5, bw), e);
    qsort(bw, 5, sizeof bw[0], cmp_f64);
    printf("read bandwidth after the run: %.2f GB/s best (%+.0f%% against the ceiling used)\n",
           bw[4] / 1e9, 100.0 * (bw[4] / ceiling - 1.0));
    free(tok), free(t), free(out), free(steps), free(tg);
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
    return 0;
}
