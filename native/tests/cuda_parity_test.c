/* cuda_parity_test.c: the CUDA backend against the CPU backend (the specification) and against
 * itself. Without a device (or without CUDA in the build) it checks that the library says so
 * cleanly, prints a SKIP line and returns the skip code (ctest: skipped). With one:
 * - kernels: linear (GEMV, tensor-core GEMM with and without split-K, SIMT; every epilogue) vs
 *   a host reference; attention vs lmr_cpu_attention_ref: the flash-decoding kernel (decode
 *   with several splits, prefill) and the fused prefill kernel (tol 5e-3: FP16 tensor cores);
 * - models (tiny-qwen2, tiny-llama, qwen2.5-0.5b and qwen2.5-1.5b cut to 2 layers: head_dim 16,
 *   64 and 128, GQA groups 2, 7 and 6, biases, tied and untied): prefill logits, greedy tokens for 64 steps (a mismatch is accepted only at
 *   a near-tie of the CPU's top two logits), batched decode == single decode, graph == eager
 *   bit for bit, fill_kv then decode up to max_ctx - 1, generate (device greedy, logits never
 *   copied) == step-by-step argmax of the fetched logits, profile counters;
 * - long and chunked prefill with both prefill attention kernels (LMR_CUDA_PREFILL_ATTENTION);
 * - batched decode of 33 and 20 sequences (split-K GEMM, graph buckets 64 and 32): vs the CPU,
 *   graph == eager bit for bit, one capture per bucket, split-K == unsplit (LMR_CUDA_SPLITK=0).
 * - energy: an NVML figure, when the machine has one, is plausible (5-2000 W) and resets.
 * Without a device the test exits 77 (CTest's skip code) after its no-device checks.
 * Differences are max |a - b| / max |b| over the logits. Tolerances: prefill goes through the
 * tensor-core GEMM (activations rounded to BF16) -> 3e-2 with BF16 KV, 2e-2 with F32 KV; decode
 * through the GEMV (FP32 activations) -> 2e-2 / 1e-2 (the KV cache is the rest). */
#define _GNU_SOURCE /* setenv */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "check.h"
#include "cpu/kernels.h"
#ifdef LMR_HAVE_CUDA
#include "cuda/cuda_backend.h"

static double rel(const float *a, const float *b, int n) {
    double d = 0, mx = 0;
    for (int i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        mx = fmax(mx, fabs((double)b[i]));
    }
    return d / fmax(mx, 1e-30);
}

static void fill(float *x, size_t n, uint32_t seed, float scale) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
    }
}

static void tokens(int32_t *t, int n, int vocab, uint32_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)vocab);
    }
}

static lmr_engine *engine(int32_t backend, int32_t executor, int32_t profile) {
    lmr_engine_params p = lmr_engine_params_default();
    p.backend = backend;
    p.executor = executor;
    p.profile = profile;
    lmr_engine *e = NULL;
    if (lmr_engine_create(&p, &e) != LMR_OK) printf("engine: %s\n", lmr_last_error(NULL));
    return e;
}

static lmr_model *synth(lmr_engine *e, const char *preset, int32_t layers) {
    lmr_model_params p = lmr_model_params_default();
    p.seed = 7;
    p.n_layers = layers;
    lmr_model *m = NULL;
    if (lmr_model_synthesize(e, preset, &p, &m) != LMR_OK)
        printf("synthesize %s: %s\n", preset, lmr_last_error(e));
    return m;
}

static int32_t chunk_tokens; /* prefill_chunk of the next sessions (0: default) */

static lmr_session *session(lmr_model *m, int32_t max_seqs, int32_t kv_dtype) {
    lmr_session_params p = lmr_session_params_default();
    p.max_seqs = max_seqs;
    p.max_ctx = 512;
    p.prefill_chunk = chunk_tokens;
    p.kv_dtype = kv_dtype;
    lmr_session *s = NULL;
    if (m && lmr_session_create(m, &p, &s) != LMR_OK) printf("session: %s\n", lmr_last_error(NULL));
    return s;
}

/* ---- kernels ---- */

