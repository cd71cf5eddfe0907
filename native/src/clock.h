/* clock.h: the engine's one time source, a monotonic clock in nanoseconds. */
#ifndef LMR_CLOCK_H
#define LMR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t lmr_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* LMR_CLOCK_H */
