/* quant.cu: CUDA kernels of the quantised weight types (Q8_0, Q4_K, Q6_K in ggml's blocks; see
 * quant_cuda.h). The per-lane dequantisation is quant_dev.h, shared with the CPU tests.
 *
 * GEMV: one warp per output row, LMR_QD_WARPS rows per block; lane l dequantises weights
 * 8l .. 8l + 7 of each 256-weight block (Q4_K, Q6_K: a whole block per warp step, 8 consecutive
 * quant bytes per lane) or group l % 4 of block l / 4 + 8 s (Q8_0: 8 blocks per warp step) and
 * takes the dot with up to LMR_QD_MAX_TOK tokens of FP32 x (two float4 loads each), FP32
 * accumulation, warp-shuffle reduction; the block's sums meet in shared memory for gemm.cu's
 * epilogues (bias, accumulate, silu(gate) * up of row pairs, yrow).
 * Dequantisation: one thread per 8 weights, written as F32, F16 or BF16.
 * The engine (lmr_cuda_quant_linear, lmr_cuda_quant_embed; common.cuh): decode batches of up to
 * LMR_CUDA_QGEMV_MAX tokens take the GEMV; more tokens dequantise tiles of W's rows to BF16 in
 * the session's scratch and run gemm.cu's tensor-core GEMM on each tile. */
#include <stdio.h>
#include <string.h>

#include "common.cuh"
#include "quant_cuda.h"
#include "quant_dev.h"

template <int DT, int NB>
__global__ void __launch_bounds__(32 * LMR_QD_WARPS)
    qgemv_kernel(cu_linear a, const float *__restrict__ x, int ldx) {
    __shared__ float part[LMR_QD_WARPS][NB];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int row = blockIdx.x * LMR_QD_WARPS + warp, in = a.in, out = a.out;
    constexpr int BE = DT == LMR_DTYPE_Q8_0 ? 32 : 256;
    constexpr int BB = DT == LMR_DTYPE_Q8_0 ? LMR_QD_Q8_0_BYTES
                     : DT == LMR_DTYPE_Q4_K ? LMR_QD_Q4_K_BYTES : LMR_QD_Q6_K_BYTES;
    const int nb = in / BE;
    const uint8_t *w = (const uint8_t *)a.W + (int64_t)row * nb * BB;
    float acc[NB];
#pragma unroll
    for (int t = 0; t < NB; t++) acc[t] = 0.0f;
    /* warp step s covers 256 weights: one K block, or 8 Q8_0 blocks; a warp past the last row
     * stays for the block's epilogue */
    const int steps = row >= out ? 0 : DT == LMR_DTYPE_Q8_0 ? (nb + 7) / 8 : nb;
    for (int s = 0; s < steps; s++) {
        float wf[8];
        int k;
        if (DT == LMR_DTYPE_Q8_0) {
            const int b = 8 * s + lane / 4;
            if (b >= nb) continue;
            lmr_qd_q8_0_8(w + (int64_t)b * BB, lane % 4, wf);
            k = 32 * b + 8 * (lane % 4);
        } else {
            if (DT == LMR_DTYPE_Q4_K) lmr_qd_q4_K_8(w + (int64_t)s * BB, lane, wf);
            else lmr_qd_q6_K_8(w + (int64_t)s * BB, lane, wf);
            k = 256 * s + 8 * lane;
        }
#pragma unroll
        for (int t = 0; t < NB; t++) {
            const float4 p = *(const float4 *)(x + (int64_t)t * ldx + k);
            const float4 q = *(const float4 *)(x + (int64_t)t * ldx + k + 4);
            float v = acc[t];
            v = fmaf(wf[0], p.x, v), v = fmaf(wf[1], p.y, v), v = fmaf(wf[2], p.z, v);
            v = fmaf(wf[3], p.w, v), v = fmaf(wf[4], q.x, v), v = fmaf(wf[5], q.y, v);
            v = fmaf(wf[6], q.z, v), v = fmaf(wf[7], q.w, v);
            acc[t] = v;
        }
    }
#pragma unroll
    for (int t = 0; t < NB; t++) {
        const float v = warp_sum(acc[t]);
        if (lane == 0) part[warp][t] = v;
    }
    __syncthreads();
    /* epilogue (gemm.cu's): thread i takes row blockIdx.x * WARPS + i / NB of token i % NB; SILU
     * pairs rows 2j (gate) and 2j + 1 (up), both in this block (WARPS is even) */
    const int i = threadIdx.x;
    if (i >= LMR_QD_WARPS * NB) return;
    const int wr = i / NB, t = i % NB, r = blockIdx.x * LMR_QD_WARPS + wr;
    if (r >= out) return;
    float *yt = a.y + (int64_t)(a.yrow ? a.yrow[t] : t) * a.ldy;
    const float v = part[wr][t];
    if (a.mode == LIN_SILU) {
        if (r % 2 == 0 && r + 1 < out) yt[r / 2] = v / (1.0f + expf(-v)) * part[wr + 1][t];
    } else {
        const float o = v + (a.bias ? a.bias[r] : 0.0f);
        if (a.mode == LIN_ACC) yt[r] += o;
        else yt[r] = o;
    }
}

