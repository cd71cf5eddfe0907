/* attention.cu: causal attention over the paged KV cache, flash-decoding for decode and prefill
 * alike. Block (split s, KV head h, query token t) covers positions [s*split, (s+1)*split) up
 * to pos[t] (blocks past it exit at once, so a decode graph sized for max_ctx serves every
 * length); its 8 warps take keys in turn, a key is read once for all the query heads of the GQA
 * group (q in shared memory, scaled), with an online FP32 softmax per head in registers; the
 * warps' states are merged in shared memory and the block writes (max, sum, acc[head_dim]) per
 * query head to part. The combine kernel merges the splits of each (token, query head).
 * With a->blocks set (decode, lmr_cuda_att_blocks in plan.h) the grid has that many blocks per
 * (KV head, token), each looping over splits blockIdx.x, + gridDim.x, ... up to the token's
 * length read on the device, so the grid does not scale with max_ctx x batch; the keys per split
 * then come from that length too (lmr_cuda_att_split: 32 up to 8K positions, at most 256
 * splits), else (prefill) a->split is fixed.
 * HD = head_dim (16, 32, 64, 128); a lane holds EPL = HD / 32 elements (1 for HD 16: then two
 * keys per warp step, 16 lanes each). */
#include <math.h>

#include "common.cuh"

#define ATT_WARPS 8
#define ATT_UNROLL 2 /* keys loaded ahead per lane group */

