/* convert_test.c: BF16/F16 conversions exact on known values (RNE ties, NaN, inf, subnormals),
 * F16 round trips over all 65536 codes, agreement with F16C hardware where present, and the
 * dispatched row conversions against the scalar ones. */
#include <stdlib.h>
#include <string.h>

#include "../../include/lmrig.h"
#include "kernels.h"
#include "test_util.h"

static float u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
    return (uint16_t)_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
#endif

static void test_bf16(void) {
    static const struct { uint32_t in; uint16_t out; const char *what; } cases[] = {
        {0x3f800000u, 0x3f80, "1.0"},
        {0x3f808000u, 0x3f80, "tie rounds down to even"},
        {0x3f818000u, 0x3f82, "tie rounds up to even"},
        {0x3f808001u, 0x3f81, "above tie rounds up"},
        {0x3f807fffu, 0x3f80, "below tie rounds down"},
        {0xbf818000u, 0xbf82, "negative tie to even"},
        {0x7f800000u, 0x7f80, "+inf"},
        {0xff800000u, 0xff80, "-inf"},
        {0x7f7fffffu, 0x7f80, "FLT_MAX rounds to inf"},
        {0x00000001u, 0x0000, "smallest subnormal rounds to 0"},
        {0x00018000u, 0x0002, "subnormal tie to even"},
        {0x00010000u, 0x0001, "bf16 subnormal exact"},
        {0x80000000u, 0x8000, "-0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = lmr_f32_to_bf16(u2f(cases[i].in));
        CHECK(got == cases[i].out, "bf16(0x%08x) = 0x%04x want 0x%04x (%s)", cases[i].in, got,
              cases[i].out, cases[i].what);
    }
    uint16_t qn = lmr_f32_to_bf16(u2f(0x7fc00001u)), sn = lmr_f32_to_bf16(u2f(0x7f800001u));
    CHECK((qn & 0x7f80) == 0x7f80 && (qn & 0x7f), "quiet NaN stays NaN (0x%04x)", qn);
    CHECK((sn & 0x7f80) == 0x7f80 && (sn & 0x7f), "signalling NaN (low bits only) stays NaN (0x%04x)", sn);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++)
        if (f2u(lmr_bf16_to_f32((uint16_t)h)) != h << 16) bad++;
    CHECK(bad == 0, "bf16 -> f32 exact for all 65536 codes (%d wrong)", bad);
}

static void test_f16(void) {
    static const struct { float in; uint16_t out; const char *what; } cases[] = {
        {1.0f, 0x3c00, "1.0"},
        {-2.0f, 0xc000, "-2.0"},
        {65504.0f, 0x7bff, "max finite"},
        {65519.0f, 0x7bff, "below overflow tie"},
        {65520.0f, 0x7c00, "overflow tie rounds to inf"},
        {0x1.0p-24f, 0x0001, "smallest subnormal"},
        {0x1.0p-25f, 0x0000, "half smallest subnormal: tie to even 0"},
        {0x1.8p-24f, 0x0002, "1.5 smallest subnormal: tie to even"},
        {0x1.0p-14f, 0x0400, "smallest normal"},
        {1.0f + 0x1.0p-11f, 0x3c00, "tie to even down"},
        {1.0f + 0x1.8p-10f, 0x3c02, "tie to even up"},
        {__builtin_inff(), 0x7c00, "+inf"},
        {-__builtin_inff(), 0xfc00, "-inf"},
        {1e-10f, 0x0000, "underflow to 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t got = lmr_f32_to_f16(cases[i].in);
        CHECK(got == cases[i].out, "f16(%a) = 0x%04x want 0x%04x (%s)", cases[i].in, got,
              cases[i].out, cases[i].what);
    }
    uint16_t n = lmr_f32_to_f16(u2f(0x7fc00000u));
    CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff), "NaN stays NaN (0x%04x)", n);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN payloads are not kept */
        if (lmr_f32_to_f16(lmr_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "f16 -> f32 -> f16 round trip for all non-NaN codes (%d wrong)", bad);
    CHECK(lmr_f16_to_f32(0x0001) == 0x1.0p-24f && lmr_f16_to_f32(0x3555) == 0x1.554p-2f,
          "f16 -> f32 subnormal and 1/3 exact");
#if defined(__x86_64__)
    if (__builtin_cpu_supports("f16c")) {
        int bad_to = 0, bad_from = 0;
        for (uint32_t h = 0; h < 65536; h++) {
            float a = lmr_f16_to_f32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
            if (f2u(a) != f2u(b) && !(a != a && b != b)) bad_to++;
        }
        for (int i = 0; i < 2000000; i++) {
            uint32_t u = (uint32_t)rng_u64();
            if (i & 1) u = (u & 0x80000000u) | ((u & 0x0fffffffu) + 0x30000000u); /* f16 range */
            float f = u2f(u);
            if (f != f) continue;
            if (lmr_f32_to_f16(f) != hw_f32_to_f16(f)) bad_from++;
        }
        CHECK(bad_to == 0, "f16 -> f32 equals vcvtph2ps on all codes (%d differ)", bad_to);
        CHECK(bad_from == 0, "f32 -> f16 equals vcvtps2ph on 2M random floats (%d differ)", bad_from);
    } else {
        printf("skip F16C comparison: CPU has no F16C\n");
    }
#endif
}

static void test_rows(void) {
    enum { N = 1037 };
    float src[N], a[N], b[N], back[N];
    float h[N]; /* converted row: N elements of up to 4 bytes (F32 rows need all of them) */
    for (int i = 0; i < N; i++) src[i] = rng_uniform(-3.0f, 3.0f);
    const int dtypes[] = {LMR_DTYPE_F32, LMR_DTYPE_F16, LMR_DTYPE_BF16};
    for (int d = 0; d < 3; d++) {
        const void *in = src;
        if (dtypes[d] != LMR_DTYPE_F32) {
            lmr_cpu_row_from_f32(src, dtypes[d], h, N);
            in = h;
        }
        lmr_cpu_force_scalar(1);
        lmr_cpu_row_to_f32(in, dtypes[d], a, N);
        lmr_cpu_force_scalar(0);
        lmr_cpu_row_to_f32(in, dtypes[d], b, N);
        int same = memcmp(a, b, sizeof a) == 0, close = 1;
        for (int i = 0; i < N; i++) {
            float tol = dtypes[d] == LMR_DTYPE_BF16 ? 4e-3f : dtypes[d] == LMR_DTYPE_F16 ? 5e-4f : 0;
            if (fabsf(a[i] - src[i]) > tol * fabsf(src[i])) close = 0;
        }
        CHECK(same && close, "row_to_f32 dtype %d, n %d: dispatched == scalar, within half ulp", dtypes[d], N);
        lmr_cpu_row_from_f32(a, dtypes[d], h, N);
        lmr_cpu_row_to_f32(h, dtypes[d], back, N);
        CHECK(memcmp(a, back, sizeof a) == 0, "row_from_f32 dtype %d round trip exact", dtypes[d]);
    }
}

int main(void) {
    test_bf16();
    test_f16();
    test_rows();
    return test_summary();
}
