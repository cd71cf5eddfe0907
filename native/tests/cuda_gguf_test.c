/* cuda_gguf_test.c: quantised GGUF files on the CUDA backend against the CPU backend (the
 * specification) on the very same file. Two small models whose rows are whole K-quant blocks
 * (qwen2: tied, q/k/v biases, head_dim 64, GQA 2; llama: untied, head_dim 128, GQA 2),
 * synthesised in BF16 and written by gguf_writer.h with a per-tensor mix in the spirit of
 * llama.cpp's Q4_K_M, and wider: q/k/o/gate/up Q4_K; v Q6_K in layer 0 (q/k/v then run as three
 * linears) and Q4_K in layer 1 (stacked); down Q6_K in layer 0 and Q8_0 in layer 1; layer 1's o
 * left BF16; norms BF16; the embedding Q6_K (qwen2, also its lm_head) or Q4_K with lm_head Q6_K
 * (llama). Checks, on a device:
 * - the CUDA model info states the same type mix, real bytes and decode bytes as the CPU's, and
 *   the real bytes are those of the blocks written;
 * - prefill of 40 tokens (dequantised BF16 tiles + the tensor-core GEMM), 8 greedy decode steps
 *   (the quantised GEMV), 5-token prefills of two more sequences (GEMV) and 4 batched steps of
 *   the three (GEMV, 3 tokens): logits vs the CPU's; the graph executor's batched steps equal
 *   the eager ones bit for bit; all again with tiles of 64 rows and more
 *   (LMR_CUDA_DEQUANT_ELEMS=1: several tiles per matrix, a partial last one);
 * - negative control: the output projection's block scales x1.25 in the file: CUDA logits on
 *   that file vs the CPU on the original must miss the tolerance;
 * - refusal: gate Q4_K with up Q6_K in one layer is LMR_ERR_UNSUPPORTED naming both.
 * Differences are max |a - b| / max |b| over the logits. Tolerances (BF16 KV, as
 * cuda_parity_test): prefill 3e-2 (activations and dequantised weights rounded to BF16 in the
 * GEMM; the CPU's prefill rounds to BF16 on AVX-512-BF16 too), decode 2e-2 (FP32 activations on
 * the GPU; the CPU quantises them to 8 bits per block, ~1e-3).
 * Without CUDA in the build or without a device: a SKIP line and CTest's skip code. */
#define _GNU_SOURCE /* setenv, mkdtemp */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#ifdef LMR_HAVE_CUDA
#include "cpu/quant.h"
#include "cuda/cuda_backend.h"
#include "gguf_writer.h"
#include "internal.h"

#define TOL_PRE 3e-2
#define TOL_DEC 2e-2
enum { Q8_0 = LMR_DTYPE_Q8_0, Q4_K = LMR_DTYPE_Q4_K, Q6_K = LMR_DTYPE_Q6_K };

static char dir[64];
static int g_tied, g_bad_up;    /* the mix of the file being written */
static const char *g_victim;    /* tensor whose scales are altered (NULL: none) */
static float g_scale = 1.0f;    /* set by mix() for the tensor being written */

/* The type of each 2-D weight (0: stays BF16). */
static int mix(const char *n) {
    int l = -1;
    sscanf(n, "model.layers.%d.", &l);
    g_scale = g_victim && !strcmp(n, g_victim) ? 1.25f : 1.0f;
    if (strstr(n, "embed_tokens")) return g_tied ? Q6_K : Q4_K;
    if (!strcmp(n, "lm_head.weight")) return Q6_K;
    if (strstr(n, "v_proj")) return l == 0 ? Q6_K : Q4_K;
    if (strstr(n, "down_proj")) return l == 0 ? Q6_K : Q8_0;
    if (strstr(n, "o_proj") && l == 1) return 0;
    if (strstr(n, "up_proj") && g_bad_up) return Q6_K;
    return Q4_K;
}