template <int KT, int HD>
__global__ void __launch_bounds__(ATT_WARPS * 32) attention_kernel(cu_attention a) {
    constexpr int EPL = HD >= 32 ? HD / 32 : 1; /* elements per lane */
    constexpr int LPK = HD / EPL;               /* lanes per key */
    constexpr int KPI = 32 / LPK;               /* keys per warp step */
    constexpr int G = LMR_CUDA_MAX_GROUP;
    constexpr int NS = ATT_WARPS * KPI;         /* partial states per block */
    __shared__ __align__(16) float qs[G][HD];
    __shared__ float red[NS][G][HD + 2];

    const int h = blockIdx.y, t = blockIdx.z;
    const int len = a.pos[t] + 1;
    const int split = a.blocks > 0 ? lmr_cuda_att_split(len) : a.split;
    if ((int64_t)blockIdx.x * split >= len) return; /* block-uniform: no split for this block */
    const int g = a.n_heads / a.n_kv;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int lg = lane / LPK, li = lane % LPK;
    const float scale = rsqrtf((float)HD);

    for (int i = threadIdx.x; i < g * HD; i += blockDim.x)
        qs[i / HD][i % HD] = a.q[(int64_t)t * a.ldq + (int64_t)(h * g) * HD + i] * scale;
    __syncthreads();

    const int32_t *table = a.tables + (int64_t)a.tokseq[t] * a.mbs;
    const int stride = ATT_WARPS * KPI;
    /* splits s = blockIdx.x, + gridDim.x, ... of this token (the condition is block-uniform) */
    for (int s = blockIdx.x; (int64_t)s * split < len; s += gridDim.x) {
        const int p0 = s * split;
        const int p1 = min(p0 + split, len);
        float m[G], l[G], acc[G][EPL];
#pragma unroll
        for (int j = 0; j < G; j++) {
            m[j] = -INFINITY;
            l[j] = 0.0f;
#pragma unroll
            for (int e = 0; e < EPL; e++) acc[j][e] = 0.0f;
        }
        /* the loop bound is the same for the whole warp (shuffles need every lane) */
        for (int pw = p0 + warp * KPI; pw < p1; pw += stride * ATT_UNROLL) {
            const int pb = pw + lg;
            float kf[ATT_UNROLL][EPL], vf[ATT_UNROLL][EPL];
#pragma unroll
            for (int u = 0; u < ATT_UNROLL; u++) {
                int p = pb + u * stride;
                if (p < p1) {
                    int64_t off =
                        (((int64_t)table[p / a.bt] * a.bt + p % a.bt) * a.n_kv + h) * HD + li * EPL;
                    ld_vec<KT, EPL>(a.k_pool, off, kf[u]);
                    ld_vec<KT, EPL>(a.v_pool, off, vf[u]);
                }
            }
#pragma unroll
            for (int u = 0; u < ATT_UNROLL; u++) {
                /* every lane of the warp runs the shuffles; lanes without a key mask their result */
                const bool have = pb + u * stride < p1;
#pragma unroll
                for (int j = 0; j < G; j++) {
                    if (j >= g) break;
                    float d = 0.0f;
#pragma unroll
                    for (int e = 0; e < EPL; e++)
                        d = fmaf(qs[j][li * EPL + e], have ? kf[u][e] : 0.0f, d);
#pragma unroll
                    for (int o = LPK / 2; o > 0; o >>= 1) d += __shfl_xor_sync(0xFFFFFFFFu, d, o);
                    if (!have) continue;
                    /* one expf per key: with mn = max(m, d) one of exp(m - mn), exp(d - mn) is
                     * exp(0) = 1 exactly, so this equals the two-expf form bit for bit */
                    const bool up = d > m[j];
                    const float ex = expf(up ? m[j] - d : d - m[j]);
                    const float cf = up ? ex : 1.0f, ef = up ? 1.0f : ex;
                    l[j] = l[j] * cf + ef;
#pragma unroll
                    for (int e = 0; e < EPL; e++) acc[j][e] = fmaf(acc[j][e], cf, ef * vf[u][e]);
                    m[j] = up ? d : m[j];
                }
            }
        }
        const int sidx = warp * KPI + lg;
#pragma unroll
        for (int j = 0; j < G; j++) {
            if (j >= g) break;
#pragma unroll
            for (int e = 0; e < EPL; e++) red[sidx][j][2 + li * EPL + e] = acc[j][e];
            if (li == 0) red[sidx][j][0] = m[j], red[sidx][j][1] = l[j];
        }
        __syncthreads();
        float *dst = a.part + ((((int64_t)t * a.n_kv + h) * a.n_splits + s) * g) * (HD + 2);
        for (int i = threadIdx.x; i < g * HD; i += blockDim.x) {
            int j = i / HD, d = i % HD;
            float M = -INFINITY;
            for (int k = 0; k < NS; k++) M = fmaxf(M, red[k][j][0]);
            float L = 0.0f, A = 0.0f;
            for (int k = 0; k < NS; k++) {
                float mk = red[k][j][0];
                if (mk == -INFINITY) continue; /* a state that saw no key */
                float w = expf(mk - M);
                L += red[k][j][1] * w;
                A += red[k][j][2 + d] * w;
            }
            dst[(int64_t)j * (HD + 2) + 2 + d] = A;
            if (d == 0) dst[(int64_t)j * (HD + 2)] = M, dst[(int64_t)j * (HD + 2) + 1] = L;
        }
        __syncthreads(); /* red is read before the next split overwrites it */
    }
}

/* out[t, head, :] = sum_s w_s acc_s / sum_s w_s l_s, w_s = exp(m_s - max m). Grid (n_tok,
 * n_heads), max(head_dim, 32) threads (whole warps for the shuffles; threads past head_dim
 * only help with the reductions). The splits are shared out among the threads for the max and the
 * weights (w_s in dynamic shared memory, n_splits floats), so a long cache (128 splits at
 * 32K positions) costs a few loads per thread instead of a serial pass per thread; the sums
 * are reduced in a fixed order, so the result does not depend on timing. */
