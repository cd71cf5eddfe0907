/* matmul_avx512.c: AVX-512-BF16 prefill GEMM for BF16 weights (one thread's rows [o0, o1) of W).
 * The activations arrive already rounded to BF16 (lmr_x_to_bf16_avx512, once per GEMM input,
 * shared by every linear of that input), so that the inner product is `vdpbf16ps`: 32
 * multiply-adds of BF16 pairs into 16 FP32 lanes per instruction, twice the FMA rate of FP32.
 * Accuracy cost against the FP32 path: the activations lose their low 16 mantissa bits
 * (|x - bf16(x)| <= 2^-8 |x|), so |y - y_fp32| <= 2^-8 sum_i |x_i W_oi| + FP32 rounding; the sums
 * stay FP32. matmul_test.c checks both that bound and that the result equals the FP32 reference
 * computed from bf16(x) to FP32 rounding.
 * Blocking: a [KC x NC] tile of W is packed once into strips of 16 rows, k-pair-major
 * ([k/2][16][2] BF16: one zmm per k pair), and reused for all tokens by a 12x32 register
 * micro-kernel (24 zmm accumulators, 2 strip loads + 12 pair broadcasts per k pair), under the
 * shared driver of gemm.c (this file supplies the packer and the micro-kernel). KC = 256
 * keeps a strip pair (16 KiB) in L1 across a token tile; NC = 256 keeps the panel (128 KiB) in
 * L2 (1 MiB a core on Zen 4, 2 MiB on Sapphire Rapids). */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512BF16__)
#include <immintrin.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"

#define AI __attribute__((always_inline)) static inline
#define KC LMR_BF16_GEMM_KC
#define NC LMR_BF16_GEMM_NC
#define MR 12

void lmr_x_to_bf16_avx512(const float *x, int n_tok, int in, uint16_t *xb, int ldxb) {
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (int64_t)t * in;
        uint16_t *bt = xb + (int64_t)t * ldxb;
        int i = 0;
        for (; i + 32 <= in; i += 32) {
            __m512bh r = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xt + i + 16), _mm512_loadu_ps(xt + i));
            _mm512_storeu_si512((void *)(bt + i), (__m512i)r);
        }
        for (; i < in; i += 16) {
            int n = in - i < 16 ? in - i : 16;
            __mmask16 m = (__mmask16)((1u << n) - 1u);
            __m256bh r = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, xt + i));
            _mm256_mask_storeu_epi16(bt + i, m, (__m256i)r);
        }
        for (i = in; i < ldxb; i++) bt[i] = 0;
    }
}

/* Packs W[n0 + j, k0 + k] (j < nr, k < kc) as bp[k/2][j] = (W[., k], W[., k+1]) in one 32-bit
 * lane, the low half first; rows j >= nr and a missing last k are zero. */
