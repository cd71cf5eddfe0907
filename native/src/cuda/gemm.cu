/* gemm.cu: the linear layer for many tokens (prefill, batches over 16) and the dispatcher every
 * linear op goes through. BF16/F16 weights: tensor cores (nvcuda::wmma 16x16x16, FP32
 * accumulate), block tiles BM x BN x 32 fed by cp.async double buffering; the input is first
 * rmsnormed / converted to the weight dtype (lmr_cuda_rmsnorm into a->xa). F32 weights (or shapes
 * the tensor-core path does not take): a plain tiled SIMT kernel. The epilogues match gemv.cu:
 * bias, accumulate into y, or silu(gate) * up of interleaved row pairs; yrow remaps output rows.
 * Split-K (<= 64 tokens, few output tiles, plan.h): blockIdx.z takes one K range and writes raw
 * partial sums to a->ws; splitk_reduce_kernel adds them in order and applies the epilogue. The
 * unsplit 64 x 64 path stays for comparison (LMR_CUDA_SPLITK=0). */
#include <mma.h>

#include "common.cuh"

using namespace nvcuda;

#define BK LMR_CUDA_SPLITK_BK
#define LDS (BK + 8) /* smem row stride in elements (pad: fewer bank conflicts, ldm % 8 == 0) */

__device__ __forceinline__ void cp_async16(void *smem, const void *gmem, int src_bytes) {
    uint32_t s = (uint32_t)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem),
                 "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

/* Write one output (STORE/ACC) with the bias. */
__device__ __forceinline__ void epi_one(const cu_linear &a, int t, int o, float v) {
    float *yt = a.y + (int64_t)(a.yrow ? a.yrow[t] : t) * a.ldy;
    v += a.bias ? a.bias[o] : 0.0f;
    if (a.mode == LIN_ACC) yt[o] += v;
    else yt[o] = v;
}
__device__ __forceinline__ void epi_silu(const cu_linear &a, int t, int o, float g, float u) {
    float *yt = a.y + (int64_t)(a.yrow ? a.yrow[t] : t) * a.ldy;
    yt[o / 2] = g / (1.0f + expf(-g)) * u;
}

/* A = xa [M, K] (row-major), B = W [N, K] (= col-major K x N); C [M, N]. Block z covers
 * K range [z kps, (z + 1) kps); SPLIT: raw sums to ws [z][M][N], else the epilogue. */
