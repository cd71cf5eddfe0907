/* attention_prefill.cu: fused causal attention for a prefill chunk (flash-attention 2 style),
 * beside the flash-decoding kernel of attention.cu (which prefill used before; still selectable
 * with LMR_CUDA_PREFILL_ATTENTION=split for comparison).
 * Block (query tile of 64 tokens, query head): 4 warps of 16 query rows. The Q tile is scaled
 * by 1/sqrt(head_dim) and stored as FP16; the block walks key tiles of 32 positions through the
 * paged block table up to its last token's position, converting K and V (BF16, F16 or F32) to
 * FP16 in shared memory (exact for BF16/F16 values of magnitude 6e-5..65504; larger ones are
 * clamped). Per tile and warp: S = Q K^T on tensor cores (FP32 accumulate), causal mask and an
 * online softmax in FP32 (two lanes per row), P rounded to FP16 (the row sum l adds the rounded
 * values, so sum P / l is 1 exactly as multiplied), O (FP32, shared memory) rescaled and
 * O += P V on tensor cores. Out = O / l. Last tiles (the longest) are scheduled first. GQA: the
 * block reads its KV head (head / group); the group's heads re-read K/V from L2.
 * Shared memory (head_dim 128): 81 KiB (dynamic; fits sm_86/89's 99 KiB). */
#include <math.h>
#include <mma.h>

#include "common.cuh"

using namespace nvcuda;

#define FA_BQ 64   /* query tokens per block */
#define FA_BKV 32  /* keys per tile */
#define FA_WARPS 4 /* 16 query rows each */

template <int HD> struct fa_smem {
    static constexpr int LQ = HD + 8;     /* FP16 row stride of Q, K, V (elements) */
    static constexpr int LS = FA_BKV + 4; /* FP32 row stride of S */
    static constexpr int LP = FA_BKV + 8; /* FP16 row stride of P */
    static constexpr int LO = HD + 4;     /* FP32 row stride of O */
    static constexpr size_t q = (size_t)FA_BQ * LQ * 2, k = (size_t)FA_BKV * LQ * 2;
    static constexpr size_t s = (size_t)FA_WARPS * 16 * LS * 4;
    static constexpr size_t p = (size_t)FA_WARPS * 16 * LP * 2;
    static constexpr size_t o = (size_t)FA_WARPS * 16 * LO * 4;
    static constexpr size_t bytes = q + 2 * k + s + p + o; /* every part a multiple of 32 B */
};

__device__ __forceinline__ __half2 fa_h2(float x, float y) {
    return __floats2half2_rn(fminf(fmaxf(x, -65504.0f), 65504.0f),
                             fminf(fmaxf(y, -65504.0f), 65504.0f));
}

/* K and V of positions [k0, k0 + FA_BKV) (zeros from kend on) into Ks, Vs [FA_BKV][LQ]. */
template <int KT, int HD>
__device__ __forceinline__ void fa_load_kv(const cu_attention &a, const int32_t *table, int kvh,
                                           int k0, int kend, __half *Ks, __half *Vs) {
    constexpr int CH = KT == LMR_DTYPE_F32 ? 4 : 8; /* elements per 16-byte load */
    constexpr int LQ = fa_smem<HD>::LQ;
    for (int i = threadIdx.x; i < FA_BKV * (HD / CH); i += FA_WARPS * 32) {
        const int row = i / (HD / CH), col = (i % (HD / CH)) * CH, p = k0 + row;
        float kf[CH], vf[CH];
        if (p < kend) {
            const int64_t off =
                (((int64_t)table[p / a.bt] * a.bt + p % a.bt) * a.n_kv + kvh) * HD + col;
            ld_vec<KT, CH>(a.k_pool, off, kf);
            ld_vec<KT, CH>(a.v_pool, off, vf);
        } else {
#pragma unroll
            for (int c = 0; c < CH; c++) kf[c] = vf[c] = 0.0f;
        }
#pragma unroll
        for (int c = 0; c < CH; c += 2) {
            *(__half2 *)&Ks[row * LQ + col + c] = fa_h2(kf[c], kf[c + 1]);
            *(__half2 *)&Vs[row * LQ + col + c] = fa_h2(vf[c], vf[c + 1]);
        }
    }
}

