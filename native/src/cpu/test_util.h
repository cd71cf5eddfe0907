/* test_util.h: the little the kernel tests share: a check counter that prints one line per
 * check and a final "N passed, M failed", a seeded RNG, and error measures. */
#ifndef LMR_CPU_TEST_UTIL_H
#define LMR_CPU_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static int g_passed, g_failed;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        int ok_ = (cond) ? 1 : 0;                                                            \
        if (ok_) g_passed++;                                                                 \
        else g_failed++;                                                                     \
        printf("%s ", ok_ ? "ok  " : "FAIL");                                                \
        printf(__VA_ARGS__);                                                                 \
        printf("\n");                                                                        \
    } while (0)

static int test_summary(void) {
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static inline uint64_t rng_u64(void) { /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static inline float rng_uniform(float lo, float hi) { /* [lo, hi) */
    return lo + (hi - lo) * (float)((rng_u64() >> 40) * (1.0 / 16777216.0));
}

#endif /* LMR_CPU_TEST_UTIL_H */
