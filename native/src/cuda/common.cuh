/* common.cuh: what every CUDA file of the backend shares: the engine/model/session private
 * state, the launch context (stream, kernel counter, profile events), error checks that turn a
 * CUDA error into LMR_ERR_BACKEND with its text, element-type helpers, and the launchers each
 * <op>.cu defines. Launchers return lmr_status; a runtime choice (dtype, head dim) is a template
 * constant picked in one flat switch per launcher; an unsupported one is LMR_ERR_UNSUPPORTED. */
#ifndef LMR_CUDA_COMMON_CUH
#define LMR_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "backend.h"
}
#include "plan.h"
#include "quant_dev.h"

/* ---- private state ---- */

typedef struct {
    cudaStream_t stream;
    cudaEvent_t ev0, ev1; /* probes and profile mode */
    int device;
    int sms;              /* multiprocessors */
    /* Kernel variants, from the environment at engine creation (to compare them):
     * LMR_CUDA_PREFILL_ATTENTION=split: prefill through the flash-decoding kernel, not the fused
     * tensor-core one; LMR_CUDA_SPLITK=0: no split-K for 17..64-token GEMMs;
     * LMR_CUDA_GEMV_MAX=N: linear ops of at most N tokens (1..16) take the GEMV kernel, more
     * take the tensor-core GEMM (default LMR_CUDA_GEMV_MAX_DEFAULT, plan.h). */
    int prefill_fused;
    int splitk;
    int gemv_max;
    /* energy (energy.cu): NVML device handle or NULL, counter and time at the window start */
    void *nvml;
    unsigned long long energy_mj0;
    uint64_t energy_t0;
    int energy_ok;
} cu_engine;

typedef struct {
    const void *qkv;     /* [q_dim + 2 kv_dim, hidden] q, k, v rows stacked (one linear) when the
                            three share a dtype; else q alone [q_dim, hidden] */
    const void *k, *v;   /* NULL when stacked; else [kv_dim, hidden] each */
    const float *qkv_b;  /* [q_dim + 2 kv_dim] FP32, NULL without biases */
    const void *o;       /* [hidden, q_dim] */
    const void *gate_up; /* [2 ffn, hidden] rows interleaved: 2i = gate i, 2i+1 = up i */
    const void *down;    /* [hidden, ffn] */
    const float *in_norm, *post_norm; /* [hidden] FP32 */
    /* LMR_DTYPE_* of each matrix (a GGUF file mixes them per tensor: Q4_K_M has Q4_K and Q6_K) */
    int32_t qkv_dt, k_dt, v_dt, o_dt, gate_up_dt, down_dt;
} cu_layer;

typedef struct {
    int32_t embed_dt, lm_head_dt; /* LMR_DTYPE_* of the embedding and of lm_head */
    int64_t dq_elems;        /* weights of the largest quantised matrix (0: none): sizes the
                                session's dequantisation scratch for prefill */
    void *dev;               /* one allocation holding everything below */
    uint64_t dev_bytes;
    const void *embed;       /* [vocab, hidden] */
    const void *lm_head;     /* [vocab, hidden]; == embed when tied */
    const float *final_norm; /* [hidden] */
    const double *inv_freq;  /* [head_dim / 2] theta^(-2i/head_dim) */
    cu_layer *layers;        /* host array [n_layers] of device pointers */
} cu_model;

/* Bytes of a [rows, cols] matrix of dtype dt as stored (quantised: cols / block blocks a row). */
static inline size_t lmr_cuda_mat_bytes(int dt, size_t rows, size_t cols) {
    const int be = lmr_qd_block_elems(dt);
    if (be) return rows * (cols / (size_t)be) * (size_t)lmr_qd_block_bytes(dt);
    return rows * cols * (size_t)lmr_dtype_bytes(dt);
}

/* Per-step inputs the kernels read from device memory (so one captured graph serves every step).
 * Layout of the int32 header (host pinned copy and device copy are the same):
 *   tokens[max_tok] | pos[max_tok] | tokseq[max_tok] | outseq[max_seqs]
 * tokseq: the sequence of each token (its block table); outseq: the logits row of each output. */
typedef struct {
    int32_t *tokens, *pos, *tokseq, *outseq;
} cu_hdr_view;

