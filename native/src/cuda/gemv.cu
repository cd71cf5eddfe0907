/* gemv.cu: the decode linear layer for 1..16 tokens, the speed-critical kernel. The weights are
 * streamed once for all tokens of the batch at memory bandwidth: 16-byte non-caching loads
 * (8 BF16/F16 or 4 F32), each warp owns 2 rows, U vectors per row unrolled (U = 4 for up to 4
 * tokens: 8 x 16 bytes in flight per lane; fewer for more tokens, which need the registers), x (optionally rmsnormed on the fly) staged in shared memory in tiles of
 * 8192 / NB floats, FP32 accumulation, warp-shuffle reduction. The epilogue adds the bias, adds
 * into y (residual) or writes silu(gate) * up of an interleaved gate/up pair.
 * Every element k of a row goes to lane (k / vec) % 32 in increasing order whatever the tile,
 * so a token's result does not depend on the batch it came in. */
#include "common.cuh"

#define GEMV_WARPS 4
#define GEMV_ROWS 2   /* rows per warp */
#define GEMV_SMEM_FLOATS 8192

__device__ __forceinline__ uint4 ld_stream(const void *p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

template <int DT, int NB>
__global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_kernel(cu_linear a) {
    constexpr int V = wvec<DT>::n;            /* elements per 16-byte vector */
    constexpr int KT = GEMV_SMEM_FLOATS / NB; /* x tile: elements per token */
    constexpr int GEMV_UNROLL = NB >= 16 ? 1 : NB >= 8 ? 2 : 4; /* no spills at 16 tokens */
    __shared__ __align__(16) float xs[GEMV_SMEM_FLOATS];
    __shared__ float rinv[NB];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int n = a.n, in = a.in;
    const int r0 = (blockIdx.x * GEMV_WARPS + warp) * GEMV_ROWS;

    if (a.norm_w) {
        for (int t = warp; t < n; t += GEMV_WARPS) {
            const float *xt = a.x + (int64_t)t * a.ldx;
            float ss = 0.0f;
            for (int k = lane; k < in; k += 32) ss += xt[k] * xt[k];
            ss = warp_sum(ss);
            if (lane == 0) rinv[t] = rsqrtf(ss / (float)in + a.eps);
        }
    }

    float acc[GEMV_ROWS][NB];
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++)
#pragma unroll
        for (int t = 0; t < NB; t++) acc[r][t] = 0.0f;

    const size_t row_bytes = (size_t)in * (DT == LMR_DTYPE_F32 ? 4 : 2);
    const char *wrow[GEMV_ROWS];
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++) {
        int o = r0 + r < a.out ? r0 + r : a.out - 1; /* clamp: loads stay in bounds */
        wrow[r] = (const char *)a.W + (size_t)o * row_bytes;
    }

    for (int k0 = 0; k0 < in; k0 += KT) {
        const int kn = in - k0 < KT ? in - k0 : KT;
        __syncthreads(); /* previous tile consumed, rinv ready */
        for (int i = threadIdx.x; i < NB * kn; i += blockDim.x) {
            int t = i / kn, k = i - t * kn;
            float v = 0.0f;
            if (t < n) {
                v = a.x[(int64_t)t * a.ldx + k0 + k];
                if (a.norm_w) v *= rinv[t] * a.norm_w[k0 + k];
            }
            xs[t * KT + k] = v;
        }
        __syncthreads();
        if (r0 >= a.out) continue;
        const int nv = kn / V;
        const int64_t vb = (int64_t)k0 / V; /* first vector of the tile in the row */
        for (int c = lane; c < nv; c += 32 * GEMV_UNROLL) {
            uint4 w[GEMV_ROWS][GEMV_UNROLL];
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++)
#pragma unroll
                for (int r = 0; r < GEMV_ROWS; r++)
                    if (c + u * 32 < nv)
                        w[r][u] = ld_stream(wrow[r] + (vb + c + u * 32) * 16);
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) {
                if (c + u * 32 >= nv) break;
                const int kk = (c + u * 32) * V;
#pragma unroll
                for (int r = 0; r < GEMV_ROWS; r++) {
                    float wf[V];
                    wvec<DT>::unpack(w[r][u], wf);
#pragma unroll
                    for (int t = 0; t < NB; t++) {
                        const float4 *xv = (const float4 *)&xs[t * KT + kk];
                        float s = acc[r][t];
#pragma unroll
                        for (int q = 0; q < V / 4; q++) {
                            float4 xq = xv[q];
                            s = fmaf(wf[4 * q], xq.x, s);
                            s = fmaf(wf[4 * q + 1], xq.y, s);
                            s = fmaf(wf[4 * q + 2], xq.z, s);
                            s = fmaf(wf[4 * q + 3], xq.w, s);
                        }
                        acc[r][t] = s;
                    }
                }
            }
        }
    }
    if (r0 >= a.out) return;
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++)
#pragma unroll
        for (int t = 0; t < NB; t++) acc[r][t] = warp_sum(acc[r][t]);
    if (lane != 0) return;