template <typename T, int BM, int BN, int WM, int WN, bool SPLIT>
__global__ void __launch_bounds__(WM *WN * 32) gemm_tc_kernel(cu_linear a, int kps) {
    constexpr int NT = WM * WN * 32;
    constexpr int TM = BM / WM, TN = BN / WN; /* warp tile */
    constexpr int FM = TM / 16, FN = TN / 16;
    constexpr int STAGE = (BM + BN) * LDS;    /* elements per stage */
    constexpr int SMEM = 2 * STAGE * (int)sizeof(T);
    constexpr int EPI = WM * WN * 256 * 4;
    __shared__ __align__(128) unsigned char smem[SMEM > EPI ? SMEM : EPI];
    T *sm = (T *)smem;
    const int M = a.n, N = a.out;
    const int kb = blockIdx.z * kps, K = min(a.in, kb + kps); /* this block's K range */
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int wm = warp / WN, wn = warp % WN;
    const T *A = (const T *)a.xa, *B = (const T *)a.W;
    const int64_t ld = a.in; /* row stride of A and B */

    auto load = [&](int stage, int k0) {
        T *As = sm + stage * STAGE, *Bs = As + BM * LDS;
        for (int i = threadIdx.x; i < (BM + BN) * (BK / 8); i += NT) {
            int row = i / (BK / 8), col = (i % (BK / 8)) * 8;
            bool isA = row < BM;
            int r = isA ? row : row - BM;
            int g = (isA ? m0 : n0) + r, lim = isA ? M : N;
            int ok = g < lim && k0 + col < K;
            const T *src = (isA ? A : B) + (ok ? (int64_t)g * ld + k0 + col : 0);
            T *dst = (isA ? As : Bs) + r * LDS + col;
            cp_async16(dst, src, ok ? 16 : 0);
        }
        cp_async_commit();
    };

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    const int nk = (K - kb + BK - 1) / BK;
    load(0, kb);
    for (int kt = 0; kt < nk; kt++) {
        if (kt + 1 < nk) {
            load((kt + 1) & 1, kb + (kt + 1) * BK);
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        const T *As = sm + (kt & 1) * STAGE, *Bs = As + BM * LDS;
#pragma unroll
        for (int kk = 0; kk < BK; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> fa[FM];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> fb[FN];
#pragma unroll
            for (int i = 0; i < FM; i++)
                wmma::load_matrix_sync(fa[i], As + (wm * TM + i * 16) * LDS + kk, LDS);
#pragma unroll
            for (int j = 0; j < FN; j++)
                wmma::load_matrix_sync(fb[j], Bs + (wn * TN + j * 16) * LDS + kk, LDS);
#pragma unroll
            for (int i = 0; i < FM; i++)
#pragma unroll
                for (int j = 0; j < FN; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        __syncthreads();
    }

    float *ep = (float *)smem + warp * 256; /* one 16x16 tile per warp */
#pragma unroll
    for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) {
            wmma::store_matrix_sync(ep, acc[i][j], 16, wmma::mem_row_major);
            __syncwarp();
            const int rm = m0 + wm * TM + i * 16, cn = n0 + wn * TN + j * 16;
            if (SPLIT) {
                float *wz = a.ws + (int64_t)blockIdx.z * M * N;
                for (int e = lane; e < 256; e += 32) {
                    int r = e / 16, cc = e % 16;
                    if (rm + r < M && cn + cc < N) wz[(int64_t)(rm + r) * N + cn + cc] = ep[e];
                }
            } else if (a.mode == LIN_SILU) {
                for (int e = lane; e < 128; e += 32) {
                    int r = e / 8, cc = (e % 8) * 2;
                    if (rm + r < M && cn + cc + 1 < N)
                        epi_silu(a, rm + r, cn + cc, ep[r * 16 + cc], ep[r * 16 + cc + 1]);
                }
            } else {
                for (int e = lane; e < 256; e += 32) {
                    int r = e / 16, cc = e % 16;
                    if (rm + r < M && cn + cc < N) epi_one(a, rm + r, cn + cc, ep[e]);
                }
            }
            __syncwarp();
        }
}

/* y = epilogue(sum over z of ws[z]) in z order; one thread per output (per gate/up pair). */
__global__ void __launch_bounds__(256) splitk_reduce_kernel(cu_linear a, int splits) {
    const int M = a.n, N = a.out;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, mn = (int64_t)M * N;
    if (a.mode == LIN_SILU) {
        if (i >= mn / 2) return;
        const int t = (int)(i / (N / 2)), o = (int)(i % (N / 2)) * 2;
        const float *w = a.ws + (int64_t)t * N + o;
        float g = 0.0f, u = 0.0f;
        for (int z = 0; z < splits; z++) g += w[z * mn], u += w[z * mn + 1];
        epi_silu(a, t, o, g, u);
    } else {
        if (i >= mn) return;
        float v = 0.0f;
        for (int z = 0; z < splits; z++) v += a.ws[z * mn + i];
        epi_one(a, (int)(i / N), (int)(i % N), v);
    }
}

/* SIMT: 64 x 64 tile, 256 threads of 4 x 4 outputs; x FP32 [M, K] (a.xf when normed), W any. */
template <int DT> __global__ void __launch_bounds__(256) gemm_simt_kernel(cu_linear a, const float *x, int ldx) {
    __shared__ float As[16][65], Bs[16][65];
    const int M = a.n, N = a.out, K = a.in;
    const int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += 16) {
        for (int i = threadIdx.x; i < 64 * 16; i += 256) {
            int r = i / 16, k = i % 16;
            As[k][r] = m0 + r < M && k0 + k < K ? x[(int64_t)(m0 + r) * ldx + k0 + k] : 0.0f;
            Bs[k][r] = n0 + r < N && k0 + k < K ? ld_elem<DT>(a.W, (int64_t)(n0 + r) * K + k0 + k)
                                                : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < 16; k++) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; i++) av[i] = As[k][ty * 4 + i], bv[i] = Bs[k][tx * 4 + i];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int t = m0 + ty * 4 + i;
        if (t >= M) break;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int o = n0 + tx * 4 + j;
            if (a.mode == LIN_SILU) {
                if (j % 2 == 0 && o + 1 < N) epi_silu(a, t, o, acc[i][j], acc[i][j + 1]);
            } else if (o < N) {
                epi_one(a, t, o, acc[i][j]);
            }
        }
    }
}

int lmr_cuda_sms(void) {
    static int n = 0;
    if (n == 0) {
        int d = 0, v = 0;
        if (cudaGetDevice(&d) != cudaSuccess ||
            cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, d) != cudaSuccess || v < 1) {
            cudaGetLastError();
            v = 1; /* no split-K rather than a failure */
        }
        n = v;
    }
    return n;
}

