/* quant.h: quantised weight types (LMR_DTYPE_Q8_0, Q4_K, Q6_K), internal to the engine. Block
 * layouts are ggml's bit for bit (ggml-common.h), so a GGUF tensor is used in place: a row of
 * `in` weights is in / block_elems consecutive blocks. The scalar functions here are the
 * specification (ports of ggml's dequantize_row_* and quantize_row_q8_*_ref semantics); the fast
 * kernels (quant_<isa>.c) quantise the activations per block to 8 bits as ggml does and take
 * integer dot products, and are tested against lmr_quant_vec_dot_ref on the same activations.
 *
 * Multi-byte fields are little-endian as in the file (the engine runs on little-endian hosts). */
#ifndef LMR_CPU_QUANT_H
#define LMR_CPU_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "simd.h"

#define LMR_QK8_0 32 /* weights per Q8_0 block */
#define LMR_QK_K 256 /* weights per K-quant super-block */
#define LMR_K_SCALE_SIZE 12

/* Q8_0: w[i] = d * qs[i]. 34 bytes / 32 weights. Also the activation block of Q8_0 weights. */
typedef struct {
    uint16_t d; /* F16 scale */
    int8_t qs[LMR_QK8_0];
} lmr_block_q8_0;

/* Q4_K: 8 sub-blocks of 32; sub-block j has a 6-bit scale sc_j and a 6-bit min m_j, packed in
 * scales[12] (lmr_q4_K_scale_min); w = d * sc_j * q - dmin * m_j with q in 0..15. The 128 bytes
 * of qs hold 4 groups of 64 weights: byte l of group g has weight 64g + l in its low nibble and
 * weight 64g + 32 + l in its high nibble. 144 bytes / 256 weights. */
typedef struct {
    uint16_t d;    /* F16 super-block scale of the sub-block scales */
    uint16_t dmin; /* F16 super-block scale of the sub-block mins */
    uint8_t scales[LMR_K_SCALE_SIZE];
    uint8_t qs[LMR_QK_K / 2];
} lmr_block_q4_K;

/* Q6_K: 16 sub-blocks of 16 weights, int8 scale each; w = d * scales[i / 16] * (q - 32), q a
 * 6-bit value: in each half of 128 weights (ql += 64, qh += 32 per half), weight l (l < 32) has
 * low bits ql[l] & 15 and high bits qh[l] & 3, weight 32 + l: ql[32 + l] & 15, (qh[l] >> 2) & 3,
 * weight 64 + l: ql[l] >> 4, (qh[l] >> 4) & 3, weight 96 + l: ql[32 + l] >> 4, qh[l] >> 6.
 * 210 bytes / 256 weights. */
typedef struct {
    uint8_t ql[LMR_QK_K / 2];
    uint8_t qh[LMR_QK_K / 4];
    int8_t scales[LMR_QK_K / 16];
    uint16_t d; /* F16 */
} lmr_block_q6_K;

/* Q8_K: the activation block of the K-quants. x[i] ~= d * qs[i]; bsums[j] = sum of qs[16j ..
 * 16j + 15] (lets a kernel apply Q4_K mins and Q6_K's -32 offset per sub-block). */
typedef struct {
    float d;
    int8_t qs[LMR_QK_K];
    int16_t bsums[LMR_QK_K / 16];
} lmr_block_q8_K;

_Static_assert(sizeof(lmr_block_q8_0) == 34, "block_q8_0 is 34 bytes");
_Static_assert(sizeof(lmr_block_q4_K) == 144, "block_q4_K is 144 bytes");
_Static_assert(sizeof(lmr_block_q6_K) == 210, "block_q6_K is 210 bytes");
_Static_assert(sizeof(lmr_block_q8_K) == 292, "block_q8_K is 292 bytes");

/* ---- type facts ---- */

int lmr_dtype_is_quant(int dtype); /* Q8_0, Q4_K, Q6_K */
/* Weights per block: 32 or 256 for quantised types, 1 for F32/F16/BF16, 0 for unknown dtypes. */
int lmr_dtype_block_elems(int dtype);
/* Bytes per block (per element for F32/F16/BF16), 0 for unknown dtypes. */
size_t lmr_dtype_block_bytes(int dtype);
/* Bytes of a row of n weights; -1 when n is not a multiple of the block size or the dtype is
 * unknown. */
int64_t lmr_dtype_row_bytes(int dtype, int64_t n);

