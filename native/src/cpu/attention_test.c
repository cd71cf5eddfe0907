/* attention_test.c: lmr_cpu_attention at every kernel level the CPU has (scalar, avx2, avx512 /
 * neon; one skip line per level it lacks), 1-3 threads, against lmr_cpu_attention_ref over paged
 * caches with shuffled block tables: decode and prefill, pos0 > 0, GQA groups 1, 2, 6, 7, 8, 12,
 * 16 (more heads than one register pass), 40 (over 64 heads per prefill block of 4 tokens: one
 * token per item), KV dtypes F32/F16/BF16, head dims 16, 48, 64, 80, 128,
 * 256 and odd ones (72, 40: the AVX-512 kernel hands those to the AVX2 one), chunk tails.
 * Outputs are convex combinations of V rows, so the tolerance is absolute relative to max|V|:
 * |out - ref| <= 2e-5 * max|V| (order of the FP32 sums and the vector exp differ). Also K that
 * grows along the sequence (scores rising: the running max moves in many chunks), and in every
 * single-sequence case a negative control: the check must reject an output off by 2x the
 * tolerance in one element (worst -1 in the line when it does not). The AVX-512 level's
 * vdpbf16ps path (BF16 KV, head dims a multiple of 32) rounds the query and the softmax weights
 * to BF16: its lines are checked against the reference on the rounded query (TOL_DP) and print
 * what the rounding costs against the plain reference beside what storing K and V in BF16 costs
 * (about the same: 0.8x on average over the cases here, at most 1.6x). */
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "simd.h"
#include "test_util.h"

static const char *dt_name(int dt) {
    return dt == LMR_DTYPE_F32 ? "f32" : dt == LMR_DTYPE_F16 ? "f16" : "bf16";
}

/* Worst |o - r| / vmax over n outputs (NaN counts as worst); the case passes at <= TOL. */
#define TOL 2e-5
/* The AVX-512 level's vdpbf16ps path (BF16 KV, head dims a multiple of 32) rounds the scaled
 * query and the softmax weights to BF16. Its check: against the reference run on the query so
 * rounded, within TOL_DP, the bound the weights' rounding allows (each weight off by at most
 * 2^-9 relative, the denominator summing the same rounded weights: the output moves by at most
 * 2^-9 * 2 max|V|). What rounding the query costs is the gap to the plain reference: printed
 * in each line ("cost") and held under TOL_DP_COST. */
#define TOL_DP (1.0 / 256)
#define TOL_DP_COST 2e-2
static int dp_path(int dt, int hd) {
    return lmr_cpu_isa() == LMR_ISA_AVX512 && dt == LMR_DTYPE_BF16 && hd % 32 == 0;
}

/* ", cost C (BF16 query; BF16 KV: S)" for the vdpbf16ps path's lines (S: what storing K and V
 * in BF16 moves the reference, when measured), else "". */
static const char *cost_text(int dt, int hd, double cost, double storage) {
    static char b[96];
    if (!dp_path(dt, hd)) return "";
    if (storage < 0) snprintf(b, sizeof b, ", cost %.2g (BF16 query)", cost);
    else snprintf(b, sizeof b, ", cost %.2g (BF16 query; BF16 KV: %.2g)", cost, storage);
    return b;
}

/* q as the vdpbf16ps path sees it: q * scale rounded to BF16, divided back by scale. */
static void round_query(const float *q, int64_t n, int hd, float *out) {
    float scale = 1.0f / sqrtf((float)hd);
    for (int64_t i = 0; i < n; i++) out[i] = lmr_bf16_to_f32(lmr_f32_to_bf16(q[i] * scale)) / scale;
}
static double worst_err(const float *o, const float *r, int n, float vmax) {
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double err = fabs((double)o[i] - r[i]) / vmax;
        if (err > worst || err != err) worst = err;
    }
    return worst;
}

/* ramp: K rows scaled by 0.2 + 4 p / n_pos, so that scores grow along the sequence and the
 * running max moves in many chunks (the state is rescaled often), not only near the start. */