static void check_linear(int wdtype, int n, int in, int out, int mode, int norm, int splitk,
                         double tol) {
    size_t wn = (size_t)out * in;
    float *wf = malloc(sizeof(float) * wn), *x = malloc(sizeof(float) * (size_t)n * in);
    float *b = malloc(sizeof(float) * out), *nw = malloc(sizeof(float) * in);
    float *ref = malloc(sizeof(float) * (size_t)n * out), *y = calloc((size_t)n * out, 4);
    float *y0 = malloc(sizeof(float) * (size_t)n * out), *xn = malloc(sizeof(float) * (size_t)n * in);
    void *W = malloc(wn * 4);
    fill(wf, wn, 1, 0.05f), fill(x, (size_t)n * in, 2, 1.0f), fill(b, out, 3, 0.1f);
    fill(nw, in, 4, 1.0f), fill(y0, (size_t)n * out, 5, 1.0f);
    lmr_cpu_row_from_f32(wf, wdtype, W, (int64_t)wn);
    memcpy(xn, x, sizeof(float) * (size_t)n * in);
    if (norm) lmr_cpu_rmsnorm(x, nw, LMR_DTYPE_F32, 1e-6f, n, in, xn);
    memcpy(ref, y0, sizeof(float) * (size_t)n * out);
    lmr_cpu_matmul_ref(xn, n, in, W, wdtype, out, mode == 0 ? b : NULL, ref, mode == 1);
    int yo = out;
    if (mode == 2) { /* silu(row 2i) * row 2i+1 */
        yo = out / 2;
        for (int t = 0; t < n; t++)
            for (int i = 0; i < yo; i++) {
                float g = ref[(size_t)t * out + 2 * i], u = ref[(size_t)t * out + 2 * i + 1];
                ref[(size_t)t * yo + i] = g / (1.0f + expf(-g)) * u;
            }
    }
    if (mode == 1) memcpy(y, y0, sizeof(float) * (size_t)n * out);
    char err[512] = "";
    lmr_status st = lmr_cuda_check_linear(wdtype, n, in, out, W, x, mode == 0 ? b : NULL, mode,
                                          norm ? nw : NULL, 1e-6f, splitk, y, err, sizeof err);
    double r = st == LMR_OK ? rel(y, ref, n * yo) : 1e9;
    CHECK(r <= tol, "linear %s n=%d in=%d out=%d mode=%d norm=%d splitk=%d: rel %.2e <= %.0e %s",
          lmr_dtype_name(wdtype), n, in, out, mode, norm, splitk, r, tol, err);
    free(wf), free(x), free(b), free(nw), free(ref), free(y), free(y0), free(xn), free(W);
}

/* The split-K GEMM against the unsplit one on the same inputs (the engine's real shapes):
 * only the FP32 summation order over K differs, so they agree to ~1e-6. */
static void check_splitk(int wdtype, int n, int in, int out, int mode, int norm) {
    float *W32 = malloc(sizeof(float) * (size_t)out * in), *x = malloc(sizeof(float) * (size_t)n * in);
    float *b = malloc(sizeof(float) * (size_t)out), *nw = malloc(sizeof(float) * (size_t)in);
    float *y[2];
    void *W = malloc((size_t)lmr_dtype_bytes(wdtype) * (size_t)out * in);
    fill(W32, (size_t)out * in, 21, 0.05f), fill(x, (size_t)n * in, 22, 1.0f);
    fill(b, (size_t)out, 23, 0.1f), fill(nw, (size_t)in, 24, 1.0f);
    lmr_cpu_row_from_f32(W32, wdtype, W, (int64_t)out * in);
    char err[512] = "";
    lmr_status st = LMR_OK;
    for (int sk = 0; sk < 2; sk++) {
        y[sk] = calloc((size_t)n * out, sizeof(float));
        if (st == LMR_OK)
            st = lmr_cuda_check_linear(wdtype, n, in, out, W, x, mode == 0 ? b : NULL, mode,
                                       norm ? nw : NULL, 1e-6f, sk, y[sk], err, sizeof err);
    }
    const int yo = mode == 2 ? out / 2 : out;
    double r = st == LMR_OK ? rel(y[1], y[0], n * yo) : 1e9;
    CHECK(r <= 1e-5, "split-K == unsplit GEMM %s n=%d in=%d out=%d mode=%d norm=%d: rel %.2e <= "
          "1e-5 %s", lmr_dtype_name(wdtype), n, in, out, mode, norm, r, err);
    free(W32), free(x), free(b), free(nw), free(W), free(y[0]), free(y[1]);
}