template <int KT, int HD>
__global__ void __launch_bounds__(FA_WARPS * 32) attention_prefill_kernel(cu_attention a) {
    using L = fa_smem<HD>;
    extern __shared__ __align__(128) unsigned char fa_sm[];
    __half *Qs = (__half *)fa_sm;                         /* [FA_BQ][LQ] */
    __half *Ks = (__half *)(fa_sm + L::q);                /* [FA_BKV][LQ] */
    __half *Vs = (__half *)(fa_sm + L::q + L::k);         /* [FA_BKV][LQ] */
    float *Ss = (float *)(fa_sm + L::q + 2 * L::k);       /* [warp][16][LS] */
    __half *Ps = (__half *)(fa_sm + L::q + 2 * L::k + L::s);         /* [warp][16][LP] */
    float *Os = (float *)(fa_sm + L::q + 2 * L::k + L::s + L::p);    /* [warp][16][LO] */

    const int q0 = (gridDim.x - 1 - blockIdx.x) * FA_BQ; /* longest tiles first */
    const int head = blockIdx.y, kvh = head / (a.n_heads / a.n_kv);
    const int nq = min(FA_BQ, a.n_tok - q0);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int32_t *table = a.tables + (int64_t)a.tokseq[0] * a.mbs;
    const int kend = a.pos[q0 + nq - 1] + 1; /* keys [0, kend) */
    const float scale = rsqrtf((float)HD);

    for (int i = threadIdx.x; i < FA_BQ * HD / 2; i += FA_WARPS * 32) {
        const int r = i / (HD / 2), d = (i % (HD / 2)) * 2;
        float x = 0.0f, y = 0.0f;
        if (r < nq) {
            const float *src = a.q + (int64_t)(q0 + r) * a.ldq + (int64_t)head * HD + d;
            x = src[0] * scale, y = src[1] * scale;
        }
        *(__half2 *)&Qs[r * L::LQ + d] = fa_h2(x, y);
    }
    float *Ow = Os + warp * 16 * L::LO;
    __half *Pw = Ps + warp * 16 * L::LP;
    float *Sw = Ss + warp * 16 * L::LS;
    for (int i = lane; i < 16 * L::LO; i += 32) Ow[i] = 0.0f;

    /* lanes 2r and 2r+1 own row r of the warp: columns (keys) hf*16.., output dims hf*HD/2.. */
    const int r = lane >> 1, hf = lane & 1, qrow = warp * 16 + r;
    const int qpos = qrow < nq ? a.pos[q0 + qrow] : -1;
    float m = -INFINITY, l = 0.0f;

    for (int k0 = 0; k0 < kend; k0 += FA_BKV) {
        __syncthreads(); /* Q written / the previous tile's K and V consumed */
        fa_load_kv<KT, HD>(a, table, kvh, k0, kend, Ks, Vs);
        __syncthreads();

        /* S[16, FA_BKV] = Q K^T */
        {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> sf[FA_BKV / 16];
#pragma unroll
            for (int j = 0; j < FA_BKV / 16; j++) wmma::fill_fragment(sf[j], 0.0f);
#pragma unroll
            for (int kk = 0; kk < HD; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> qa;
                wmma::load_matrix_sync(qa, Qs + warp * 16 * L::LQ + kk, L::LQ);
#pragma unroll
                for (int j = 0; j < FA_BKV / 16; j++) {
                    wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> kb;
                    wmma::load_matrix_sync(kb, Ks + j * 16 * L::LQ + kk, L::LQ);
                    wmma::mma_sync(sf[j], qa, kb, sf[j]);
                }
            }
#pragma unroll
            for (int j = 0; j < FA_BKV / 16; j++)
                wmma::store_matrix_sync(Sw + j * 16, sf[j], L::LS, wmma::mem_row_major);
        }
        __syncwarp();

        /* online softmax of row r over this tile's keys; P as FP16; O rows rescaled */
        {
            constexpr int C = FA_BKV / 2;
            const float *srow = Sw + r * L::LS + hf * C;
            __half *prow = Pw + r * L::LP + hf * C;
            float sv[C], mx = -INFINITY;
#pragma unroll
            for (int c = 0; c < C; c++) {
                sv[c] = k0 + hf * C + c <= qpos ? srow[c] : -INFINITY;
                mx = fmaxf(mx, sv[c]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xFFFFFFFFu, mx, 1));
            const float mn = fmaxf(m, mx);
            const float alpha = mn == -INFINITY ? 1.0f : expf(m - mn);
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < C; c++) {
                __half ph = __float2half_rn(mn == -INFINITY ? 0.0f : expf(sv[c] - mn));
                prow[c] = ph;
                sum += __half2float(ph);
            }
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, 1);
            l = l * alpha + sum;
            m = mn;
            if (alpha != 1.0f) {
                float *orow = Ow + r * L::LO + hf * (HD / 2);
#pragma unroll 8
                for (int d = 0; d < HD / 2; d++) orow[d] *= alpha;
            }
        }
        __syncwarp();

        /* O[16, HD] += P[16, FA_BKV] V[FA_BKV, HD] */
