/* gguf_test.c: GGUF files through lmr_model_load. The tiny presets are synthesised, written as
 * GGUF (gguf_writer.h, laid out as llama.cpp's converter does: llama's q/k rows permuted) and
 * loaded back: same facts, and the same logits as the synthesised model (same weight bits, same
 * kernels: equal to 1e-6). Negative control: a llama file written without the permutation must
 * give different logits (the loader's un-permutation is what makes them equal). Then a Q8_0
 * file (the model info states the mix and the real bytes), folders, and corrupted files, each
 * refused with its status and a message naming what is wrong. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "gguf_writer.h"
#include "cpu/kernels.h"
#include "internal.h"

static lmr_engine *E;
static char dir[64];

static void t_rmdir(const char *d) {
    DIR *h = opendir(d);
    struct dirent *e;
    char p[512];
    while (h && (e = readdir(h)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(p, sizeof p, "%s/%s", d, e->d_name), unlink(p);
    if (h) closedir(h);
    rmdir(d);
}

static lmr_model *synth(const char *preset, int32_t dtype) {
    lmr_model_params p = lmr_model_params_default();
    p.dtype = dtype;
    p.seed = 7;
    lmr_model *m = NULL;
    if (lmr_model_synthesize(E, preset, &p, &m)) printf("synthesize: %s\n", lmr_last_error(E));
    return m;
}

static lmr_model *load(const char *path) {
    lmr_model_params p = lmr_model_params_default();
    lmr_model *m = NULL;
    if (lmr_model_load(E, path, &p, &m)) printf("load %s: %s\n", path, lmr_last_error(E));
    return m;
}

static lmr_status try_load(const char *path) {
    lmr_model_params p = lmr_model_params_default();
    lmr_model *m = NULL;
    lmr_status st = lmr_model_load(E, path, &p, &m);
    lmr_model_destroy(m);
    return st;
}

/* Logits after prefilling 6 tokens then decoding 3 (the last decode's), into out[vocab]. */
static int run(lmr_model *m, float *out) {
    lmr_session_params sp = lmr_session_params_default();
    sp.max_ctx = 64;
    lmr_session *s = NULL;
    if (!m || lmr_session_create(m, &sp, &s)) return -1;
    int32_t prompt[6] = {1, 5, 9, 17, 33, 2}, seq = 0;
    lmr_status st = lmr_session_prefill(s, 0, prompt, 6);
    for (int32_t i = 0; i < 3 && !st; i++) {
        int32_t tok = 3 + 11 * i;
        st = lmr_session_decode(s, &seq, &tok, 1);
    }
    if (!st) st = lmr_session_logits(s, 0, out, m->info.vocab);
    lmr_session_destroy(s);
    return st ? -1 : 0;
}

static double rel_diff(const float *a, const float *b, int n) {
    double d = 0, mx = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i])), mx = fmax(mx, fabs(b[i]));
    return d / fmax(mx, 1e-30);
}

static void write_file(lmr_model *m, const gw_opts *o, const char *name, char *path, gw_file *f) {
    gw_write(&m->w, o, f);
    snprintf(path, 256, "%s/%s", dir, name);
    if (gw_save(f, path)) printf("cannot write %s\n", path);
}