typedef struct {
    void *kv;              /* [n_layers][K, V][n_blocks, block_tokens, n_kv, head_dim] */
    size_t layer_bytes;    /* bytes of one layer's K (or V) pool */
    int32_t max_tok;       /* max(prefill_chunk, bucket(max_seqs)) */
    int32_t max_bucket;    /* lmr_cuda_bucket(max_seqs): rows of outseq */
    void *scratch;         /* one allocation for everything below */
    uint64_t scratch_bytes;
    float *h;              /* [max_tok, hidden] residual stream */
    float *x;              /* [max_tok, hidden] rows gathered for lm_head */
    float *qkv;            /* [max_tok, q_dim + 2 kv_dim] */
    float *att;            /* [max_tok, q_dim] */
    float *act;            /* [max_tok, ffn] silu(gate) * up */
    void *xa;              /* [max_tok, max_in] GEMM input in the weight dtype */
    float *xf;             /* [max_tok, max_in] FP32 normed input of the SIMT GEMM */
    float *part;           /* attention partials [part_rows, head_dim + 2] */
    uint64_t part_floats;
    float *logits;         /* [max_seqs + 1, vocab] FP32, row = seq; the last row takes the
                              padding rows of a bucketed graph step */
    float *ws;             /* split-K partials [lmr_cuda_splitk_ws_floats] */
    int64_t ws_floats;
    void *wq;              /* [wq_elems] BF16: rows of a quantised matrix dequantised for the
                              GEMM (prefill); NULL when the model has no quantised matrix */
    int64_t wq_elems;
    int32_t *tables;       /* [max_seqs, max_blocks_seq] device mirror of the block tables */
    int32_t *d_hdr;        /* device header (layout above) */
    int32_t *h_hdr;        /* pinned host header */
    size_t hdr_ints;
    int32_t *h_shadow;     /* [max_seqs, max_blocks_seq] what tables holds */
    int32_t *d_tok;        /* [1] sampled token */
    int32_t *h_tok;        /* [1] pinned */
    int logits_pinned;     /* s->logits registered with cudaHostRegister */
    cudaGraphExec_t graphs[LMR_CUDA_BUCKET_SLOTS]; /* decode step per bucket, NULL until captured */
    int32_t graph_kernels[LMR_CUDA_BUCKET_SLOTS];  /* kernels in each graph */
} cu_session;

/* What a launcher needs: the stream, the engine (errors, counters) and profile mode. */
typedef struct {
    lmr_engine *e;
    cudaStream_t st;
    int prof;       /* time each kernel with events (never while capturing) */
    uint64_t kernels; /* launched by this context */
} cu_ctx;

/* Profile mode: the shape part of the next timed kernel's key (printf format). */
void lmr_cuda_profile_detail(const cu_ctx *c, const char *fmt, ...);

/* ---- errors ---- */

#define CU_TRY(call, ...)                                                                        \
    do {                                                                                         \
        cudaError_t err_ = (call);                                                               \
        if (err_ != cudaSuccess) return lmr_cuda_fail(e_, err_, __VA_ARGS__);                    \
    } while (0)

/* lmr_fail with LMR_ERR_BACKEND and "<what>: <cuda error text>"; clears the sticky error. */
lmr_status lmr_cuda_fail(lmr_engine *e, cudaError_t err, const char *what, ...)
    __attribute__((format(printf, 3, 4)));

/* Around every launch: profile events before, then the launch error and (profile) the time. */
void lmr_cuda_pre(cu_ctx *c);
lmr_status lmr_cuda_post(cu_ctx *c, const char *kernel);

/* ---- element types ---- */

__device__ __forceinline__ float bf16_bits_to_f32(uint32_t h) { return __uint_as_float(h << 16); }

/* Unpack one 16-byte vector of weights: 8 values (BF16/F16) or 4 (F32). */
template <int DT> struct wvec;
template <> struct wvec<LMR_DTYPE_BF16> {
    static constexpr int n = 8;
    __device__ __forceinline__ static void unpack(uint4 v, float *f) {
        uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            f[2 * i] = __uint_as_float(w[i] << 16);
            f[2 * i + 1] = __uint_as_float(w[i] & 0xFFFF0000u);
        }
    }
};
template <> struct wvec<LMR_DTYPE_F16> {
    static constexpr int n = 8;
    __device__ __forceinline__ static void unpack(uint4 v, float *f) {
        uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            __half2 h = *reinterpret_cast<__half2 *>(&w[i]);
            float2 g = __half22float2(h);
            f[2 * i] = g.x;
            f[2 * i + 1] = g.y;
        }
    }
};
template <> struct wvec<LMR_DTYPE_F32> {
    static constexpr int n = 4;
    __device__ __forceinline__ static void unpack(uint4 v, float *f) {
        f[0] = __uint_as_float(v.x);
        f[1] = __uint_as_float(v.y);
        f[2] = __uint_as_float(v.z);
        f[3] = __uint_as_float(v.w);
    }
};

