/* convert.c: scalar BF16 / F16 <-> FP32 conversions (round to nearest even, NaN kept NaN,
 * F16 subnormals exact) and whole-row conversion, dispatched to SIMD where available. */
#include <string.h>

#include "../../include/lmrig.h"
#include "simd.h"

static inline uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float lmr_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t lmr_f32_to_bf16(float f) {
    uint32_t u = f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* ties to even; overflow rounds to inf as it should */
    return (uint16_t)(u >> 16);
}

/* F16 <-> F32 by exponent re-biasing through float arithmetic (exact, as in the FP16 library of
 * M. Dukhan): the FPU does the rounding, including subnormals. Needs no FTZ/DAZ. */
float lmr_f16_to_f32(uint16_t h) {
    uint32_t w = (uint32_t)h << 16;
    uint32_t sign = w & 0x80000000u;
    uint32_t two_w = w + w;
    float normalized = u2f((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    float denormalized = u2f((two_w >> 17) | (126u << 23)) - 0.5f;
    uint32_t r = sign | (two_w < (1u << 27) ? f2u(denormalized) : f2u(normalized));
    return u2f(r);
}

uint16_t lmr_f32_to_f16(float f) {
    float base = (__builtin_fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    uint32_t w = f2u(f);
    uint32_t shl1_w = w + w;
    uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = u2f((bias >> 1) + 0x07800000u) + base;
    uint32_t bits = f2u(base);
    uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    uint32_t mant_bits = bits & 0x00000FFFu;
    uint32_t nonsign = exp_bits + mant_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

void lmr_cpu_row_to_f32(const void *src, int dtype, float *dst, int64_t n) {
#if LMR_HAVE_AVX2
    if (lmr_cpu_isa() == LMR_ISA_AVX2) {
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