/* lmr_quantize_row, then every block's F16 d times g_scale (negative control) */
static void quant(int type, const float *x, void *dst, int64_t n) {
    lmr_quantize_row(type, x, dst, n);
    if (g_scale == 1.0f) return;
    const int64_t be = type == Q8_0 ? 32 : 256, bb = type == Q8_0 ? 34 : type == Q4_K ? 144 : 210;
    const int64_t at = type == Q6_K ? 208 : 0;
    for (int64_t b = 0; b < n / be; b++) {
        uint8_t *p = (uint8_t *)dst + b * bb + at;
        uint16_t h = (uint16_t)(p[0] | p[1] << 8);
        h = lmr_f32_to_f16(lmr_f16_to_f32(h) * g_scale);
        p[0] = (uint8_t)h, p[1] = (uint8_t)(h >> 8);
    }
}

/* Synthesise cfg_json's model in BF16 and write it as GGUF with the current mix; returns the
 * real bytes of the weights written (-1 on failure). */
static int64_t write_model(const char *cfg_json, const char *name, char *path) {
    char cfg[256], err[256];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    FILE *fp = fopen(cfg, "w");
    if (!fp) return -1;
    fputs(cfg_json, fp);
    fclose(fp);
    lmr_weights w;
    memset(&w, 0, sizeof w);
    if (lmr_weights_synthesize(cfg, LMR_DTYPE_BF16, 7, 0, 1, &w, err, sizeof err)) {
        printf("synthesise: %s\n", err);
        return -1;
    }
    int64_t bytes = 0;
    for (int32_t i = 0; i < w.n_tensors; i++) {
        const lmr_tensor *t = &w.tensors[i];
        const int q = t->n_dims == 2 ? mix(t->name) : 0;
        bytes += q ? lmr_dtype_row_bytes(q, t->shape[1]) * t->shape[0] : (int64_t)t->bytes;
    }
    gw_file f;
    gw_opts o = {1, 0, 0, mix, quant};
    gw_write(&w, &o, &f);
    snprintf(path, 256, "%s/%s", dir, name);
    int bad = gw_save(&f, path);
    free(f.data);
    lmr_weights_free(&w);
    unlink(cfg);
    return bad ? -1 : bytes;
}

typedef struct {
    lmr_engine *e;
    lmr_model *m;
    lmr_session *s;
} rig;

static rig rig_open(int32_t backend, int32_t executor, const char *path) {
    rig r = {NULL, NULL, NULL};
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = backend;
    ep.executor = executor;
    if (lmr_engine_create(&ep, &r.e)) {
        printf("engine: %s\n", lmr_last_error(NULL));
        return r;
    }
    lmr_model_params mp = lmr_model_params_default();
    if (lmr_model_load(r.e, path, &mp, &r.m)) {
        printf("load %s: %s\n", path, lmr_last_error(r.e));
        return r;
    }
    lmr_session_params sp = lmr_session_params_default();
    sp.max_seqs = 3;
    sp.max_ctx = 128;
    if (lmr_session_create(r.m, &sp, &r.s)) printf("session: %s\n", lmr_last_error(r.e));
    return r;
}

static void rig_close(rig *r) {
    lmr_session_destroy(r->s);
    lmr_model_destroy(r->m);
    lmr_engine_destroy(r->e);
}

static double rel(const float *a, const float *b, int n) {
    double d = 0, mx = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i])), mx = fmax(mx, fabs(b[i]));
    return d / fmax(mx, 1e-30);
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;
    return b;
}

static void tokens(int32_t *t, int n, int vocab, uint32_t seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)vocab);
    }
}

/* The checks above on one file; gpu_path: the file the CUDA engines load (the negative control
 * gives the altered one and expects a miss). Returns the worst prefill difference. */
