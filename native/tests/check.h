/* check.h: the engine tests' tiny harness: one line per check, a summary line, and the exit
 * status. Include in exactly one .c file per test executable. */
#ifndef LMR_TEST_CHECK_H
#define LMR_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

/* CHECK(cond, "what %d", ...): prints "ok   what" or "FAIL what". */
#define CHECK(cond, ...)                                                                         \
    do {                                                                                         \
        int ok_ = (cond) ? 1 : 0;                                                                \
        printf("%s ", ok_ ? "ok  " : "FAIL");                                                    \
        printf(__VA_ARGS__);                                                                     \
        printf("\n");                                                                            \
        if (ok_) check_passed++;                                                                 \
        else check_failed++;                                                                     \
    } while (0)

/* A status and its message: both the code and every key word must match. */
#define CHECK_ERR(call, want, e, ...)                                                            \
    do {                                                                                         \
        lmr_status st_ = (call);                                                                 \
        const char *msg_ = lmr_last_error(e);                                                    \
        const char *keys_[] = {__VA_ARGS__, NULL};                                               \
        int has_ = st_ == (want);                                                                \
        for (int i_ = 0; keys_[i_] && has_; i_++) has_ = strstr(msg_, keys_[i_]) != NULL;        \
        CHECK(has_, "%s -> %d (want %d): %s", #call, st_, (int)(want), msg_);                    \
    } while (0)

/* The exit status CTest reads as "skipped" (SKIP_RETURN_CODE in native/CMakeLists.txt): a test
 * that cannot run here (no GPU, backend not compiled in) returns it instead of passing. */
#define LMR_TEST_SKIP 77

/* After a SKIP line: the skip code, or a failure when a check made before skipping failed. */
__attribute__((unused)) static int check_skip(void) {
    printf("%d passed, %d failed, skipped\n", check_passed, check_failed);
    return check_failed ? 1 : LMR_TEST_SKIP;
}

static int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif /* LMR_TEST_CHECK_H */
