/* gemv.cu: the decode linear layer for 1..16 tokens, the speed-critical kernel. The weights are
 * streamed once for all tokens of the batch at memory bandwidth: 16-byte non-caching loads
 * (8 BF16/F16 or 4 F32), each warp owns 2 rows per pass, U vectors per row unrolled (U = 4 for up
 * to 4 tokens: 8 x 16 bytes in flight per lane; fewer for more tokens, which need the registers).
 * Launch geometry from lmr_cuda_gemv_plan (plan.h, tested on the CPU): 2 or 4 warps, up to 64
 * rows per block, x staged in dynamic shared memory sized to need (whole when it fits 47.5 KiB,
 * with 16-byte loads, the rmsnorm factor computed from the staged copy; else tiles of a multiple
 * of 32 vectors). FP32 accumulation, warp-shuffle reduction. The epilogue adds the bias, adds
 * into y (residual) or writes silu(gate) * up of an interleaved gate/up pair.
 * Every element k of a row goes to lane (k / vec) % 32 in increasing order whatever the tile,
 * so a token's result does not depend on the batch it came in. */
#include "common.cuh"

#define GEMV_ROWS 2          /* rows per warp and pass */
#define GEMV_MAX_THREADS 128 /* 4 warps at most (lmr_cuda_gemv_plan) */