static double compare(const char *label, const char *cpu_path, const char *gpu_path,
                      int64_t want_bytes, int control) {
    rig cpu = rig_open(LMR_BACKEND_CPU, LMR_EXECUTOR_EAGER, cpu_path);
    rig gpu = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_EAGER, gpu_path);
    rig gph = rig_open(LMR_BACKEND_CUDA, LMR_EXECUTOR_GRAPH, gpu_path);
    double worst_pre = 0;
    if (!control) CHECK(cpu.s && gpu.s && gph.s, "%s: CPU and CUDA engines load the file", label);
    if (!cpu.s || !gpu.s || !gph.s) goto done;
    {
        lmr_model_info a = lmr_model_info_default(), b = lmr_model_info_default();
        lmr_model_info_get(cpu.m, &a);
        lmr_model_info_get(gpu.m, &b);
        if (!control)
            CHECK(a.weight_bytes == b.weight_bytes && a.decode_bytes == b.decode_bytes &&
                      (int64_t)b.weight_bytes == want_bytes && a.dtype == b.dtype &&
                      !strcmp(a.weight_types, b.weight_types),
                  "%s: CUDA model info: %s, dtype %s, %llu weight bytes (written %lld), %llu "
                  "decode bytes, as on the CPU",
                  label, b.weight_types, lmr_dtype_name(b.dtype),
                  (unsigned long long)b.weight_bytes, (long long)want_bytes,
                  (unsigned long long)b.decode_bytes);
        const int V = a.vocab;
        float *lc = malloc(sizeof(float) * V), *lg = malloc(sizeof(float) * V),
              *lh = malloc(sizeof(float) * V);
        int32_t prompt[3][40];
        for (int q = 0; q < 3; q++) tokens(prompt[q], 40, V, 100 + (uint32_t)q);

        /* prefill of 40 tokens: dequantised tiles + GEMM */
        lmr_session_prefill(cpu.s, 0, prompt[0], 40);
        lmr_status st = lmr_session_prefill(gpu.s, 0, prompt[0], 40);
        if (!control) CHECK(st == LMR_OK, "%s: CUDA prefill: %s", label, lmr_last_error(gpu.e));
        lmr_session_prefill(gph.s, 0, prompt[0], 40);
        lmr_session_logits(cpu.s, 0, lc, V);
        lmr_session_logits(gpu.s, 0, lg, V);
        worst_pre = rel(lg, lc, V);
        if (control) {
            CHECK(worst_pre > TOL_PRE,
                  "%s: CUDA on the file with altered scales vs the CPU on the original: prefill "
                  "rel %.2e > %.0e (negative control)",
                  label, worst_pre, TOL_PRE);
            free(lc), free(lg), free(lh);
            goto done;
        }
        CHECK(worst_pre <= TOL_PRE, "%s: prefill (40 tokens) logits rel %.2e <= %.0e", label,
              worst_pre, TOL_PRE);

        /* greedy decode of seq 0: the quantised GEMV */
        double worst = 0;
        int ok = 1;
        for (int i = 0; i < 8 && ok; i++) {
            lmr_session_logits(cpu.s, 0, lc, V);
            int32_t seq = 0, tok = argmax(lc, V);
            ok = !lmr_session_decode(cpu.s, &seq, &tok, 1) &&
                 !lmr_session_decode(gpu.s, &seq, &tok, 1) &&
                 !lmr_session_decode(gph.s, &seq, &tok, 1);
            lmr_session_logits(cpu.s, 0, lc, V);
            lmr_session_logits(gpu.s, 0, lg, V);
            worst = fmax(worst, rel(lg, lc, V));
        }
        CHECK(ok && worst <= TOL_DEC, "%s: 8 decode steps: worst logits rel %.2e <= %.0e", label,
              worst, TOL_DEC);

        /* two short prefills (GEMV of 5 tokens), then batched decode of the three sequences */
        worst = 0;
        for (int q = 1; q < 3 && ok; q++) {
            ok = !lmr_session_prefill(cpu.s, q, prompt[q], 5) &&
                 !lmr_session_prefill(gpu.s, q, prompt[q], 5) &&
                 !lmr_session_prefill(gph.s, q, prompt[q], 5);
            lmr_session_logits(cpu.s, q, lc, V);
            lmr_session_logits(gpu.s, q, lg, V);
            worst = fmax(worst, rel(lg, lc, V));
        }
        CHECK(ok && worst <= TOL_DEC, "%s: 5-token prefills: logits rel %.2e <= %.0e", label,
              worst, TOL_DEC);
        worst = 0;
        int same = 1;
        for (int i = 0; i < 4 && ok; i++) {
            int32_t seqs[3] = {0, 1, 2}, toks[3];
            for (int q = 0; q < 3; q++) {
                lmr_session_logits(cpu.s, q, lc, V);
                toks[q] = argmax(lc, V);
            }
            ok = !lmr_session_decode(cpu.s, seqs, toks, 3) &&
                 !lmr_session_decode(gpu.s, seqs, toks, 3) &&
                 !lmr_session_decode(gph.s, seqs, toks, 3);
            for (int q = 0; q < 3 && ok; q++) {
                lmr_session_logits(cpu.s, q, lc, V);
                lmr_session_logits(gpu.s, q, lg, V);
                lmr_session_logits(gph.s, q, lh, V);
                worst = fmax(worst, rel(lg, lc, V));
                same &= !memcmp(lg, lh, sizeof(float) * V);
            }
        }
        CHECK(ok && worst <= TOL_DEC, "%s: 4 batched steps of 3 sequences: worst rel %.2e <= %.0e",
              label, worst, TOL_DEC);
        CHECK(ok && same, "%s: graph executor == eager, bit for bit", label);
        free(lc), free(lg), free(lh);
    }
