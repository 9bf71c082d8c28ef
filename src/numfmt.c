/* Shortest round-trip formatting of doubles with Schubfach: R. Giulietti,
 * "The Schubfach way to render doubles" (2020, revised 2022). The decimal
 * significand is computed with three 128-bit products against the table
 * g(k) of numtables.c, then laid out as CPython's repr(float). No
 * allocation, no printf. */
#include "numfmt.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "numtables.h"

/* floor(log10(2^e)) for |e| <= 2620 (Giulietti, section 9: 1262611 / 2^22
 * approximates log10(2) closely enough on that range). */
static int floor_log10_pow2(int e) { return (e * 1262611) >> 22; }

/* floor(log10(3/4 * 2^e)) for |e| <= 2620; 524031 / 2^22 ~ -log10(3/4). */
static int floor_log10_three_quarters_pow2(int e) { return (e * 1262611 - 524031) >> 22; }

/* floor(log2(10^e)) for |e| <= 1233; 1741647 / 2^19 ~ log2(10). */
static int floor_log2_pow10(int e) { return (e * 1741647) >> 19; }

/* The "round to odd" product of the paper, section 9: floor(g * cp / 2^128)
 * with its lowest bit set when the discarded part is not (close to) zero,
 * g = {hi, lo} >= 2^127. */
static uint64_t round_to_odd(const uint64_t g[2], uint64_t cp)
{
    unsigned __int128 x = (unsigned __int128)g[1] * cp;
    unsigned __int128 y = (unsigned __int128)g[0] * cp + (uint64_t)(x >> 64);
    uint64_t y1 = (uint64_t)(y >> 64), y0 = (uint64_t)y;
    return y1 | (y0 > 1);
}

/* The shortest decimal d * 10^e in the rounding interval of the positive
 * binary value c * 2^q (closest to it when there are several; ties to
 * even), the interval below being half as wide when lower_closer (c a
 * power of two at the bottom of its binade). Giulietti's argument holds
 * for any precision whose c * 4 * 2^4 fits 64 bits: k is chosen from q
 * alone so that the interval, scaled by 10^-k, is 1 to 10 wide; float32
 * (c < 2^24) is that with fewer bits than double. */
static inline __attribute__((always_inline)) void
shortest(uint64_t c, int q, int lower_closer, uint64_t *d, int *e)
{
    int even = (c & 1) == 0;
    uint64_t cbl = 4 * c - 2 + (uint64_t)lower_closer, cb = 4 * c, cbr = 4 * c + 2;
    int k = lower_closer ? floor_log10_three_quarters_pow2(q) : floor_log10_pow2(q);
    int h = q + floor_log2_pow10(-k) + 1; /* 1 <= h <= 4 */
    const uint64_t *g = numtables_pow10[-k - NUMTABLES_POW10_MIN];
    uint64_t vbl = round_to_odd(g, cbl << h);
    uint64_t vb = round_to_odd(g, cb << h);
    uint64_t vbr = round_to_odd(g, cbr << h);
    uint64_t lower = vbl + !even, upper = vbr - !even;

    /* The paper's three outcomes, each computed, then one chosen without
     * branches (they would be mispredicted on random data):
     *  1. one digit shorter, s' = 10 * floor(s / 10), when exactly one of
     *     s' and s' + 10 lies in the interval;
     *  2. else s or s + 1 when exactly one of them lies in it;
     *  3. else the closer of the two, ties to even. */
    uint64_t s = vb >> 2, sp = s / 10;
    int up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
    int u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
    uint64_t mid = 4 * s + 2;
    int round_up = (vb > mid) | ((vb == mid) & (int)(s & 1));
    int shorter = (s >= 10) & (up_in != wp_in);
    int one_in = u_in != w_in;
    uint64_t near = s + (uint64_t)((one_in & w_in) | ((!one_in) & round_up));
    *d = shorter ? sp + (uint64_t)wp_in : near;
    *e = k + shorter;
}

/* The shortest decimal d * 10^e for the positive finite double with
 * significand field m and exponent field be. */
static void schubfach(uint64_t m, int be, uint64_t *d, int *e)
{
    uint64_t c;
    int q;
    if (be != 0) {
        c = m | (uint64_t)1 << 52;
        q = be - 1075;
        /* Integers below 2^53 are their own shortest decimal: -52 <= q <= 0
         * and no set bit below 2^-q (one test, no chain of branches). */
        unsigned frac_bits = (unsigned)-q;
        if ((frac_bits <= 52) & ((unsigned)__builtin_ctzll(c) >= frac_bits)) {
            *d = c >> -q;
            *e = 0;
            return;
        }
    } else {
        c = m;
        q = -1074;
    }
    shortest(c, q, m == 0 && be > 1, d, e);
}