#pragma unroll
        for (int n = 0; n < HD / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> of;
            wmma::load_matrix_sync(of, Ow + n * 16, L::LO, wmma::mem_row_major);
#pragma unroll
            for (int kk = 0; kk < FA_BKV; kk += 16) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> pa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> vb;
                wmma::load_matrix_sync(pa, Pw + kk, L::LP);
                wmma::load_matrix_sync(vb, Vs + kk * L::LQ + n * 16, L::LQ);
                wmma::mma_sync(of, pa, vb, of);
            }
            wmma::store_matrix_sync(Ow + n * 16, of, L::LO, wmma::mem_row_major);
        }
        __syncwarp();
    }

    if (qrow >= nq) return;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const float *orow = Ow + r * L::LO + hf * (HD / 2);
    float *dst = a.out + (int64_t)(q0 + qrow) * a.n_heads * HD + (int64_t)head * HD + hf * (HD / 2);
    for (int d = 0; d < HD / 2; d++) dst[d] = orow[d] * inv;
}

template <int KT, int HD> static lmr_status fa_launch(cu_ctx *c, const cu_attention *a) {
    const size_t smem = fa_smem<HD>::bytes;
    cudaError_t err = cudaFuncSetAttribute(attention_prefill_kernel<KT, HD>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess)
        return lmr_cuda_fail(c->e, err, "attention_prefill: %zu bytes of shared memory", smem);
    dim3 grid((a->n_tok + FA_BQ - 1) / FA_BQ, a->n_heads);
    attention_prefill_kernel<KT, HD><<<grid, FA_WARPS * 32, smem, c->st>>>(*a);
    return LMR_OK;
}

template <int KT> static lmr_status fa_launch_hd(cu_ctx *c, const cu_attention *a) {
    switch (a->head_dim) {
    case 16: return fa_launch<KT, 16>(c, a);
    case 32: return fa_launch<KT, 32>(c, a);
    case 64: return fa_launch<KT, 64>(c, a);
    case 128: return fa_launch<KT, 128>(c, a);
    default:
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED,
                        "attention_prefill: head_dim %d (the CUDA backend has 16, 32, 64, 128)",
                        a->head_dim);
    }
}

lmr_status lmr_cuda_attention_prefill(cu_ctx *c, const cu_attention *a) {
    if (a->n_kv < 1 || a->n_heads % a->n_kv != 0)
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "attention_prefill: %d heads over %d KV heads",
                        a->n_heads, a->n_kv);
    lmr_status st;
    lmr_cuda_pre(c);
    switch (a->kv_dtype) {
    case LMR_DTYPE_BF16: st = fa_launch_hd<LMR_DTYPE_BF16>(c, a); break;
    case LMR_DTYPE_F16: st = fa_launch_hd<LMR_DTYPE_F16>(c, a); break;
    case LMR_DTYPE_F32: st = fa_launch_hd<LMR_DTYPE_F32>(c, a); break;
    default:
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "attention_prefill: kv dtype %d", a->kv_dtype);
    }
    if (st != LMR_OK) return st;
    return lmr_cuda_post(c, "attention_prefill");
}
