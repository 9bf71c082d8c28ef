/* Reading JSON number text into IEEE doubles and float32 values,
 * correctly rounded. */
#ifndef LEAKYRELU_NUMPARSE_H
#define LEAKYRELU_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum numparse_status {
    NUMPARSE_OK,     /* *out holds the correctly rounded double */
    NUMPARSE_SYNTAX, /* not a JSON number; *stop is the first offending byte */
    NUMPARSE_RANGE,  /* a JSON number whose magnitude rounds past DBL_MAX */
    NUMPARSE_TIE     /* numparse_f64_run only: see there */
} numparse_status;

/* Reads one JSON number from [p, end) (RFC 8259 grammar):
 *     -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
 * Rejected: a leading '+', leading zeros ("01"), ".5", "1.", "1e", hex,
 * NaN and Infinity. Any number of digits is accepted and rounded correctly
 * (round half to even), "-0" gives -0.0, values below the smallest subnormal
 * round to +-0 or a subnormal as strtod does (not an error), and values that
 * round past DBL_MAX give NUMPARSE_RANGE.
 * The number ends at the first byte that cannot continue it; the caller
 * decides whether that byte may follow a number. A digit directly after a
 * leading zero is a syntax error. On NUMPARSE_OK and NUMPARSE_RANGE *stop is
 * one past the number; on NUMPARSE_SYNTAX it points at the offending byte
 * (which may be `end`). `out` is written only on NUMPARSE_OK. Does not
 * allocate; thread-safe; `p` must be < `end`. */
numparse_status numparse_f64(const char *p, const char *end, double *out,
                             const char **stop);

/* Reads a run of JSON numbers separated by commas (whitespace allowed
 * around them), as inside an array, into out[0..cap): the first at p (which
 * must start a number), then more while a ',' follows and a number follows
 * the ','. Stops after `cap` numbers, or before a ',' that is not followed
 * by a number, or before any other byte. *n is the count stored.
 * On NUMPARSE_OK, *stop is one past the last number read. On
 * NUMPARSE_SYNTAX, *stop is the offending byte; on NUMPARSE_RANGE, *stop
 * is the start of the overflowing number (out[*n] is not written).
 * NUMPARSE_TIE: the number at *stop (out[*n] is scratch) reads as a
 * double that lies on a float32 tie (numparse_f32_tie) and its text is
 * not known to be exactly that double (integers below 2^53 are): read it
 * with numparse_f64 and numparse_f32, which may differ from the double's
 * float32, and go on after it. Rare: texts of many digits next to a
 * float32 midpoint, or such a midpoint written with a fraction or an
 * exponent ("16777217.0").
 * Results equal numparse_f64's. cap >= 1. Does not allocate; thread-safe. */
numparse_status numparse_f64_run(const char *p, const char *end, double *out, size_t cap,
                                 size_t *n, const char **stop);

/* numparse_f64, rounded once, directly, to the nearest float32 (ties to
 * even), which rounding the double to float32 is not for some texts
 * (0x1.000001p0 plus a little, written in full, rounds down through a
 * double). Values that round past FLT_MAX give NUMPARSE_RANGE; below the
 * smallest subnormal they become +-0. Otherwise as numparse_f64. */
numparse_status numparse_f32(const char *p, const char *end, float *out, const char **stop);

/* 1 when the double d lies exactly on a float32 rounding boundary (half
 * way between two adjacent float32 values, or between FLT_MAX and 2^128):
 * the only doubles whose (float) may differ from the direct float32
 * rounding of the text they were read from. Rare: d then has exactly 25
 * significant bits (fewer below 2^-126). Thread-safe. */
static inline int numparse_f32_tie(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int e = (int)(bits >> 52 & 0x7FF) - 1023; /* d = 1.f * 2^e */
    /* From 2^-126 up, the bit worth half a float32 ulp is 24 below the
     * leading one (bit 28): set, and none below it. One comparison that
     * nearly every other double fails, on the readers' hot path. */
    if ((bits & 0x1FFFFFFF) != 0x10000000 && e >= -126)
        return 0;
    if (e < -150 || e > 127)
        return 0;
    if (e >= -126)
        return 1;
    /* below 2^-126 the ulp is 2^-149: half of it is fewer bits down */
    int half = -98 - e;
    uint64_t sig = (bits & (((uint64_t)1 << 52) - 1)) | (uint64_t)1 << 52;
    uint64_t mask = ((uint64_t)2 << half) - 1;
    return (sig & mask) == (uint64_t)1 << half;
}

/* The commas in [p, end): one less than the numbers a run there holds.
 * Does not allocate; thread-safe. */
size_t numparse_count_commas(const char *p, const char *end);

#endif