static void pack_strip(const uint16_t *W, int in, int n0, int nr, int k0, int kc, uint32_t *bp) {
    int kp_n = (kc + 1) / 2, full = kc / 2;
    if (nr == 16 && full == kp_n && (kp_n & 15) == 0) {
        /* 16 rows x 16 k pairs at a time: a 16x16 transpose of 32-bit lanes */
        for (int kp = 0; kp < kp_n; kp += 16) {
            __m512i r[16], t[16];
            for (int j = 0; j < 16; j++)
                r[j] = _mm512_loadu_si512((const void *)(W + (int64_t)(n0 + j) * in + k0 + 2 * kp));
            for (int j = 0; j < 16; j += 2) {
                t[j] = _mm512_unpacklo_epi32(r[j], r[j + 1]);
                t[j + 1] = _mm512_unpackhi_epi32(r[j], r[j + 1]);
            }
            for (int j = 0; j < 16; j += 4) {
                r[j] = _mm512_unpacklo_epi64(t[j], t[j + 2]);
                r[j + 1] = _mm512_unpackhi_epi64(t[j], t[j + 2]);
                r[j + 2] = _mm512_unpacklo_epi64(t[j + 1], t[j + 3]);
                r[j + 3] = _mm512_unpackhi_epi64(t[j + 1], t[j + 3]);
            }
            /* r[4g + q], 128-bit lane L: rows 4g..4g+3 of k pair 4L + q. Gather lane L of the
             * four groups g into one vector per k pair. */
            for (int q = 0; q < 4; q++) {
                __m512i a = r[q], b = r[4 + q], c = r[8 + q], d = r[12 + q];
                __m512i ab_lo = _mm512_shuffle_i32x4(a, b, 0x44); /* a0 a1 b0 b1 */
                __m512i ab_hi = _mm512_shuffle_i32x4(a, b, 0xEE); /* a2 a3 b2 b3 */
                __m512i cd_lo = _mm512_shuffle_i32x4(c, d, 0x44);
                __m512i cd_hi = _mm512_shuffle_i32x4(c, d, 0xEE);
                t[q] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0x88);      /* a0 b0 c0 d0: lane 0 */
                t[4 + q] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0xDD);  /* a1 b1 c1 d1: lane 1 */
                t[8 + q] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0x88);  /* lane 2 */
                t[12 + q] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0xDD); /* lane 3 */
            }
            /* t[4L + q]: k pair 4L + q, rows 0..15 */
            for (int p = 0; p < 16; p++) _mm512_store_si512((void *)(bp + (kp + p) * 16), t[p]);
        }
        return;
    }
    for (int j = 0; j < 16; j++) {
        if (j >= nr) {
            for (int kp = 0; kp < kp_n; kp++) bp[kp * 16 + j] = 0;
            continue;
        }
        const uint16_t *wr = W + (int64_t)(n0 + j) * in + k0;
        int kp = 0;
        for (; kp < full; kp++) {
            uint32_t v;
            memcpy(&v, wr + 2 * kp, 4);
            bp[kp * 16 + j] = v;
        }
        if (kp < kp_n) bp[kp * 16 + j] = wr[2 * kp]; /* odd kc: the high half is zero */
    }
}

/* c[r, 0..16 NS) += sum_kp a[r][kp] . b[kp] for r < R (a: BF16 rows of stride lda elements, read
 * as 32-bit k pairs; b0, b1: two packed strips; m0, m1: the valid columns of each strip). */
AI void micro(int kp_n, const uint16_t *a, int lda, const uint32_t *b0, const uint32_t *b1,
              float *c, int ldc, __mmask16 m0, __mmask16 m1, const int R, const int NS) {
    __m512 c0[MR], c1[MR];
    for (int r = 0; r < R; r++) {
        c0[r] = _mm512_maskz_loadu_ps(m0, c + (int64_t)r * ldc);
        if (NS == 2) c1[r] = _mm512_maskz_loadu_ps(m1, c + (int64_t)r * ldc + 16);
    }
    for (int kp = 0; kp < kp_n; kp++) {
        __m512bh w0 = (__m512bh)_mm512_load_si512((const void *)(b0 + kp * 16));
        __m512bh w1 = NS == 2 ? (__m512bh)_mm512_load_si512((const void *)(b1 + kp * 16)) : w0;
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, a + (int64_t)r * lda + 2 * kp, 4);
            __m512bh av = (__m512bh)_mm512_set1_epi32(pair);
            c0[r] = _mm512_dpbf16_ps(c0[r], av, w0);
            if (NS == 2) c1[r] = _mm512_dpbf16_ps(c1[r], av, w1);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_ps(c + (int64_t)r * ldc, m0, c0[r]);
        if (NS == 2) _mm512_mask_storeu_ps(c + (int64_t)r * ldc + 16, m1, c1[r]);
    }
}

/* One function per tile shape (inlined into one switch, GCC may keep accumulator arrays on the
 * stack as well: it did so for the AVX2 kernel, at half the speed). */
