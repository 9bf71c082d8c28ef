/* JSON number reading, correctly rounded, without strtod on the common
 * path:
 *  1. Clinger's fast path when the significand fits 53 bits and |q| <= 22
 *     (W. D. Clinger, "How to Read Floating Point Numbers Accurately",
 *     PLDI 1990): one exact IEEE multiply or divide.
 *  2. Otherwise Eisel-Lemire on up to 19 significant digits (D. Lemire,
 *     "Number Parsing at a Gigabyte per Second", Software: Practice and
 *     Experience 51(8), 2021), which needs no fallback for 19 digits
 *     (N. Mushtak and D. Lemire, "Fast number parsing without fallback",
 *     Software: Practice and Experience 53(6), 2023).
 *  3. With more than 19 digits, w and w + 1 bound the value; when they
 *     round alike that is the answer, else (rarely) an exact slow path:
 *     the digits, normalised into a bounded buffer, go to the C library's
 *     correctly rounded strtod. */
#include "numparse.h"

#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtables.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define EXP_BITS_INF ((uint64_t)0x7FF << 52)
/* Beyond this the decimal exponent is certainly an overflow or underflow;
 * clamping keeps the arithmetic in range for any number of digits. */
#define EXP_CLAMP 100000L

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* IEEE bits of the positive w * 10^q rounded to nearest, ties to even
 * (w != 0). Lemire 2021, algorithm 1, with the subnormal and
 * round-to-even cases of section 8. */
static uint64_t eisel_lemire(long q, uint64_t w)
{
    if (q < NUMTABLES_POW5_MIN)
        return 0;
    if (q > NUMTABLES_POW5_MAX)
        return EXP_BITS_INF;
    int lz = __builtin_clzll(w);
    w <<= lz;
    const uint64_t *t = numtables_pow5[q - NUMTABLES_POW5_MIN];
    unsigned __int128 first = (unsigned __int128)w * t[0];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    if ((hi & 0x1FF) == 0x1FF) { /* the 55 bits kept may be off by one: refine */
        uint64_t second_hi = (uint64_t)(((unsigned __int128)w * t[1]) >> 64);
        lo += second_hi;
        hi += lo < second_hi;
    }
    int upper = (int)(hi >> 63);
    int shift = upper + 64 - 52 - 3;
    uint64_t m = hi >> shift;
    /* (217706 * q) >> 16 is floor(q * log2(10)) for |q| <= 1650. */
    int p2 = (int)(((217706 * q) >> 16) + 63 + upper - lz + 1023);
    if (p2 <= 0) { /* subnormal */
        if (-p2 + 1 >= 64)
            return 0;
        m >>= -p2 + 1;
        m += m & 1;
        m >>= 1;
        /* Rounding up may carry into bit 52: the smallest normal, whose
         * exponent field is 1, is then exactly these bits. */
        return m;
    }
    /* Exactly halfway between two doubles: only possible when 5^q fits in
     * 64 bits (-4 <= q <= 23); round down to even instead of up. */
    if (lo <= 1 && q >= -4 && q <= 23 && (m & 3) == 1 && (m << shift) == hi)
        m &= ~(uint64_t)1;
    m += m & 1;
    m >>= 1;
    if (m >= (uint64_t)2 << 52) {
        m = (uint64_t)1 << 52;
        p2++;
    }
    if (p2 >= 0x7FF)
        return EXP_BITS_INF;
    return (m & (((uint64_t)1 << 52) - 1)) | (uint64_t)p2 << 52;
}

/* A double is the rounding of a decimal with at most 767 significant digits
 * (the longest exact halfway point between subnormals), so keeping 780 digits
 * and replacing the rest by one nonzero "sticky" digit never moves a value
 * across a rounding boundary. */
#define KEEP_DIGITS 780

#define SLOW_BUF (KEEP_DIGITS + 40)

/* The magnitude of the number [p, end), already checked against the
 * grammar, as "0.<digits>e<exp>" in buf (at most 780 digits, a sticky
 * one for the rest): the C library's correctly rounded strtod and strtof
 * read it. Returns 0 when the value is zero (buf unset), else 1. */
