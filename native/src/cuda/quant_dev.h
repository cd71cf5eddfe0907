/* quant_dev.h: the quantised weight formats (Q8_0, Q4_K, Q6_K: ggml's blocks, as in
 * src/cpu/quant.h) as the CUDA kernels read them, in plain C that compiles for the device
 * (__host__ __device__ under nvcc) and for the host, so that the CPU tests check the very code
 * the GPU runs against the CPU dequantisation (tests/cuda_quant_dev_test.c), and the GEMV launch
 * plan. Blocks are read as raw bytes at ggml's offsets; F16 scales are 2-byte aligned in every
 * block of a contiguous row.
 *
 * A warp dequantises 8 consecutive weights per lane: for Q4_K / Q6_K lane l of a 256-weight
 * block takes weights 8l .. 8l + 7 (one sub-block, 8 consecutive bytes of quants); for Q8_0
 * group g (0..3) of a 32-weight block takes weights 8g .. 8g + 7. */
#ifndef LMR_CUDA_QUANT_DEV_H
#define LMR_CUDA_QUANT_DEV_H

#include <stdint.h>

#include "lmrig.h"

#include "../cpu/half.h"
#ifdef __CUDACC__
#include <cuda_fp16.h>
#define LMR_QD static __host__ __device__ __forceinline__
#else
#define LMR_QD static inline
#endif

/* byte offsets in ggml's blocks */
#define LMR_QD_Q8_0_BYTES 34 /* d F16 @0, qs[32] @2 */
#define LMR_QD_Q4_K_BYTES 144 /* d F16 @0, dmin F16 @2, scales[12] @4, qs[128] @16 */
#define LMR_QD_Q6_K_BYTES 210 /* ql[128] @0, qh[64] @128, scales[16] @192, d F16 @208 */

LMR_QD float lmr_qd_f16(const uint8_t *p) { /* p 2-byte aligned */
    uint16_t h = *(const uint16_t *)p;
#if defined(__CUDA_ARCH__)
    return __half2float(__ushort_as_half(h));
#else
    return lmr_f16_to_f32(h);
#endif
}

LMR_QD int lmr_qd_block_elems(int dt) {
    return dt == LMR_DTYPE_Q8_0 ? 32 : (dt == LMR_DTYPE_Q4_K || dt == LMR_DTYPE_Q6_K) ? 256 : 0;
}
LMR_QD int lmr_qd_block_bytes(int dt) {
    return dt == LMR_DTYPE_Q8_0 ? LMR_QD_Q8_0_BYTES
         : dt == LMR_DTYPE_Q4_K ? LMR_QD_Q4_K_BYTES
         : dt == LMR_DTYPE_Q6_K ? LMR_QD_Q6_K_BYTES : 0;
}

/* weights 8g .. 8g + 7 of a Q8_0 block */
LMR_QD void lmr_qd_q8_0_8(const uint8_t *blk, int g, float *out) {
    const float d = lmr_qd_f16(blk);
    const int8_t *q = (const int8_t *)(blk + 2) + 8 * g;
    for (int i = 0; i < 8; i++) out[i] = d * q[i];
}

/* weights 8l .. 8l + 7 of a Q4_K block: sub-block j = l / 4, w = d sc_j q - dmin m_j */
LMR_QD void lmr_qd_q4_K_8(const uint8_t *blk, int l, float *out) {
    const uint8_t *s = blk + 4;
    const int j = l / 4;
    int sc, m;
    if (j < 4) {
        sc = s[j] & 63, m = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
    const float d = lmr_qd_f16(blk) * (float)sc, mn = lmr_qd_f16(blk + 2) * (float)m;
    const int r = 8 * (l % 8); /* position in the 64-weight group l / 8 */
    const uint8_t *q = blk + 16 + 32 * (l / 8) + (r < 32 ? r : r - 32);
    const int shift = r < 32 ? 0 : 4;
    for (int i = 0; i < 8; i++) out[i] = d * (float)((q[i] >> shift) & 0xF) - mn;
}

/* weights 8l .. 8l + 7 of a Q6_K block: w = d sc[e / 16] (q - 32) */
LMR_QD void lmr_qd_q6_K_8(const uint8_t *blk, int l, float *out) {
    const int h = l / 16, part = (l % 16) / 4, c = 8 * (l % 4); /* half, quarter, column */
    const uint8_t *ql = blk + 64 * h + c + (part & 1) * 32;
    const uint8_t *qh = blk + 128 + 32 * h + c;
    const float d = lmr_qd_f16(blk + 208) * (float)((const int8_t *)(blk + 192))[l / 2];
    for (int i = 0; i < 8; i++) {
        int lo = part < 2 ? ql[i] & 0xF : ql[i] >> 4;
        int hi = (qh[i] >> (2 * part)) & 3;
        out[i] = d * (float)((lo | (hi << 4)) - 32);
    }
}

/* The 8 weights (k0 = 8 * idx) of a row or of consecutive rows of quantised blocks: idx counts
 * 8-weight groups from the start of blk0. */
LMR_QD void lmr_qd_group(int dt, const uint8_t *blk0, int64_t idx, float *out) {
    const int per = lmr_qd_block_elems(dt) / 8;
    const uint8_t *blk = blk0 + (idx / per) * lmr_qd_block_bytes(dt);
    const int g = (int)(idx % per);
    if (dt == LMR_DTYPE_Q8_0) lmr_qd_q8_0_8(blk, g, out);
    else if (dt == LMR_DTYPE_Q4_K) lmr_qd_q4_K_8(blk, g, out);
    else lmr_qd_q6_K_8(blk, g, out);
}

/* ---- the GEMV launch plan: one warp per output row, LMR_QD_WARPS warps per block ---- */
#define LMR_QD_WARPS 4
#define LMR_QD_MAX_TOK 8 /* tokens per launch (the engine's GEMV batches are cut to this) */
typedef struct {
    int blocks, threads;
    int n_launch; /* launches of up to LMR_QD_MAX_TOK tokens */
} lmr_qd_plan;

/* 0 and the plan, or -1: in is not a multiple of the block size, the dtype is not quantised, or
 * a size is not positive. */
LMR_QD int lmr_qd_gemv_plan(int dt, int in, int out, int n_tok, lmr_qd_plan *p) {
    const int be = lmr_qd_block_elems(dt);
    if (be == 0 || in <= 0 || out <= 0 || n_tok <= 0 || in % be) return -1;
    p->threads = 32 * LMR_QD_WARPS;
    p->blocks = (out + LMR_QD_WARPS - 1) / LMR_QD_WARPS;
    p->n_launch = (n_tok + LMR_QD_MAX_TOK - 1) / LMR_QD_MAX_TOK;
    return 0;
}

#endif /* LMR_CUDA_QUANT_DEV_H */