#define MICRO_FN(R)                                                                            \
    __attribute__((noinline)) static void micro_##R(int kp_n, const uint16_t *a, int lda,     \
                                                    const uint32_t *b0, const uint32_t *b1,   \
                                                    float *c, int ldc, __mmask16 m0,          \
                                                    __mmask16 m1, int ns) {                   \
        if (ns == 2) micro(kp_n, a, lda, b0, b1, c, ldc, m0, m1, R, 2);                        \
        else micro(kp_n, a, lda, b0, b1, c, ldc, m0, m1, R, 1);                                \
    }
MICRO_FN(1) MICRO_FN(2) MICRO_FN(3) MICRO_FN(4) MICRO_FN(5) MICRO_FN(6)
MICRO_FN(7) MICRO_FN(8) MICRO_FN(9) MICRO_FN(10) MICRO_FN(11) MICRO_FN(12)

typedef void (*micro_fn)(int, const uint16_t *, int, const uint32_t *, const uint32_t *, float *,
                         int, __mmask16, __mmask16, int);
static const micro_fn micro_by_rows[MR + 1] = {micro_1, micro_1, micro_2, micro_3, micro_4,
                                               micro_5, micro_6, micro_7, micro_8, micro_9,
                                               micro_10, micro_11, micro_12};

/* The shared driver's micro-kernel: a strip of 32 rows is two packed 16-row halves. */
static void micro_any(int r, int kc, const void *av, int lda, const void *bp, float *c, int ldc,
                      int ncols) {
    int kp_n = (kc + 1) / 2, ns = ncols > 16 ? 2 : 1;
    const uint32_t *b0 = bp, *b1 = b0 + (size_t)kp_n * 16;
    __mmask16 m0 = (__mmask16)(ncols >= 16 ? 0xFFFFu : (1u << ncols) - 1u);
    __mmask16 m1 = (__mmask16)(ncols >= 32 ? 0xFFFFu : ncols > 16 ? (1u << (ncols - 16)) - 1u : 0u);
    micro_by_rows[r < 1 ? 1 : r > MR ? MR : r](kp_n, av, lda, b0, b1, c, ldc, m0, m1, ns);
}

static void pack32(const void *W, int dtype, int in, int n0, int nr, int k0, int kc, void *bp) {
    (void)dtype; /* BF16 only */
    uint32_t *b = bp;
    int kp_n = (kc + 1) / 2;
    pack_strip(W, in, n0, nr < 16 ? nr : 16, k0, kc, b);
    pack_strip(W, in, n0 + 16, nr > 16 ? nr - 16 : 0, k0, kc, b + (size_t)kp_n * 16);
}

static const lmr_gemm_kernel gemm_kernel = {
    .mr = MR, .nr = 32, .kc = KC, .nc = NC, .a_esz = 2, .w_esz = 2, .masked = 1,
    .pack = pack32, .micro = micro_any};
_Static_assert((size_t)KC * NC * 2 <= LMR_GEMM_SCRATCH, "the BF16 panel fits the GEMM scratch");

void lmr_matmul_rows_bf16_avx512(const uint16_t *xb, int ldxb, int n_tok, int in,
                                 const uint16_t *W, int o0, int o1, float *y, int ldy,
                                 void *scratch) {
    lmr_gemm_rows(&gemm_kernel, xb, ldxb, n_tok, in, W, LMR_DTYPE_BF16, o0, o1, y, ldy, scratch);
}
/* Small batches (tokens in [LMR_BF16_SMALL_MIN_TOK, LMR_BF16_SMALL_MAX_TOK)): W is streamed once
 * from memory in its own row-major layout, as the GEMV does, but multiplied as BF16 pairs with
 * bf16(x) by `vdpbf16ps`: no packing (up to ~64 tokens, packing W costs more than the cache reuse
 * it buys) and twice the FP32 FMA rate of the GEMV, whose 4-16 token work is compute-bound.
 * 4 rows at a time (one from each quarter of the range: 4 streams, prefetched 1 KiB ahead:
 * without it the streams ran at two thirds of the GEMV's bandwidth), up to 6 tokens a pass
 * (24 accumulators, 4 W and 1 x register), each (row, token) sum reduced once. The accuracy is
 * the packed GEMM's (x rounded to BF16, FP32 sums). */