/* h[t] = dequantised row tokens[t] of E [vocab, hidden]: one block per token, 8 weights a thread */
template <int DT>
__global__ void qembed_kernel(const int32_t *tokens, const uint8_t *E, int hidden, float *h) {
    const int t = blockIdx.x;
    const uint8_t *row = E + (int64_t)tokens[t] * (hidden / lmr_qd_block_elems(DT)) *
                                 lmr_qd_block_bytes(DT);
    for (int g = threadIdx.x; g < hidden / 8; g += blockDim.x) {
        float f[8];
        lmr_qd_group(DT, row, g, f);
#pragma unroll
        for (int k = 0; k < 8; k++) h[(int64_t)t * hidden + 8 * g + k] = f[k];
    }
}

template <int DT, int OUT>
__global__ void dequant_kernel(const uint8_t *__restrict__ W, int64_t groups, void *dst) {
    const int64_t g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= groups) return;
    float f[8];
    lmr_qd_group(DT, W, g, f);
    if (OUT == LMR_DTYPE_F32) {
        float4 *o = (float4 *)((float *)dst + 8 * g);
        o[0] = make_float4(f[0], f[1], f[2], f[3]);
        o[1] = make_float4(f[4], f[5], f[6], f[7]);
    } else if (OUT == LMR_DTYPE_F16) {
        __half *o = (__half *)dst + 8 * g;
#pragma unroll
        for (int i = 0; i < 8; i++) o[i] = __float2half_rn(f[i]);
    } else {
        __nv_bfloat16 *o = (__nv_bfloat16 *)dst + 8 * g;
#pragma unroll
        for (int i = 0; i < 8; i++) o[i] = __float2bfloat16_rn(f[i]);
    }
}

/* One launch of at most LMR_QD_MAX_TOK tokens (a.n) */
template <int DT>
static void launch_gemv(cudaStream_t st, const lmr_qd_plan &p, const cu_linear &a, const float *x,
                        int ldx) {
    switch (a.n) {
#define QG_CASE(N)                                                                             \
    case N: qgemv_kernel<DT, N><<<p.blocks, p.threads, 0, st>>>(a, x, ldx); break;
        QG_CASE(1) QG_CASE(2) QG_CASE(3) QG_CASE(4) QG_CASE(5) QG_CASE(6) QG_CASE(7)
        default : qgemv_kernel<DT, LMR_QD_MAX_TOK><<<p.blocks, p.threads, 0, st>>>(a, x, ldx);
#undef QG_CASE
    }
}

/* Token t0's chunk of a: x rows from t0, output rows from t0 (through yrow when set). */
static cu_linear chunk_of(const cu_linear *a, int t0) {
    cu_linear c = *a;
    c.n = a->n - t0 < LMR_QD_MAX_TOK ? a->n - t0 : LMR_QD_MAX_TOK;
    if (a->yrow) c.yrow = a->yrow + t0;
    else c.y = a->y + (int64_t)t0 * a->ldy;
    return c;
}

static void launch_chunk(cudaStream_t st, const lmr_qd_plan &p, const cu_linear &c,
                         const float *x, int ldx) {
    switch (c.wdtype) {
    case LMR_DTYPE_Q8_0: launch_gemv<LMR_DTYPE_Q8_0>(st, p, c, x, ldx); break;
    case LMR_DTYPE_Q4_K: launch_gemv<LMR_DTYPE_Q4_K>(st, p, c, x, ldx); break;
    default: launch_gemv<LMR_DTYPE_Q6_K>(st, p, c, x, ldx); break;
    }
}

