/* A minimal TAP harness: one binary, tests listed in tests.h, runnable by
 * name; assertions print both sides on failure and let the test go on. */
#ifndef LEAKYRELU_TAP_H
#define LEAKYRELU_TAP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int tap_failed;  /* failures in the running test */

/* Prints one failure line (the first 20 of a test) and counts it. */
void tap_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* tap_fail, printed even past the first 20 (the harness's word on how a
 * server ended matters most when its requests failed by the dozen). */
void tap_fail_always(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks the running test skipped: it prints "ok N - name # SKIP why". A
 * test that skips says so before it returns; a failure still fails it. */
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Path of a file under tests/data (TEST_DATA_DIR or "tests/data"). */
const char *tap_data_path(const char *name, char *buf, size_t len);

#define ASSERT(cond)                                                           \
    do {                                                                       \
        if (!(cond))                                                           \
            tap_fail(__FILE__, __LINE__, "assertion failed: %s", #cond);       \
    } while (0)

/* 1 when x is of a floating type (not evaluated). */
#define TAP_IS_FLOATING(x) _Generic((x), float: 1, double: 1, long double: 1, default: 0)

/* Integers, pointers' truth and enums: both sides as long long. Floating
 * operands do not compile (the cast would make 0.25 == 0): compare them
 * with ASSERT_BITS_EQ or ASSERT_NEAR. */
#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        _Static_assert(!TAP_IS_FLOATING(a) && !TAP_IS_FLOATING(b),             \
                       "ASSERT_EQ on a floating value: use ASSERT_BITS_EQ or ASSERT_NEAR"); \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_)                                                          \
            tap_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, \
                     b_);                                                      \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                    \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                   \
            tap_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
    } while (0)

/* Compares doubles bit for bit (so -0.0 != 0.0); prints both with %a. */
#define ASSERT_BITS_EQ(a, b)                                                   \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        uint64_t ua_, ub_;                                                     \
        memcpy(&ua_, &a_, 8);                                                  \
        memcpy(&ub_, &b_, 8);                                                  \
        if (ua_ != ub_)                                                        \
            tap_fail(__FILE__, __LINE__, "%s == %s: %a != %a", #a, #b, a_, b_); \
    } while (0)

/* |a - b| <= tol for doubles (NaN never is); prints both with %.17g. */
#define ASSERT_NEAR(a, b, tol)                                                 \
    do {                                                                       \
        double a_ = (a), b_ = (b), t_ = (tol);                                 \
        if (!((a_ > b_ ? a_ - b_ : b_ - a_) <= t_))                            \
            tap_fail(__FILE__, __LINE__, "%s == %s within %g: %.17g != %.17g", \
                     #a, #b, t_, a_, b_);                                      \
    } while (0)

#endif