AI void sm_tile(const uint16_t *xb, int ldxb, int in, const uint16_t *W, int o, int ro, float *y,
                int ldy, const int R, const int T) {
    __m512 acc[4][6];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    const uint16_t *wr[4];
    for (int r = 0; r < R; r++) wr[r] = W + ((int64_t)o + (int64_t)r * ro) * in;
    int i = 0;
    for (; i + 32 <= in; i += 32) {
        __m512bh w[4];
        for (int r = 0; r < R; r++) _mm_prefetch((const char *)(wr[r] + i + 512), _MM_HINT_T0);
        for (int r = 0; r < R; r++) w[r] = (__m512bh)_mm512_loadu_si512((const void *)(wr[r] + i));
        for (int t = 0; t < T; t++) {
            __m512bh xv = (__m512bh)_mm512_loadu_si512((const void *)(xb + (int64_t)t * ldxb + i));
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], xv, w[r]);
        }
    }
    if (i < in) { /* the tail: masked 16-bit loads, the rest zero */
        __mmask32 m = (__mmask32)((1ull << (in - i)) - 1u);
        __m512bh w[4];
        for (int r = 0; r < R; r++) w[r] = (__m512bh)_mm512_maskz_loadu_epi16(m, wr[r] + i);
        for (int t = 0; t < T; t++) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, xb + (int64_t)t * ldxb + i);
            for (int r = 0; r < R; r++) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], xv, w[r]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++)
            y[(int64_t)t * ldy + o + r * ro] += _mm512_reduce_add_ps(acc[r][t]);
}

/* One function per tile shape, so that the accumulators stay in registers (see MICRO_FN). */
#define SM_FN(R, T)                                                                            \
    __attribute__((noinline)) static void sm_##R##_##T(const uint16_t *xb, int ldxb, int in,  \
                                                       const uint16_t *W, int o, int ro,      \
                                                       float *y, int ldy) {                   \
        sm_tile(xb, ldxb, in, W, o, ro, y, ldy, R, T);                                         \
    }
SM_FN(4, 1) SM_FN(4, 2) SM_FN(4, 3) SM_FN(4, 4) SM_FN(4, 5) SM_FN(4, 6)
SM_FN(1, 1) SM_FN(1, 2) SM_FN(1, 3) SM_FN(1, 4) SM_FN(1, 5) SM_FN(1, 6)

typedef void (*sm_fn)(const uint16_t *, int, int, const uint16_t *, int, int, float *, int);
static const sm_fn sm4[7] = {sm_4_1, sm_4_1, sm_4_2, sm_4_3, sm_4_4, sm_4_5, sm_4_6};
static const sm_fn sm1[7] = {sm_1_1, sm_1_1, sm_1_2, sm_1_3, sm_1_4, sm_1_5, sm_1_6};

void lmr_matmul_rows_bf16_small_avx512(const uint16_t *xb, int ldxb, int n_tok, int in,
                                       const uint16_t *W, int o0, int o1, float *y, int ldy) {
    int passes = (n_tok + 5) / 6; /* token groups of at most 6, as even as possible */
    int q = (o1 - o0) / 4;
    for (int o = o0; o < o0 + q; o++)
        for (int g = 0, t0 = 0; g < passes; g++) {
            int t1 = (int)((int64_t)n_tok * (g + 1) / passes);
            sm4[t1 - t0](xb + (int64_t)t0 * ldxb, ldxb, in, W, o, q, y + (int64_t)t0 * ldy, ldy);
            t0 = t1;
        }
    for (int o = o0 + 4 * q; o < o1; o++)
        for (int g = 0, t0 = 0; g < passes; g++) {
            int t1 = (int)((int64_t)n_tok * (g + 1) / passes);
            sm1[t1 - t0](xb + (int64_t)t0 * ldxb, ldxb, in, W, o, 1, y + (int64_t)t0 * ldy, ldy);
            t0 = t1;
        }
}
#endif
