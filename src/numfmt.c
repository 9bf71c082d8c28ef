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

typedef unsigned __int128 u128;

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

/* x, hidden from the optimizer: selections made with masks stay masks
 * (gcc otherwise turns some back into branches, or splits the code on
 * them), as the inputs would mispredict such branches half the time. */
static inline uint64_t opaque(uint64_t x)
{
    __asm__("" : "+r"(x));
    return x;
}

/* The same decision from one 128-bit product, after V. Zverovich's Żmij
 * (2025; scaling by 10^(-k-1), which yields the shorter candidate
 * directly, is X. JunBo's idea there). With k as above, the value scaled
 * by 10^(-k-1) is s = n + f/2^64 (n its integer part) and its interval is
 * s -/+ h/2^64, h/2^64 = 2^(q-1) / 10^(k+1), a half-unit of 1/20 to 1/2.
 * At most one integer lies in the interval: n when f < h, n + 1 when
 * f + h >= 2^64. Either is the shortest decimal (Schubfach's case 1; its
 * trailing zeros are stripped by layout()). Otherwise the answer has one
 * more digit, 10n plus f * 10 / 2^64 rounded to nearest, which is always
 * in the interval (whose half-width is at least 1/2 at that scale): the
 * paper's cases 2 and 3.
 *
 * s and h come from the table's g(-k-1), which is rounded up, and each is
 * off by less than 1.01 units of 2^-64: the product is exact, g's excess
 * moves it by less than one unit of the 128 bits kept, and the 9 bits
 * dropped below the fraction by less than one unit of 2^-64 (h: g's top
 * half shifted, the same). Compared sums and differences are thus off by
 * under 3, the digit's 10 f by under 11. So every decision is right
 * unless a compared quantity lies within FAST_BAND units of its threshold,
 * where the interval's bounds (inclusive for even c) and ties to even
 * would matter; then this returns 0 and the caller asks shortest(), which
 * is exact. That is rare for random bits, and happens for the exact
 * bounds and midpoints of some short values. Checked against shortest()
 * by tests/test_numfmt.c (200 million doubles near the thresholds with
 * LEAKYRELU_HARD=1). float32 has its own version below, exact without a
 * margin. */
#define FAST_X 9     /* bits of the product below the 64 of the fraction */
#define FAST_BAND 32 /* > 11 units, with room: the margin of every decision */

typedef struct fast {
    uint64_t n;     /* the shorter candidate, or the longer's first digits */
    uint64_t digit; /* the longer's last digit */
    uint64_t longer;/* all ones when the answer is 10 n + digit, else 0 */
    int k;          /* the answer is n * 10^(k+1), or (10 n + digit) * 10^k */
} fast;

/* The decision for the double c * 2^q (c < 2^54); 0 when unsure. */
static inline __attribute__((always_inline)) int shortest_fast(uint64_t c, int q, fast *r)
{
    int k = floor_log10_pow2(q);
    int sh = q + floor_log2_pow10(-k - 1) + 1 + FAST_X; /* 6 <= sh <= 9 */
    const uint64_t *g = numtables_pow10[-k - 1 - NUMTABLES_POW10_MIN];
    uint64_t cs = c << sh;
    u128 hi = (u128)g[0] * cs; /* the product >> 64 */
    hi += (uint64_t)(((u128)g[1] * cs) >> 64);
    uint64_t n = (uint64_t)(hi >> (64 + FAST_X));
    uint64_t f = (uint64_t)(hi >> FAST_X);
    uint64_t h = g[0] >> (FAST_X + 1 - sh);
    u128 ten_f = (u128)f * 10 + ((uint64_t)1 << 63);
    uint64_t down = f < h, up = f + h < f; /* f + h >= 2^64 */
    int unsure = (f - h + FAST_BAND <= 2 * FAST_BAND) | (f + h + FAST_BAND <= 2 * FAST_BAND) |
                 ((uint64_t)ten_f + FAST_BAND <= 2 * FAST_BAND);
    r->n = n + up;
    r->digit = (uint64_t)(ten_f >> 64);
    r->longer = opaque((down | up) - 1); /* all ones or none */
    r->k = k;
    return !unsure;
}

