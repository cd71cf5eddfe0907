/* quant_neon.c: NEON dot products of quantised weight rows (Q8_0, Q4_K, Q6_K) with 8-bit quantised
 * activations: the ARMv8.2 dotprod instruction (sdot) where the CPU has it (HWCAP_ASIMDDP, read
 * at run time), else widening multiplies (smull + sadalp) of base ARMv8 NEON. Both sets come from
 * quant_neon_body.h and are checked against lmr_quant_vec_dot_ref in quant_test. */
#include <arm_neon.h>
#include <string.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif

#include "../../include/lmrig.h"
#include "quant.h"

static inline void q4_K_unpack(const uint8_t *scales, uint32_t u[4]) { /* scales 0-7, mins 8-15 */
    const uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
    memcpy(u, scales, 12);
    u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
    const uint32_t m03 = u[1] & kmask1;
    u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
    u[2] = m03;
    u[0] &= kmask1;
}

static inline int32x4_t dot16_base(int32x4_t acc, int8x16_t a, int8x16_t b) {
    int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b)), p1 = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, p0), p1);
}

#define QN_DOT(acc, a, b) dot16_base(acc, a, b)
#define QN_ATTR
#define QN_NAME(t) dot_##t##_base
#include "quant_neon_body.h"
#undef QN_DOT
#undef QN_ATTR
#undef QN_NAME

#define QN_DOT(acc, a, b) vdotq_s32(acc, a, b)
#define QN_ATTR __attribute__((target("+dotprod")))
#define QN_NAME(t) dot_##t##_dotprod
#include "quant_neon_body.h"

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

int lmr_quant_neon_dotprod(void) {
    static int cached = -1;
    if (cached < 0) {
#if defined(__linux__)
        cached = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? 1 : 0;
#elif defined(__APPLE__)
        cached = 1; /* every Apple arm64 CPU has it */
#else
        cached = 0;
#endif
    }
    return cached;
}

lmr_qdot_fn lmr_quant_dot_neon(int wdtype) {
    int dp = lmr_quant_neon_dotprod();
    switch (wdtype) {
    case LMR_DTYPE_Q8_0: return dp ? dot_q8_0_dotprod : dot_q8_0_base;
    case LMR_DTYPE_Q4_K: return dp ? dot_q4_K_dotprod : dot_q4_K_base;
    case LMR_DTYPE_Q6_K: return dp ? dot_q6_K_dotprod : dot_q6_K_base;
    default: return NULL;
    }
}
