/* elementwise.cu: the per-token kernels of the forward pass (embedding gather, rmsnorm/convert,
 * RoPE fused with the KV-cache write), fill_kv's random rows and greedy sampling. */
#include <math.h>

#include "common.cuh"

/* ---- embed: h[t, :] = E[tokens[t], :] as FP32 ---- */

template <int DT>
__global__ void embed_kernel(const int32_t *tokens, const void *E, int hidden, float *h) {
    const int t = blockIdx.x;
    const int64_t row = (int64_t)tokens[t] * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x)
        h[(int64_t)t * hidden + i] = ld_elem<DT>(E, row + i);
}

lmr_status lmr_cuda_embed(cu_ctx *c, const int32_t *tokens, int n_tok, const void *E, int dtype,
                          int hidden, float *h) {
    if (lmr_qd_block_elems(dtype)) return lmr_cuda_quant_embed(c, tokens, n_tok, E, dtype, hidden, h);
    lmr_cuda_pre(c);
    switch (dtype) {
    case LMR_DTYPE_BF16: embed_kernel<LMR_DTYPE_BF16><<<n_tok, 256, 0, c->st>>>(tokens, E, hidden, h); break;
    case LMR_DTYPE_F16: embed_kernel<LMR_DTYPE_F16><<<n_tok, 256, 0, c->st>>>(tokens, E, hidden, h); break;
    case LMR_DTYPE_F32: embed_kernel<LMR_DTYPE_F32><<<n_tok, 256, 0, c->st>>>(tokens, E, hidden, h); break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "embed: dtype %d", dtype);
    }
    return lmr_cuda_post(c, "embed");
}

/* ---- rmsnorm: one block per token; y in dtype YT with row stride n ---- */

template <int YT>
__global__ void __launch_bounds__(256) rmsnorm_kernel(const float *x, int ldx, int n,
                                                      const float *w, float eps, void *y) {
    __shared__ float red[8];
    const int t = blockIdx.x;
    const float *xt = x + (int64_t)t * ldx;
    float r = 1.0f;
    if (w) {
        float ss = 0.0f;
        for (int i = threadIdx.x; i < n; i += blockDim.x) ss += xt[i] * xt[i];
        ss = warp_sum(ss);
        if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = ss;
        __syncthreads();
        if (threadIdx.x < 32) {
            float v = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0.0f;
            v = warp_sum(v);
            if (threadIdx.x == 0) red[0] = v;
        }
        __syncthreads();
        r = rsqrtf(red[0] / (float)n + eps);
    }
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        st_elem<YT>(y, (int64_t)t * n + i, w ? xt[i] * r * w[i] : xt[i]);
}

lmr_status lmr_cuda_rmsnorm(cu_ctx *c, const float *x, int ldx, int n_tok, int n,
                            const float *w, float eps, void *y, int ydt) {
    lmr_cuda_pre(c);
    switch (ydt) {
    case LMR_DTYPE_BF16: rmsnorm_kernel<LMR_DTYPE_BF16><<<n_tok, 256, 0, c->st>>>(x, ldx, n, w, eps, y); break;
    case LMR_DTYPE_F16: rmsnorm_kernel<LMR_DTYPE_F16><<<n_tok, 256, 0, c->st>>>(x, ldx, n, w, eps, y); break;
    case LMR_DTYPE_F32: rmsnorm_kernel<LMR_DTYPE_F32><<<n_tok, 256, 0, c->st>>>(x, ldx, n, w, eps, y); break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "rmsnorm: output dtype %d", ydt);
    }
    return lmr_cuda_post(c, "rmsnorm");
}

/* ---- RoPE (rotate-half) on q and k, then k and v into the paged cache ----
 * One block per token. Angles in double (positions up to 1e5 would lose ~1e-2 rad in float),
 * as the CPU backend does. qkv row: [q (n_heads*hd) | k (n_kv*hd) | v (n_kv*hd)]. */

