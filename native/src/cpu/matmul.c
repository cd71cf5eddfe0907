/* matmul.c: linear layers y = x W^T (+ bias) (+ y). The scalar reference, and the threaded driver
 * that cuts the output rows of one or more W into contiguous chunks claimed by the pool's threads
 * and hands each to the best kernel set (GEMV / small-batch / packed GEMM in matmul_<isa>.c). */
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "quant.h"
#include "simd.h"


static inline float w_at(const void *W, int wdtype, int64_t i) {
    switch (wdtype) {
    case LMR_DTYPE_F16: return lmr_f16_to_f32(((const uint16_t *)W)[i]);
    case LMR_DTYPE_BF16: return lmr_bf16_to_f32(((const uint16_t *)W)[i]);
    default: return ((const float *)W)[i];
    }
}

void lmr_cpu_matmul_ref(const float *x, int n_tok, int in, const void *W, int wdtype, int out,
                        const float *bias, float *y, int accumulate) {
    if (lmr_dtype_is_quant(wdtype)) {
        lmr_matmul_ref_quant(x, n_tok, in, W, wdtype, out, bias, y, accumulate);
        return;
    }
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (int64_t)t * in; /* [in] */
        for (int o = 0; o < out; o++) {
            float s = 0.0f;
            for (int i = 0; i < in; i++) s += xt[i] * w_at(W, wdtype, (int64_t)o * in + i);
            if (bias) s += bias[o];
            float *yo = &y[(int64_t)t * out + o];
            *yo = accumulate ? *yo + s : s;
        }
    }
}

void lmr_matmul_rows_scalar(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                            int o1, float *y, int ldy, float *scratch) {
    (void)scratch;
    for (int o = o0; o < o1; o++)
        for (int t = 0; t < n_tok; t++) {
            const float *xt = x + (int64_t)t * in;
            float s = 0.0f;
            for (int i = 0; i < in; i++) s += xt[i] * w_at(W, wdtype, (int64_t)o * in + i);
            y[(int64_t)t * ldy + o] += s;
        }
}

static int g_small_min = LMR_BF16_SMALL_MIN_TOK, g_small_max = LMR_BF16_SMALL_MAX_TOK;

void lmr_cpu_bf16_small_range(int min_tok, int max_tok) {
    g_small_min = min_tok < 0 ? LMR_BF16_SMALL_MIN_TOK : min_tok;
    g_small_max = max_tok < 0 ? LMR_BF16_SMALL_MAX_TOK : max_tok;
}

int lmr_cpu_bf16x_min_tok(void) { return g_small_min < g_small_max ? g_small_min : g_small_max; }

/* Work is cut into chunks of contiguous output rows (a multiple of a kernel's 16-row block), about
 * CHUNKS_PER_THREAD per thread so that a late or slow thread leaves its share to the others;
 * each chunk streams its rows of W linearly. */
#define CHUNKS_PER_THREAD 4
#define MAX_CHUNKS 64

typedef struct {
    int8_t j;   /* which linear */
    int o0, o1; /* its output rows */
} matmul_chunk;

typedef struct {
    lmr_pool *p;
    const float *x;
    int n_tok, in;
    const lmr_linear *ls;
    lmr_rows_fn rows;
    const uint16_t *xb; /* bf16(x) [n_tok, ldxb] for the AVX-512-BF16 GEMM of BF16 weights, or NULL */
    int ldxb;
    int gemv512; /* the AVX-512 GEMV for n_tok < LMR_GEMV512_MAX_TOK (what the GEMM leaves) */
    int n_chunks;
    matmul_chunk chunks[MAX_CHUNKS];
} matmul_job;