/* float32's decision in 64-bit arithmetic, with no margin and no
 * fallback: c * 2^q scaled by 10^(-k-1) as a fixed-point number with 34
 * fraction bits, from g(-k-1)'s top half plus one (a bound from above),
 * and the half-interval from the same top half, plus one when c is even
 * (its interval is closed). The same steps as Żmij's float32 path (V.
 * Zverovich, 2025); our own code, exact by exhaustion rather than by
 * proof: tests/test_numfmt.c compares it with shortest() on every float32
 * pattern (LEAKYRELU_HARD=1). k is floor_log10_pow2(q) and sh
 * shortest_fast's shift (6 to 9) for the exponent field be, both from
 * numtables_f32_scale[be]. */
#define F32_FRAC 34

static inline __attribute__((always_inline)) void shortest_f32(uint64_t c, unsigned be, fast *r)
{
    int k = (int16_t)(numtables_f32_scale[be] & 0xFFFF), sh = (int)(numtables_f32_scale[be] >> 16);
    uint64_t g = numtables_pow10[-k - 1 - NUMTABLES_POW10_MIN][0];
    int s = sh + F32_FRAC - FAST_X; /* 31 to 34: c << s < 2^58 */
    uint64_t x = (uint64_t)(((u128)(g + 1) * (c << s)) >> 64);
    uint64_t n = x >> F32_FRAC, f = x & (((uint64_t)1 << F32_FRAC) - 1);
    uint64_t h = (g >> (65 - s)) + (~c & 1);
    uint64_t up = (f + h) >> F32_FRAC, down = h > f;
    /* the longer's last digit: 10 f rounded to nearest, and 2.5 to even */
    uint64_t digit = (f * 10 + ((uint64_t)1 << (F32_FRAC - 1))) >> F32_FRAC;
    digit -= f == (uint64_t)1 << (F32_FRAC - 2);
    r->n = n + up;
    r->digit = digit;
    r->longer = opaque((down | up) - 1);
    r->k = k;
}

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

/* A decimal as layout() takes it: v = 0.S * 10^k, where S is the 16 digits
 * of d16 (10^15 <= d16 < 10^16) and then the character last, '0' for
 * values of at most 16 digits. */
typedef struct decimal {
    uint64_t d16;
    uint32_t last;
    int k;
} decimal;

/* d * 10^e (0 < d < 10^17) as a decimal. */
static decimal from_shortest(uint64_t d, int e)
{
    int nd = count_digits(d);
    if (nd == 17) {
        decimal r = {d / 10, '0' + (uint32_t)(d % 10), e + 17};
        return r;
    }
    decimal r = {d * pow10_u64[16 - nd], '0', e + nd};
    return r;
}

/* shortest_fast's answer for any value, as a decimal. */
static decimal from_fast_any(const fast *r)
{
    uint64_t d = (r->n & ~r->longer) | ((10 * r->n + r->digit) & r->longer);
    return from_shortest(d, r->k + (int)(~r->longer & 1));
}

/* shortest_fast's answer for a normal double, where n has 15 or 16
 * digits, without dividing or counting digits. */
static inline __attribute__((always_inline)) decimal from_fast(const fast *r)
{
    uint64_t low = r->digit & r->longer; /* the 17th digit, or none */
    int small = r->n < 1000000000000000u;
    uint64_t s = opaque((uint64_t)0 - (uint64_t)small); /* n's length is random */
    decimal d = {((10 * r->n + low) & s) | (r->n & ~s), '0' + (uint32_t)(low & ~s),
                 r->k + 17 - small};
    return d;
}