/* The same for the positive finite float32 with fields m (23 bits) and
 * be (8 bits). */
static void schubfach_f32(uint32_t m, int be, uint64_t *d, int *e)
{
    uint64_t c;
    int q;
    if (be != 0) {
        c = m | (uint32_t)1 << 23;
        q = be - 150;
        unsigned frac_bits = (unsigned)-q; /* integers below 2^24, as above */
        if ((frac_bits <= 23) & ((unsigned)__builtin_ctzll(c) >= frac_bits)) {
            *d = c >> -q;
            *e = 0;
            return;
        }
    } else {
        c = m;
        q = -149;
    }
    shortest(c, q, m == 0 && be > 1, d, e);
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "numfmt.c builds digit strings in registers for little-endian targets"
#endif

typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u,
    1000000000u, 10000000000u, 100000000000u, 1000000000000u, 10000000000000u,
    100000000000000u, 1000000000000000u, 10000000000000000u, 100000000000000000u,
    1000000000000000000u, 10000000000000000000u,
};

/* Number of decimal digits of d > 0: log10 from the bit length (1233/4096
 * ~ log10(2); S. E. Anderson, "Bit Twiddling Hacks"), corrected by one
 * comparison. */
static int count_digits(uint64_t d)
{
    int guess = ((64 - __builtin_clzll(d)) * 1233) >> 12;
    return guess + (d >= pow10_u64[guess]);
}

#define ASCII_ZEROS (((u128)0x3030303030303030u << 64) | 0x3030303030303030u)

#if defined(__SSE2__)
/* The 16 ASCII digits of hi * 10^8 + lo (hi, lo < 10^8) in parallel
 * 16-bit lanes, after W. Mula, "SSE: conversion integers to decimal
 * representation" (2011): four 4-digit groups x, each pre-scaled by 4 and
 * spread over four lanes, become x / 1000, x / 100, x / 10 and x by two
 * high-half multiplies (the second one a per-lane right shift), and digit
 * i is q[i] - 10 * q[i - 1]. x * 8389 >> 23, x * 5243 >> 19 and
 * x * 52429 >> 19 are x / 1000, x / 100 and x / 10 for every x < 10^4
 * (checked exhaustively; no 16-bit product of 4x overflows 32 bits). */
static inline __attribute__((always_inline)) u128 ascii16(uint32_t hi, uint32_t lo)
{
    uint64_t a = hi / 10000, b = hi % 10000, c = lo / 10000, d = lo % 10000;
    __m128i x = _mm_cvtsi64_si128((long long)((a | b << 16 | c << 32 | d << 48) << 2));
    x = _mm_unpacklo_epi16(x, x);                  /* a a b b c c d d */
    __m128i ab = _mm_unpacklo_epi32(x, x);         /* a a a a b b b b */
    __m128i cd = _mm_unpackhi_epi32(x, x);         /* c c c c d d d d */
    const __m128i div = _mm_setr_epi16(8389, 5243, (short)52429, (short)32768, 8389, 5243,
                                       (short)52429, (short)32768);
    const __m128i shift = _mm_setr_epi16(1 << 7, 1 << 11, 1 << 11, (short)(1 << 15), 1 << 7,
                                         1 << 11, 1 << 11, (short)(1 << 15));
    const __m128i ten = _mm_set1_epi16(10);
    ab = _mm_mulhi_epu16(_mm_mulhi_epu16(ab, div), shift);
    cd = _mm_mulhi_epu16(_mm_mulhi_epu16(cd, div), shift);
    ab = _mm_sub_epi16(ab, _mm_mullo_epi16(_mm_slli_epi64(ab, 16), ten));
    cd = _mm_sub_epi16(cd, _mm_mullo_epi16(_mm_slli_epi64(cd, 16), ten));
    __m128i digits = _mm_add_epi8(_mm_packus_epi16(ab, cd), _mm_set1_epi8('0'));
    u128 out;
    memcpy(&out, &digits, sizeof out);
    return out;
}
#else
/* The eight ASCII digits of v < 10^8 as a little-endian word (the first
 * digit in the lowest byte), by division in parallel lanes: two 4-digit
 * halves in 32-bit lanes, split into pairs (x * 10486 >> 20 is x / 100 for
 * x < 43699), then into digits (x * 103 >> 10 is x / 10 for x < 179); no
 * lane's product reaches the next lane. */
static uint64_t ascii8(uint32_t v)
{
    uint64_t x = v / 10000 | (uint64_t)(v % 10000) << 32;
    uint64_t hundreds = ((x * 10486) >> 20) & 0x0000007F0000007Fu;
    x = ((x - hundreds * 100) << 16) | hundreds;
    uint64_t tens = ((x * 103) >> 10) & 0x000F000F000F000Fu;
    x = ((x - tens * 10) << 8) | tens;
    return x | 0x3030303030303030u;
}