static void check_attention(int kv_dtype, int n_tok, int pos0, int nh, int nkv, int hd,
                            int split, int fused) {
    const int bt = 16, len = pos0 + n_tok, nb = (len + bt - 1) / bt + 3;
    size_t pool_n = (size_t)nb * bt * nkv * hd;
    float *pf = malloc(sizeof(float) * pool_n * 2), *q = malloc(sizeof(float) * (size_t)n_tok * nh * hd);
    float *ref = malloc(sizeof(float) * (size_t)n_tok * nh * hd), *out = malloc(sizeof(float) * (size_t)n_tok * nh * hd);
    void *kp = malloc(pool_n * 4), *vp = malloc(pool_n * 4);
    int32_t table[1024];
    if (nb > 1024) return;
    for (int i = 0; i < nb; i++) table[i] = (i * 7 + 2) % nb; /* scattered blocks */
    fill(pf, pool_n * 2, 11, 1.7f), fill(q, (size_t)n_tok * nh * hd, 12, 1.7f);
    lmr_cpu_row_from_f32(pf, kv_dtype, kp, (int64_t)pool_n);
    lmr_cpu_row_from_f32(pf + pool_n, kv_dtype, vp, (int64_t)pool_n);
    lmr_cpu_attention_ref(q, n_tok, pos0, kp, vp, kv_dtype, table, bt, nh, nkv, hd, ref);
    char err[512] = "";
    lmr_status st = lmr_cuda_check_attention(q, n_tok, pos0, kp, vp, kv_dtype, nb, table, nb, bt,
                                             nh, nkv, hd, split, fused, out, err, sizeof err);
    double r = st == LMR_OK ? rel(out, ref, n_tok * nh * hd) : 1e9;
    const double tol = fused ? 5e-3 : 1e-4;
    CHECK(r <= tol, "attention %s %s tokens=%d pos0=%d heads=%d/%d hd=%d split=%d: rel %.2e <= "
          "%.0e %s",
          fused ? "fused prefill" : "flash-decoding", lmr_dtype_name(kv_dtype), n_tok, pos0, nh,
          nkv, hd, split, r, tol, err);
    free(pf), free(q), free(ref), free(out), free(kp), free(vp);
}

/* ---- models ---- */

typedef struct {
    lmr_engine *e;
    lmr_model *m;
    lmr_session *s;
} rig;

static rig rig_open(int32_t backend, int32_t executor, const char *preset, int32_t layers,
                    int32_t max_seqs, int32_t kv_dtype) {
    rig r = {engine(backend, executor, 0), NULL, NULL};
    if (r.e) r.m = synth(r.e, preset, layers);
    if (r.m) r.s = session(r.m, max_seqs, kv_dtype);
    return r;
}

static void rig_close(rig *r) {
    lmr_session_destroy(r->s);
    lmr_model_destroy(r->m);
    lmr_engine_destroy(r->e);
}

static int argmax2(const float *x, int n, float *margin) {
    int b = 0, c = -1;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) c = b, b = i;
        else if (c < 0 || x[i] > x[c]) c = i;
    *margin = x[b] - x[c];
    return b;
}