extern "C" lmr_status lmr_cuda_quant_gemv(void *stream, int wdtype, const void *W, int in, int out,
                                          const float *x, int n_tok, const float *bias, float *y,
                                          int accumulate) {
    lmr_qd_plan p;
    if (lmr_qd_gemv_plan(wdtype, in, out, n_tok, &p) != 0)
        return lmr_fail(NULL, LMR_ERR_UNSUPPORTED,
                        "Quantised GEMV: dtype %s with in %d, out %d, %d tokens is not supported "
                        "(in must be a multiple of the block size)",
                        lmr_dtype_name(wdtype), in, out, n_tok);
    cudaStream_t st = (cudaStream_t)stream;
    cu_linear a;
    memset(&a, 0, sizeof a);
    a.x = x, a.ldx = in, a.n = n_tok, a.in = in, a.W = W, a.wdtype = wdtype, a.out = out;
    a.bias = bias, a.y = y, a.ldy = out, a.mode = accumulate ? LIN_ACC : LIN_STORE;
    for (int t0 = 0; t0 < n_tok; t0 += LMR_QD_MAX_TOK)
        launch_chunk(st, p, chunk_of(&a, t0), x + (int64_t)t0 * in, in);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
        return lmr_fail(NULL, LMR_ERR_BACKEND, "Quantised GEMV launch failed: %s",
                        cudaGetErrorString(err));
    return LMR_OK;
}

template <int DT>
static void launch_dequant(cudaStream_t st, const void *W, int64_t groups, int out_dtype,
                           void *dst) {
    const int threads = 256;
    const unsigned blocks = (unsigned)((groups + threads - 1) / threads);
    const uint8_t *w = (const uint8_t *)W;
    if (out_dtype == LMR_DTYPE_F32) dequant_kernel<DT, LMR_DTYPE_F32><<<blocks, threads, 0, st>>>(w, groups, dst);
    else if (out_dtype == LMR_DTYPE_F16) dequant_kernel<DT, LMR_DTYPE_F16><<<blocks, threads, 0, st>>>(w, groups, dst);
    else dequant_kernel<DT, LMR_DTYPE_BF16><<<blocks, threads, 0, st>>>(w, groups, dst);
}

extern "C" lmr_status lmr_cuda_quant_dequant(void *stream, int wdtype, const void *W, int64_t n,
                                             int out_dtype, void *dst) {
    const int be = lmr_qd_block_elems(wdtype);
    if (be == 0 || n <= 0 || n % be ||
        (out_dtype != LMR_DTYPE_F32 && out_dtype != LMR_DTYPE_F16 && out_dtype != LMR_DTYPE_BF16))
        return lmr_fail(NULL, LMR_ERR_UNSUPPORTED,
                        "Quantised dequantisation: %s to %s of %lld weights is not supported",
                        lmr_dtype_name(wdtype), lmr_dtype_name(out_dtype), (long long)n);
    cudaStream_t st = (cudaStream_t)stream;
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: launch_dequant<LMR_DTYPE_Q8_0>(st, W, n / 8, out_dtype, dst); break;
    case LMR_DTYPE_Q4_K: launch_dequant<LMR_DTYPE_Q4_K>(st, W, n / 8, out_dtype, dst); break;
    default: launch_dequant<LMR_DTYPE_Q6_K>(st, W, n / 8, out_dtype, dst); break;
    }
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess)
        return lmr_fail(NULL, LMR_ERR_BACKEND, "Quantised dequantisation launch failed: %s",
                        cudaGetErrorString(err));
    return LMR_OK;
}

/* ---- the engine's entry points (common.cuh) ---- */