static int run_case(lmr_pool *p, int n_tok, int pos0, int n_heads, int n_kv, int hd, int bt,
                    int dt, int ramp, double *worst, double *cost, double *storage_cost) {
    int n_pos = pos0 + n_tok, n_blk_seq = (n_pos + bt - 1) / bt, n_blocks = n_blk_seq + 3;
    size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2;
    int64_t pool_n = (int64_t)n_blocks * bt * n_kv * hd; /* [n_blocks, bt, n_kv, hd] */
    void *K = malloc(esz * pool_n), *V = malloc(esz * pool_n);
    float *Kf = malloc(sizeof(float) * pool_n), *Vf = malloc(sizeof(float) * pool_n); /* unrounded */
    float *q = malloc(sizeof(float) * n_tok * n_heads * hd);
    float *o = malloc(sizeof(float) * n_tok * n_heads * hd);
    float *r = malloc(sizeof(float) * n_tok * n_heads * hd);
    int32_t *table = malloc(sizeof(int32_t) * n_blk_seq);
    int32_t *perm = malloc(sizeof(int32_t) * n_blocks);
    for (int i = 0; i < n_blocks; i++) perm[i] = i;
    for (int i = n_blocks - 1; i > 0; i--) { /* shuffled: block j of the sequence anywhere */
        int k = (int)(rng_u64() % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    memcpy(table, perm, sizeof(int32_t) * n_blk_seq);
    float vmax = 0;
    int64_t row = (int64_t)n_kv * hd; /* elements per (block, slot) */
    for (int64_t i = 0; i < pool_n; i++) {
        float k = rng_uniform(-2, 2), v = rng_uniform(-1, 1);
        if (ramp) { /* position of element i: the slot of its block in the sequence */
            int64_t blk = i / ((int64_t)bt * row), slot = i / row % bt;
            int j = 0;
            while (j < n_blk_seq && table[j] != blk) j++;
            k *= 0.2f + 4.0f * (float)(j * bt + slot) / (float)n_pos;
        }
        Kf[i] = k, Vf[i] = v;
        if (dt == LMR_DTYPE_F32) ((float *)K)[i] = k, ((float *)V)[i] = v;
        else if (dt == LMR_DTYPE_F16) ((uint16_t *)K)[i] = lmr_f32_to_f16(k), ((uint16_t *)V)[i] = lmr_f32_to_f16(v);
        else ((uint16_t *)K)[i] = lmr_f32_to_bf16(k), ((uint16_t *)V)[i] = lmr_f32_to_bf16(v);
        if (fabsf(v) > vmax) vmax = fabsf(v);
    }
    for (int i = 0; i < n_tok * n_heads * hd; i++) q[i] = rng_uniform(-2, 2);
    lmr_cpu_attention(p, q, n_tok, pos0, K, V, dt, table, bt, n_heads, n_kv, hd, o);
    lmr_cpu_attention_ref(q, n_tok, pos0, K, V, dt, table, bt, n_heads, n_kv, hd, r);
    int n_out = n_tok * n_heads * hd, dp = dp_path(dt, hd);
    double tol = dp ? TOL_DP : TOL;
    if (dp) { /* r: the reference on the rounded query; the plain one measures the cost */
        double c = worst_err(o, r, n_out, vmax);
        if (c > *cost || c != c) *cost = c;
        /* what storing K and V in BF16 costs, for scale: the reference on the unrounded rows */
        float *rf = malloc(sizeof(float) * n_out);
        lmr_cpu_attention_ref(q, n_tok, pos0, Kf, Vf, LMR_DTYPE_F32, table, bt, n_heads, n_kv, hd,
                              rf);
        double sc = worst_err(r, rf, n_out, vmax);
        if (sc > *storage_cost) *storage_cost = sc;
        free(rf);
        round_query(q, n_out, hd, q);
        lmr_cpu_attention_ref(q, n_tok, pos0, K, V, dt, table, bt, n_heads, n_kv, hd, r);
    }
    double w = worst_err(o, r, n_out, vmax);
    if (w > *worst || w != w) *worst = w;
    int ok = w <= tol && !(*cost > TOL_DP_COST);
    /* negative control: the same check fails on an output off by 2 tol in one element */
    o[n_out / 2] = r[n_out / 2] + 2 * tol * vmax;
    if (worst_err(o, r, n_out, vmax) <= tol) ok = 0, *worst = -1;
    free(K), free(V), free(Kf), free(Vf), free(q), free(o), free(r), free(table), free(perm);
    return ok;
}

/* lmr_cpu_attention_decode_n over n_seq sequences of the given lengths sharing one KV pool
 * (interleaved, shuffled blocks), each against the reference. */
static int run_batch(lmr_pool *p, int n_seq, const int *pos0, int n_heads, int n_kv, int hd, int bt,
                     int dt, double *worst, double *cost) {
    int n_blocks = 0, blk_of[64];
    for (int i = 0; i < n_seq; i++) blk_of[i] = n_blocks, n_blocks += pos0[i] / bt + 1;
    size_t esz = dt == LMR_DTYPE_F32 ? 4 : 2;
    int64_t pool_n = (int64_t)n_blocks * bt * n_kv * hd, qn = (int64_t)n_heads * hd;
    void *K = malloc(esz * pool_n), *V = malloc(esz * pool_n);
    float *q = malloc(sizeof(float) * n_seq * qn), *o = malloc(sizeof(float) * n_seq * qn);
    float *r = malloc(sizeof(float) * qn);
    int32_t *perm = malloc(sizeof(int32_t) * n_blocks);
    for (int i = 0; i < n_blocks; i++) perm[i] = i;
    for (int i = n_blocks - 1; i > 0; i--) {
        int k = (int)(rng_u64() % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    float vmax = 0;
    for (int64_t i = 0; i < pool_n; i++) {
        float k = rng_uniform(-2, 2), v = rng_uniform(-1, 1);
        if (dt == LMR_DTYPE_F32) ((float *)K)[i] = k, ((float *)V)[i] = v;
        else if (dt == LMR_DTYPE_F16) ((uint16_t *)K)[i] = lmr_f32_to_f16(k), ((uint16_t *)V)[i] = lmr_f32_to_f16(v);
        else ((uint16_t *)K)[i] = lmr_f32_to_bf16(k), ((uint16_t *)V)[i] = lmr_f32_to_bf16(v);
        if (fabsf(v) > vmax) vmax = fabsf(v);
    }
    for (int64_t i = 0; i < n_seq * qn; i++) q[i] = rng_uniform(-2, 2);
    const float *qs[64];
    float *os[64];
    const int32_t *tables[64];
    for (int i = 0; i < n_seq; i++) {
        qs[i] = q + i * qn, os[i] = o + i * qn, tables[i] = perm + blk_of[i];
        for (int64_t k = 0; k < qn; k++) os[i][k] = NAN; /* every output must be written */
    }
    lmr_cpu_attention_decode_n(p, n_seq, qs, pos0, K, V, dt, tables, bt, n_heads, n_kv, hd, os);
    int ok = 1, dp = dp_path(dt, hd);
    double tol = dp ? TOL_DP : TOL;
    for (int i = 0; i < n_seq; i++) {
        lmr_cpu_attention_ref(qs[i], 1, pos0[i], K, V, dt, tables[i], bt, n_heads, n_kv, hd, r);
        if (dp) { /* as in run_case */
            double c = worst_err(os[i], r, (int)qn, vmax);
            if (c > *cost || c != c) *cost = c;
            if (!(c <= TOL_DP_COST)) ok = 0;
            round_query(qs[i], qn, hd, q + i * qn);
            lmr_cpu_attention_ref(qs[i], 1, pos0[i], K, V, dt, tables[i], bt, n_heads, n_kv, hd,
                                  r);
        }
        for (int64_t k = 0; k < qn; k++) {
            double err = fabs((double)os[i][k] - r[k]) / vmax;
            if (!(err <= tol)) ok = 0;
            if (err > *worst || err != err) *worst = err;
        }
    }
    free(K), free(V), free(q), free(o), free(r), free(perm);
    return ok;
}

int main(void) {
    lmr_pool *pools[3] = {lmr_pool_create(1), lmr_pool_create(2), lmr_pool_create(3)};
    const int dts[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    /* n_tok, pos0, n_heads, n_kv, hd, block_tokens */
    const int cases[][6] = {
        {1, 0, 4, 4, 64, 16},    {1, 1, 4, 2, 128, 16},   {1, 37, 12, 2, 128, 16},
        {1, 1000, 12, 2, 128, 16}, {1, 333, 6, 1, 72, 16}, {2, 0, 4, 2, 64, 16},
        {3, 5, 12, 2, 128, 16},  {7, 40, 6, 6, 64, 16},   {64, 0, 12, 2, 128, 16},
        {130, 17, 4, 2, 128, 16}, {7, 100, 12, 2, 128, 32}, {1, 4100, 14, 2, 64, 16},
        {1, 300, 14, 2, 64, 16}, {1, 45, 16, 2, 48, 16},  {1, 600, 8, 1, 80, 16},
        {1, 17, 32, 2, 16, 16},  {2, 70, 24, 2, 256, 16}, {1, 531, 16, 1, 128, 16},
        {1, 99, 4, 2, 40, 16},   {5, 3, 14, 2, 64, 16},   {1, 1, 2, 1, 256, 32},
        {9, 31, 16, 1, 64, 16},  {6, 2, 40, 1, 32, 16}, /* prefill blocks of 64 heads; a group > 64 */
    };
    int n_cases = sizeof cases / sizeof cases[0];
#if defined(__x86_64__) || defined(__i386__)
    const int levels[] = {0, 1, 2}; /* scalar, avx2, avx512 */
#else
    const int levels[] = {0, 3}; /* scalar, neon */
#endif
    int max = lmr_cpu_level_max();
    for (int li = 0; li < (int)(sizeof levels / sizeof *levels); li++) {
        int lvl = levels[li], scalar = lvl == 0;
        if (lvl != 0 && (lvl > max || (max == 3) != (lvl == 3))) {
            printf("skip: %s level: this CPU (or build) lacks it\n", lmr_cpu_level_name(lvl));
            continue;
        }
        lmr_cpu_force_level(lvl);
        for (int c = 0; c < n_cases; c++)
            for (int d = 0; d < 3; d++)
                for (int pi = 0; pi < 3; pi += scalar ? 2 : 1) {
                    const int *k = cases[c];
                    double worst = 0, cost = 0, sc = 0;
                    int ok = run_case(pools[pi], k[0], k[1], k[2], k[3], k[4], k[5], dts[d], 0,
                                      &worst, &cost, &sc);
                    CHECK(ok, "%s %s threads %d n_tok %d pos0 %d heads %d/%d hd %d bt %d: worst %.2g%s",
                          lmr_cpu_simd_name(), dt_name(dts[d]), pi + 1, k[0], k[1], k[2], k[3],
                          k[4], k[5], worst, cost_text(dts[d], k[4], cost, sc));
                }
    }
    /* rising scores (the running max moves in many chunks): decode, split and not, chunk tails,
     * the 0.5B and 1.5B head layouts, one group above a register pass; and prefill */
    static const int ramps[][6] = {{1, 3000, 14, 2, 64, 16}, {1, 2049, 12, 2, 128, 16},
                                   {1, 77, 7, 1, 64, 16},    {1, 1030, 16, 1, 48, 16},
                                   {20, 90, 14, 2, 64, 16}};
    for (int li = 0; li < (int)(sizeof levels / sizeof *levels); li++) {
        int lvl = levels[li];
        if (lvl != 0 && (lvl > max || (max == 3) != (lvl == 3))) continue; /* skipped above */
        lmr_cpu_force_level(lvl);
        for (int c = 0; c < (int)(sizeof ramps / sizeof *ramps); c++)
            for (int d = 0; d < 3; d++)
                for (int pi = 0; pi < 3; pi += 2) {
                    const int *k = ramps[c];
                    double worst = 0, cost = 0, sc = 0;
                    int ok = run_case(pools[pi], k[0], k[1], k[2], k[3], k[4], k[5], dts[d], 1,
                                      &worst, &cost, &sc);
                    CHECK(ok, "%s %s threads %d rising scores n_tok %d pos0 %d heads %d/%d hd %d: "
                          "worst %.2g%s", lmr_cpu_simd_name(), dt_name(dts[d]), pi + 1, k[0], k[1],
                          k[2], k[3], k[4], worst, cost_text(dts[d], k[4], cost, sc));
                }
    }
    /* batched decode: short and long sequences mixed, one long among many short, all short */
    static const int lens_a[] = {0, 1, 300, 4100, 17, 999}, lens_b[] = {5, 3, 9000, 2, 0, 64, 31};
    static const int lens_c[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 40};
    static const struct { int n; const int *lens; int heads, kv, hd; } batches[] = {
        {6, lens_a, 14, 2, 64}, {7, lens_b, 12, 2, 128}, {18, lens_c, 8, 8, 48}, {1, lens_b + 2, 16, 2, 72}};
    for (int li = 0; li < (int)(sizeof levels / sizeof *levels); li++) {
        int lvl = levels[li];
        if (lvl != 0 && (lvl > max || (max == 3) != (lvl == 3))) continue; /* skipped above */
        lmr_cpu_force_level(lvl);
        for (int bi = 0; bi < 4; bi++)
            for (int d = 0; d < 3; d++)
                for (int pi = 0; pi < 3; pi++) {
                    double worst = 0, cost = 0;
                    int ok = run_batch(pools[pi], batches[bi].n, batches[bi].lens, batches[bi].heads,
                                       batches[bi].kv, batches[bi].hd, 16, dts[d], &worst, &cost);
                    CHECK(ok, "%s %s threads %d decode batch of %d sequences, heads %d/%d hd %d: "
                          "worst %.2g%s", lmr_cpu_simd_name(), dt_name(dts[d]), pi + 1,
                          batches[bi].n, batches[bi].heads, batches[bi].kv, batches[bi].hd, worst,
                          cost_text(dts[d], batches[bi].hd, cost, -1));
                }
    }
    lmr_cpu_force_level(-1);
    for (int i = 0; i < 3; i++) lmr_pool_destroy(pools[i]);
    return test_summary();
}