/* ---- scalar (de)quantisation ---- */

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K block (ggml's get_scale_min_k4). */
static inline void lmr_q4_K_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* y[n] = the weights of a row of n (a multiple of the block size) weights. */
void lmr_dequant_row_q8_0(const lmr_block_q8_0 *x, float *y, int64_t n);
void lmr_dequant_row_q4_K(const lmr_block_q4_K *x, float *y, int64_t n);
void lmr_dequant_row_q6_K(const lmr_block_q6_K *x, float *y, int64_t n);
void lmr_dequant_row(int dtype, const void *x, float *y, int64_t n); /* any quantised dtype */

/* Activation quantisers, ggml's quantize_row_q8_0_ref / quantize_row_q8_K_ref exactly (the fast
 * kernels' results depend on them bit for bit). */
void lmr_quantize_row_q8_0(const float *x, lmr_block_q8_0 *y, int64_t n);
void lmr_quantize_row_q8_K(const float *x, lmr_block_q8_K *y, int64_t n);
/* Simple weight quantisers (round to nearest with per-sub-block max / min-max scales; not ggml's
 * error-minimising search): for tests and for writing small quantised files. */
void lmr_quantize_row_q4_K(const float *x, lmr_block_q4_K *y, int64_t n);
void lmr_quantize_row_q6_K(const float *x, lmr_block_q6_K *y, int64_t n);
/* Any of Q8_0, Q4_K, Q6_K; dst holds lmr_dtype_row_bytes(dtype, n) bytes. */
void lmr_quantize_row(int dtype, const float *x, void *dst, int64_t n);

/* ---- dot products with quantised activations ----
 * The activation type of a weight type: Q8_0 for Q8_0, Q8_K for Q4_K and Q6_K. */
int lmr_quant_act_dtype(int wdtype); /* LMR_QACT_Q8_0 / LMR_QACT_Q8_K, or -1 */
#define LMR_QACT_Q8_0 0
#define LMR_QACT_Q8_K 1
/* Bytes of one token's quantised activations of `in` elements for weight type wdtype. */
size_t lmr_quant_act_row_bytes(int wdtype, int in);
/* sum_i w[i] x[i] of one weight row w (n weights of wdtype) and one activation row xq (quantised
 * for wdtype): integer dot per sub-block, scaled in FP32 (ggml's ggml_vec_dot_*_generic). */
float lmr_quant_vec_dot_ref(int wdtype, int n, const void *w, const void *xq);

/* y[t, o] += dot(W row o, xq row t) for o in [o0, o1), t < n_tok (y: [n_tok, ldy]); xq: the
 * quantised activations, [n_tok] rows of lmr_quant_act_row_bytes(wdtype, in) bytes. One kernel
 * set per ISA (quant_<isa>.c); `isa` is an LMR_ISA_* level that has one. */
/* sum_i w[i] x[i] over n weights: one kernel per weight type and ISA (quant_<isa>.c). */
typedef float (*lmr_qdot_fn)(int n, const void *w, const void *xq);
/* The fast dot of wdtype at kernel level isa (LMR_ISA_*), or NULL when that level has none. */
lmr_qdot_fn lmr_quant_dot(int isa, int wdtype);
/* Which dot kernels level isa runs: "avx512-vnni", "avx2", "neon-dotprod", "neon", "scalar". */
const char *lmr_quant_kernels_name(int isa);
/* out[t] = dot(w, xq + t * xrow) for t < T (1..4): the weight block unpacked once for T tokens,
 * each out[t] bit for bit the single-token kernel's (batched decode). NULL where a level has none. */
typedef void (*lmr_qdotn_fn)(int n, const void *w, const void *xq, size_t xrow, int T, float *out);
lmr_qdotn_fn lmr_quant_dotn(int isa, int wdtype);
#define LMR_QDOTN_MAX 4
#if LMR_HAVE_AVX2
lmr_qdot_fn lmr_quant_dot_avx2(int wdtype);
#endif
#if LMR_HAVE_AVX512
lmr_qdot_fn lmr_quant_dot_avx512(int wdtype); /* NULL where the AVX2 kernel is used */
lmr_qdotn_fn lmr_quant_dotn_avx512(int wdtype);
#endif
#if LMR_HAVE_NEON
lmr_qdot_fn lmr_quant_dot_neon(int wdtype);
int lmr_quant_neon_dotprod(void); /* the CPU has the dotprod instructions (sdot) */
#endif

/* ---- the quantised linear layers behind lmr_cpu_matmul* (quant.c) ----
 * lmr_cpu_matmul_n hands its quantised linears here: the activations are quantised once per
 * call (pool-parallel, per token) for every activation type needed, the output rows are cut into
 * chunks over the pool, and each chunk runs the level's dot kernels, W rows kept in L1 across all
 * tokens (tiles of LMR_QTILE rows). At the scalar level every row is dequantised and dotted with
 * the FP32 activations (the specification, no activation rounding). */
#define LMR_QTILE 8
/* From this many tokens (prefill), a thread dequantises a tile of LMR_QGEMM_ROWS rows of W and
 * runs the level's float GEMM on it (AVX-512-BF16: the BF16 GEMM, weights and activations
 * rounded to BF16; AVX2 / NEON: the FP32 GEMM, exact weights and FP32 activations): the tile's
 * dequantisation is shared by all tokens, and the float GEMMs are the faster kernels. */
#define LMR_QGEMM_MIN_TOK 32
#define LMR_QGEMM_ROWS 64
void lmr_matmul_quant_n(lmr_pool *p, const float *x, int n_tok, int in, const lmr_linear *ls,
                        int n);
/* lmr_cpu_matmul_ref for a quantised W: dequantise-then-dot, FP32 activations. */
void lmr_matmul_ref_quant(const float *x, int n_tok, int in, const void *W, int wdtype, int out,
                          const float *bias, float *y, int accumulate);

#endif /* LMR_CPU_QUANT_H */