static void check_model(const char *preset, int32_t layers, int32_t kv_dtype) {
    rig cpu = rig_open(LMR_BACKEND_CPU, LMR_EXECUTOR_EAGER, preset, layers, 3, kv_dtype);
    rig gpu = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, preset, layers, 3, kv_dtype);
    rig gph = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_GRAPH, preset, layers, 3, kv_dtype);
    CHECK(cpu.s && gpu.s && gph.s, "%s: engines, models and sessions", preset);
    if (!cpu.s || !gpu.s || !gph.s) goto done;
    {
        lmr_model_info mi = lmr_model_info_default();
        lmr_model_info_get(cpu.m, &mi);
        const int V = mi.vocab, n_prompt = 40, steps = 64;
        const int f32 = kv_dtype == LMR_DTYPE_F32;
        const double tol_pre = f32 ? 2e-2 : 3e-2, tol_dec = f32 ? 1e-2 : 2e-2;
        float *lc = malloc(sizeof(float) * V), *lg = malloc(sizeof(float) * V);
        float *lh = malloc(sizeof(float) * V);
        int32_t prompt[3][40];
        for (int q = 0; q < 3; q++) tokens(prompt[q], n_prompt, V, 100 + (uint32_t)q);

        /* prefill */
        lmr_session_prefill(cpu.s, 0, prompt[0], n_prompt);
        lmr_status st = lmr_session_prefill(gpu.s, 0, prompt[0], n_prompt);
        CHECK(st == LMR_OK, "%s: CUDA prefill: %s", preset, lmr_last_error(gpu.e));
        lmr_session_logits(cpu.s, 0, lc, V);
        lmr_session_logits(gpu.s, 0, lg, V);
        double r = rel(lg, lc, V);
        CHECK(r <= tol_pre, "%s KV %s: prefill logits rel %.2e <= %.0e", preset,
              lmr_dtype_name(kv_dtype), r, tol_pre);

        /* greedy, step by step; the graph engine runs the same steps */
        lmr_session_prefill(gph.s, 0, prompt[0], n_prompt);
        int same = 1, tie_at = -1, graph_same = 1;
        double worst = 0;
        for (int i = 0; i < steps && same; i++) {
            float mc, mg;
            lmr_session_logits(cpu.s, 0, lc, V);
            lmr_session_logits(gpu.s, 0, lg, V);
            lmr_session_logits(gph.s, 0, lh, V);
            if (i > 0) {
                worst = fmax(worst, rel(lg, lc, V));
                graph_same &= memcmp(lg, lh, sizeof(float) * V) == 0;
            }
            int tc = argmax2(lc, V, &mc), tg = argmax2(lg, V, &mg);
            if (tc != tg) {
                double amax = 0;
                for (int k = 0; k < V; k++) amax = fmax(amax, fabs(lc[k]));
                if (mc <= 2 * tol_dec * amax) tie_at = i; /* a near-tie: stop comparing */
                else same = 0;
                break;
            }
            int32_t tok = tc;
            lmr_session_decode(cpu.s, (int32_t[]){0}, &tok, 1);
            st = lmr_session_decode(gpu.s, (int32_t[]){0}, &tok, 1);
            if (st != LMR_OK) printf("CUDA decode: %s\n", lmr_last_error(gpu.e));
            lmr_session_decode(gph.s, (int32_t[]){0}, &tok, 1);
        }
        CHECK(same, "%s: greedy tokens equal for %d steps (near-tie stop at step %d)", preset,
              steps, tie_at);
        CHECK(worst <= tol_dec, "%s: decode logits rel %.2e <= %.0e", preset, worst, tol_dec);
        CHECK(graph_same, "%s: graph executor logits == eager bit for bit", preset);
        lmr_counters cn = lmr_counters_default();
        lmr_counters_get(gph.e, &cn);
        CHECK(cn.graph_capture_ns > 0 && cn.kernels_last_step > 0,
              "%s: graph capture %llu ns, %llu kernels per step", preset,
              (unsigned long long)cn.graph_capture_ns, (unsigned long long)cn.kernels_last_step);

        /* batched decode == each sequence alone (same kernels per token) */
        int32_t seqs[3] = {0, 1, 2}, next[3] = {5, 6, 7};
        for (int q = 0; q < 3; q++) {
            lmr_session_reset(gpu.s, q);
            lmr_session_reset(gph.s, q);
            lmr_session_prefill(gpu.s, q, prompt[q], n_prompt);
            lmr_session_prefill(gph.s, q, prompt[q], n_prompt);
        }
        lmr_session_decode(gph.s, seqs, next, 3);
        double bd = 0;
        for (int q = 0; q < 3; q++) {
            lmr_session_decode(gpu.s, &seqs[q], &next[q], 1);
            lmr_session_logits(gpu.s, q, lg, V);
            lmr_session_logits(gph.s, q, lh, V);
            bd = fmax(bd, rel(lh, lg, V));
        }
        CHECK(bd <= 1e-6, "%s: batched decode (graph) == single decode (eager): rel %.2e", preset,
              bd);

        /* fill_kv to max_ctx - 1, then one decode: the same random cache on both backends */
        const int P = 511;
        lmr_session_fill_kv(cpu.s, 1, P, 9);
        st = lmr_session_fill_kv(gpu.s, 1, P, 9);
        CHECK(st == LMR_OK, "%s: fill_kv %d: %s", preset, P, lmr_last_error(gpu.e));
        lmr_session_decode(cpu.s, (int32_t[]){1}, &next[0], 1);
        st = lmr_session_decode(gpu.s, (int32_t[]){1}, &next[0], 1);
        lmr_session_logits(cpu.s, 1, lc, V);
        lmr_session_logits(gpu.s, 1, lg, V);
        r = st == LMR_OK ? rel(lg, lc, V) : 1e9;
        CHECK(r <= tol_dec, "%s: decode at position %d after fill_kv: rel %.2e", preset, P, r);

        /* on-device greedy sampling == host argmax */
        lmr_sampler_params sp = lmr_sampler_params_default();
        int32_t tok = -1;
        float mg;
        lmr_session_sample(gpu.s, 1, &sp, &tok);
        CHECK(tok == argmax2(lg, V, &mg), "%s: device greedy sample %d", preset, tok);

        /* generate (device greedy, no logits copied) == step-by-step argmax of fetched logits,
         * and the graph executor's generate == the eager one's */
        int32_t ga[16], gb[16], gc[16];
        lmr_session_reset(gpu.s, 2);
        lmr_session_reset(gph.s, 2);
        lmr_status s1 = lmr_session_generate(gpu.s, 2, prompt[2], n_prompt, 16, &sp, ga, NULL, NULL);
        lmr_status s2 = lmr_session_generate(gph.s, 2, prompt[2], n_prompt, 16, &sp, gb, NULL, NULL);
        lmr_session_reset(gpu.s, 2);
        lmr_session_prefill(gpu.s, 2, prompt[2], n_prompt);
        for (int i = 0; i < 16; i++) {
            lmr_session_logits(gpu.s, 2, lg, V);
            gc[i] = argmax2(lg, V, &mg);
            if (i < 15) lmr_session_decode(gpu.s, (int32_t[]){2}, &gc[i], 1);
        }
        CHECK(s1 == LMR_OK && s2 == LMR_OK && !memcmp(ga, gc, sizeof ga) && !memcmp(ga, gb, sizeof ga),
              "%s: generate (device greedy) == argmax of fetched logits; graph == eager", preset);
        free(lc), free(lg), free(lh);
    }
