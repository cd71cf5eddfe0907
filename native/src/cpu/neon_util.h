/* neon_util.h: inline NEON helpers shared by the *_neon.c files (include only from those):
 * loading 4 BF16/F16/F32 values as FP32. BF16 widening needs only base ARMv8 NEON. */
#ifndef LMR_CPU_NEON_UTIL_H
#define LMR_CPU_NEON_UTIL_H

#include <arm_neon.h>
#include <stdint.h>

#include "../../include/lmrig.h"
#include "kernels.h"

static inline float32x4_t ld4_w(const void *W, int dtype, int64_t i) {
    if (dtype == LMR_DTYPE_BF16)
        return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)W + i), 16));
    if (dtype == LMR_DTYPE_F16)
        return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)W + i)));
    return vld1q_f32((const float *)W + i);
}

static inline float w_scalar(const void *W, int dtype, int64_t i) {
    if (dtype == LMR_DTYPE_F32) return ((const float *)W)[i];
    uint16_t h = ((const uint16_t *)W)[i];
    return dtype == LMR_DTYPE_BF16 ? lmr_bf16_to_f32(h) : lmr_f16_to_f32(h);
}

#endif /* LMR_CPU_NEON_UTIL_H */
