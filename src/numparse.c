/* Correct-first JSON number reader: checks the grammar, normalizes the
 * digits into a bounded buffer and lets the C library's correctly rounded
 * strtod do the conversion. The next issue replaces the conversion with
 * Eisel-Lemire; the grammar and contract stay. */
#include "numparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>

/* A double is the rounding of a decimal with at most 767 significant digits
 * (the longest exact halfway point between subnormals), so keeping 780 digits
 * and replacing the rest by one nonzero "sticky" digit never moves a value
 * across a rounding boundary. */
#define KEEP_DIGITS 780
/* Beyond this the decimal exponent is certainly an overflow or underflow. */
#define EXP_CLAMP 100000L

static int is_digit(char c) { return c >= '0' && c <= '9'; }

numparse_status numparse_f64(const char *p, const char *end, double *out,
                             const char **stop)
{
    char buf[KEEP_DIGITS + 40];
    size_t nd = 0;        /* significant digits kept in buf after "0." */
    int sticky = 0;       /* a nonzero digit was dropped */
    long dexp = 0;        /* value = 0.buf * 10^dexp (before the exponent) */
    int negative = 0;
    const char *s = p;

    if (*s == '-') {
        negative = 1;
        if (++s == end) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
    }
    if (!is_digit(*s)) {
        *stop = s;
        return NUMPARSE_SYNTAX;
    }
    if (*s == '0') {
        s++;
        if (s < end && is_digit(*s)) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
    } else {
        for (; s < end && is_digit(*s); s++) {
            if (nd < KEEP_DIGITS)
                buf[2 + nd++] = *s;
            else if (*s != '0')
                sticky = 1;
            dexp++;
        }
    }
    if (s < end && *s == '.') {
        s++;
        if (s == end || !is_digit(*s)) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
        for (; s < end && is_digit(*s); s++) {
            if (nd == 0 && *s == '0') {
                dexp--; /* leading zero of the fraction: not significant */
                continue;
            }
            if (nd < KEEP_DIGITS)
                buf[2 + nd++] = *s;
            else if (*s != '0')
                sticky = 1;
        }
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0;
        long e = 0;
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s == end || !is_digit(*s)) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
        for (; s < end && is_digit(*s); s++)
            if (e < EXP_CLAMP)
                e = e * 10 + (*s - '0');
        dexp += eneg ? -e : e;
    }
    *stop = s;

    if (nd == 0) {
        *out = negative ? -0.0 : 0.0;
        return NUMPARSE_OK;
    }
    if (sticky)
        buf[2 + nd++] = '1';
    if (dexp > EXP_CLAMP)
        dexp = EXP_CLAMP;
    if (dexp < -EXP_CLAMP)
        dexp = -EXP_CLAMP;
    buf[0] = '0';
    buf[1] = '.';
    snprintf(buf + 2 + nd, sizeof buf - 2 - nd, "e%ld", dexp);

    /* The C locale is never changed by this program, so '.' is the radix. */
    double v = strtod(buf, NULL);
    if (isinf(v))
        return NUMPARSE_RANGE;
    *out = negative ? -v : v;
    return NUMPARSE_OK;
}