static int slow_text(const char *p, const char *end, char buf[SLOW_BUF])
{
    size_t nd = 0;
    int sticky = 0;
    long dexp = 0; /* value = 0.buf * 10^dexp before the exponent */
    const char *s = p;
    if (*s == '-')
        s++;
    for (; s < end && is_digit(*s); s++) {
        if (nd == 0 && *s == '0')
            continue; /* the single leading 0 */
        if (nd < KEEP_DIGITS)
            buf[2 + nd++] = *s;
        else if (*s != '0')
            sticky = 1;
        dexp++;
    }
    if (s < end && *s == '.') {
        for (s++; s < end && is_digit(*s); s++) {
            if (nd == 0 && *s == '0') {
                dexp--;
                continue;
            }
            if (nd < KEEP_DIGITS)
                buf[2 + nd++] = *s;
            else if (*s != '0')
                sticky = 1;
        }
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        long e = 0;
        int neg = *++s == '-';
        if (*s == '+' || *s == '-')
            s++;
        for (; s < end && is_digit(*s); s++)
            if (e < EXP_CLAMP)
                e = e * 10 + (*s - '0');
        dexp += neg ? -e : e;
    }
    if (nd == 0)
        return 0;
    if (sticky)
        buf[2 + nd++] = '1';
    if (dexp > EXP_CLAMP)
        dexp = EXP_CLAMP;
    if (dexp < -EXP_CLAMP)
        dexp = -EXP_CLAMP;
    buf[0] = '0';
    buf[1] = '.';
    snprintf(buf + 2 + nd, SLOW_BUF - 2 - nd, "e%ld", dexp);
    return 1;
}

/* The exact slow path for [p, end), a number already checked against the
 * grammar; returns the magnitude's IEEE bits. */