done:
    rig_close(&gph);
    rig_close(&gpu);
    rig_close(&cpu);
    return worst_pre;
}

static void model(const char *arch, const char *cfg_json, int tied) {
    char path[256], bad[256], label[64];
    g_tied = tied, g_bad_up = 0, g_victim = NULL;
    int64_t bytes = write_model(cfg_json, "mix.gguf", path);
    CHECK(bytes > 0, "%s: mixed GGUF written", arch);
    if (bytes <= 0) return;
    unsetenv("LMR_CUDA_DEQUANT_ELEMS");
    snprintf(label, sizeof label, "%s Q4_K/Q6_K/Q8_0/BF16", arch);
    compare(label, path, path, bytes, 0);
    setenv("LMR_CUDA_DEQUANT_ELEMS", "1", 1); /* tiles of 64 rows of the widest input and more */
    snprintf(label, sizeof label, "%s, small dequantisation tiles", arch);
    compare(label, path, path, bytes, 0);
    unsetenv("LMR_CUDA_DEQUANT_ELEMS");

    g_victim = tied ? "model.embed_tokens.weight" : "lm_head.weight";
    write_model(cfg_json, "scaled.gguf", bad);
    g_victim = NULL;
    snprintf(label, sizeof label, "%s, %s scales x1.25", arch, tied ? "embedding" : "lm_head");
    compare(label, path, bad, 0, 1);
    unlink(bad);

    g_bad_up = 1;
    write_model(cfg_json, "bad_up.gguf", bad);
    g_bad_up = 0;
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = LMR_BACKEND_CUDA;
    lmr_engine *e = NULL;
    lmr_model *m = NULL;
    lmr_model_params mp = lmr_model_params_default();
    if (lmr_engine_create(&ep, &e) == LMR_OK) {
        CHECK_ERR(lmr_model_load(e, bad, &mp, &m), LMR_ERR_UNSUPPORTED, e, "gate and up",
                  "layer 0 has gate Q4_K and up Q6_K");
        lmr_model_destroy(m);
    }
    lmr_engine_destroy(e);
    unlink(bad);
    unlink(path);
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
    snprintf(dir, sizeof dir, "/tmp/lmr_cuda_gguf_XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL cannot create a temporary folder\n");
        return 1;
    }
    model("qwen2",
          "{\"model_type\": \"qwen2\", \"hidden_size\": 256, \"intermediate_size\": 768, "
          "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
          "\"head_dim\": 64, \"vocab_size\": 1001, \"max_position_embeddings\": 512, "
          "\"tie_word_embeddings\": true, \"rope_theta\": 1000000.0, \"rms_norm_eps\": 1e-6}",
          1);
    model("llama",
          "{\"model_type\": \"llama\", \"hidden_size\": 256, \"intermediate_size\": 512, "
          "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, "
          "\"head_dim\": 128, \"vocab_size\": 999, \"max_position_embeddings\": 512, "
          "\"tie_word_embeddings\": false, \"rope_theta\": 10000.0, \"rms_norm_eps\": 1e-5}",
          0);
    rmdir(dir);
    return check_summary();
#endif
}
