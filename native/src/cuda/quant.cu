/* quant.cu: CUDA kernels of the quantised weight types (Q8_0, Q4_K, Q6_K in ggml's blocks; see
 * quant_cuda.h). The per-lane dequantisation is quant_dev.h, shared with the CPU tests.
 *
 * GEMV: one warp per output row, LMR_QD_WARPS rows per block; lane l dequantises weights
 * 8l .. 8l + 7 of each 256-weight block (Q4_K, Q6_K: a whole block per warp step, 8 consecutive
 * quant bytes per lane) or group l % 4 of block l / 4 + 8 s (Q8_0: 8 blocks per warp step) and
 * takes the dot with up to LMR_QD_MAX_TOK tokens of FP32 x (two float4 loads each), FP32
 * accumulation, warp-shuffle reduction, lane 0 writes bias / accumulate.
 * Dequantisation: one thread per 8 weights, written as F32, F16 or BF16. */
#include <stdio.h>

#include "common.cuh"
#include "quant_cuda.h"
#include "quant_dev.h"

template <int DT, int NB>
__global__ void __launch_bounds__(32 * LMR_QD_WARPS)
    qgemv_kernel(const uint8_t *__restrict__ W, int in, int out, const float *__restrict__ x,
                 const float *__restrict__ bias, float *__restrict__ y, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * LMR_QD_WARPS + (threadIdx.x >> 5);
    if (row >= out) return;
    constexpr int BE = DT == LMR_DTYPE_Q8_0 ? 32 : 256;
    constexpr int BB = DT == LMR_DTYPE_Q8_0 ? LMR_QD_Q8_0_BYTES
                     : DT == LMR_DTYPE_Q4_K ? LMR_QD_Q4_K_BYTES : LMR_QD_Q6_K_BYTES;
    const int nb = in / BE;
    const uint8_t *w = W + (int64_t)row * nb * BB;
    float acc[NB];
#pragma unroll
    for (int t = 0; t < NB; t++) acc[t] = 0.0f;
    /* warp step s covers 256 weights: one K block, or 8 Q8_0 blocks */
    const int steps = DT == LMR_DTYPE_Q8_0 ? (nb + 7) / 8 : nb;
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
            const float4 a = *(const float4 *)(x + (int64_t)t * in + k);
            const float4 b = *(const float4 *)(x + (int64_t)t * in + k + 4);
            float v = acc[t];
            v = fmaf(wf[0], a.x, v), v = fmaf(wf[1], a.y, v), v = fmaf(wf[2], a.z, v);
            v = fmaf(wf[3], a.w, v), v = fmaf(wf[4], b.x, v), v = fmaf(wf[5], b.y, v);
            v = fmaf(wf[6], b.z, v), v = fmaf(wf[7], b.w, v);
            acc[t] = v;
        }
    }
#pragma unroll
    for (int t = 0; t < NB; t++) {
        float v = acc[t];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (lane == 0) {
            float *yo = y + (int64_t)t * out + row;
            *yo = v + (bias ? bias[row] : 0.0f) + (accumulate ? *yo : 0.0f);
        }
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

template <int DT>
static void launch_gemv(cudaStream_t st, const lmr_qd_plan &p, const void *W, int in, int out,
                        const float *x, int nb, const float *bias, float *y, int acc) {
    const uint8_t *w = (const uint8_t *)W;
    switch (nb) {
#define QG_CASE(N)                                                                             \
    case N:                                                                                    \
        qgemv_kernel<DT, N><<<p.blocks, p.threads, 0, st>>>(w, in, out, x, bias, y, acc);      \
        break;
        QG_CASE(1) QG_CASE(2) QG_CASE(3) QG_CASE(4) QG_CASE(5) QG_CASE(6) QG_CASE(7)
        default : qgemv_kernel<DT, LMR_QD_MAX_TOK><<<p.blocks, p.threads, 0, st>>>(w, in, out, x, bias, y, acc);
#undef QG_CASE
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
    for (int t0 = 0; t0 < n_tok; t0 += LMR_QD_MAX_TOK) {
        const int nb = n_tok - t0 < LMR_QD_MAX_TOK ? n_tok - t0 : LMR_QD_MAX_TOK;
        const float *xt = x + (int64_t)t0 * in;
        float *yt = y + (int64_t)t0 * out;
        switch (wdtype) {
        case LMR_DTYPE_Q8_0: launch_gemv<LMR_DTYPE_Q8_0>(st, p, W, in, out, xt, nb, bias, yt, accumulate); break;
        case LMR_DTYPE_Q4_K: launch_gemv<LMR_DTYPE_Q4_K>(st, p, W, in, out, xt, nb, bias, yt, accumulate); break;
        default: launch_gemv<LMR_DTYPE_Q6_K>(st, p, W, in, out, xt, nb, bias, yt, accumulate); break;
        }
    }
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