lmr_status lmr_cuda_quant_embed(cu_ctx *c, const int32_t *tokens, int n_tok, const void *E,
                                int dtype, int hidden, float *h) {
    if (!lmr_qd_block_elems(dtype) || hidden % lmr_qd_block_elems(dtype))
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "embed: %s rows of %d weights",
                        lmr_dtype_name(dtype), hidden);
    const uint8_t *e = (const uint8_t *)E;
    lmr_cuda_pre(c);
    switch (dtype) {
    case LMR_DTYPE_Q8_0: qembed_kernel<LMR_DTYPE_Q8_0><<<n_tok, 128, 0, c->st>>>(tokens, e, hidden, h); break;
    case LMR_DTYPE_Q4_K: qembed_kernel<LMR_DTYPE_Q4_K><<<n_tok, 128, 0, c->st>>>(tokens, e, hidden, h); break;
    default: qembed_kernel<LMR_DTYPE_Q6_K><<<n_tok, 128, 0, c->st>>>(tokens, e, hidden, h); break;
    }
    return lmr_cuda_post(c, "quant_embed");
}

lmr_status lmr_cuda_quant_linear(cu_ctx *c, const cu_linear *a) {
    lmr_qd_plan p;
    if (lmr_qd_gemv_plan(a->wdtype, a->in, a->out, a->n, &p) != 0 ||
        (a->mode == LIN_SILU && a->out % 2))
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED,
                        "linear: %s weights with in %d, out %d, %d tokens (in must be a multiple "
                        "of the block size)",
                        lmr_dtype_name(a->wdtype), a->in, a->out, a->n);
    const float *x = a->x;
    int ldx = a->ldx;
    lmr_status st;
    if (a->norm_w) { /* once for every launch or tile below: FP32 into xf */
        if ((st = lmr_cuda_rmsnorm(c, a->x, a->ldx, a->n, a->in, a->norm_w, a->eps, a->xf,
                                   LMR_DTYPE_F32)))
            return st;
        x = a->xf, ldx = a->in;
    }
    if (((uintptr_t)x & 15) || ldx % 4) /* the GEMV reads x as float4 */
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "linear: %s weights need 16-byte aligned "
                        "FP32 rows of x (row stride %d)", lmr_dtype_name(a->wdtype), ldx);
    if (a->n <= LMR_CUDA_QGEMV_MAX) { /* decode: the blocks read in place */
        for (int t0 = 0; t0 < a->n; t0 += LMR_QD_MAX_TOK) {
            lmr_cuda_profile_detail(c, "%s %d<-%d n%d", lmr_dtype_name(a->wdtype), a->out, a->in,
                                    a->n);
            lmr_cuda_pre(c);
            launch_chunk(c->st, p, chunk_of(a, t0), x + (int64_t)t0 * ldx, ldx);
            if ((st = lmr_cuda_post(c, "quant_gemv"))) return st;
        }
        return LMR_OK;
    }
    /* prefill: tiles of rows (even: SILU pairs) dequantised to BF16, then the tensor-core GEMM */
    const int64_t rows_max = a->wq ? a->wq_elems / a->in / 2 * 2 : 0;
    if (rows_max < 2)
        return lmr_fail(c->e, LMR_ERR_INVALID_ARG,
                        "linear: %s weights for %d tokens need a dequantisation scratch of at "
                        "least 2 rows of %d",
                        lmr_dtype_name(a->wdtype), a->n, a->in);
    const size_t row_bytes = lmr_cuda_mat_bytes(a->wdtype, 1, (size_t)a->in);
    for (int r0 = 0; r0 < a->out; r0 += (int)rows_max) {
        const int rows = a->out - r0 < rows_max ? a->out - r0 : (int)rows_max;
        const int64_t n = (int64_t)rows * a->in;
        const uint8_t *w = (const uint8_t *)a->W + (size_t)r0 * row_bytes;
        lmr_cuda_profile_detail(c, "%s %d<-%d", lmr_dtype_name(a->wdtype), rows, a->in);
        lmr_cuda_pre(c);
        switch (a->wdtype) {
        case LMR_DTYPE_Q8_0: launch_dequant<LMR_DTYPE_Q8_0>(c->st, w, n / 8, LMR_DTYPE_BF16, a->wq); break;
        case LMR_DTYPE_Q4_K: launch_dequant<LMR_DTYPE_Q4_K>(c->st, w, n / 8, LMR_DTYPE_BF16, a->wq); break;
        default: launch_dequant<LMR_DTYPE_Q6_K>(c->st, w, n / 8, LMR_DTYPE_BF16, a->wq); break;
        }
        if ((st = lmr_cuda_post(c, "quant_dequant"))) return st;
        cu_linear t = *a;
        t.x = x, t.ldx = ldx, t.norm_w = NULL;
        t.W = a->wq, t.wdtype = LMR_DTYPE_BF16, t.out = rows;
        t.bias = a->bias ? a->bias + r0 : NULL;
        t.y = a->y + (a->mode == LIN_SILU ? r0 / 2 : r0);
        if ((st = lmr_cuda_linear(c, &t))) return st;
    }
    return LMR_OK;
}