done:
    rig_close(&cpu), rig_close(&gpu), rig_close(&gph);
}

/* A 300-token prompt in one chunk and in chunks of 128 (fused kernel at pos0 > 0), with the
 * fused prefill attention and with the flash-decoding one (LMR_CUDA_PREFILL_ATTENTION=split). */
static void check_long_prefill(const char *preset, int32_t layers, int32_t kv_dtype) {
    const int n = 300;
    rig cpu = rig_open(LMR_BACKEND_CPU, LMR_EXECUTOR_EAGER, preset, layers, 1, kv_dtype);
    lmr_model_info mi = lmr_model_info_default();
    if (cpu.m) lmr_model_info_get(cpu.m, &mi);
    const int V = mi.vocab;
    float *lc = malloc(sizeof(float) * (size_t)(V > 0 ? V : 1));
    float *lg = malloc(sizeof(float) * (size_t)(V > 0 ? V : 1));
    int32_t prompt[300];
    tokens(prompt, n, V > 0 ? V : 1, 77);
    lmr_status st = cpu.s ? lmr_session_prefill(cpu.s, 0, prompt, n) : LMR_ERR_STATE;
    CHECK(st == LMR_OK, "%s: CPU prefill of %d tokens", preset, n);
    if (st == LMR_OK) lmr_session_logits(cpu.s, 0, lc, V);
    const double tol = kv_dtype == LMR_DTYPE_F32 ? 2e-2 : 3e-2;
    for (int variant = 0; variant < 4 && st == LMR_OK; variant++) {
        const int split = variant & 1, chunked = variant >> 1;
        if (split) setenv("LMR_CUDA_PREFILL_ATTENTION", "split", 1);
        chunk_tokens = chunked ? 128 : 0;
        rig gpu = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, preset, layers, 1, kv_dtype);
        unsetenv("LMR_CUDA_PREFILL_ATTENTION");
        chunk_tokens = 0;
        lmr_status s2 = gpu.s ? lmr_session_prefill(gpu.s, 0, prompt, n) : LMR_ERR_STATE;
        double r = 1e9;
        if (s2 == LMR_OK && lmr_session_logits(gpu.s, 0, lg, V) == LMR_OK) r = rel(lg, lc, V);
        CHECK(r <= tol, "%s KV %s: prefill %d tokens%s, %s attention: rel %.2e <= %.0e %s", preset,
              lmr_dtype_name(kv_dtype), n, chunked ? " in chunks of 128" : "",
              split ? "flash-decoding" : "fused", r, tol,
              s2 == LMR_OK ? "" : lmr_last_error(gpu.e));
        rig_close(&gpu);
    }
    free(lc), free(lg);
    rig_close(&cpu);
}

