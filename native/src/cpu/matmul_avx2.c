/* matmul_avx2.c: placeholder until the AVX2 kernels land. */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "simd.h"
void lmr_matmul_rows_avx2(const float *x, int n_tok, int in, const void *W, int wdtype, int o0,
                          int o1, float *y, int ldy, float *scratch) {
    lmr_matmul_rows_scalar(x, n_tok, in, W, wdtype, o0, o1, y, ldy, scratch);
}
#endif