#pragma unroll
    for (int t = 0; t < NB; t++) {
        if (t >= n) break;
        float *yt = a.y + (int64_t)(a.yrow ? a.yrow[t] : t) * a.ldy;
        if (a.mode == LIN_SILU) { /* rows r0 (gate) and r0 + 1 (up), r0 even */
            float g = acc[0][t], u = acc[1][t];
            yt[r0 / 2] = g / (1.0f + expf(-g)) * u;
            continue;
        }
#pragma unroll
        for (int r = 0; r < GEMV_ROWS; r++) {
            int o = r0 + r;
            if (o >= a.out) break;
            float v = acc[r][t] + (a.bias ? a.bias[o] : 0.0f);
            if (a.mode == LIN_ACC) yt[o] += v;
            else yt[o] = v;
        }
    }
}

int lmr_cuda_gemv_ok(const cu_linear *a) {
    int v = a->wdtype == LMR_DTYPE_F32 ? 4 : 8;
    return a->n >= 1 && a->n <= 16 && a->in % v == 0 && a->in % 8 == 0 &&
           ((uintptr_t)a->W & 15) == 0 && (a->mode != LIN_SILU || a->out % 2 == 0);
}

template <int DT, int NB> static void launch(cu_ctx *c, const cu_linear *a) {
    int rows = GEMV_WARPS * GEMV_ROWS;
    gemv_kernel<DT, NB><<<(a->out + rows - 1) / rows, GEMV_WARPS * 32, 0, c->st>>>(*a);
}

template <int DT> static void launch_nb(cu_ctx *c, const cu_linear *a) {
    if (a->n <= 1) launch<DT, 1>(c, a);
    else if (a->n <= 2) launch<DT, 2>(c, a);
    else if (a->n <= 4) launch<DT, 4>(c, a);
    else if (a->n <= 8) launch<DT, 8>(c, a);
    else launch<DT, 16>(c, a);
}

lmr_status lmr_cuda_gemv(cu_ctx *c, const cu_linear *a) {
    if (!lmr_cuda_gemv_ok(a))
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "gemv: %d tokens, in %d, %s weights", a->n,
                        a->in, lmr_dtype_name(a->wdtype));
    lmr_cuda_pre(c);
    switch (a->wdtype) {
    case LMR_DTYPE_BF16: launch_nb<LMR_DTYPE_BF16>(c, a); break;
    case LMR_DTYPE_F16: launch_nb<LMR_DTYPE_F16>(c, a); break;
    case LMR_DTYPE_F32: launch_nb<LMR_DTYPE_F32>(c, a); break;
    default:
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "gemv: weight dtype %d", a->wdtype);
    }
    return lmr_cuda_post(c, "gemv");
}