/* Batches of 33 and 20 sequences: the 17..64-token GEMM (split-K) and graph buckets 64, 32. */
static void check_batched(const char *preset, int32_t layers, int32_t kv_dtype) {
    enum { NS = 40 };
    rig cpu = rig_open(LMR_BACKEND_CPU, LMR_EXECUTOR_EAGER, preset, layers, NS, kv_dtype);
    rig gpu = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, preset, layers, NS, kv_dtype);
    rig gph = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_GRAPH, preset, layers, NS, kv_dtype);
    setenv("LMR_CUDA_SPLITK", "0", 1);
    rig nos = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, preset, layers, NS, kv_dtype);
    unsetenv("LMR_CUDA_SPLITK");
    CHECK(cpu.s && gpu.s && gph.s && nos.s, "%s: batched rigs (max_seqs %d)", preset, NS);
    if (cpu.s && gpu.s && gph.s && nos.s) {
        lmr_model_info mi = lmr_model_info_default();
        lmr_model_info_get(cpu.m, &mi);
        const int V = mi.vocab;
        const double tol = kv_dtype == LMR_DTYPE_F32 ? 1e-2 : 2e-2;
        float *a = malloc(sizeof(float) * V), *b = malloc(sizeof(float) * V);
        float *c = malloc(sizeof(float) * V), *d = malloc(sizeof(float) * V);
        int32_t seqs[NS], next[NS], pr[8];
        rig *rs[4] = {&cpu, &gpu, &gph, &nos};
        for (int q = 0; q < NS; q++) {
            seqs[q] = q;
            tokens(&next[q], 1, V, 500 + (uint32_t)q);
            tokens(pr, 8, V, 900 + (uint32_t)q);
            for (int k = 0; k < 4; k++) lmr_session_prefill(rs[k]->s, q, pr, 8);
        }
        lmr_counters c0 = lmr_counters_default(), c1 = lmr_counters_default();
        for (int step = 0; step < 3; step++) {
            const int B = step == 1 ? 20 : step == 0 ? 33 : 40; /* buckets 64, 32, 64 */
            lmr_counters_get(gph.e, &c0);
            lmr_status st = LMR_OK;
            lmr_engine *failed = NULL;
            for (int k = 0; k < 4 && st == LMR_OK; k++)
                if ((st = lmr_session_decode(rs[k]->s, seqs, next, B))) failed = rs[k]->e;
            lmr_counters_get(gph.e, &c1);
            double wc = 0, wn = 0;
            int same = 1;
            for (int q = 0; q < B && st == LMR_OK; q++) {
                lmr_session_logits(cpu.s, q, a, V);
                lmr_session_logits(gpu.s, q, b, V);
                lmr_session_logits(gph.s, q, c, V);
                lmr_session_logits(nos.s, q, d, V);
                wc = fmax(wc, rel(b, a, V));
                wn = fmax(wn, rel(b, d, V));
                same &= memcmp(b, c, sizeof(float) * V) == 0;
            }
            CHECK(st == LMR_OK && wc <= tol, "%s: batch %d vs CPU: rel %.2e <= %.0e %s", preset, B,
                  wc, tol, failed ? lmr_last_error(failed) : "");
            CHECK(same, "%s: batch %d: graph (bucket %d) == eager bit for bit", preset, B,
                  B > 32 ? 64 : 32);
            /* split-K only reorders FP32 sums over K, so a model's logits should move by far
             * less than 1e-4; the first H200 run measured 3.6-4.7e-3 on the 0.5B and 1.5B shapes
             * (2 layers), unexplained: check_splitk below compares the two GEMMs directly */
            CHECK(wn <= 1e-4, "%s: batch %d: split-K == unsplit GEMM: rel %.2e <= 1e-4", preset, B,
                  wn);
            const int captured = c1.graph_capture_ns > c0.graph_capture_ns;
            CHECK(captured == (step < 2), "%s: batch %d %s a graph", preset, B,
                  captured ? "captured" : "reused");
        }
        free(a), free(b), free(c), free(d);
    }
    rig_close(&cpu), rig_close(&gpu), rig_close(&gph), rig_close(&nos);
}

static void check_profile(void) {
    lmr_engine *e = engine(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, 1);
    lmr_model *m = e ? synth(e, "tiny-llama", 0) : NULL;
    lmr_session *s = m ? session(m, 1, LMR_DTYPE_DEFAULT) : NULL;
    int32_t prompt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    lmr_status st = s ? lmr_session_prefill(s, 0, prompt, 8) : LMR_ERR_STATE;
    lmr_counters c = lmr_counters_default();
    if (e) lmr_counters_get(e, &c);
    CHECK(st == LMR_OK && c.kernel_ns > 0 && c.kernels > 0,
          "profile mode: %llu kernels, %llu ns of kernel time", (unsigned long long)c.kernels,
          (unsigned long long)c.kernel_ns);
    double bw[2] = {0, 0}, le = 0, lgr = 0;
    st = e ? lmr_probe_bandwidth(e, 256ull << 20, 2, bw) : LMR_ERR_STATE;
    CHECK(st == LMR_OK && bw[1] > 1e10, "probe bandwidth: %.1f GB/s", bw[1] / 1e9);
    st = e ? lmr_probe_launch(e, 2000, &le, &lgr) : LMR_ERR_STATE;
    CHECK(st == LMR_OK && le > 0 && lgr > 0, "probe launch: eager %.0f ns, graph %.0f ns/node", le,
          lgr);
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
}

/* Energy (NVML): absent is allowed (no figure), a figure must be plausible for the work done,
 * and a reset starts a new window. */