template <int KT>
__global__ void __launch_bounds__(256) rope_cache_kernel(float *qkv, int n_heads, int n_kv, int hd,
                                                         const double *inv_freq,
                                                         const int32_t *pos,
                                                         const int32_t *tokseq,
                                                         const int32_t *tables, int mbs, int bt,
                                                         void *k_pool, void *v_pool) {
    extern __shared__ float cs[]; /* [half] cos, [half] sin */
    const int t = blockIdx.x, half = hd / 2;
    const int p = pos[t];
    if (p < 0) return; /* a padding row of a bucketed graph step: writes nothing */
    const int qd = n_heads * hd, kd = n_kv * hd;
    float *row = qkv + (int64_t)t * (qd + 2 * kd);
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        double s, co;
        sincos((double)p * inv_freq[i], &s, &co);
        cs[i] = (float)co;
        cs[half + i] = (float)s;
    }
    __syncthreads();
    const int pairs = (n_heads + n_kv) * half;
    for (int i = threadIdx.x; i < pairs; i += blockDim.x) {
        int hh = i / half, j = i - hh * half;
        float *v = row + hh * hd; /* q heads then k heads: contiguous */
        float a = v[j], b = v[j + half], co = cs[j], si = cs[half + j];
        v[j] = a * co - b * si;
        v[j + half] = b * co + a * si;
    }
    __syncthreads();
    const int64_t slot = (int64_t)tables[(int64_t)tokseq[t] * mbs + p / bt] * bt + p % bt;
    for (int i = threadIdx.x; i < kd; i += blockDim.x) {
        st_elem<KT>(k_pool, slot * kd + i, row[qd + i]);
        st_elem<KT>(v_pool, slot * kd + i, row[qd + kd + i]);
    }
}

lmr_status lmr_cuda_rope_cache(cu_ctx *c, float *qkv, int n_tok, int n_heads, int n_kv,
                               int head_dim, const double *inv_freq, const int32_t *pos,
                               const int32_t *tokseq, const int32_t *tables, int mbs, int bt,
                               void *k_pool, void *v_pool, int kv_dtype) {
    size_t sm = sizeof(float) * (size_t)head_dim;
    lmr_cuda_pre(c);
    switch (kv_dtype) {
    case LMR_DTYPE_BF16:
        rope_cache_kernel<LMR_DTYPE_BF16><<<n_tok, 256, sm, c->st>>>(
            qkv, n_heads, n_kv, head_dim, inv_freq, pos, tokseq, tables, mbs, bt, k_pool, v_pool);
        break;
    case LMR_DTYPE_F16:
        rope_cache_kernel<LMR_DTYPE_F16><<<n_tok, 256, sm, c->st>>>(
            qkv, n_heads, n_kv, head_dim, inv_freq, pos, tokseq, tables, mbs, bt, k_pool, v_pool);
        break;
    case LMR_DTYPE_F32:
        rope_cache_kernel<LMR_DTYPE_F32><<<n_tok, 256, sm, c->st>>>(
            qkv, n_heads, n_kv, head_dim, inv_freq, pos, tokseq, tables, mbs, bt, k_pool, v_pool);
        break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "rope_cache: kv dtype %d", kv_dtype);
    }
    return lmr_cuda_post(c, "rope_cache");
}

/* ---- fill_kv: the CPU backend's generator, bit for bit (cpu/backend_cpu.c fill_row): element
 * i of the (layer, position, K|V) row draws mix64(st + i0 + (i - i0 + 1) * golden) where i0 is
 * i rounded down to 1024 and st = mix64(seed ^ mix64(layer << 33 ^ pos << 1 ^ kv)). ---- */