static void same_model(const char *preset, int32_t dtype) {
    lmr_model *m = synth(preset, dtype);
    char path[256];
    gw_file f;
    gw_opts o = {1, 0, 0, NULL, NULL};
    write_file(m, &o, "model.gguf", path, &f);
    free(f.data);
    lmr_model *g = load(path);
    CHECK(g != NULL, "%s %s: GGUF loads", preset, lmr_dtype_name(dtype));
    if (!g) return lmr_model_destroy(m);
    const lmr_model_info *a = &m->info, *b = &g->info;
    CHECK(a->n_layers == b->n_layers && a->hidden == b->hidden && a->n_heads == b->n_heads &&
              a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim && a->ffn == b->ffn &&
              a->vocab == b->vocab && a->tie_embeddings == b->tie_embeddings &&
              a->max_pos == b->max_pos && !strcmp(a->arch, b->arch),
          "%s: hyper-parameters from the metadata (%s, %d layers, vocab %d, tied %d)", preset,
          b->arch, b->n_layers, b->vocab, b->tie_embeddings);
    CHECK(fabs(b->rope_theta - a->rope_theta) <= 1e-6 * a->rope_theta &&
              fabs(b->rms_eps - a->rms_eps) <= 1e-6 * a->rms_eps,
          "%s: rope theta %g, rms eps %g", preset, b->rope_theta, b->rms_eps);
    CHECK(a->weight_bytes == b->weight_bytes && a->n_params == b->n_params &&
              a->decode_bytes == b->decode_bytes && b->dtype == dtype && !strcmp(b->name, "model.gguf"),
          "%s: %llu weight bytes, %llu params, dtype %s, name %s", preset,
          (unsigned long long)b->weight_bytes, (unsigned long long)b->n_params,
          lmr_dtype_name(b->dtype), b->name);
    printf("     weight types: %s\n", b->weight_types);
    float *la = malloc(sizeof(float) * (size_t)a->vocab), *lb = malloc(sizeof(float) * (size_t)a->vocab);
    int ok = !run(m, la) && !run(g, lb);
    double d = ok ? rel_diff(lb, la, a->vocab) : 1;
    CHECK(ok && d <= 1e-6, "%s %s: GGUF logits equal the synthesised model's (rel diff %.2e)",
          preset, lmr_dtype_name(dtype), d);
    lmr_model_destroy(g);
    if (!strcmp(a->arch, "llama")) { /* negative control: q/k rows left in HF order */
        o.permute = 0;
        write_file(m, &o, "unpermuted.gguf", path, &f);
        free(f.data);
        g = load(path);
        double dn = g && !run(g, lb) ? rel_diff(lb, la, a->vocab) : 0;
        CHECK(dn > 1e-3, "%s: a file without the converter's q/k permutation gives other logits "
              "(rel diff %.2e; negative control)", preset, dn);
        lmr_model_destroy(g);
        unlink(path);
    }
    free(la);
    free(lb);
    lmr_model_destroy(m);
}

/* g's weights with every quantised tensor dequantised to F32 (malloc'd; free with free_f32). */
static lmr_weights dequantised(const lmr_model *g) {
    lmr_weights w = g->w;
    w.tensors = malloc(sizeof *w.tensors * (size_t)w.n_tensors);
    for (int32_t i = 0; i < w.n_tensors; i++) {
        lmr_tensor t = g->w.tensors[i];
        int64_t rows = t.shape[0], cols = t.n_dims == 2 ? t.shape[1] : 1;
        float *d = malloc(sizeof(float) * (size_t)(rows * cols));
        for (int64_t r = 0; r < rows; r++)
            lmr_cpu_row_to_f32((const uint8_t *)t.data + (uint64_t)r * (t.bytes / (uint64_t)rows),
                               t.dtype, d + r * cols, cols);
        t.dtype = LMR_DTYPE_F32, t.data = d, t.bytes = sizeof(float) * (uint64_t)(rows * cols);
        w.tensors[i] = t;
    }
    return w;
}

static void free_f32(lmr_weights *w) {
    for (int32_t i = 0; i < w->n_tensors; i++) free((void *)w->tensors[i].data);
    free(w->tensors);
}

/* Q8_0 2-D weights (quantised by gguf_writer.h): the type mix and real bytes in the model info,
 * and logits within Q8_TOL of the same model with those weights dequantised to F32 (the kernels
 * may quantise activations to 8 bits per block as ggml does: measured ~1e-3 then, 1e-6 when they
 * dequantise-then-dot). Negative control: one tensor's block scales (the output projection:
 * output.weight, or token_embd.weight when tied) scaled by 1.25 in the file must move the logits
 * past Q8_TOL. */