static void matmul_task(void *ctx, int ith, int chunk) {
    matmul_job *j = ctx;
    const matmul_chunk *c = &j->chunks[chunk];
    const lmr_linear *L = &j->ls[c->j];
    int o0 = c->o0, o1 = c->o1;
    for (int t = 0; t < j->n_tok; t++) { /* y starts as bias / previous y / zero */
        float *yt = L->y + (int64_t)t * L->out;
        if (!L->accumulate) {
            if (L->bias) memcpy(yt + o0, L->bias + o0, (size_t)(o1 - o0) * sizeof(float));
            else memset(yt + o0, 0, (size_t)(o1 - o0) * sizeof(float));
        } else if (L->bias) {
            for (int o = o0; o < o1; o++) yt[o] += L->bias[o];
        }
    }
    float *scratch = j->n_tok > 1 ? lmr_pool_scratch(j->p, ith, LMR_GEMM_SCRATCH) : NULL;
#if LMR_HAVE_AVX512
    if (j->xb && L->wdtype == LMR_DTYPE_BF16 && j->n_tok >= g_small_min &&
        j->n_tok < g_small_max) {
        lmr_matmul_rows_bf16_small_avx512(j->xb, j->ldxb, j->n_tok, j->in, L->W, o0, o1, L->y,
                                          L->out);
        return;
    }
    if (j->xb && L->wdtype == LMR_DTYPE_BF16 && scratch) {
        lmr_matmul_rows_bf16_avx512(j->xb, j->ldxb, j->n_tok, j->in, L->W, o0, o1, L->y, L->out,
                                    scratch);
        return;
    }
#endif
#if LMR_HAVE_AVX512
    if (j->gemv512 && j->n_tok < LMR_GEMV512_MAX_TOK &&
        (L->wdtype == LMR_DTYPE_BF16 || L->wdtype == LMR_DTYPE_F16 || L->wdtype == LMR_DTYPE_F32)) {
        lmr_matmul_rows_gemv_avx512(j->x, j->n_tok, j->in, L->W, L->wdtype, o0, o1, L->y, L->out);
        return;
    }
#endif
    j->rows(j->x, j->n_tok, j->in, L->W, L->wdtype, o0, o1, L->y, L->out, scratch);
}

/* Cuts the rows of all linears into chunks of about equal size (want of them, give or take one per
 * linear), rounded to 16 rows. */
static void cut_chunks(matmul_job *j, int n, int want) {
    int64_t total = 0;
    for (int i = 0; i < n; i++) total += j->ls[i].out;
    int64_t size = (total + want - 1) / want;
    size = (size + 15) & ~(int64_t)15;
    if (size < 16) size = 16;
    j->n_chunks = 0;
    for (int i = 0; i < n; i++) {
        int out = j->ls[i].out;
        int pieces = (int)((out + size - 1) / size);
        if (pieces < 1) pieces = 1;
        for (int c = 0; c < pieces; c++) {
            int blocks = (out + 15) / 16;
            int b0 = (int)((int64_t)blocks * c / pieces), b1 = (int)((int64_t)blocks * (c + 1) / pieces);
            int o0 = b0 * 16 < out ? b0 * 16 : out, o1 = b1 * 16 < out ? b1 * 16 : out;
            if (c == pieces - 1) o1 = out;
            if (o0 < o1) j->chunks[j->n_chunks++] = (matmul_chunk){(int8_t)i, o0, o1};
        }
    }
}

/* About CHUNKS_PER_THREAD chunks per thread, their count a multiple of nth where a slightly
 * larger want gives one: 9 equal chunks on 2 threads cost 5 / 4.5 of the ideal time (the 0.5B
 * shape's q, k, v: 896 + 128 + 128 rows cut at 144 made 7 + 1 + 1 chunks of 128 rows). */
static void plan_chunks(matmul_job *j, int n, int nth) {
    int want = nth == 1 ? n : nth * CHUNKS_PER_THREAD; /* sum of pieces <= want + n */
    if (want > MAX_CHUNKS - LMR_MATMUL_MAX) want = MAX_CHUNKS - LMR_MATMUL_MAX;
    cut_chunks(j, n, want);
    for (int w = want + 1; nth > 1 && j->n_chunks % nth && w <= want + nth * 2 &&
                           w <= MAX_CHUNKS - LMR_MATMUL_MAX;
         w++) {
        matmul_job t = *j;
        cut_chunks(&t, n, w);
        if (t.n_chunks % nth == 0) {
            *j = t;
            break;
        }
    }
}

#if LMR_HAVE_AVX512
typedef struct {
    const float *x;
    int n_tok, in, ld;
    uint16_t *xb;
} to_bf16_job;