/* ---- checks on host buffers (tests) ---- */

static lmr_status check_done(cudaError_t err, lmr_status st, void **bufs, int n, const char *what,
                             char *msg, size_t cap) {
    if (st == LMR_OK && err == cudaSuccess) err = cudaDeviceSynchronize();
    for (int i = 0; i < n; i++) cudaFree(bufs[i]);
    if (st != LMR_OK) {
        snprintf(msg, cap, "%s: %s", what, lmr_tls_error());
        return st;
    }
    if (err != cudaSuccess) {
        snprintf(msg, cap, "%s: %s", what, cudaGetErrorString(err));
        cudaGetLastError();
        return LMR_ERR_BACKEND;
    }
    return LMR_OK;
}

static void *put(const void *host, size_t bytes, cudaError_t *err, void **bufs, int *n) {
    void *d = NULL;
    if (*err != cudaSuccess) return NULL;
    if ((*err = cudaMalloc(&d, bytes ? bytes : 16)) != cudaSuccess) return NULL;
    bufs[(*n)++] = d;
    *err = host ? cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice) : cudaMemset(d, 0, bytes);
    return d;
}

extern "C" lmr_status lmr_cuda_check_quant_gemv(int wdtype, const void *W, int in, int out,
                                                const float *x, int n_tok, const float *bias,
                                                float *y, int accumulate, char *msg, size_t cap) {
    void *bufs[4];
    int n = 0;
    cudaError_t err = cudaSetDevice(0);
    const int be = lmr_qd_block_elems(wdtype);
    const size_t wb = be ? (size_t)out * (size_t)(in / be) * (size_t)lmr_qd_block_bytes(wdtype) : 0;
    const size_t yb = sizeof(float) * (size_t)n_tok * (size_t)out;
    const void *dw = put(W, wb, &err, bufs, &n);
    const float *dx = (const float *)put(x, sizeof(float) * (size_t)n_tok * in, &err, bufs, &n);
    const float *db = bias ? (const float *)put(bias, sizeof(float) * (size_t)out, &err, bufs, &n) : NULL;
    float *dy = (float *)put(y, yb, &err, bufs, &n);
    lmr_status st = LMR_OK;
    if (err == cudaSuccess)
        st = lmr_cuda_quant_gemv(NULL, wdtype, dw, in, out, dx, n_tok, db, dy, accumulate);
    if (st == LMR_OK && err == cudaSuccess) err = cudaMemcpy(y, dy, yb, cudaMemcpyDeviceToHost);
    return check_done(err, st, bufs, n, "lmr_cuda_quant_gemv", msg, cap);
}

extern "C" lmr_status lmr_cuda_check_quant_dequant(int wdtype, const void *W, int64_t nw,
                                                   float *dst, char *msg, size_t cap) {
    void *bufs[2];
    int n = 0;
    cudaError_t err = cudaSetDevice(0);
    const int be = lmr_qd_block_elems(wdtype);
    const size_t wb = be ? (size_t)(nw / be) * (size_t)lmr_qd_block_bytes(wdtype) : 0;
    const void *dw = put(W, wb, &err, bufs, &n);
    void *dd = put(NULL, sizeof(float) * (size_t)nw, &err, bufs, &n);
    lmr_status st = LMR_OK;
    if (err == cudaSuccess) st = lmr_cuda_quant_dequant(NULL, wdtype, dw, nw, LMR_DTYPE_F32, dd);
    if (st == LMR_OK && err == cudaSuccess)
        err = cudaMemcpy(dst, dd, sizeof(float) * (size_t)nw, cudaMemcpyDeviceToHost);
    return check_done(err, st, bufs, n, "lmr_cuda_quant_dequant", msg, cap);
}