static void check_energy(void) {
    lmr_engine *e = engine(LMR_BACKEND_CUDA, LMR_EXECUTOR_GRAPH, 0);
    lmr_model *m = e ? synth(e, "qwen2.5-0.5b", 4) : NULL;
    lmr_session *s = m ? session(m, 1, LMR_DTYPE_DEFAULT) : NULL;
    if (!s) {
        CHECK(0, "energy: engine, model and session");
        goto done;
    }
    {
        int32_t prompt[8] = {1, 2, 3, 4, 5, 6, 7, 8}, tok = 5;
        lmr_session_prefill(s, 0, prompt, 8);
        lmr_counters_reset(e);
        lmr_counters c = lmr_counters_default();
        uint64_t steps = 0;
        do { /* about a second of decode: the driver's counter moves in steps of milliseconds */
            if (lmr_session_decode(s, (int32_t[]){0}, &tok, 1) != LMR_OK) break;
            if (++steps % 500 == 0) lmr_session_reset(s, 0), lmr_session_prefill(s, 0, prompt, 8);
            lmr_counters_get(e, &c);
        } while (c.decode_ns + c.prefill_ns < 1000000000ull && steps < 200000);
        if (c.energy_ns == 0) {
            printf("SKIP energy: no NVML energy counter on this machine (figure absent)\n");
            CHECK(c.energy_mj == 0, "energy: absent figure is 0 mJ over 0 ns");
        } else {
            double w = (double)c.energy_mj * 1e6 / (double)c.energy_ns;
            CHECK(w > 5 && w < 2000 && c.energy_ns >= c.decode_ns,
                  "energy: %.1f J over %.2f s of %llu steps: %.0f W, %.2f mJ per token",
                  c.energy_mj / 1e3, c.energy_ns / 1e9, (unsigned long long)steps, w,
                  (double)c.energy_mj / (double)c.decode_tokens);
            lmr_counters_reset(e);
            lmr_counters_get(e, &c);
            CHECK(c.energy_ns < 100000000ull, "energy: a reset starts a new window (%llu ns)",
                  (unsigned long long)c.energy_ns);
        }
    }
done:
    lmr_session_destroy(s);
    lmr_model_destroy(m);
    lmr_engine_destroy(e);
}
#endif

/* --quick: a small subset (every kernel family once, tiny-qwen2) for compute-sanitizer runs */
int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    (void)quick;
#ifndef LMR_HAVE_CUDA
    printf("SKIP cuda: the CUDA backend is not compiled into this build\n");
    return LMR_TEST_SKIP;