static void to_bf16_task(void *ctx, int ith, int nth) { /* rows split evenly over the pool */
    to_bf16_job *j = ctx;
    int t0 = (int)((int64_t)j->n_tok * ith / nth), t1 = (int)((int64_t)j->n_tok * (ith + 1) / nth);
    if (t1 > t0)
        lmr_x_to_bf16_avx512(j->x + (int64_t)t0 * j->in, t1 - t0, j->in,
                             j->xb + (int64_t)t0 * j->ld, j->ld);
}
#endif

void lmr_cpu_matmul_n(lmr_pool *p, const float *x, int n_tok, int in, const lmr_linear *ls, int n) {
    if (n_tok <= 0 || n <= 0) return;
    if (n > LMR_MATMUL_MAX) n = LMR_MATMUL_MAX;
    int n_quant = 0;
    for (int i = 0; i < n; i++) n_quant += lmr_dtype_is_quant(ls[i].wdtype);
    if (n_quant) { /* quantised linears go to quant.c, the others through here */
        lmr_linear q[LMR_MATMUL_MAX], f[LMR_MATMUL_MAX];
        int nq = 0, nf = 0;
        for (int i = 0; i < n; i++) {
            if (lmr_dtype_is_quant(ls[i].wdtype)) q[nq++] = ls[i];
            else f[nf++] = ls[i];
        }
        lmr_matmul_quant_n(p, x, n_tok, in, q, nq);
        if (nf) lmr_cpu_matmul_n(p, x, n_tok, in, f, nf);
        return;
    }
    matmul_job j = {.p = p, .x = x, .n_tok = n_tok, .in = in, .ls = ls,
                    .rows = lmr_matmul_rows_scalar};
    switch (lmr_cpu_isa()) {
#if LMR_HAVE_AVX2
    case LMR_ISA_AVX2:
    case LMR_ISA_AVX512: j.rows = lmr_matmul_rows_avx2; break;
#endif
#if LMR_HAVE_NEON
    case LMR_ISA_NEON: j.rows = lmr_matmul_rows_neon; break;
#endif
    default: break;
    }
    for (int i = 0; i < lmr_pool_size(p) && n_tok > 1; i++) /* panels, allocated once */
        if (!lmr_pool_scratch(p, i, LMR_GEMM_SCRATCH)) j.rows = lmr_matmul_rows_scalar;
    if (n > LMR_MATMUL_MAX) n = LMR_MATMUL_MAX;
#if LMR_HAVE_AVX512
    /* AVX-512-BF16: the activations are rounded to BF16 once for all the linears of this input */
    int any_bf16 = 0;
    for (int i = 0; i < n; i++) any_bf16 |= ls[i].wdtype == LMR_DTYPE_BF16;
    if (lmr_cpu_isa() == LMR_ISA_AVX512 && any_bf16 && n_tok >= lmr_cpu_bf16x_min_tok() &&
        j.rows != lmr_matmul_rows_scalar) {
        int ld = (in + 1) & ~1;
        uint16_t *xb = lmr_pool_shared_scratch(p, (size_t)n_tok * ld * sizeof(uint16_t));
        if (xb) {
            /* small batches convert on this thread: a pool run costs more than the work (and on a
             * busy machine a descheduled thread can hold the barrier for a time slice) */
            to_bf16_job tj = {x, n_tok, in, ld, xb};
            if ((int64_t)n_tok * in <= 65536) to_bf16_task(&tj, 0, 1);
            else lmr_pool_run(p, to_bf16_task, &tj);
            j.xb = xb;
            j.ldxb = ld;
        }
    }
#endif
#if LMR_HAVE_AVX512
    j.gemv512 = lmr_cpu_isa() == LMR_ISA_AVX512 && j.rows != lmr_matmul_rows_scalar;
#endif
    plan_chunks(&j, n > LMR_MATMUL_MAX ? LMR_MATMUL_MAX : n, lmr_pool_size(p));
    lmr_pool_run_chunks(p, matmul_task, &j, j.n_chunks);
}

void lmr_cpu_matmul(lmr_pool *p, const float *x, int n_tok, int in, const void *W, int wdtype,
                    int out, const float *bias, float *y, int accumulate) {
    if (out <= 0) return;
    lmr_linear l = {W, wdtype, out, bias, y, accumulate};
    lmr_cpu_matmul_n(p, x, n_tok, in, &l, 1);
}