static uint64_t slow_path(const char *p, const char *end)
{
    char buf[SLOW_BUF];
    if (!slow_text(p, end, buf))
        return 0;
    /* The C locale is never changed by this program, so '.' is the radix. */
    double v = strtod(buf, NULL);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

/* Clinger's path is exact for any w <= 2^53; it is taken only below 10^15
 * so that the choice depends on the digit count, not on the leading digits:
 * runs of 16- and 17-digit numbers (a coin toss against 2^53) then always
 * take Eisel-Lemire, and the branch is predicted. */
#define CLINGER_MAX_W 1000000000000000u

static const double exact_pow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Eight ASCII digits at once (SWAR), after D. Lemire, "Quickly parsing
 * eight digits" (2018) and Lemire 2021, section 7: bytes are loaded little
 * endian, so the first digit is the lowest byte. */
static uint64_t load8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The value of eight digits: pairs, then quads, then the whole, each step
 * one multiply (10, 100 and 10000 combine the halves). */
static uint32_t parse8(uint64_t v)
{
    v -= 0x3030303030303030u;
    v = v * 10 + (v >> 8); /* each even byte: 10 * d[i] + d[i+1] */
    v = (((v & 0x000000FF000000FFu) * (100 + (1000000ull << 32))) +
         (((v >> 16) & 0x000000FF000000FFu) * (1 + (10000ull << 32)))) >> 32;
    return (uint32_t)v;
}

static const uint64_t pow10_u64[9] = {1,      10,      100,      1000,     10000,
                                       100000, 1000000, 10000000, 100000000};

#define ASCII_ZEROS8 0x3030303030303030u

/* A word with a nonzero byte at each position of v that is not a digit
 * (exact up to the first such byte; later bytes may be disturbed by the
 * carry of the + 6, which does not matter to the callers). */
static uint64_t nondigits8(uint64_t v)
{
    return ((v & 0xF0F0F0F0F0F0F0F0u) ^ ASCII_ZEROS8) |
           (((v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) ^ ASCII_ZEROS8);
}

/* The value of the first len digits (1 <= len <= 8) of the little-endian
 * word x: shifted to the top of the word behind '0' padding, then parse8. */
static uint32_t parse_first(uint64_t x, unsigned len)
{
    return parse8((x << (8 * (8 - len))) | (ASCII_ZEROS8 >> (8 * len)));
}

/* Reads digits from p while they last, accumulating into *w (wrapping
 * past 19 digits; the caller counts digits and re-reads when too many).
 * Eight at a time, then the rest of the run in one step: its length from
 * the first non-digit byte, its value from parse_first. No branch depends
 * on the length. */
static inline __attribute__((always_inline)) const char *
read_digits(const char *p, const char *end, uint64_t *w)
{
    uint64_t v = *w;
    while (end - p >= 8) {
        uint64_t x = load8(p), bad = nondigits8(x);
        if (bad == 0) {
            v = v * 100000000 + parse8(x);
            p += 8;
            continue;
        }
        unsigned len = (unsigned)__builtin_ctzll(bad) / 8; /* 0..7 */
        if (len) {
            v = v * pow10_u64[len] + parse_first(x, len);
            p += len;
        }
        *w = v;
        return p;
    }
    while (p < end && is_digit(*p))
        v = v * 10 + (uint64_t)(*p++ - '0');
    *w = v;
    return p;
}

/* The first 19 significant digits of the digit runs [a, a_end) and
 * [b, b_end) (integer and fraction parts), with the power of ten they
 * stand for; *truncated is set when a nonzero digit was left out. */
static uint64_t first19(const char *a, const char *a_end, const char *b, const char *b_end,
                        long *q, int *truncated)
{
    uint64_t w = 0;
    int nd = 0;
    long e = 0;
    *truncated = 0;
    for (const char *p = a; p < a_end; p++) {
        if (nd < 19) {
            w = w * 10 + (uint64_t)(*p - '0');
            nd += w != 0;
        } else {
            e++;
            *truncated |= *p != '0';
        }
    }
    for (const char *p = b; p < b_end; p++) {
        if (nd < 19) {
            w = w * 10 + (uint64_t)(*p - '0');
            nd += w != 0;
            e--;
        } else {
            *truncated |= *p != '0';
        }
    }
    *q = e;
    return w;
}

/* w / 10^m (w < 10^15) needs no float32 tie test for m <= TIE_FREE, nor
 * w * 10^q below 2^53 (then it is exact). A tie D * 2^-s (2^24 <= D <
 * 2^25) the value is exactly is harmless: (float) rounds it to even, as
 * the text does. One it is not is at least 1 / (10^m * 2^s) away, and the
 * double's rounding moves the value by at most D * 2^-s * 2^-53, less
 * than that while 10^m * D < 2^53, which holds for 10^m < 2^28. */
#define TIE_FREE 8

/* One number; inlined into both entry points so the run loop has no call.
 * With ties (a constant at each call), a double that lies on a float32
 * tie, from a text that may not be exactly it (only integers below 2^53
 * are known exact), gives NUMPARSE_TIE (*out and *stop set as for OK). */
static inline __attribute__((always_inline)) numparse_status
parse_one(const char *p, const char *end, double *out, const char **stop, int ties)
{
    const char *s = p;
    int negative = 0, truncated = 0;
    uint64_t w = 0; /* the digits, while there are at most 19 */
    long q = 0;     /* value ~ w * 10^q */

    negative = *s == '-';
    s += negative;
    const char *int_start = s;
    if (s == end || !is_digit(*s)) {
        *stop = s;
        return NUMPARSE_SYNTAX;
    }
    /* The integer part, from one 8-byte load when it is shorter than 8
     * digits. Short decimals such as 12.375 (at most 7 digits, a '.', no
     * exponent) are finished from that same word: the '.' is squeezed out,
     * one parse8 converts the digits and Clinger's division the value.
     * Anything else continues on the general path. */
    uint64_t x8 = 0, bad8 = 0;
    if (end - s >= 8 && (x8 = load8(s), bad8 = nondigits8(x8)) != 0) {
        unsigned ni = (unsigned)__builtin_ctzll(bad8) / 8; /* 1..7 */
        if (((x8 >> (8 * ni)) & 0xFF) == '.' && ((*s != '0') | (ni == 1)) &&
            FLT_EVAL_METHOD == 0) {
            uint64_t low = ((uint64_t)1 << (8 * ni)) - 1;
            uint64_t y = (x8 & low) | ((x8 >> 8) & ~low); /* top byte 0: a non-digit */
            unsigned nt = (unsigned)__builtin_ctzll(nondigits8(y)) / 8;
            /* nt <= 6: the byte that ended the digits was in the word. */
            if (nt > ni && nt <= 6 && ((s[nt + 1] | 0x20) != 'e')) {
                double v = (double)parse_first(y, nt) / exact_pow10[nt - ni];
                *out = negative ? -v : v;
                *stop = s + nt + 1;
                return NUMPARSE_OK; /* no float32 tie to fear: see TIE_FREE */
            }
        }
        w = parse_first(x8, ni);
        s += ni;
    } else if (end - s >= 8) { /* eight digits or more */
        w = parse8(x8);
        s = read_digits(s + 8, end, &w);
    } else {
        s = read_digits(s, end, &w);
    }
    if ((*int_start == '0') & (s - int_start > 1)) { /* a leading zero */
        *stop = int_start + 1;
        return NUMPARSE_SYNTAX;
    }
    const char *int_end = s, *frac_start = s, *frac_end = s;
    if (s < end && *s == '.') {
        frac_start = ++s;
        s = read_digits(s, end, &w);
        frac_end = s;
        if (s == frac_start) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
        q = -(long)(frac_end - frac_start);
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        int eneg = 0;
        long e = 0;
        if (++s < end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s == end || !is_digit(*s)) {
            *stop = s;
            return NUMPARSE_SYNTAX;
        }
        /* One to four digits (every double's exponent) from one load,
         * without a branch on their count, which random data mispredicts
         * (2 or 3 digits); longer ones digit by digit. */
        uint64_t x = 0, bad = 0;
        if (end - s >= 8 && (x = load8(s), bad = nondigits8(x)) != 0 &&
            (unsigned)__builtin_ctzll(bad) / 8 <= 4) {
            unsigned len = (unsigned)__builtin_ctzll(bad) / 8;
            e = (long)parse_first(x, len);
            s += len;
        } else {
            for (; s < end && is_digit(*s); s++)
                if (e < EXP_CLAMP)
                    e = e * 10 + (*s - '0');
        }
        q += eneg ? -e : e;
    }
    *stop = s;

    long ndigits = (long)(int_end - int_start) + (long)(frac_end - frac_start);
    if (ndigits > 19) { /* leading zeros do not count; more than 19 others: redo */
        long e;
        w = first19(int_start, int_end, frac_start, frac_end, &e, &truncated);
        q = q + (long)(frac_end - frac_start) + e;
    }
    uint64_t bits;
    if (w == 0) {
        bits = 0;
    } else if (!truncated && q >= -22 && q <= 22 && w < CLINGER_MAX_W &&
               FLT_EVAL_METHOD == 0) {
        /* Never infinite (below 10^15 * 10^22), so nothing but the store
         * and (for a fraction) the float32 tie test, a predicted branch,
         * waits on the product or quotient. */
        double v = (double)w;
        v = q < 0 ? v / exact_pow10[-q] : v * exact_pow10[q];
        *out = negative ? -v : v;
        if (ties && __builtin_expect(q < -TIE_FREE || (q > 0 && v >= 0x1p53), 0) &&
            numparse_f32_tie(v))
            return NUMPARSE_TIE;
        return NUMPARSE_OK;
    } else {
        bits = eisel_lemire(q, w);
        if (truncated && eisel_lemire(q, w + 1) != bits)
            bits = slow_path(p, s);
    }
    if (bits == EXP_BITS_INF)
        return NUMPARSE_RANGE;
    bits |= (uint64_t)negative << 63;
    memcpy(out, &bits, sizeof bits);
    return ties && w != 0 && numparse_f32_tie(*out) ? NUMPARSE_TIE : NUMPARSE_OK;
}

numparse_status numparse_f64(const char *p, const char *end, double *out,
                             const char **stop)
{
    return parse_one(p, end, out, stop, 0);
}

/* float32 from the correctly rounded double d of the same text: rounding
 * is monotone and every float32 rounding boundary (a midpoint between two
 * float32 values, the one above FLT_MAX, and 2^-150) is a double, so the
 * text and d lie on the same side of each boundary, and (float)d is the
 * text's own rounding unless d sits exactly on one. Then (rarely) the
 * digits decide, read by the C library's correctly rounded strtof. */
numparse_status numparse_f32(const char *p, const char *end, float *out, const char **stop)
{
    double d;
    numparse_status st = parse_one(p, end, &d, stop, 0);
    if (st != NUMPARSE_OK)
        return st;
    float f = (float)d;
    if (numparse_f32_tie(d)) {
        char buf[SLOW_BUF];
        f = slow_text(p, *stop, buf) ? strtof(buf, NULL) : 0.0f;
        f = *p == '-' ? -f : f;
    }
    if (f - f != 0) /* infinite: beyond FLT_MAX once rounded */
        return NUMPARSE_RANGE;
    *out = f;
    return NUMPARSE_OK;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

numparse_status numparse_f64_run(const char *p, const char *end, double *out, size_t cap,
                                 size_t *n, const char **stop)
{
    size_t i = 0;
    for (;;) {
        const char *after;
        numparse_status st = parse_one(p, end, &out[i], &after, 1);
        if (st != NUMPARSE_OK) {
            *n = i;
            *stop = st == NUMPARSE_SYNTAX ? after : p;
            return st;
        }
        i++;
        *stop = p = after;
        if (i == cap)
            break;
        /* ", " is by far the most common separator; then any whitespace. */
        if (end - p >= 2 && p[0] == ',' && p[1] == ' ') {
            p += 2;
        } else {
            while (p < end && is_ws(*p))
                p++;
            if (p == end || *p != ',')
                break;
            p++;
        }
        while (p < end && is_ws(*p))
            p++;
        if (p == end || (*p != '-' && !is_digit(*p)))
            break;
    }
    *n = i;
    return NUMPARSE_OK;
}

/* 16 bytes at a time with SSE2: byte compares, subtracted (as -1s) into
 * byte lanes, which psadbw sums every 255 blocks; byte by byte elsewhere
 * and for the tail. */
size_t numparse_count_commas(const char *p, const char *end)
{
    size_t n = 0;
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), zero = _mm_setzero_si128();
    while ((size_t)(end - p) >= 16) {
        size_t blocks = (size_t)(end - p) / 16;
        __m128i lanes = zero;
        for (blocks = blocks < 255 ? blocks : 255; blocks > 0; blocks--, p += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, comma));
        }
        __m128i sums = _mm_sad_epu8(lanes, zero); /* two 64-bit sums */
        n += (size_t)_mm_cvtsi128_si32(sums) +
             (size_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; p < end; p++)
        n += *p == ',';
    return n;
}
