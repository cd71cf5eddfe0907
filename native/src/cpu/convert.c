/* convert.c: whole-row BF16 / F16 <-> FP32 conversion, dispatched to SIMD where available (the
 * scalar element conversions are static inline in half.h). */
#include <string.h>

#include "../../include/lmrig.h"
#include "quant.h"
#include "simd.h"

void lmr_cpu_row_to_f32(const void *src, int dtype, float *dst, int64_t n) {
    if (lmr_dtype_is_quant(dtype)) { /* n: a multiple of the block size (an embedding row) */
        lmr_dequant_row(dtype, src, dst, n);
        return;
    }
#if LMR_HAVE_AVX2
    if (lmr_isa_has_avx2(lmr_cpu_isa())) {
        lmr_row_to_f32_avx2(src, dtype, dst, n);
        return;
    }
#endif
    const uint16_t *h = src;
    switch (dtype) {
    case LMR_DTYPE_F32: memmove(dst, src, (size_t)n * sizeof(float)); break;
    case LMR_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) dst[i] = lmr_f16_to_f32(h[i]);
        break;
    case LMR_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) dst[i] = lmr_bf16_to_f32(h[i]);
        break;
    default: break;
    }
}

void lmr_cpu_row_from_f32(const float *src, int dtype, void *dst, int64_t n) {
    uint16_t *h = dst;
    switch (dtype) {
    case LMR_DTYPE_F32: memmove(dst, src, (size_t)n * sizeof(float)); break;
    case LMR_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) h[i] = lmr_f32_to_f16(src[i]);
        break;
    case LMR_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) h[i] = lmr_f32_to_bf16(src[i]);
        break;
    default: break;
    }
}
