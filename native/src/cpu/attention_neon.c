/* attention_neon.c: the inner loop of attention for NEON (arm64): online softmax over a range of
 * positions of one KV head for the g query heads of its GQA group, position by position: K row
 * dotted with every head (4-lane FMAs), one rescale when the max grows, V row accumulated. */
#if defined(__aarch64__)
#include <math.h>

#include "neon_util.h"
#include "simd.h"

#define AI __attribute__((always_inline)) static inline

AI void attend(const lmr_kv_view *kv, const int dtype, const float *q, int g, int p0, int p1,
               float *m, float *l, float *acc) {
    int hd = kv->hd, hd4 = hd & ~3;
    for (int p = p0; p < p1; p++) {
        int64_t off = lmr_kv_offset(kv, p);
        for (int j = 0; j < g; j++) {
            const float *qj = q + (int64_t)j * hd;
            float *aj = acc + (int64_t)j * hd;
            float32x4_t s4 = vdupq_n_f32(0.0f);
            for (int d = 0; d < hd4; d += 4)
                s4 = vfmaq_f32(s4, vld1q_f32(qj + d), ld4_w(kv->k_pool, dtype, off + d));
            float s = vaddvq_f32(s4);
            for (int d = hd4; d < hd; d++) s += qj[d] * w_scalar(kv->k_pool, dtype, off + d);
            float m_new = s > m[j] ? s : m[j];
            float c = expf(m[j] - m_new), e = expf(s - m_new);
            l[j] = l[j] * c + e;
            m[j] = m_new;
            float32x4_t cv = vdupq_n_f32(c), ev = vdupq_n_f32(e);
            for (int d = 0; d < hd4; d += 4) {
                float32x4_t a = vld1q_f32(aj + d);
                if (c != 1.0f) a = vmulq_f32(a, cv);
                vst1q_f32(aj + d, vfmaq_f32(a, ev, ld4_w(kv->v_pool, dtype, off + d)));
            }
            for (int d = hd4; d < hd; d++) aj[d] = aj[d] * c + e * w_scalar(kv->v_pool, dtype, off + d);
        }
    }
}

void lmr_attend_neon(const lmr_kv_view *kv, const float *q, int g, int p0, int p1, float *m,
                     float *l, float *acc) {
    switch (kv->dtype) {
    case LMR_DTYPE_BF16: attend(kv, LMR_DTYPE_BF16, q, g, p0, p1, m, l, acc); break;
    case LMR_DTYPE_F16: attend(kv, LMR_DTYPE_F16, q, g, p0, p1, m, l, acc); break;
    default: attend(kv, LMR_DTYPE_F32, q, g, p0, p1, m, l, acc); break;
    }
}
#endif
