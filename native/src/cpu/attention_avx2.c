/* attention_avx2.c: placeholder until the AVX2 kernels land. */
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "simd.h"
void lmr_attend_avx2(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                     float *l, float *acc) {
    lmr_attend_scalar(kv, q, g, p0, p1, m, l, acc);
}
#endif
