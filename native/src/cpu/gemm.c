/* gemm.c: the one prefill GEMM driver of every kernel set (AVX2, AVX-512-BF16, NEON): cache
 * blocking, packing of W panels and token tiling, around a kernel set's packer and register
 * micro-kernel (lmr_gemm_kernel in simd.h). A new ISA adds a micro-kernel, not a driver.
 *
 * For one thread's output rows [o0, o1): for each KC-deep slice of the input dimension and each
 * NC-wide block of rows, the block of W is packed once into strips of nr rows (the kernel's
 * layout: FP32 [k][16] or BF16 pairs [k/2][16][2]) and then applied to all tokens in tiles of up
 * to mr tokens, strip by strip, the tile's activations staying in L1. y accumulates (it starts as
 * bias / previous values / zero). */
#include <string.h>

#include "simd.h"

/* Token tiles of mr rows; when the rest is under 2 mr - 2 rows it is cut in two halves, so that
 * no tile is much smaller than mr / 2 (too few accumulator chains to hide the FMA latency). */
static inline int tile_rows(int n_tok, int t0, int mr) {
    int left = n_tok - t0;
    if (left <= mr) return left;
    if (left < 2 * mr - 2) return (left + 1) / 2;
    return mr;
}

void lmr_gemm_rows(const lmr_gemm_kernel *k, const void *a, int lda, int n_tok, int in,
                   const void *W, int dtype, int o0, int o1, float *y, int ldy, void *bp) {
    const char *ab = a;
    for (int k0 = 0; k0 < in; k0 += k->kc) {
        int kc = in - k0 < k->kc ? in - k0 : k->kc;
        size_t strip_bytes = (size_t)((kc + 1) & ~1) * k->nr * k->w_esz;
        for (int n0 = o0; n0 < o1; n0 += k->nc) {
            int nc = o1 - n0 < k->nc ? o1 - n0 : k->nc, strips = (nc + k->nr - 1) / k->nr;
            for (int s = 0; s < strips; s++) {
                int nr = nc - s * k->nr < k->nr ? nc - s * k->nr : k->nr;
                k->pack(W, dtype, in, n0 + s * k->nr, nr, k0, kc, (char *)bp + s * strip_bytes);
            }
            for (int t0 = 0, mr; t0 < n_tok; t0 += mr) {
                mr = tile_rows(n_tok, t0, k->mr);
                const void *at = ab + ((int64_t)t0 * lda + k0) * (int64_t)k->a_esz;
                for (int s = 0; s < strips; s++) {
                    int nr = nc - s * k->nr < k->nr ? nc - s * k->nr : k->nr;
                    float *c = y + (int64_t)t0 * ldy + n0 + s * k->nr;
                    const void *b = (const char *)bp + s * strip_bytes;
                    if (nr == k->nr || k->masked) {
                        k->micro(mr, kc, at, lda, b, c, ldy, nr);
                        continue;
                    }
                    float tmp[LMR_GEMM_MAX_MR * LMR_GEMM_MAX_NR]; /* partial strip: full width */
                    for (int r = 0; r < mr; r++)
                        for (int j = 0; j < k->nr; j++)
                            tmp[r * k->nr + j] = j < nr ? c[(int64_t)r * ldy + j] : 0.0f;
                    k->micro(mr, kc, at, lda, b, tmp, k->nr, k->nr);
                    for (int r = 0; r < mr; r++)
                        memcpy(c + (int64_t)r * ldy, tmp + r * k->nr, (size_t)nr * sizeof(float));
                }
            }
        }
    }
}
