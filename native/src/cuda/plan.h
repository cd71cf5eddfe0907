/* plan.h: the CUDA backend's host-side choices in plain C, so they are unit-tested on machines
 * without a GPU (tests/cuda_plan_test.c): the batch-size buckets the graph executor captures,
 * and the split-K plan of the tensor-core GEMM for 17..64 tokens (batched decode). */
#ifndef LMR_CUDA_PLAN_H
#define LMR_CUDA_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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


/* ---- model shapes the kernels take (checked at model load, not at the first forward) ---- */

#define LMR_CUDA_MAX_GROUP_PLAN 8 /* query heads per KV head of the decode attention kernel */

/* 0 when the CUDA kernels support the shape, else -1 with "what failed: why" in err:
 * head_dim in 16/32/64/128 (attention kernels, RoPE frequencies), n_heads a multiple of
 * n_kv_heads with at most 8 query heads per KV head (decode attention keeps one state per query
 * head of the group in registers), weights BF16, F16 or F32 (dtype: LMR_DTYPE_* value 0 F32,
 * 1 F16, 2 BF16, as lmrig.h), hidden and ffn positive. */
static inline int lmr_cuda_shape_check(int hidden, int ffn, int n_heads, int n_kv_heads,
                                       int head_dim, int wdtype, char *err, size_t cap) {
    if (head_dim != 16 && head_dim != 32 && head_dim != 64 && head_dim != 128) {
        snprintf(err, cap,
                 "CUDA backend: head_dim %d is not supported (the attention kernels take 16, 32, "
                 "64 or 128)",
                 head_dim);
        return -1;
    }
    if (n_kv_heads < 1 || n_heads < 1 || n_heads % n_kv_heads != 0) {
        snprintf(err, cap,
                 "CUDA backend: %d query heads over %d KV heads is not supported (a whole number "
                 "of query heads per KV head is needed)",
                 n_heads, n_kv_heads);
        return -1;
    }
    if (n_heads / n_kv_heads > LMR_CUDA_MAX_GROUP_PLAN) {
        snprintf(err, cap,
                 "CUDA backend: %d query heads per KV head is not supported (the decode attention "
                 "kernel takes at most %d)",
                 n_heads / n_kv_heads, LMR_CUDA_MAX_GROUP_PLAN);
        return -1;
    }
    /* F32 0, F16 1, BF16 2, Q8_0 8, Q4_K 12, Q6_K 14 (LMR_DTYPE_*) */
    if (wdtype != 0 && wdtype != 1 && wdtype != 2 && wdtype != 8 && wdtype != 12 && wdtype != 14) {
        snprintf(err, cap,
                 "CUDA backend: weight dtype %d is not supported (F32, F16, BF16, Q8_0, Q4_K or "
                 "Q6_K weights)",
                 wdtype);
        return -1;
    }
    if (hidden < 1 || ffn < 1) {
        snprintf(err, cap, "CUDA backend: hidden %d, ffn %d: both must be positive", hidden, ffn);
        return -1;
    }
    return 0;
}

/* ---- decode attention: keys per split from the length, a fixed number of blocks ---- */

#ifdef __CUDACC__
#define LMR_PLAN_FN static inline __host__ __device__
#else
#define LMR_PLAN_FN static inline
#endif

#define LMR_CUDA_ATT_SPLIT_MIN 32   /* keys per decode split at least (4 per warp of a block) */
#define LMR_CUDA_ATT_SPLITS_MAX 256 /* decode splits per (KV head, token) at most */

/* Keys per split of a decode query that sees len positions: the smallest multiple of 32 that
 * keeps the splits at most 256 (32 up to 8192 positions, 128 at 32K). It depends on the length
 * alone, read on the device by the attention and combine kernels, so a graph serves every length
 * and a query's splits are the same in any batch (the H200 run showed why: with 256 keys per
 * split, a 1K-position step kept 8 blocks busy and took 1.5 ms more than position 1). */
LMR_PLAN_FN int lmr_cuda_att_split(int len) {
    int per = (len + LMR_CUDA_ATT_SPLITS_MAX - 1) / LMR_CUDA_ATT_SPLITS_MAX;
    per = (per + LMR_CUDA_ATT_SPLIT_MIN - 1) / LMR_CUDA_ATT_SPLIT_MIN * LMR_CUDA_ATT_SPLIT_MIN;
    return per < LMR_CUDA_ATT_SPLIT_MIN ? LMR_CUDA_ATT_SPLIT_MIN : per;
}

/* Partial-state slots per (KV head, token) for every length up to max_len: no length needs more
 * than min(256, ceil(max_len / 32)) splits (cuda_plan_test checks every length). */
static inline int lmr_cuda_att_splits_max(int max_len) {
    const int n = (max_len + LMR_CUDA_ATT_SPLIT_MIN - 1) / LMR_CUDA_ATT_SPLIT_MIN;
    return n < 1 ? 1 : n > LMR_CUDA_ATT_SPLITS_MAX ? LMR_CUDA_ATT_SPLITS_MAX : n;
}