__device__ __forceinline__ uint4 ld_stream(const void *p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

/* acc[r][t] += row (r0 + r) . x[t] over elements [k0, k0 + kn) of the row, x[t] at xs + t * kt
 * (the tile's first element). Lane owns the tile's vectors c = lane + 32 i in increasing order;
 * k0 is 0 or a multiple of 32 V, so element k always lands on lane (k / V) % 32. */
template <int DT, int NB, int U>
__device__ __forceinline__ void gemv_rows(float (&acc)[GEMV_ROWS][NB], const char *w0,
                                          const char *w1, const float *xs, int kt, int k0, int kn,
                                          int lane) {
    constexpr int V = wvec<DT>::n;
    static_assert(GEMV_ROWS == 2, "two row pointers");
    const char *const wrow[GEMV_ROWS] = {w0, w1};
    const int nv = kn / V;
    const int64_t vb = (int64_t)k0 / V; /* first vector of the tile in the row */
    for (int c = lane; c < nv; c += 32 * U) {
        uint4 w[GEMV_ROWS][U];
#pragma unroll
        for (int u = 0; u < U; u++)
#pragma unroll
            for (int r = 0; r < GEMV_ROWS; r++)
                if (c + u * 32 < nv) w[r][u] = ld_stream(wrow[r] + (vb + c + u * 32) * 16);
#pragma unroll
        for (int u = 0; u < U; u++) {
            if (c + u * 32 >= nv) break;
            const int kk = (c + u * 32) * V;
#pragma unroll
            for (int r = 0; r < GEMV_ROWS; r++) {
                float wf[V];
                wvec<DT>::unpack(w[r][u], wf);
#pragma unroll
                for (int t = 0; t < NB; t++) {
                    const float4 *xv = (const float4 *)&xs[t * kt + kk];
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

/* Warp-reduce acc and write rows r0, r0 + 1 of every token (lane 0): bias, ACC or SILU. */
template <int NB>
__device__ __forceinline__ void gemv_epilogue(const cu_linear &a, float (&acc)[GEMV_ROWS][NB],
                                              int r0, int lane) {
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++)
#pragma unroll
        for (int t = 0; t < NB; t++) acc[r][t] = warp_sum(acc[r][t]);
    if (lane != 0) return;
#pragma unroll
    for (int t = 0; t < NB; t++) {
        if (t >= a.n) break;
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

/* Stage x[t][k0, k0 + kn) of tokens t < NB (zeros past n) into xs[t * kt + k], times
 * rinv[t] * norm_w[k] when scale; 16-byte loads when vec (x rows 16-byte aligned). */
template <int NB>
__device__ __forceinline__ void gemv_stage(const cu_linear &a, float *xs, int kt, int k0, int kn,
                                           bool vec, bool scale, const float *rinv) {
    if (vec) {
        const int k4n = kn / 4;
        for (int i = threadIdx.x; i < NB * k4n; i += blockDim.x) {
            const int t = i / k4n, k = (i - t * k4n) * 4;
            float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            if (t < a.n) {
                v = *(const float4 *)(a.x + (int64_t)t * a.ldx + k0 + k);
                if (scale) {
                    const float r = rinv[t], *nw = a.norm_w + k0 + k;
                    v.x *= r * nw[0], v.y *= r * nw[1], v.z *= r * nw[2], v.w *= r * nw[3];
                }
            }
            *(float4 *)&xs[t * kt + k] = v;
        }
        return;
    }
    for (int i = threadIdx.x; i < NB * kn; i += blockDim.x) {
        const int t = i / kn, k = i - t * kn;
        float v = 0.0f;
        if (t < a.n) {
            v = a.x[(int64_t)t * a.ldx + k0 + k];
            if (scale) v *= rinv[t] * a.norm_w[k0 + k];
        }
        xs[t * kt + k] = v;
    }
}

/* Grid and block from lmr_cuda_gemv_plan (plan.h): blockDim.x / 32 = W warps, each owning
 * row pairs r0 = block_first + 2 (warp + W p), p < passes; x staged in dynamic shared memory
 * [NB][kt]. kt >= in: x staged once (16-byte loads), the rmsnorm factor of each token computed
 * from the staged copy (one warp per token) and applied in place, then every pass streams its
 * rows. kt < in: one pass, x in tiles, the norm factor read from global memory first. */
template <int DT, int NB>
__global__ void __launch_bounds__(GEMV_MAX_THREADS) gemv_kernel(cu_linear a, int kt, int passes,
                                                                 int vec) {
    constexpr int GEMV_UNROLL = NB >= 16 ? 1 : NB >= 8 ? 2 : 4; /* no spills at 16 tokens */
    extern __shared__ __align__(16) float xs[]; /* [NB][kt] */
    __shared__ float rinv[NB];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, W = blockDim.x >> 5;
    const int n = a.n, in = a.in;
    const int rb = blockIdx.x * 2 * W * passes; /* first row of the block */
    const size_t row_bytes = (size_t)in * (DT == LMR_DTYPE_F32 ? 4 : 2);
    float acc[GEMV_ROWS][NB];
    const char *wrow[GEMV_ROWS];

    if (kt >= in) { /* whole x */
        gemv_stage<NB>(a, xs, kt, 0, in, vec, false, rinv);
        if (a.norm_w) {
            __syncthreads();
            for (int t = warp; t < n; t += W) {
                const float *xt = xs + t * kt;
                float ss = 0.0f;
                for (int k = lane; k < in; k += 32) ss += xt[k] * xt[k];
                ss = warp_sum(ss);
                if (lane == 0) rinv[t] = rsqrtf(ss / (float)in + a.eps);
            }
            __syncthreads();
            for (int i = threadIdx.x; i < n * in; i += blockDim.x) {
                const int t = i / in, k = i - t * in;
                xs[t * kt + k] *= rinv[t] * a.norm_w[k];
            }
        }
        __syncthreads();
        for (int p = 0; p < passes; p++) {
            const int r0 = rb + 2 * (warp + W * p);
            if (r0 >= a.out) break; /* warp-uniform; no barrier below */
#pragma unroll
            for (int r = 0; r < GEMV_ROWS; r++) {
                int o = r0 + r < a.out ? r0 + r : a.out - 1; /* clamp: loads stay in bounds */
                wrow[r] = (const char *)a.W + (size_t)o * row_bytes;
#pragma unroll
                for (int t = 0; t < NB; t++) acc[r][t] = 0.0f;
            }
            gemv_rows<DT, NB, GEMV_UNROLL>(acc, wrow[0], wrow[1], xs, kt, 0, in, lane);
            gemv_epilogue<NB>(a, acc, r0, lane);
        }
        return;
    }

    /* x in tiles (kt a multiple of 32 V): one row pair per warp */
    if (a.norm_w) {
        for (int t = warp; t < n; t += W) {
            const float *xt = a.x + (int64_t)t * a.ldx;
            float ss = 0.0f;
            for (int k = lane; k < in; k += 32) ss += xt[k] * xt[k];
            ss = warp_sum(ss);
            if (lane == 0) rinv[t] = rsqrtf(ss / (float)in + a.eps);
        }
    }
    const int r0 = rb + 2 * warp;
#pragma unroll
    for (int r = 0; r < GEMV_ROWS; r++) {
        int o = r0 + r < a.out ? r0 + r : a.out - 1;
        wrow[r] = (const char *)a.W + (size_t)o * row_bytes;
#pragma unroll
        for (int t = 0; t < NB; t++) acc[r][t] = 0.0f;
    }
    for (int k0 = 0; k0 < in; k0 += kt) {
        const int kn = in - k0 < kt ? in - k0 : kt;
        __syncthreads(); /* previous tile consumed, rinv ready */
        gemv_stage<NB>(a, xs, kt, k0, kn, vec, a.norm_w != NULL, rinv);
        __syncthreads();
        if (r0 < a.out) gemv_rows<DT, NB, GEMV_UNROLL>(acc, wrow[0], wrow[1], xs, kt, k0, kn, lane);
    }
    if (r0 < a.out) gemv_epilogue<NB>(a, acc, r0, lane);
}

int lmr_cuda_gemv_ok(const cu_linear *a) {
    int v = a->wdtype == LMR_DTYPE_F32 ? 4 : 8;
    return a->n >= 1 && a->n <= 16 && a->in % v == 0 && a->in % 8 == 0 &&
           ((uintptr_t)a->W & 15) == 0 && (a->mode != LIN_SILU || a->out % 2 == 0);
}

template <int DT, int NB> static void launch(cu_ctx *c, const cu_linear *a) {
    const lmr_cuda_gemv_geom g =
        lmr_cuda_gemv_plan(NB, a->in, a->out, wvec<DT>::n, lmr_cuda_sms());
    const int vec = ((uintptr_t)a->x & 15) == 0 && a->ldx % 4 == 0;
    gemv_kernel<DT, NB><<<g.blocks, g.warps * 32, g.smem, c->st>>>(*a, g.kt, g.passes, vec);
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
