/* plan.h: the CUDA backend's host-side choices in plain C, so they are unit-tested on machines
 * without a GPU (tests/cuda_plan_test.c): the batch-size buckets the graph executor captures,
 * and the split-K plan of the tensor-core GEMM for 17..64 tokens (batched decode). */
#ifndef LMR_CUDA_PLAN_H
#define LMR_CUDA_PLAN_H

#include <stdint.h>

/* Graph buckets 1, 2, 4, ..., 4096 (lmr_session_create caps max_seqs at 4096): a decode batch
 * is padded with masked rows (position -1) to its bucket, so at most 7 graphs serve 1..64. */
#define LMR_CUDA_BUCKET_SLOTS 13

/* Smallest power of two >= n (n >= 1). */
static inline int lmr_cuda_bucket(int n) {
    int b = 1;
    while (b < n) b <<= 1;
    return b;
}

/* Index of n's bucket: log2(lmr_cuda_bucket(n)). */
static inline int lmr_cuda_bucket_slot(int n) {
    int s = 0;
    while ((1 << s) < n) s++;
    return s;
}

#define LMR_CUDA_SPLITK_MAX_N 64   /* tokens: one 64-row tile */
#define LMR_CUDA_SPLITK_TILE 64    /* output columns per block */
#define LMR_CUDA_SPLITK_BK 32      /* K step of the GEMM (gemm.cu BK) */
#define LMR_CUDA_SPLITK_MAX 16     /* K ranges at most */
#define LMR_CUDA_SPLITK_MIN_STEPS 4 /* BK steps per range at least */

typedef struct {
    int splits; /* K ranges (1: no split) */
    int kps;    /* K elements per range, a multiple of BK; the last may be shorter */
} lmr_cuda_splitk;

/* Split K when the 64 x 64 tiles of an [n, K] x [out, K]^T product alone would give fewer than
 * two blocks per SM (e.g. q/k/v, o and down of Qwen2.5-1.5B: 32, 24, 24 tiles on 132 SMs), so
 * the weights stream through every SM; partial sums go to ws ([splits, n, out] FP32) and a
 * reduce kernel adds them in order (deterministic) with the epilogue. The plan depends on n only
 * through n > 64 (no split), so every batch of 17..64 tokens runs the same kernels per row. */
static inline lmr_cuda_splitk lmr_cuda_splitk_plan(int n, int out, int K, int sms,
                                                   int64_t ws_floats) {
    lmr_cuda_splitk r = {1, K};
    if (n < 1 || n > LMR_CUDA_SPLITK_MAX_N || sms < 1 || out < 1 || K < 1) return r;
    const int tiles = (out + LMR_CUDA_SPLITK_TILE - 1) / LMR_CUDA_SPLITK_TILE;
    if (tiles >= 2 * sms) return r;
    const int steps = (K + LMR_CUDA_SPLITK_BK - 1) / LMR_CUDA_SPLITK_BK;
    int want = (2 * sms + tiles - 1) / tiles;
    if (want > LMR_CUDA_SPLITK_MAX) want = LMR_CUDA_SPLITK_MAX;
    if (want > steps / LMR_CUDA_SPLITK_MIN_STEPS) want = steps / LMR_CUDA_SPLITK_MIN_STEPS;
    /* room for the largest batch of the range, so the plan does not depend on n */
    int64_t per = (int64_t)LMR_CUDA_SPLITK_MAX_N * out;
    if (per > 0 && want > ws_floats / per) want = (int)(ws_floats / per);
    if (want < 2) return r;
    const int sps = (steps + want - 1) / want; /* BK steps per range */
    r.splits = (steps + sps - 1) / sps;
    r.kps = sps * LMR_CUDA_SPLITK_BK;
    return r;
}

/* FP32 elements of the split-K workspace that make every plan above fit: splits * out <=
 * (2 sms + tiles - 1) * 64 < 4 sms * 64 while tiles < 2 sms, for 64 rows. */
static inline int64_t lmr_cuda_splitk_ws_floats(int sms) {
    return (int64_t)4 * sms * LMR_CUDA_SPLITK_TILE * LMR_CUDA_SPLITK_MAX_N;
}

#endif /* LMR_CUDA_PLAN_H */