/* Whether c * 2^q is an integer below 2^(1+precision), c holding
 * precision+1 bits: its own shortest decimal. Then -precision <= q <= 0
 * and no bit of c below 2^-q is set (one test, no chain of branches). */
static inline int small_integer(uint64_t c, int q, unsigned precision)
{
    unsigned frac_bits = (unsigned)-q;
    return (frac_bits <= precision) & ((unsigned)__builtin_ctzll(c) >= frac_bits);
}

/* The shortest decimal of the positive finite double with significand
 * field m and exponent field be (exact: without shortest_fast()). */
static inline __attribute__((always_inline)) decimal decimal_f64(uint64_t m, int be, int exact)
{
    uint64_t c, d;
    int q, e;
    fast r;
    if (be != 0) {
        c = m | (uint64_t)1 << 52;
        q = be - 1075;
        if (small_integer(c, q, 52))
            return from_shortest(c >> -q, 0);
        if (__builtin_expect(!exact && m != 0 && shortest_fast(c, q, &r), 1))
            return from_fast(&r);
        shortest(c, q, m == 0 && be > 1, &d, &e); /* a power of two, or unsure */
        return from_shortest(d, e);
    }
    if (!exact && shortest_fast(m, -1074, &r)) /* subnormal */
        return from_fast_any(&r);
    shortest(m, -1074, 0, &d, &e);
    return from_shortest(d, e);
}

/* The same for the positive finite float32 with fields m (23 bits) and
 * be (8 bits). */
static inline __attribute__((always_inline)) decimal decimal_f32(uint32_t m, int be, int exact)
{
    uint64_t c, d;
    int q, e;
    fast r;
    if (be != 0) {
        c = m | (uint32_t)1 << 23;
        q = be - 150;
        if (small_integer(c, q, 23))
            return from_shortest(c >> -q, 0);
    } else {
        c = m;
        q = -149;
    }
    if (!exact && (m != 0 || be <= 1)) { /* not a power of two with a lopsided interval */
        shortest_f32(c, (unsigned)be, &r);
        return from_fast_any(&r);
    }
    shortest(c, q, m == 0 && be > 1, &d, &e);
    return from_shortest(d, e);
}

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "numfmt.c builds digit strings in registers for little-endian targets"
#endif

/* The eight digits of v < 10^8 as a little-endian word (the first digit in
 * the lowest byte, values 0-9), by division in parallel lanes: two 4-digit
 * halves in 32-bit lanes, split into pairs (x * 10486 >> 20 is x / 100 for
 * x < 43699), then into digits (x * 103 >> 10 is x / 10 for x < 179); no
 * lane's product reaches the next lane. */
static uint64_t digits8(uint32_t v)
{
    uint64_t x = v / 10000 | (uint64_t)(v % 10000) << 32;
    uint64_t hundreds = ((x * 10486) >> 20) & 0x0000007F0000007Fu;
    x = ((x - hundreds * 100) << 16) | hundreds;
    uint64_t tens = ((x * 103) >> 10) & 0x000F000F000F000Fu;
    return ((x - tens * 10) << 8) | tens;
}

#if defined(__SSE2__)
typedef __m128i ascii; /* 16 ASCII digits, the first in the lowest byte */

/* The 16 ASCII digits of d < 10^16 and the number of them up to the last
 * that is not '0'. The halves d / 10^8 and d % 10^8 sit in two 64-bit
 * lanes; each splits into x / 10^4 and x % 10^4 (32-bit lanes), each of
 * those into x / 100 and x % 100 (16-bit lanes), and each pair into its
 * tens and ones (bytes: 256 * pair - 2559 * tens = 256 * ones + tens),
 * the radix steps of W. Mula, "SSE: conversion integers to decimal
 * representation" (2011) in the order Zverovich's Żmij (2025) takes them.
 * x * 0xD1B71759 >> 45 is x / 10^4 for x < 2^32, x * 5243 >> 19 is x / 100
 * for x < 43699 and x * 6554 >> 16 is x / 10 for x < 16384. */
