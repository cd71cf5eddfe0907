/* elementwise.c: RMSNorm, rotate-half RoPE and SiLU-gating. Scalar code is the specification;
 * rmsnorm and silu_mul dispatch to SIMD (RoPE's cost is the sin/cos, done once per token). */
#include <math.h>
#include <stdlib.h>

#include "../../include/lmrig.h"
#include "simd.h"

static inline float w_at(const void *w, int wdtype, int i) {
    switch (wdtype) {
    case LMR_DTYPE_F16: return lmr_f16_to_f32(((const uint16_t *)w)[i]);
    case LMR_DTYPE_BF16: return lmr_bf16_to_f32(((const uint16_t *)w)[i]);
    default: return ((const float *)w)[i];
    }
}

void lmr_cpu_rmsnorm(const float *x, const void *w, int wdtype, float eps, int n_tok, int n,
                     float *y) {
    for (int t = 0; t < n_tok; t++) {
        const float *xt = x + (int64_t)t * n; /* [n] */
        float *yt = y + (int64_t)t * n;
#if LMR_HAVE_AVX2
        if (lmr_isa_has_avx2(lmr_cpu_isa())) {
            lmr_rmsnorm_avx2(xt, w, wdtype, eps, n, yt);
            continue;
        }
#endif
        float ss = 0.0f;
        for (int i = 0; i < n; i++) ss += xt[i] * xt[i];
        float r = 1.0f / sqrtf(ss / (float)n + eps);
        for (int i = 0; i < n; i++) yt[i] = xt[i] * r * w_at(w, wdtype, i);
    }
}

void lmr_cpu_rope(float *x, int n_tok, int n_heads, int head_dim, const int32_t *pos,
                  double theta) {
    int half = head_dim / 2;
    float cs[512];       /* [half] cos then [half] sin; head_dim <= 512 (larger: left as is) */
    double inv_freq[256]; /* [half] theta^(-2i/head_dim) */
    if (half > 256) return;
    for (int i = 0; i < half; i++) inv_freq[i] = pow(theta, -2.0 * i / head_dim);
    for (int t = 0; t < n_tok; t++) {
        for (int i = 0; i < half; i++) {
            /* angle in double: positions up to 1e5 would lose ~1e-2 rad in float */
            double a = (double)pos[t] * inv_freq[i];
            cs[i] = (float)cos(a);
            cs[half + i] = (float)sin(a);
        }
        for (int h = 0; h < n_heads; h++) {
            float *v = x + ((int64_t)t * n_heads + h) * head_dim; /* [head_dim] */
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half], c = cs[i], s = cs[half + i];
                v[i] = a * c - b * s;
                v[i + half] = b * c + a * s;
            }
        }
    }
}

void lmr_cpu_silu_mul(float *gate, const float *up, int n_tok, int n) {
    int64_t total = (int64_t)n_tok * n;
#if LMR_HAVE_AVX2
    if (lmr_isa_has_avx2(lmr_cpu_isa())) {
        lmr_silu_mul_avx2(gate, up, total);
        return;
    }
#endif
    for (int64_t i = 0; i < total; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}