#define Q8_TOL 1e-2
static void q8_0(const char *preset) {
    lmr_model *m = synth(preset, LMR_DTYPE_F32);
    char path[256], fpath[256];
    gw_file f;
    gw_opts o = {1, 0, 1, NULL, NULL};
    write_file(m, &o, "q8.gguf", path, &f);
    lmr_model *g = load(path);
    CHECK(g != NULL, "%s Q8_0 file loads", preset);
    if (!g) return free(f.data), lmr_model_destroy(m);
    const lmr_model_info info = g->info, *b = &info; /* g is reloaded below */
    uint64_t want = 0;
    for (int32_t i = 0; i < m->w.n_tensors; i++) {
        const lmr_tensor *t = &m->w.tensors[i];
        want += t->n_dims == 2 ? (uint64_t)t->shape[0] * (uint64_t)t->shape[1] / 32 * 34 : t->bytes;
    }
    CHECK(b->dtype == LMR_DTYPE_Q8_0 && b->weight_bytes == want && !strncmp(b->weight_types, "q8_0:", 5) &&
              strstr(b->weight_types, ",f32:"),
          "%s Q8_0: dtype %s, %llu weight bytes (want %llu), types %s", preset, lmr_dtype_name(b->dtype),
          (unsigned long long)b->weight_bytes, (unsigned long long)want, b->weight_types);
    CHECK_ERR(lmr_model_save(g, dir), LMR_ERR_UNSUPPORTED, E, "is quantised", "safetensors");
    lmr_weights dq = dequantised(g);
    gw_file ff;
    gw_opts fo = {1, 0, 0, NULL, NULL};
    gw_write(&dq, &fo, &ff);
    snprintf(fpath, sizeof fpath, "%s/dequant.gguf", dir);
    gw_save(&ff, fpath);
    free(ff.data);
    free_f32(&dq);
    lmr_model *r = load(fpath);
    int32_t V = b->vocab;
    float *lq = malloc(sizeof(float) * (size_t)V), *lr = malloc(sizeof(float) * (size_t)V),
          *lm = malloc(sizeof(float) * (size_t)V);
    int ok = r && !run(g, lq) && !run(r, lr) && !run(m, lm);
    double d = ok ? rel_diff(lq, lr, V) : 1, dm = ok ? rel_diff(lq, lm, V) : 1;
    CHECK(ok && d <= Q8_TOL, "%s Q8_0 logits vs its weights dequantised to F32: rel diff %.2e (tol %g); "
          "vs the unquantised model %.2e", preset, d, Q8_TOL, dm);
    lmr_model_destroy(g);
    lmr_model_destroy(r);
    /* negative control: the scales (the F16 at the start of each 34-byte block) of one tensor */
    const char *victim = b->tie_embeddings ? "token_embd.weight" : "output.weight";
    int k = 0;
    while (k < f.n_tensors && strcmp(f.names[k], victim)) k++;
    uint64_t at = 0, n = 0;
    for (int i = 0; i < 8; i++) at = at << 8 | f.data[f.off_pos[k] + 7 - i];
    size_t data_off = f.size;
    for (int i = 0; i < f.n_tensors; i++) { /* the data section starts after the last info */
        size_t e = f.off_pos[i] + 8;
        data_off = i == 0 || e > data_off ? e : data_off;
    }
    data_off = (data_off + 31) / 32 * 32;
    n = (uint64_t)b->vocab * (uint64_t)b->hidden / 32;
    for (uint64_t bl = 0; bl < n; bl++) {
        uint8_t *p = f.data + data_off + at + bl * 34;
        uint16_t h = (uint16_t)(p[0] | p[1] << 8);
        h = lmr_f32_to_f16(lmr_f16_to_f32(h) * 1.25f);
        p[0] = (uint8_t)h, p[1] = (uint8_t)(h >> 8);
    }
    gw_save(&f, path);
    g = load(path);
    double dn = g && !run(g, lq) ? rel_diff(lq, lr, V) : 0;
    CHECK(dn > Q8_TOL, "%s Q8_0 with %s's scales x1.25: rel diff %.2e > tol %g "
          "(negative control)", preset, victim, dn, Q8_TOL);
    lmr_model_destroy(g);
    free(lq), free(lr), free(lm), free(f.data);
    lmr_model_destroy(m);
    unlink(path);
    unlink(fpath);
}