static inline __attribute__((always_inline)) ascii ascii_halves(uint64_t hi, uint64_t lo,
                                                                  int *significant)
{
    __m128i x = _mm_set_epi64x((long long)lo, (long long)hi);
    __m128i q = _mm_srli_epi64(_mm_mul_epu32(x, _mm_set1_epi32((int)0xD1B71759)), 45);
    __m128i r = _mm_sub_epi32(x, _mm_mul_epu32(q, _mm_set1_epi32(10000)));
    __m128i y = _mm_or_si128(q, _mm_slli_epi64(r, 32));
    __m128i t = _mm_srli_epi16(_mm_mulhi_epu16(y, _mm_set1_epi32(5243)), 3);
    __m128i u = _mm_sub_epi16(y, _mm_mullo_epi16(t, _mm_set1_epi32(100)));
    __m128i z = _mm_or_si128(t, _mm_slli_epi32(u, 16));
    __m128i tens = _mm_mulhi_epu16(z, _mm_set1_epi16(6554));
    __m128i k2559 = _mm_set1_epi16(2559);
    __asm__("" : "+x"(k2559)); /* one pmullw, not gcc's three shifts and adds */
    __m128i digits = _mm_sub_epi16(_mm_slli_epi16(z, 8), _mm_mullo_epi16(tens, k2559));
    unsigned nonzero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(digits, _mm_setzero_si128())) ^ 0xFFFFu;
    *significant = 32 - __builtin_clz(nonzero | 1);
    return _mm_add_epi8(digits, _mm_set1_epi8('0'));
}

static inline __attribute__((always_inline)) ascii ascii16(uint64_t d, int *significant)
{
    return ascii_halves(d / 100000000, d % 100000000, significant);
}

static inline void store16(char *p, ascii v) { _mm_storeu_si128((__m128i *)(void *)p, v); }

static inline char first_digit(ascii v) { return (char)_mm_cvtsi128_si32(v); }
#else
typedef u128 ascii;

/* The 16 ASCII digits of d < 10^16 and the number up to the last non-'0'. */
static inline ascii ascii16(uint64_t d, int *significant)
{
    uint64_t w0 = digits8((uint32_t)(d / 100000000)), w1 = digits8((uint32_t)(d % 100000000));
    *significant = w1 ? 16 - __builtin_clzll(w1) / 8 : 8 - __builtin_clzll(w0 | 1) / 8;
    return ((u128)w1 << 64 | w0) | (((u128)0x3030303030303030u << 64) | 0x3030303030303030u);
}

static inline void store16(char *p, ascii v) { memcpy(p, &v, 16); }

static inline char first_digit(ascii v) { return (char)v; }
#endif

/* The 8 ASCII digits of d < 10^8, the digit ninth, then 7 '0's, and the
 * number of digits up to the last that is not '0'. */
static inline __attribute__((always_inline)) ascii ascii9(uint64_t d, uint64_t ninth,
                                                          int *significant)
{
    uint64_t w = digits8((uint32_t)d); /* a scalar chain, shorter than ascii16's */
    *significant = ninth ? 9 : 8 - __builtin_clzll(w) / 8;
    uint64_t lo = w | 0x3030303030303030u, hi = 0x3030303030303030u | ninth;
#if defined(__SSE2__)
    return _mm_set_epi64x((long long)hi, (long long)lo);
#else
    return (u128)hi << 64 | lo;
#endif
}

/* The text CPython's repr writes for the exponent x ("e-05", "e+16",
 * "e-324": at least two digits) in the low bytes of a word, little
 * endian, and its length in the top byte; a constant expression. */