#else
    const char *why = lmr_cuda_no_device_reason();
    if (why) {
        /* what a machine without a GPU must see: no device, a clean refusal, no crash */
        CHECK(lmr_backend_available(LMR_BACKEND_CUDA) == 0, "no device: CUDA not available");
        lmr_engine *e = NULL;
        lmr_engine_params p = lmr_engine_params_default();
        p.backend = LMR_BACKEND_CUDA;
        lmr_status st = lmr_engine_create(&p, &e);
        CHECK(st == LMR_ERR_UNSUPPORTED && e == NULL, "no device: create refused: %s",
              lmr_last_error(NULL));
        p.backend = LMR_BACKEND_AUTO;
        st = lmr_engine_create(&p, &e);
        lmr_engine_info in = lmr_engine_info_default();
        if (st == LMR_OK) lmr_engine_info_get(e, &in);
        CHECK(st == LMR_OK && in.backend == LMR_BACKEND_CPU, "no device: AUTO picks the CPU");
        lmr_engine_destroy(e);
        /* no energy figure without a device, and the counters' layout has the energy fields */
        lmr_counters c = lmr_counters_default();
        st = lmr_engine_create(&p, &e);
        CHECK(st == LMR_OK && lmr_counters_get(e, &c) == LMR_OK && c.energy_mj == 0 &&
                  c.energy_ns == 0 && c.size == sizeof c,
              "no device: the CPU engine reports no energy figure (0 mJ over 0 ns)");
        lmr_engine_destroy(e);
        printf("SKIP cuda: no CUDA device (%s)\n", why);
        return check_skip();
    }
    if (quick) {
        for (int mode = 0; mode < 3; mode++) {
            check_linear(LMR_DTYPE_BF16, 1, 256, 96, mode, mode == 2, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 3, 1536, 200, mode, 1, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 16, 8960 / 4, 64, mode, 0, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 40, 512, 160, mode, mode != 1, 1, 1.5e-2);
            check_linear(LMR_DTYPE_BF16, 200, 256, 300, mode, 1, 1, 1.5e-2);
            check_linear(LMR_DTYPE_F32, 200, 256, 300, mode, 1, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 1, 256, 17000, mode, 1, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 2, 8960, 1536, mode, mode == 2, 1, 1e-4);
            check_linear(LMR_DTYPE_BF16, 384, 256, 12288, mode, 1, 1, 1.5e-2);
        }
        check_attention(LMR_DTYPE_BF16, 1, 700, 12, 2, 128, 0, 0);
        check_attention(LMR_DTYPE_BF16, 130, 390, 14, 2, 64, 0, 1);
        check_model("tiny-qwen2", 0, LMR_DTYPE_BF16);
        check_long_prefill("tiny-qwen2", 0, LMR_DTYPE_BF16);
        check_batched("tiny-qwen2", 0, LMR_DTYPE_BF16);
        return check_summary();
    }
    for (int d = 0; d < 3; d++) {
        int dt = d == 0 ? LMR_DTYPE_BF16 : d == 1 ? LMR_DTYPE_F16 : LMR_DTYPE_F32;
        double gemm_tol = dt == LMR_DTYPE_F32 ? 1e-4 : 1.5e-2;
        for (int mode = 0; mode < 3; mode++) {
            check_linear(dt, 1, 256, 96, mode, mode == 2, 1, 1e-4);
            check_linear(dt, 3, 1536, 200, mode, 1, 1, 1e-4);
            check_linear(dt, 16, 8960 / 4, 64, mode, 0, 1, 1e-4);
            /* GEMV geometry (plan.h): several row passes per block with a partial last block;
             * x in tiles (2 tokens of 8960 exceed the whole-x budget) */
            check_linear(dt, 1, 256, 17000, mode, 1, 1, 1e-4);
            check_linear(dt, 2, 8960, 1536, mode, mode == 2, 1, 1e-4);
            for (int sk = 0; sk < 2; sk++) { /* split-K on 132 SMs: 4, 16 and 4 ranges */
                check_linear(dt, 40, 512, 160, mode, mode != 1, sk, gemm_tol);
                check_linear(dt, 17, 4096, 96, mode, 1, sk, gemm_tol);
                check_linear(dt, 64, 1024, 1536, mode, 0, sk, gemm_tol);
            }
            check_linear(dt, 200, 256, 300, mode, 1, 1, gemm_tol); /* 64 x 64 tiles, 4 rows */
            /* 128 x 128 tiles (>= 2 blocks per SM up to 144 SMs: lmr_cuda_gemm_big_tiles) */
            if (dt == LMR_DTYPE_BF16) check_linear(dt, 384, 256, 12288, mode, 1, 1, gemm_tol);
        }
    }
    /* Qwen2.5-1.5B's q/k/v, o and down at 20 and 33 tokens (split into 8, 10 and 11 ranges) */
    for (int nb = 0; nb < 2; nb++) {
        const int n = nb ? 33 : 20;
        check_splitk(LMR_DTYPE_BF16, n, 1536, 2048, 0, 1);
        check_splitk(LMR_DTYPE_BF16, n, 1536, 1536, 1, 0);
        check_splitk(LMR_DTYPE_BF16, n, 8960, 1536, 1, 0);
    }
    int kvs[3] = {LMR_DTYPE_F32, LMR_DTYPE_BF16, LMR_DTYPE_F16};
    for (int k = 0; k < 3; k++) {
        /* decode policy (split 0): 32 keys per split up to 8K positions, more beyond */
        check_attention(kvs[k], 1, 700, 12, 2, 128, 0, 0);
        check_attention(kvs[k], 1, 0, 4, 2, 16, 0, 0);
        check_attention(kvs[k], 2, 9000, 12, 2, 128, 0, 0);
        check_attention(kvs[k], 1, 700, 12, 2, 128, 256, 0);
        check_attention(kvs[k], 3, 300, 14, 2, 64, 64, 0);
        check_attention(kvs[k], 37, 100, 8, 8, 32, 64, 0);
        /* fused prefill: partial and several query tiles, GQA 1..7, every head_dim, pos0 > 0 */
        check_attention(kvs[k], 37, 100, 8, 8, 32, 0, 1);
        check_attention(kvs[k], 200, 0, 12, 2, 128, 0, 1);
        check_attention(kvs[k], 130, 390, 14, 2, 64, 0, 1);
        check_attention(kvs[k], 65, 3, 4, 2, 16, 0, 1);
        check_attention(kvs[k], 2, 0, 7, 1, 128, 0, 1);
    }
    check_model("tiny-qwen2", 0, LMR_DTYPE_BF16);
    check_model("tiny-qwen2", 0, LMR_DTYPE_F32);
    check_model("tiny-llama", 0, LMR_DTYPE_BF16);
    check_model("qwen2.5-0.5b", 2, LMR_DTYPE_BF16);
    /* the Qwen2.5-1.5B shape: head_dim 128, 6 query heads per KV head, hidden 1536, ffn 8960 */
    check_model("qwen2.5-1.5b", 2, LMR_DTYPE_BF16);
    check_long_prefill("tiny-qwen2", 0, LMR_DTYPE_BF16);
    check_long_prefill("tiny-llama", 0, LMR_DTYPE_F32);
    check_long_prefill("qwen2.5-0.5b", 2, LMR_DTYPE_BF16);
    check_batched("tiny-qwen2", 0, LMR_DTYPE_BF16);
    check_batched("qwen2.5-0.5b", 2, LMR_DTYPE_BF16);
    check_batched("qwen2.5-1.5b", 2, LMR_DTYPE_BF16);
    check_profile();
    check_energy();
    return check_summary();
#endif
}