__global__ void attention_combine_kernel(cu_attention a) {
    extern __shared__ float wsplit[]; /* [n_splits] */
    __shared__ float red[32];
    const int t = blockIdx.x, head = blockIdx.y, d = threadIdx.x, hd = a.head_dim;
    const int nt = blockDim.x, nw = nt / 32, lane = d & 31, warp = d >> 5;
    const int g = a.n_heads / a.n_kv, h = head / g, j = head % g;
    const int len = a.pos[t] + 1;
    const int split = a.blocks > 0 ? lmr_cuda_att_split(len) : a.split;
    int ns = (len + split - 1) / split;
    if (ns > a.n_splits) ns = a.n_splits;
    const float *p = a.part + (((int64_t)t * a.n_kv + h) * a.n_splits * g + j) * (hd + 2);
    const int64_t step = (int64_t)g * (hd + 2);
    float M = -INFINITY;
    for (int s = d; s < ns; s += nt) M = fmaxf(M, p[s * step]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) M = fmaxf(M, __shfl_xor_sync(0xFFFFFFFFu, M, o));
    if (lane == 0) red[warp] = M;
    __syncthreads();
    M = -INFINITY;
    for (int w = 0; w < nw; w++) M = fmaxf(M, red[w]);
    __syncthreads(); /* red is reused below */
    float L = 0.0f;
    for (int s = d; s < ns; s += nt) {
        const float w = expf(p[s * step] - M);
        wsplit[s] = w;
        L += p[s * step + 1] * w;
    }
    L = warp_sum(L);
    if (lane == 0) red[warp] = L;
    __syncthreads(); /* wsplit and red complete */
    L = 0.0f;
    for (int w = 0; w < nw; w++) L += red[w];
    if (d >= hd) return;
    float A = 0.0f;
#pragma unroll 8
    for (int s = 0; s < ns; s++) A += p[s * step + 2 + d] * wsplit[s];
    /* L == 0: a padding row of a bucketed graph step (position -1, no key): 0, not NaN */
    a.out[(int64_t)t * a.n_heads * hd + (int64_t)head * hd + d] = L > 0.0f ? A / L : 0.0f;
}

template <int KT, int HD> static void launch(cu_ctx *c, const cu_attention *a) {
    /* a->blocks > 0: that many blocks per (KV head, token) loop over the splits (decode) */
    const int bx = a->blocks > 0 && a->blocks < a->n_splits ? a->blocks : a->n_splits;
    dim3 grid(bx, a->n_kv, a->n_tok);
    attention_kernel<KT, HD><<<grid, ATT_WARPS * 32, 0, c->st>>>(*a);
}

template <int KT> static lmr_status launch_hd(cu_ctx *c, const cu_attention *a) {
    switch (a->head_dim) {
    case 16: launch<KT, 16>(c, a); return LMR_OK;
    case 32: launch<KT, 32>(c, a); return LMR_OK;
    case 64: launch<KT, 64>(c, a); return LMR_OK;
    case 128: launch<KT, 128>(c, a); return LMR_OK;
    default:
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED,
                        "attention: head_dim %d (the CUDA backend has 16, 32, 64, 128)",
                        a->head_dim);
    }
}

lmr_status lmr_cuda_attention(cu_ctx *c, const cu_attention *a) {
    if (a->n_heads % a->n_kv != 0 || a->n_heads / a->n_kv > LMR_CUDA_MAX_GROUP)
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED,
                        "attention: %d query heads per KV head (the CUDA backend has up to %d)",
                        a->n_heads / a->n_kv, LMR_CUDA_MAX_GROUP);
    lmr_status st;
    lmr_cuda_pre(c);
    switch (a->kv_dtype) {
    case LMR_DTYPE_BF16: st = launch_hd<LMR_DTYPE_BF16>(c, a); break;
    case LMR_DTYPE_F16: st = launch_hd<LMR_DTYPE_F16>(c, a); break;
    case LMR_DTYPE_F32: st = launch_hd<LMR_DTYPE_F32>(c, a); break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "attention: kv dtype %d", a->kv_dtype);
    }
    if (st != LMR_OK) return st;
    if ((st = lmr_cuda_post(c, "attention"))) return st;
    lmr_cuda_pre(c);
    const size_t smem = sizeof(float) * (size_t)a->n_splits;
    if (smem > 48 * 1024)
        return lmr_fail(c->e, LMR_ERR_UNSUPPORTED,
                        "attention: %d splits exceed the combine kernel's shared memory",
                        a->n_splits);
    const int threads = a->head_dim > 32 ? a->head_dim : 32; /* head_dim 16: one whole warp */
    attention_combine_kernel<<<dim3(a->n_tok, a->n_heads), threads, smem, c->st>>>(*a);
    return lmr_cuda_post(c, "attention_combine");
}