#define EXP_ABS(x) ((x) < 0 ? -(x) : (x))
#define EXP_WORD(x)                                                                        \
    ((uint64_t)'e' | (uint64_t)((x) < 0 ? '-' : '+') << 8 |                               \
     (EXP_ABS(x) >= 100 ? (uint64_t)('0' + EXP_ABS(x) / 100) << 16 |                        \
                              (uint64_t)('0' + EXP_ABS(x) / 10 % 10) << 24 |               \
                              (uint64_t)('0' + EXP_ABS(x) % 10) << 32 | (uint64_t)5 << 56 \
                        : (uint64_t)('0' + EXP_ABS(x) / 10) << 16 |                        \
                              (uint64_t)('0' + EXP_ABS(x) % 10) << 24 | (uint64_t)4 << 56))
#define EXP_WORDS4(x) EXP_WORD(x), EXP_WORD(x + 1), EXP_WORD(x + 2), EXP_WORD(x + 3)
#define EXP_WORDS16(x) EXP_WORDS4(x), EXP_WORDS4(x + 4), EXP_WORDS4(x + 8), EXP_WORDS4(x + 12)
#define EXP_WORDS64(x) EXP_WORDS16(x), EXP_WORDS16(x + 16), EXP_WORDS16(x + 32), EXP_WORDS16(x + 48)

/* EXP_WORD(x) at x + 324, for every exponent a double has (-324 to 308;
 * the table runs on to 315). */
static const uint64_t exp_words[640] = {
    EXP_WORDS64(-324), EXP_WORDS64(-260), EXP_WORDS64(-196), EXP_WORDS64(-132),
    EXP_WORDS64(-68),  EXP_WORDS64(-4),   EXP_WORDS64(60),   EXP_WORDS64(124),
    EXP_WORDS64(188),  EXP_WORDS64(252),
};

/* Writes "e+XX", "e-XX" or "e+XXX" (-324 <= x <= 308) at p, one 8-byte
 * store of the text from a table; returns one past the text. */
static inline __attribute__((always_inline)) char *exponent(char *p, int x)
{
    uint64_t word = exp_words[x + 324];
    memcpy(p, &word, 8);
    return p + (word >> 56);
}

/* Writes 0.S * 10^k at p as CPython's repr lays out a float, S the 16
 * digits s (n16 of them significant) and then the character last ('0'
 * for none); returns one past the text. */
static inline __attribute__((always_inline)) char *layout_digits(char *p, ascii s, int n16,
                                                                 uint32_t last, int k)
{
    int n = n16 + ((17 - n16) & (int)opaque((uint64_t)0 - (last != '0'))); /* significant digits */

    /* CPython's float_repr_style 'r': positional when -4 < k <= 16.
     * Writes are fixed-size; only p advances by the real length. */
    if (k > -4 && k <= 16) {
        if (k <= 0) { /* 0.000ddd */
            memcpy(p, "0.000000", 8);
            p += 2 - k;
            store16(p, s);
            p[16] = (char)last;
            return p + n;
        }
        store16(p, s);
        p[16] = (char)last;
        if (k < n) { /* ddd.ddd: the digits from k on move one right */
            char tail[16];
            memcpy(tail, p + k, 16);
            memcpy(p + k + 1, tail, 16);
            p[k] = '.';
            return p + n + 1;
        }
        p += k; /* ddd000.0: the zeros are already there */
        memcpy(p, ".0", 2);
        return p + 2;
    }
    store16(p + 1, s); /* d.ddde+XX */
    p[17] = (char)last;
    p[0] = first_digit(s);
    p[1] = '.';
    p += n + (n > 1);
    return exponent(p, k - 1);
}

/* The decimal v at p, as layout_digits. */
static inline __attribute__((always_inline)) char *layout(char *p, decimal v)
{
    int n16;
    ascii s = ascii16(v.d16, &n16);
    return layout_digits(p, s, n16, v.last, v.k);
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

/* numfmt_f64, or with exact set, numfmt__exact_f64: the same text with
 * every decision left to shortest(). */
static inline __attribute__((always_inline)) char *write_f64(double v, char *p, int exact)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
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
    return layout(p, decimal_f64(m, be, exact));
}