static inline u128 ascii16(uint32_t hi, uint32_t lo) { return ascii8(hi) | (u128)ascii8(lo) << 64; }
#endif

/* The 17 digits of D in [10^16, 10^17): the first as a character, the
 * other 16 as a little-endian 128-bit string. Nothing goes through memory,
 * so the stores that follow never wait on loads of fresh digits. */
static inline __attribute__((always_inline)) void digits17(uint64_t D, char *first, u128 *rest)
{
    uint64_t hi = D / 100000000; /* 9 digits */
    *first = (char)('0' + hi / 100000000);
    *rest = ascii16((uint32_t)(hi % 100000000), (uint32_t)(D % 100000000));
}

static void store16(char *p, u128 v) { memcpy(p, &v, 16); }

/* Writes d * 10^e (d > 0, at most 17 digits) at p as CPython's repr
 * lays out a float; returns one past the text. */
static inline __attribute__((always_inline)) char *layout(char *p, uint64_t d, int e)
{
    int nd = count_digits(d);
    int k = e + nd; /* v = 0.d1d2...dn * 10^k */
    /* Left-align to 17 digits; the trailing zeros (of d, or added) end up
     * as '0' bytes at the top of `rest`, and count as such. */
    char c0;
    u128 rest;
    digits17(d * pow10_u64[17 - nd], &c0, &rest);
    u128 nz = rest ^ ASCII_ZEROS;
    uint64_t nz_hi = (uint64_t)(nz >> 64), nz_lo = (uint64_t)nz;
    int zeros = nz_hi ? __builtin_clzll(nz_hi) / 8
                      : nz_lo ? 8 + __builtin_clzll(nz_lo) / 8 : 16;
    int n = 17 - zeros; /* significant digits */

    /* CPython's float_repr_style 'r': positional when -4 < k <= 16.
     * Writes are fixed-size; only p advances by the real length. */
    if (k > -4 && k <= 16) {
        if (k <= 0) { /* 0.000ddd */
            memcpy(p, "0.000000", 8);
            p += 2 - k;
            p[0] = c0;
            store16(p + 1, rest);
            return p + n;
        }
        p[0] = c0;
        store16(p + 1, rest);
        if (k < n) { /* ddd.ddd: the digits from k on move one right */
            store16(p + k + 1, rest >> (8 * (k - 1)));
            p[k] = '.';
            return p + n + 1;
        }
        p += k; /* ddd000.0: the zeros are already there */
        memcpy(p, ".0", 2);
        return p + 2;
    }
    p[0] = c0; /* d.ddde+XX */
    if (n > 1) {
        p[1] = '.';
        store16(p + 2, rest);
        p += n + 1;
    } else {
        p += 1;
    }
    int x = k - 1;
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    if (x < 0)
        x = -x;
    if (x >= 100) {
        *p++ = (char)('0' + x / 100);
        x %= 100;
    }
    memcpy(p, digit_pairs + 2 * x, 2);
    return p + 2;
}

/* NaN or an infinity, as Python's json module writes them. */
static char *special(char *p, int nan, int negative)
{
    if (nan) {
        memcpy(p, "NaN", 3);
        return p + 3;
    }
    if (negative)
        *p++ = '-';
    memcpy(p, "Infinity", 8);
    return p + 8;
}

char *numfmt_f64(double v, char buf[NUMFMT_F64_BUF])
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    char *p = buf;
    uint64_t m = bits & (((uint64_t)1 << 52) - 1);
    int be = (int)(bits >> 52 & 0x7FF);
    if (be == 0x7FF)
        return special(p, m != 0, (int)(bits >> 63));
    *p = '-'; /* kept only for negatives: a random sign is no branch */
    p += bits >> 63;
    if ((bits << 1) == 0) {
        memcpy(p, "0.0", 3);
        return p + 3;
    }

    uint64_t d;
    int e;
    schubfach(m, be, &d, &e); /* the value is d * 10^e */
    return layout(p, d, e);
}

char *numfmt_f32(float v, char buf[NUMFMT_F32_BUF])
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    char *p = buf;
    uint32_t m = bits & ((1u << 23) - 1);
    int be = (int)(bits >> 23 & 0xFF);
    if (be == 0xFF)
        return special(p, m != 0, (int)(bits >> 31));
    *p = '-';
    p += bits >> 31;
    if ((bits << 1) == 0) {
        memcpy(p, "0.0", 3);
        return p + 3;
    }
    uint64_t d;
    int e;
    schubfach_f32(m, be, &d, &e);
    return layout(p, d, e);
}
