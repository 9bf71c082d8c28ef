/* A reference for numfmt_f64 and numfmt_f32, independent of them: finds
 * the shortest correctly rounded decimal that round-trips by bisection
 * over precision, with the C library's exact printf and strtod or strtof
 * (slow, obviously right). */
#include "helpers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits of a positive finite double: `digits` holds n ASCII digits, no
 * leading zero, and v ~= 0.digits * 10^k. */
typedef struct decimal {
    char digits[24];
    int n;
    int k;
} decimal;

/* The correctly rounded n-digit decimal of v (v > 0). */
static void round_to(double v, int n, decimal *d)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.*e", n - 1, v); /* d.ddde[+-]XX */
    const char *s = tmp;
    int len = 0;
    for (; *s != 'e'; s++)
        if (*s != '.')
            d->digits[len++] = *s;
    d->n = len;
    d->k = atoi(s + 1) + 1;
}

/* Whether the decimals are read back as float32 (strtof), else double. */
static _Thread_local int single;

static double value_of(const decimal *d)
{
    char tmp[48];
    memcpy(tmp, "0.", 2);
    memcpy(tmp + 2, d->digits, (size_t)d->n);
    snprintf(tmp + 2 + d->n, sizeof tmp - 2 - (size_t)d->n, "e%d", d->k);
    return single ? (double)strtof(tmp, NULL) : strtod(tmp, NULL);
}

/* The next n-digit decimal above d. */
static void step_up(decimal *d)
{
    int i = d->n - 1;
    while (i >= 0 && d->digits[i] == '9')
        d->digits[i--] = '0';
    if (i >= 0) {
        d->digits[i]++;
    } else { /* 999 -> 1000: one more digit position, same digit count */
        d->digits[0] = '1';
        d->k++;
    }
}

/* The closest n-digit decimal that reads back as v, if any. The correctly
 * rounded one is closest; when it lies below v and fails, the gap below v
 * may be the narrower one (v a power of two), so the next decimal up may
 * still round-trip. */
static int shortest_at(double v, int n, decimal *d)
{
    round_to(v, n, d);
    double r = value_of(d);
    if (r == v)
        return 1;
    if (r < v) {
        step_up(d);
        return value_of(d) == v;
    }
    return 0;
}

static char *shortest_text(double v, char *buf)
{
    char *p = buf;
    if (isnan(v)) {
        memcpy(p, "NaN", 3);
        return p + 3;
    }
    if (signbit(v)) {
        *p++ = '-';
        v = -v;
    }
    if (isinf(v)) {
        memcpy(p, "Infinity", 8);
        return p + 8;
    }
    if (v == 0.0) {
        memcpy(p, "0.0", 3);
        return p + 3;
    }

    /* Round-tripping is monotone in the digit count (a shorter decimal that
     * works pads with zeros into a longer one), so bisect over 1..17. */
    decimal best, cand;
    int lo = 1, hi = single ? 9 : 17;
    round_to(v, hi, &best);
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (shortest_at(v, mid, &cand)) {
            best = cand;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if (best.n != lo)
        shortest_at(v, lo, &best);
    while (best.n > 1 && best.digits[best.n - 1] == '0')
        best.n--;

    const char *dg = best.digits;
    int n = best.n, k = best.k;
    if (k > -4 && k <= 16) {
        if (k <= 0) {
            memcpy(p, "0.", 2);
            p += 2;
            memset(p, '0', (size_t)-k);
            p += -k;
            memcpy(p, dg, (size_t)n);
            p += n;
        } else if (k < n) {
            memcpy(p, dg, (size_t)k);
            p += k;
            *p++ = '.';
            memcpy(p, dg + k, (size_t)(n - k));
            p += n - k;
        } else {
            memcpy(p, dg, (size_t)n);
            p += n;
            memset(p, '0', (size_t)(k - n));
            p += k - n;
            memcpy(p, ".0", 2);
            p += 2;
        }
        return p;
    }
    *p++ = dg[0];
    if (n > 1) {
        *p++ = '.';
        memcpy(p, dg + 1, (size_t)(n - 1));
        p += n - 1;
    }
    int e = k - 1;
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    if (e < 0)
        e = -e;
    if (e >= 100)
        *p++ = (char)('0' + e / 100);
    *p++ = (char)('0' + e / 10 % 10);
    *p++ = (char)('0' + e % 10);
    return p;
}

char *ref_numfmt_f64(double v, char *buf)
{
    single = 0;
    return shortest_text(v, buf);
}

char *ref_numfmt_f32(float v, char *buf)
{
    single = 1;
    return shortest_text(v, buf);
}