template <typename T> static lmr_status launch_tc(cu_ctx *c, const cu_linear *a) {
    if (a->n > 64 && lmr_cuda_gemm_big_tiles(a->n, a->out, lmr_cuda_sms())) {
        dim3 grid((a->out + 127) / 128, (a->n + 127) / 128);
        lmr_cuda_pre(c);
        gemm_tc_kernel<T, 128, 128, 2, 4, false><<<grid, 256, 0, c->st>>>(*a, a->in);
        return lmr_cuda_post(c, "gemm_tc");
    }
    if (a->n > 64) { /* big tiles would leave SMs idle (plan.h): 64 x 64 tiles */
        dim3 grid((a->out + 63) / 64, (a->n + 63) / 64);
        lmr_cuda_pre(c);
        gemm_tc_kernel<T, 64, 64, 2, 2, false><<<grid, 128, 0, c->st>>>(*a, a->in);
        return lmr_cuda_post(c, "gemm_tc");
    }
    const lmr_cuda_splitk sp =
        lmr_cuda_splitk_plan(a->n, a->out, a->in, lmr_cuda_sms(), a->ws ? a->ws_floats : 0);
    dim3 grid((a->out + 63) / 64, 1, sp.splits);
    lmr_cuda_pre(c);
    if (sp.splits == 1) {
        gemm_tc_kernel<T, 64, 64, 2, 2, false><<<grid, 128, 0, c->st>>>(*a, a->in);
        return lmr_cuda_post(c, "gemm_tc");
    }
    gemm_tc_kernel<T, 64, 64, 2, 2, true><<<grid, 128, 0, c->st>>>(*a, sp.kps);
    lmr_status st = lmr_cuda_post(c, "gemm_tc_splitk");
    if (st != LMR_OK) return st;
    const int64_t n = (int64_t)a->n * (a->mode == LIN_SILU ? a->out / 2 : a->out);
    lmr_cuda_pre(c);
    splitk_reduce_kernel<<<(unsigned)((n + 255) / 256), 256, 0, c->st>>>(*a, sp.splits);
    return lmr_cuda_post(c, "splitk_reduce");
}

lmr_status lmr_cuda_linear(cu_ctx *c, const cu_linear *a) {
    if (lmr_qd_block_elems(a->wdtype)) return lmr_cuda_quant_linear(c, a); /* quant.cu */
    /* no engine: a kernel check (check.cu), which tests the GEMV for all of 1..16 tokens */
    const int gemv_max = c->e ? ((const cu_engine *)c->e->priv)->gemv_max : 16;
    const int gemv = a->n <= gemv_max && lmr_cuda_gemv_ok(a);
    lmr_cuda_profile_detail(c, "%d<-%d n%d", a->out, a->in, a->n);
    if (gemv) return lmr_cuda_gemv(c, a);
    const int half = a->wdtype == LMR_DTYPE_BF16 || a->wdtype == LMR_DTYPE_F16;
    lmr_status st;
    if (half && a->in % 8 == 0 && ((uintptr_t)a->W & 15) == 0) {
        /* x (normed) -> xa in the weight dtype, then tensor cores */
        if ((st = lmr_cuda_rmsnorm(c, a->x, a->ldx, a->n, a->in, a->norm_w, a->eps, a->xa,
                                   a->wdtype)))
            return st;
        lmr_cuda_profile_detail(c, "%d<-%d n%d", a->out, a->in, a->n);
        return a->wdtype == LMR_DTYPE_BF16 ? launch_tc<__nv_bfloat16>(c, a)
                                           : launch_tc<__half>(c, a);
    }
    const float *x = a->x;
    int ldx = a->ldx;
    if (a->norm_w) {
        if ((st = lmr_cuda_rmsnorm(c, a->x, a->ldx, a->n, a->in, a->norm_w, a->eps, a->xf,
                                   LMR_DTYPE_F32)))
            return st;
        x = a->xf;
        ldx = a->in;
    }
    dim3 grid((a->out + 63) / 64, (a->n + 63) / 64);
    lmr_cuda_pre(c);
    switch (a->wdtype) {
    case LMR_DTYPE_BF16: gemm_simt_kernel<LMR_DTYPE_BF16><<<grid, 256, 0, c->st>>>(*a, x, ldx); break;
    case LMR_DTYPE_F16: gemm_simt_kernel<LMR_DTYPE_F16><<<grid, 256, 0, c->st>>>(*a, x, ldx); break;
    case LMR_DTYPE_F32: gemm_simt_kernel<LMR_DTYPE_F32><<<grid, 256, 0, c->st>>>(*a, x, ldx); break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "linear: weight dtype %d", a->wdtype);
    }
    return lmr_cuda_post(c, "gemm_simt");
}