__device__ __forceinline__ uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <int KT>
__global__ void fill_kv_kernel(char *kv, size_t layer_bytes, const int32_t *table, int bt, int kd,
                               uint64_t seed) {
    const int p = blockIdx.x, l = blockIdx.y, which = blockIdx.z;
    char *pool = kv + ((size_t)l * 2 + which) * layer_bytes;
    const int64_t slot = (int64_t)table[p / bt] * bt + p % bt;
    uint64_t st = mix64(seed ^ mix64(((uint64_t)l << 33) ^ ((uint64_t)p << 1) ^ (uint64_t)which));
    for (int i = threadIdx.x; i < kd; i += blockDim.x) {
        int i0 = i & ~1023;
        uint64_t r = mix64(st + (uint64_t)i0 + (uint64_t)(i - i0 + 1) * 0x9E3779B97F4A7C15ull);
        double sum = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) +
                     (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
        st_elem<KT>(pool, slot * kd + i, (float)((sum / 65536.0 - 2.0) * 1.7320508075688772));
    }
}

lmr_status lmr_cuda_fill_kv(cu_ctx *c, void *kv, size_t layer_bytes, int n_layers, int pos,
                            const int32_t *table, int bt, int kd, int kv_dtype, uint64_t seed) {
    dim3 grid(pos, n_layers, 2);
    lmr_cuda_pre(c);
    switch (kv_dtype) {
    case LMR_DTYPE_BF16: fill_kv_kernel<LMR_DTYPE_BF16><<<grid, 128, 0, c->st>>>((char *)kv, layer_bytes, table, bt, kd, seed); break;
    case LMR_DTYPE_F16: fill_kv_kernel<LMR_DTYPE_F16><<<grid, 128, 0, c->st>>>((char *)kv, layer_bytes, table, bt, kd, seed); break;
    case LMR_DTYPE_F32: fill_kv_kernel<LMR_DTYPE_F32><<<grid, 128, 0, c->st>>>((char *)kv, layer_bytes, table, bt, kd, seed); break;
    default: return lmr_fail(c->e, LMR_ERR_UNSUPPORTED, "fill_kv: kv dtype %d", kv_dtype);
    }
    return lmr_cuda_post(c, "fill_kv");
}

/* ---- greedy sampling: one block, lowest index among the maxima; any non-finite logit (NaN or
 * +-Inf) writes -1, which the generic layer reports as LMR_ERR_NONFINITE ---- */

__global__ void __launch_bounds__(1024) argmax_kernel(const float *x, int n, int32_t *out) {
    __shared__ float bv[32];
    __shared__ int bi[32];
    float v = -INFINITY;
    int idx = n; /* "none yet": larger than every index */
    int bad = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float f = x[i];
        if (!isfinite(f)) bad = 1;
        if (f > v || (idx == n && f == v)) v = f, idx = i;
    }
    bad = __syncthreads_or(bad);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xFFFFFFFFu, v, o);
        int oi = __shfl_xor_sync(0xFFFFFFFFu, idx, o);
        if (ov > v || (ov == v && oi < idx)) v = ov, idx = oi;
    }
    if ((threadIdx.x & 31) == 0) bv[threadIdx.x >> 5] = v, bi[threadIdx.x >> 5] = idx;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < blockDim.x / 32 ? bv[threadIdx.x] : -INFINITY;
        idx = threadIdx.x < blockDim.x / 32 ? bi[threadIdx.x] : n;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xFFFFFFFFu, v, o);
            int oi = __shfl_xor_sync(0xFFFFFFFFu, idx, o);
            if (ov > v || (ov == v && oi < idx)) v = ov, idx = oi;
        }
        if (threadIdx.x == 0) *out = bad ? -1 : idx < n ? idx : 0;
    }
}

lmr_status lmr_cuda_argmax(cu_ctx *c, const float *logits, int n, int32_t *out) {
    lmr_cuda_pre(c);
    argmax_kernel<<<1, 1024, 0, c->st>>>(logits, n, out);
    return lmr_cuda_post(c, "argmax");
}