/* Blocks per (KV head, token) of the flash-decoding kernel: each loops over the splits its
 * token needs (split s, s + blocks, ...: ceil(len / split) from the device-side position), so
 * the grid is about 4 blocks per SM in all instead of n_splits (max_ctx / split) per pair, and
 * stays valid for every length (graphs). At most n_splits, at least 1. Every split is computed
 * the same way whoever runs it, so the result does not depend on the block count. */
static inline int lmr_cuda_att_blocks(int n_splits, int n_kv, int n_tok, int sms) {
    if (n_splits < 1) return 1;
    const int64_t pairs = (int64_t)(n_kv > 0 ? n_kv : 1) * (n_tok > 0 ? n_tok : 1);
    int64_t want = (4 * (int64_t)(sms > 0 ? sms : 1) + pairs - 1) / pairs;
    if (want > n_splits) want = n_splits;
    return want < 1 ? 1 : (int)want;
}

/* ---- prefill GEMM tiles ---- */

/* 1: 128 x 128 tiles (8 warps); 0: 64 x 64 tiles (4 warps). More than 64 tokens take the big
 * tiles only when they give at least two blocks per SM: at 1024 tokens q/k/v (2048 outputs),
 * o and down (1536) of Qwen2.5-1.5B give 128 and 96 big tiles on 132 SMs, under one wave, and
 * take 512 and 384 small ones. */
static inline int lmr_cuda_gemm_big_tiles(int n, int out, int sms) {
    if (n <= 64) return 0;
    const int64_t blocks = (int64_t)((out + 127) / 128) * ((n + 127) / 128);
    return blocks >= 2 * (int64_t)sms;
}

/* ---- GEMV or GEMM: how many tokens a linear op may have to take the GEMV kernel ---- */

/* The GEMV kernel reads the weights once for up to 16 tokens, but its FP32 x in shared memory
 * makes each extra token cost more than the tensor-core GEMM (measured on an H200: batch 8
 * took 7.7 ms and batch 16 14.1 ms per step of Qwen2.5-1.5B through the GEMV, batch 32 3.8 ms
 * through the GEMM), so only the smallest batches take it. */
#define LMR_CUDA_GEMV_MAX_DEFAULT 4

/* LMR_CUDA_GEMV_MAX's value: an integer 1..16, else (unset, empty, out of range) the default. */
static inline int lmr_cuda_gemv_max_parse(const char *v) {
    if (!v || !*v) return LMR_CUDA_GEMV_MAX_DEFAULT;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 16) return LMR_CUDA_GEMV_MAX_DEFAULT;
    return (int)n;
}

/* ---- GEMV launch geometry (1..16 tokens) ---- */

#define LMR_CUDA_GEMV_SMEM_FLOATS 12160 /* x tile budget: 47.5 KiB, under the 48 KiB default */
#define LMR_CUDA_GEMV_MAX_ROWS 64       /* rows per block at most */

typedef struct {
    int warps;  /* warps per block (2 rows each per pass) */
    int passes; /* row pairs per warp (whole-x blocks only; 1 when x is tiled) */
    int kt;     /* x elements per token staged at once: in (whole) or a multiple of 32 v */
    int smem;   /* dynamic shared memory bytes: nb * kt floats */
    int blocks; /* grid size */
} lmr_cuda_gemv_geom;

/* nb: the kernel's token bucket (1, 2, 4, 8, 16); v: weights per 16-byte vector (8 BF16/F16,
 * 4 F32). x (nb tokens) is staged whole when it fits the budget, else in tiles of kt, a
 * multiple of 32 v so element k of a row always goes to the same lane (batched == single).
 * 4 warps per block, 2 when 8-row blocks would give fewer than 2 blocks per SM (o and down
 * of Qwen2.5-1.5B: 1536 rows -> 384 blocks of 4 rows on 132 SMs). A whole-x block takes
 * several passes of row pairs (up to 64 rows) while that still leaves 4 blocks per SM, so the
 * staging of x (and the norm) is shared by more weight rows (lm_head, gate/up). */
static inline lmr_cuda_gemv_geom lmr_cuda_gemv_plan(int nb, int in, int out, int v, int sms) {
    lmr_cuda_gemv_geom g = {4, 1, in, 0, 1};
    if (nb < 1) nb = 1;
    if (sms < 1) sms = 1;
    if ((int64_t)nb * in > LMR_CUDA_GEMV_SMEM_FLOATS) {
        const int q = 32 * v;
        g.kt = LMR_CUDA_GEMV_SMEM_FLOATS / nb / q * q;
        if (g.kt < q) g.kt = q;
    }
    if ((out + 7) / 8 < 2 * sms) g.warps = 2;
    const int rpp = 2 * g.warps;
    if (g.kt >= in) {
        int p = out / (rpp * 4 * sms);
        const int pmax = LMR_CUDA_GEMV_MAX_ROWS / rpp;
        g.passes = p < 1 ? 1 : p > pmax ? pmax : p;
    }
    g.smem = (int)((int64_t)nb * g.kt * 4);
    const int rpb = rpp * g.passes;
    g.blocks = (out + rpb - 1) / rpb;
    return g;
}

#endif /* LMR_CUDA_PLAN_H */
