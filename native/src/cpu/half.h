/* half.h: scalar BF16 / F16 <-> FP32 conversions, static inline so that every kernel (and the
 * scalar tails of the SIMD ones) inlines them: round to nearest even, NaN kept NaN, F16
 * subnormals exact. Internal to native/ (included by kernels.h). */
#ifndef LMR_CPU_HALF_H
#define LMR_CPU_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t lmr_f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float lmr_u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float lmr_bf16_to_f32(uint16_t h) { return lmr_u2f((uint32_t)h << 16); }

static inline uint16_t lmr_f32_to_bf16(float f) {
    uint32_t u = lmr_f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* ties to even; overflow rounds to inf as it should */
    return (uint16_t)(u >> 16);
}

/* F16 <-> F32 by exponent re-biasing through float arithmetic (exact, as in the FP16 library of
 * M. Dukhan): the FPU does the rounding, including subnormals. Needs no FTZ/DAZ. */
static inline float lmr_f16_to_f32(uint16_t h) {
    uint32_t w = (uint32_t)h << 16;
    uint32_t sign = w & 0x80000000u;
    uint32_t two_w = w + w;
    float normalized = lmr_u2f((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    float denormalized = lmr_u2f((two_w >> 17) | (126u << 23)) - 0.5f;
    uint32_t r = sign | (two_w < (1u << 27) ? lmr_f2u(denormalized) : lmr_f2u(normalized));
    return lmr_u2f(r);
}

static inline uint16_t lmr_f32_to_f16(float f) {
    float base = (__builtin_fabsf(f) * 0x1.0p+112f) * 0x1.0p-110f;
    uint32_t w = lmr_f2u(f);
    uint32_t shl1_w = w + w;
    uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = lmr_u2f((bias >> 1) + 0x07800000u) + base;
    uint32_t bits = lmr_f2u(base);
    uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    uint32_t mant_bits = bits & 0x00000FFFu;
    uint32_t nonsign = exp_bits + mant_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

#endif /* LMR_CPU_HALF_H */