static void put_u32(gw_file *f, size_t at, uint32_t v) {
    for (int i = 0; i < 4; i++) f->data[at + i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(gw_file *f, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) f->data[at + i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get_u64(const gw_file *f, size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | f->data[at + i];
    return v;
}

/* Write f with one edit undone afterwards; expect status and key words. */
#define BAD(edit, undo, size, want, ...)                                                         \
    do {                                                                                         \
        edit;                                                                                    \
        FILE *fp_ = fopen(path, "wb");                                                           \
        fwrite(f.data, 1, (size), fp_);                                                          \
        fclose(fp_);                                                                             \
        undo;                                                                                    \
        CHECK_ERR(try_load(path), want, E, __VA_ARGS__);                                         \
    } while (0)

static void corrupt(void) {
    lmr_model *m = synth("tiny-qwen2", LMR_DTYPE_F32);
    char path[256];
    gw_file f;
    gw_opts o = {1, 0, 0, NULL, NULL};
    write_file(m, &o, "bad.gguf", path, &f);
    CHECK(try_load(path) == LMR_OK, "the unedited file loads");
    int last = f.n_tensors - 1, norm = 1; /* tensor 1: blk.0.attn_norm.weight (1-D) */
    uint64_t off1 = get_u64(&f, f.off_pos[1]);
    BAD(, , f.size / 2, LMR_ERR_FORMAT, "bad.gguf", "lies past the end of the data section");
    BAD(, , 100, LMR_ERR_FORMAT, "bad.gguf", "cannot fit in the file's 100 bytes");
    BAD(, , f.off_pos[last] + 4, LMR_ERR_FORMAT, "bad.gguf", "the file ends inside a tensor's offset");
    BAD(f.data[0] = 'X', f.data[0] = 'G', f.size, LMR_ERR_FORMAT, "not a GGUF file");
    BAD(put_u32(&f, 4, 1), put_u32(&f, 4, 3), f.size, LMR_ERR_FORMAT, "GGUF version 1 is not supported");
    BAD(put_u32(&f, 4, 0x03000000u), put_u32(&f, 4, 3), f.size, LMR_ERR_FORMAT, "big-endian");
    BAD(put_u64(&f, 8, 1ull << 40), put_u64(&f, 8, (uint64_t)f.n_tensors), f.size, LMR_ERR_FORMAT,
        "tensors", "over the limits");
    BAD(put_u64(&f, f.off_pos[1], off1 + 4), put_u64(&f, f.off_pos[1], off1), f.size, LMR_ERR_FORMAT,
        "has offset", "not a multiple of the alignment 32");
    BAD(put_u64(&f, f.off_pos[1], 1ull << 40), put_u64(&f, f.off_pos[1], off1), f.size, LMR_ERR_FORMAT,
        f.names[1], "lies past the end of the data section");
    BAD(put_u64(&f, f.off_pos[1], get_u64(&f, f.off_pos[0])), put_u64(&f, f.off_pos[1], off1), f.size,
        LMR_ERR_FORMAT, "overlap");
    BAD(put_u32(&f, f.type_pos[last], 4), put_u32(&f, f.type_pos[last], 0), f.size, LMR_ERR_FORMAT,
        "unknown ggml type 4");
    BAD(put_u32(&f, f.type_pos[0], 2), put_u32(&f, f.type_pos[0], 0), f.size, LMR_ERR_UNSUPPORTED,
        "tensor \"token_embd.weight\" has type q4_0, which is unsupported");
    BAD(put_u32(&f, f.type_pos[norm], 8), put_u32(&f, f.type_pos[norm], 0), f.size,
        LMR_ERR_UNSUPPORTED, f.names[norm], "has type q8_0", "1-D tensors must be F32, F16 or BF16");
    free(f.data);

    lmr_weights w = m->w; /* shallow copies with one field changed */
    snprintf(w.cfg.arch, sizeof w.cfg.arch, "mamba");
    gw_write(&w, &o, &f);
    BAD(, , f.size, LMR_ERR_UNSUPPORTED, "architecture \"mamba\" is not supported");
    free(f.data);
    w = m->w;
    w.n_tensors--; /* the last one (output_norm.weight of the tied preset) left out */
    gw_write(&w, &o, &f);
    BAD(, , f.size, LMR_ERR_FORMAT, "tensor \"output_norm.weight\"", "is missing");
    free(f.data);
    w = m->w;
    w.cfg.n_layers--;
    gw_write(&w, &o, &f);
    BAD(, , f.size, LMR_ERR_UNSUPPORTED, "not used by a qwen2 model with block_count 1", "blk.1.");
    free(f.data);
    w = m->w;
    w.cfg.hidden++;
    gw_write(&w, &o, &f);
    BAD(, , f.size, LMR_ERR_FORMAT, "token_embd.weight\" has ne", "but the metadata implies");
    free(f.data);
    o.alignment = 48;
    gw_write(&m->w, &o, &f);
    BAD(, , f.size, LMR_ERR_FORMAT, "general.alignment 48 is not a power of two");
    free(f.data);
    o.alignment = 2; /* legal: F32 tensors 2-byte aligned are copied, and the model loads */
    gw_write(&m->w, &o, &f);
    gw_save(&f, path);
    CHECK(try_load(path) == LMR_OK, "general.alignment 2: loads (unaligned F32 tensors copied)");
    free(f.data);
    unlink(path);
    lmr_model_destroy(m);
}

static void folders(void) {
    lmr_model *m = synth("tiny-llama", LMR_DTYPE_BF16);
    char sub[160], path[256];
    snprintf(sub, sizeof sub, "%s/one", dir);
    mkdir(sub, 0700);
    gw_file f;
    gw_opts o = {1, 0, 0, NULL, NULL};
    gw_write(&m->w, &o, &f);
    snprintf(path, sizeof path, "%s/a.gguf", sub);
    gw_save(&f, path);
    lmr_model *g = load(sub);
    CHECK(g && !strcmp(g->info.name, "a.gguf"), "a folder holding one .gguf loads it (%s)",
          g ? g->info.name : lmr_last_error(E));
    lmr_model_destroy(g);
    snprintf(path, sizeof path, "%s/b.gguf", sub);
    gw_save(&f, path);
    CHECK_ERR(try_load(sub), LMR_ERR_INVALID_ARG, E, "holds several .gguf files", "give the file's path");
    free(f.data);
    t_rmdir(sub);
    lmr_model_destroy(m);
}

int main(void) {
    lmr_engine_params ep = lmr_engine_params_default();
    ep.backend = LMR_BACKEND_CPU;
    ep.n_threads = 2;
    if (lmr_engine_create(&ep, &E)) return printf("engine: %s\n", lmr_last_error(NULL)), 1;
    snprintf(dir, sizeof dir, "/tmp/lmr-gguf-XXXXXX");
    if (!mkdtemp(dir)) return printf("mkdtemp failed\n"), 1;
    same_model("tiny-qwen2", LMR_DTYPE_BF16);
    same_model("tiny-qwen2", LMR_DTYPE_F32);
    same_model("tiny-llama", LMR_DTYPE_F32);
    same_model("tiny-llama", LMR_DTYPE_F16);
    q8_0("tiny-qwen2");
    q8_0("tiny-llama");
    corrupt();
    folders();
    t_rmdir(dir);
    lmr_engine_destroy(E);
    return check_summary();
}