static inline __attribute__((always_inline)) char *write_f32(float v, char *p, int exact)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
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
    return layout(p, decimal_f32(m, be, exact));
}

/* Everything but the common cases, out of line: its registers and code
 * stay out of their way. */
static __attribute__((noinline, cold)) char *write_f64_other(double v, char *p)
{
    return write_f64(v, p, 0);
}

/* A power of two, or a value the fast path is unsure of: the exact path
 * alone, out of line (not the fast path again). */
static __attribute__((noinline, cold)) char *write_f64_exact(double v, char *p)
{
    return write_f64(v, p, 1);
}

char *numfmt_f64(double v, char buf[NUMFMT_F64_BUF])
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t m = bits & (((uint64_t)1 << 52) - 1);
    unsigned be = (unsigned)(bits >> 52 & 0x7FF);
    uint64_t c = m | (uint64_t)1 << 52;
    int q = (int)be - 1075;
    char *p = buf;
    fast r;
    decimal d;
    /* The common cases: a normal double that is an integer below 2^53,
     * or not a power of two (whose interval is lopsided) and the fast
     * path is sure. */
    if (__builtin_expect(be - 1 >= 0x7FE, 0))
        return write_f64_other(v, buf);
    if (small_integer(c, q, 52))
        d = from_shortest(c >> -q, 0);
    else if (__builtin_expect(m != 0 && shortest_fast(c, q, &r), 1))
        d = from_fast(&r);
    else
        return write_f64_exact(v, buf);
    *p = '-'; /* kept only for negatives: a random sign is no branch */
    p += bits >> 63;
    return layout(p, d);
}

static __attribute__((noinline, cold)) char *write_f32_other(float v, char *p)
{
    return write_f32(v, p, 0);
}

static __attribute__((noinline, cold)) char *write_f32_exact(float v, char *p)
{
    return write_f32(v, p, 1);
}

/* shortest_fast's answer for a normal float32 (n from 838860 to 2^24),
 * written at p without counting digits: the answer is D * 10^k, D = 10 n
 * plus the longer's last digit (or 0), of 7 to 9 digits: 8 and a ninth
 * for ascii9. */
static inline __attribute__((always_inline)) char *layout_fast_f32(char *p, const fast *r)
{
    uint64_t dm = r->digit & r->longer, big = 10 * r->n + dm;
    int seven = r->n >= 1000000u, eight = r->n >= 10000000u;
    uint64_t nine = opaque((uint64_t)0 - (uint64_t)eight); /* D has 9 digits */
    uint64_t d8 = (r->n & nine) | ((seven ? big : 10 * big) & ~nine);
    int n9;
    ascii s = ascii9(d8, dm & nine, &n9);
    return layout_digits(p, s, n9, '0', r->k + 7 + seven + eight);
}

char *numfmt_f32(float v, char buf[NUMFMT_F32_BUF])
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint32_t m = bits & ((1u << 23) - 1);
    unsigned be = bits >> 23 & 0xFF;
    uint64_t c = m | (uint32_t)1 << 23;
    int q = (int)be - 150;
    char *p = buf;
    fast r;
    decimal d;
    /* The common cases, as numfmt_f64's. */
    if (__builtin_expect(be - 1 >= 0xFE, 0))
        return write_f32_other(v, buf);
    if (small_integer(c, q, 23)) {
        d = from_shortest(c >> -q, 0);
        *p = '-';
        p += bits >> 31;
        return layout(p, d);
    }
    if (__builtin_expect(m != 0, 1)) { /* k and the shift from a table */
        shortest_f32(c, be, &r);
        *p = '-';
        p += bits >> 31;
        return layout_fast_f32(p, &r);
    }
    return write_f32_exact(v, buf); /* a power of two */
}

char *numfmt__exact_f64(double v, char buf[NUMFMT_F64_BUF]) { return write_f64(v, buf, 1); }

char *numfmt__exact_f32(float v, char buf[NUMFMT_F32_BUF]) { return write_f32(v, buf, 1); }