/* One element of a tensor of dtype DT as FP32, and back (round to nearest even). */
template <int DT> __device__ __forceinline__ float ld_elem(const void *p, int64_t i) {
    if constexpr (DT == LMR_DTYPE_BF16)
        return bf16_bits_to_f32(((const uint16_t *)p)[i]);
    else if constexpr (DT == LMR_DTYPE_F16)
        return __half2float(((const __half *)p)[i]);
    else
        return ((const float *)p)[i];
}
template <int DT> __device__ __forceinline__ void st_elem(void *p, int64_t i, float v) {
    if constexpr (DT == LMR_DTYPE_BF16)
        ((__nv_bfloat16 *)p)[i] = __float2bfloat16_rn(v);
    else if constexpr (DT == LMR_DTYPE_F16)
        ((__half *)p)[i] = __float2half_rn(v);
    else
        ((float *)p)[i] = v;
}

/* N consecutive elements (N * elem bytes in {2, 4, 8, 16}, aligned) as FP32. */
template <int DT, int N> __device__ __forceinline__ void ld_vec(const void *p, int64_t i, float *f) {
    constexpr int eb = DT == LMR_DTYPE_F32 ? 4 : 2;
    constexpr int bytes = N * eb;
    const char *a = (const char *)p + i * eb;
    uint32_t w[4];
    if constexpr (bytes == 16) {
        uint4 v = *(const uint4 *)a;
        w[0] = v.x, w[1] = v.y, w[2] = v.z, w[3] = v.w;
    } else if constexpr (bytes == 8) {
        uint2 v = *(const uint2 *)a;
        w[0] = v.x, w[1] = v.y;
    } else if constexpr (bytes == 4) {
        w[0] = *(const uint32_t *)a;
    } else {
        w[0] = *(const uint16_t *)a;
    }
    if constexpr (DT == LMR_DTYPE_F32) {
#pragma unroll
        for (int k = 0; k < N; k++) f[k] = __uint_as_float(w[k]);
    } else {
#pragma unroll
        for (int k = 0; k < N; k++) {
            uint32_t h = (w[k / 2] >> (16 * (k % 2))) & 0xFFFFu;
            if constexpr (DT == LMR_DTYPE_BF16) f[k] = bf16_bits_to_f32(h);
            else f[k] = __half2float(__ushort_as_half((unsigned short)h));
        }
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
    return v;
}

/* ---- launchers (one per op; see each .cu for shapes) ---- */

/* Linear output modes: y = xW^T + b; y += xW^T; y[:, i] = silu(row 2i) * (row 2i+1). */
enum { LIN_STORE = 0, LIN_ACC = 1, LIN_SILU = 2 };

typedef struct {
    const float *x;      /* [n, ldx] FP32 input rows */
    int ldx, n, in;
    const void *W;       /* [out, in] of wdtype */
    int wdtype, out;
    const float *bias;   /* [out] or NULL (STORE only) */
    float *y;            /* row r of y at y + r * ldy */
    int ldy;
    const int32_t *yrow; /* device [n]: output row of input row t, or NULL (= t) */
    int mode;            /* LIN_* */
    const float *norm_w; /* [in] FP32: rmsnorm x first (eps), or NULL */
    float eps;
    void *xa;            /* scratch [n, in] of wdtype (tensor-core GEMM input) */
    float *xf;           /* scratch [n, in] FP32 (SIMT GEMM input when normed) */
    float *ws;           /* split-K partials (plan.h), or NULL: never split */
    int64_t ws_floats;
    void *wq;            /* quantised W, more than LMR_CUDA_QGEMV_MAX tokens: BF16 scratch of
                            wq_elems weights that takes W a tile of rows at a time (quant.cu) */
    int64_t wq_elems;
} cu_linear;

/* gemv.cu: n <= 16 tokens, weights streamed once for all of them. */
lmr_status lmr_cuda_gemv(cu_ctx *c, const cu_linear *a);
int lmr_cuda_gemv_ok(const cu_linear *a); /* shapes the GEMV takes */
/* gemm.cu: any n; tensor cores for BF16/F16 (split-K for <= 64 tokens when the tiles are few
 * and a->ws is set), SIMT for F32. Picks the GEMV when it can. */
lmr_status lmr_cuda_linear(cu_ctx *c, const cu_linear *a);
/* quant.cu: W quantised (Q8_0, Q4_K, Q6_K; ggml's blocks, rows of in / block blocks), every
 * mode, bias, yrow and norm as above. Up to LMR_CUDA_QGEMV_MAX tokens the GEMV reads the blocks
 * in place (FP32 activations); more tokens dequantise tiles of rows of W to BF16 in a->wq and run
 * the BF16 tensor-core GEMM on each. lmr_cuda_linear calls it for quantised weights. */
#define LMR_CUDA_QGEMV_MAX LMR_QD_MAX_TOK
lmr_status lmr_cuda_quant_linear(cu_ctx *c, const cu_linear *a);
/* h[t] = row tokens[t] of the quantised [vocab, hidden] E, dequantised to FP32 */
lmr_status lmr_cuda_quant_embed(cu_ctx *c, const int32_t *tokens, int n_tok, const void *E,
                                int dtype, int hidden, float *h);
/* Multiprocessors of the current device (queried once; call before any capture). */
int lmr_cuda_sms(void);

/* elementwise.cu */
/* h[t] = embed[tokens[t]] (FP32) */
lmr_status lmr_cuda_embed(cu_ctx *c, const int32_t *tokens, int n_tok, const void *E, int dtype,
                          int hidden, float *h);
/* y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, written in dtype ydt (norm_w NULL: convert only) */
lmr_status lmr_cuda_rmsnorm(cu_ctx *c, const float *x, int ldx, int n_tok, int n,
                            const float *w, float eps, void *y, int ydt);
/* RoPE on q and k of qkv [n_tok, q_dim + 2 kv_dim] in place, k and v written to the layer's cache
 * at each token's position (pos, tokseq from the header). */
lmr_status lmr_cuda_rope_cache(cu_ctx *c, float *qkv, int n_tok, int n_heads, int n_kv,
                               int head_dim, const double *inv_freq, const int32_t *pos,
                               const int32_t *tokseq, const int32_t *tables, int mbs, int bt,
                               void *k_pool, void *v_pool, int kv_dtype);
/* fill_kv's random rows: positions [0, pos) of seq, every layer. */
lmr_status lmr_cuda_fill_kv(cu_ctx *c, void *kv, size_t layer_bytes, int n_layers, int pos,
                            const int32_t *table, int bt, int kd, int kv_dtype, uint64_t seed);
/* *out = argmax(logits[n]) (lowest index on ties). */
lmr_status lmr_cuda_argmax(cu_ctx *c, const float *logits, int n, int32_t *out);

/* attention.cu: causal attention of n_tok query tokens over the paged cache, flash-decoding:
 * grid (n_splits, n_kv, n_tok), each block a position range of one KV head for all query heads
 * of its group, partials to part, then a combine. Token t attends to 0..pos[t]. */
typedef struct {
    const float *q;       /* [n_tok, ldq] query heads at column 0 */
    int ldq, n_tok, n_heads, n_kv, head_dim;
    const int32_t *pos, *tokseq, *tables;
    int mbs, bt;
    const void *k_pool, *v_pool;
    int kv_dtype;
    int split, n_splits;  /* positions per block, blocks per (token, KV head) */
    float *part;          /* [n_tok, n_kv, n_splits, group, head_dim + 2] */
    float *out;           /* [n_tok, n_heads * head_dim] */
    int blocks;           /* lmr_cuda_attention: blocks per (KV head, token), looping over the
                             splits; 0 (or >= n_splits): one block per split */
} cu_attention;
lmr_status lmr_cuda_attention(cu_ctx *c, const cu_attention *a);
/* attention_prefill.cu: fused causal attention of n_tok > 1 tokens of ONE sequence (tokseq[0])
 * at positions pos[t] (increasing): flash-attention with FP16 tensor cores, grid (query tiles
 * of 64, n_heads); reads q, pos, tokseq, tables, pools, out of a (split, n_splits, part unused).
 * Any group size; head_dim 16/32/64/128. */
lmr_status lmr_cuda_attention_prefill(cu_ctx *c, const cu_attention *a);
#define LMR_CUDA_ATT_SPLIT 256  /* prefill through the split kernel: positions per block at least */
#define LMR_CUDA_ATT_PREFILL_SPLITS 8 /* prefill: at most this many blocks per query token */
#define LMR_CUDA_MAX_GROUP 8    /* query heads per KV head */
static_assert(LMR_CUDA_MAX_GROUP == LMR_CUDA_MAX_GROUP_PLAN, "plan.h shape check");
#define LMR_CUDA_GATHER_MAX 4096 /* entries wanting logits in a mixed batch (api: max_seqs) */

/* probe.cu */
lmr_status lmr_cuda_probe_bandwidth(lmr_engine *e, uint64_t bytes, int32_t reps, double *samples);
lmr_status lmr_cuda_probe_launch(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns);

/* energy.cu: NVML handle of CUDA device dev (NULL: no energy figure); the backend.h energy op */
void *lmr_cuda_nvml_device(int dev);
void lmr_cuda_energy(lmr_engine *e, int reset);

/* forward.cu */
lmr_status lmr_cuda_forward(lmr_session *s, const lmr_batch_entry *en, int32_t n_en);
/* backend_cuda.cu: upload seq's block-table entries covering n positions that changed. */
lmr_status lmr_cuda_sync_table(lmr_session *s, int32_t seq, int32_t n);

#endif /* LMR_CUDA_COMMON_CUH */
