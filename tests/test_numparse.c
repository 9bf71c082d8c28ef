/* Tests of the number reader (src/numparse.c): the JSON grammar, the
 * shared and fxx vectors, round trips through numfmt, strtod, runs and
 * comma counts, with fixed seeds. */
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/numfmt.h"
#include "../src/numparse.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* What follows a number inside a body; the reader's 8-byte fast paths
 * only run when at least 8 bytes remain. */
#define CONTEXT ", 9.75e1, 123]"

/* numparse_f64 on s alone and on s followed by CONTEXT: both must agree
 * on the status, the value and the stop offset. */
static numparse_status parse_both(const char *s, double *out, const char **stop)
{
    char buf[1024];
    size_t len = strlen(s);
    numparse_status st = numparse_f64(s, s + len, out, stop);
    if (len + sizeof CONTEXT > sizeof buf)
        return st;
    memcpy(buf, s, len);
    memcpy(buf + len, CONTEXT, sizeof CONTEXT);
    double v = 0, want = *out;
    const char *stop2;
    numparse_status st2 = numparse_f64(buf, buf + len + strlen(CONTEXT), &v, &stop2);
    if (st2 != st || stop2 - buf != *stop - s ||
        (st == NUMPARSE_OK && memcmp(&v, &want, sizeof v) != 0))
        tap_fail(__FILE__, __LINE__, "\"%.60s\": alone %d stop %d, with context %d stop %d", s,
                 st, (int)(*stop - s), st2, (int)(stop2 - buf));
    return st;
}

/* Parses all of s; returns the status, or NUMPARSE_SYNTAX if it stops early. */
static numparse_status parse_all(const char *s, double *out)
{
    const char *stop;
    size_t len = strlen(s);
    numparse_status st = parse_both(s, out, &stop);
    if (st != NUMPARSE_SYNTAX && stop != s + len)
        return NUMPARSE_SYNTAX;
    return st;
}

void test_numparse_grammar(void)
{
    static const struct {
        const char *text;
        int stop; /* offset of the offending byte */
    } bad[] = {
        {"01", 1}, {"-01", 2}, {".5", 0}, {"1.", 2}, {"+1", 0}, {"0x10", -1},
        {"1e", 2}, {"1e+", 3}, {"-", 1}, {"--1", 1}, {"1.e5", 2}, {"NaN", 0},
        {"Infinity", 0}, {"-Infinity", 1}, {"00", 1}, {"1E-", 3},
        /* the short-decimal path's edges */
        {"00.5", 1}, {"-012.5", 2}, {"1.5.", -1}, {"12.e3", 3}, {"1.5e", 4},
        {"123456.7e", 9}, {"1234567.", 8},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *s = bad[i].text, *stop = NULL;
        double v;
        numparse_status st = parse_both(s, &v, &stop);
        if (bad[i].stop < 0) { /* parses a prefix; the caller rejects the rest */
            ASSERT(st == NUMPARSE_OK && stop < s + strlen(s));
            continue;
        }
        if (st != NUMPARSE_SYNTAX || stop - s != bad[i].stop)
            tap_fail(__FILE__, __LINE__, "\"%s\": want syntax error at %d, got %d at %d",
                     s, bad[i].stop, st, (int)(stop - s));
    }
    static const struct {
        const char *text;
        double v;
    } good[] = {
        {"0", 0.0}, {"-0", -0.0}, {"-0.0", -0.0}, {"1E5", 1e5}, {"1e+5", 1e5},
        {"2.5e-3", 2.5e-3}, {"1000000000000000000000000000000", 1e30},
        {"1e-400", 0.0}, {"-1e-400", -0.0}, {"4.9e-324", 5e-324},
        {"0.000000000000000000000000000001", 1e-30},
        {"0.5", 0.5}, {"-0.0000", -0.0}, {"12.375", 12.375}, {"-99999.9", -99999.9},
        {"123456.7", 123456.7}, {"1234567.8", 1234567.8}, {"1.5e3", 1500.0},
        {"1.5E-3", 0.0015}, {"9.999999", 9.999999},
        {"1e99999999999999999999", 0}, /* overflow, checked below */
    };
    for (size_t i = 0; i + 1 < sizeof good / sizeof good[0]; i++) {
        double v = 42;
        ASSERT_EQ(parse_all(good[i].text, &v), NUMPARSE_OK);
        ASSERT_BITS_EQ(v, good[i].v);
    }
    double v;
    ASSERT_EQ(parse_all("1e99999999999999999999", &v), NUMPARSE_RANGE);
    ASSERT_EQ(parse_all("-1e400", &v), NUMPARSE_RANGE);
    ASSERT_EQ(parse_all("1.8e308", &v), NUMPARSE_RANGE);
    ASSERT_EQ(parse_all("0e99999999999999999999", &v), NUMPARSE_OK);
    ASSERT_BITS_EQ(v, 0.0);
}

void test_numparse_vectors(void)
{
    FILE *f = test_open_data("parse_f64.txt");
    if (!f)
        return;
    char line[256], text[128], want[32];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%127s %31s", text, want) != 2)
            continue;
        double got = 0;
        numparse_status st = parse_all(text, &got);
        if (strcmp(want, "overflow") == 0) {
            if (st != NUMPARSE_RANGE)
                tap_fail(__FILE__, __LINE__, "%s: want overflow, got status %d", text, st);
        } else if (st != NUMPARSE_OK || test_to_bits(got) != strtoull(want, NULL, 16)) {
            tap_fail(__FILE__, __LINE__, "%s: want %s, got status %d bits %016llx",
                     text, want, st, (unsigned long long)test_to_bits(got));
        }
        cases++;
    }
    fclose(f);
    ASSERT_EQ(cases, 20000);
}

/* The fxx files mix JSON and non-JSON texts; an independent regex decides
 * which must be accepted. */
static void check_f32(const char *name, const char *text, unsigned want, int *double_rounded)
{
    float got = 0;
    const char *stop;
    size_t len = strlen(text);
    numparse_status st = numparse_f32(text, text + len, &got, &stop);
    uint32_t bits;
    memcpy(&bits, &got, sizeof bits);
    if ((want & 0x7FFFFFFFu) == 0x7F800000u ? st != NUMPARSE_RANGE
                                           : st != NUMPARSE_OK || bits != want ||
                                                 stop != text + len)
        tap_fail(__FILE__, __LINE__, "%s: %s: want float32 %08x, got status %d %08x", name,
                 text, want, st, bits);
    /* the texts where rounding through the double goes wrong */
    double d = strtod(text, NULL);
    float through = (float)d;
    uint32_t tb;
    memcpy(&tb, &through, sizeof tb);
    *double_rounded += tb != want && (want & 0x7FFFFFFFu) != 0x7F800000u;
}

static void check_fxx_file(const char *name, regex_t *json_number, int *cases,
                           int *double_rounded)
{
    char path[128];
    snprintf(path, sizeof path, "fxx/%s", name);
    FILE *f = test_open_data(path);
    if (!f)
        return;
    char line[4096], text[4000];
    unsigned f16, f32;
    unsigned long long f64;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%x %x %llx %3999s", &f16, &f32, &f64, text) != 4)
            continue;
        double got = 0;
        numparse_status st = parse_all(text, &got);
        int valid = regexec(json_number, text, 0, NULL, 0) == 0;
        if (!valid) {
            if (st != NUMPARSE_SYNTAX)
                tap_fail(__FILE__, __LINE__, "%s: %s is not JSON but was accepted",
                         name, text);
        } else if (isinf(test_from_bits(f64))) {
            if (st != NUMPARSE_RANGE)
                tap_fail(__FILE__, __LINE__, "%s: %s: want overflow, got %d", name,
                         text, st);
        } else if (st != NUMPARSE_OK || test_to_bits(got) != f64) {
            tap_fail(__FILE__, __LINE__, "%s: %s: want %016llx, got status %d %016llx",
                     name, text, f64, st, (unsigned long long)test_to_bits(got));
        }
        if (valid) /* the F32 column, through the float32 reader */
            check_f32(name, text, f32, double_rounded);
        (*cases)++;
    }
    fclose(f);
}

void test_numparse_fxx(void)
{
    static const char *files[] = {
        "exhaustive-float16.txt", "freetype-2-7.txt", "google-wuffs.txt",
        "lemire-fast-float.txt",  "more-test-cases.txt", "tencent-rapidjson.txt",
    };
    regex_t re;
    int rc = regcomp(&re, "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$",
                     REG_EXTENDED | REG_NOSUB);
    ASSERT_EQ(rc, 0);
    if (rc != 0)
        return;
    int cases = 0, double_rounded = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        check_fxx_file(files[i], &re, &cases, &double_rounded);
    regfree(&re);
    ASSERT_EQ(cases, 52977);
    /* The float32 reader is tested where it matters: (float)strtod(...)
     * is wrong for these, and numparse_f32 must not be. */
    printf("#   %d fxx texts round differently through a double\n", double_rounded);
    ASSERT(double_rounded > 0);
}

/* Random bit patterns (fixed seed) must format and read back exactly. */
void test_numcodec_roundtrip(void)
{
    uint64_t state = 0x9E3779B97F4A7C15u;
    char buf[NUMFMT_F64_BUF];
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13; /* xorshift64 (Marsaglia 2003) */
        state ^= state >> 7;
        state ^= state << 17;
        double v = test_from_bits(state);
        if (!isfinite(v))
            continue;
        const char *stop;
        char *end = numfmt_f64(v, buf);
        double back = 0;
        numparse_status st = numparse_f64(buf, end, &back, &stop);
        ASSERT(end - buf <= NUMFMT_F64_MAX);
        if (st != NUMPARSE_OK || stop != end || test_to_bits(back) != test_to_bits(v))
            tap_fail(__FILE__, __LINE__, "%016llx -> \"%.*s\" -> %016llx",
                     (unsigned long long)state, (int)(end - buf), buf,
                     (unsigned long long)test_to_bits(back));
    }
}

/* Decimal texts of every length against strtod: short, 17 digits, long
 * exact expansions of doubles and of midpoints between neighbours (the
 * halfway cases), with and without exponents. */
void test_numparse_vs_strtod(void)
{
    uint64_t state = 0x9E3779B97F4A7C15u;
    static char text[1024];
    for (int i = 0; i < 60000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double v = test_from_bits(state & 0x7FFFFFFFFFFFFFFFu);
        if (v != v || v - v != 0)
            continue;
        switch (i % 6) {
        case 0: snprintf(text, sizeof text, "%.17g", v); break;
        case 1: snprintf(text, sizeof text, "%.3g", v); break;
        case 2: snprintf(text, sizeof text, "%.25e", v); break;
        case 3: { /* the exact midpoint to the next double up, all digits */
            long double mid = ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
            snprintf(text, sizeof text, "%.780Le", mid);
            break;
        }
        case 4: snprintf(text, sizeof text, "%.40f", v / 1e280); break;
        default: snprintf(text, sizeof text, "%llu", (unsigned long long)(state >> (i % 64)));
        }
        /* strtod accepts a superset of JSON; the texts above are JSON but
         * for a '+' in the exponent, which JSON allows too. */
        double got = 0, want = strtod(text, NULL);
        numparse_status st = parse_all(text, &got);
        if (isinf(want) ? st != NUMPARSE_RANGE
                        : (st != NUMPARSE_OK || test_to_bits(got) != test_to_bits(want)))
            tap_fail(__FILE__, __LINE__, "%.60s...: got status %d %016llx, strtod %016llx",
                     text, st, (unsigned long long)test_to_bits(got),
                     (unsigned long long)test_to_bits(want));
    }
}

/* Halfway cases decided by a digit far beyond the 780 the slow path
 * keeps: the exact midpoint between 1 and the next double rounds to even
 * (1.0); any nonzero digit after it rounds up. */
void test_numparse_sticky(void)
{
    static const char mid[] = "1.00000000000000011102230246251565404236316680908203125";
    static char text[2048];
    double v;
    for (int tail = 0; tail < 3; tail++) {
        int n = snprintf(text, sizeof text, "%s", mid);
        memset(text + n, '0', 1500);
        n += 1500;
        text[n++] = tail == 1 ? '1' : '0';
        n += snprintf(text + n, sizeof text - (size_t)n, "%s", tail == 2 ? "e-0" : "");
        ASSERT_EQ(parse_all(text, &v), NUMPARSE_OK);
        ASSERT_BITS_EQ(v, tail == 1 ? nextafter(1.0, 2.0) : 1.0);
    }
    /* The same with the digits before the point: 10^1500 times bigger. */
    text[0] = '1';
    memset(text + 1, '0', 1500);
    snprintf(text + 1501, sizeof text - 1501, "e-1500");
    ASSERT_EQ(parse_all(text, &v), NUMPARSE_OK);
    ASSERT_BITS_EQ(v, 1.0);
}

/* numparse_f64_run: separators, the cap, where it stops, errors. */
void test_numparse_run(void)
{
    double out[8];
    size_t n;
    const char *stop;
    static const struct {
        const char *text;
        size_t cap, n;
        int stop, status; /* stop: offset */
    } cases[] = {
        {"1, 2,3 ,\t4\n]", 8, 4, 10, NUMPARSE_OK},
        {"1, 2, 3]", 2, 2, 4, NUMPARSE_OK},         /* cap reached */
        {"1, [2]", 8, 1, 1, NUMPARSE_OK},            /* ',' not followed by a number */
        {"1, -", 8, 1, 4, NUMPARSE_SYNTAX},          /* '-' starts a bad number */
        {"1, 2, 1e999, 3", 8, 2, 6, NUMPARSE_RANGE}, /* stop: start of 1e999 */
        {"1, 01", 8, 1, 4, NUMPARSE_SYNTAX},
        {"-0.5", 8, 1, 4, NUMPARSE_OK},               /* the end of the input */
        {"7 x", 8, 1, 1, NUMPARSE_OK},
        /* float32 ties: an integer below 2^53 is exact, and so is any
         * number of at most 8 decimals (TIE_FREE), so no stop; more
         * digits may not be */
        {"1, 16777217, 2", 8, 3, 14, NUMPARSE_OK},
        {"1, 16777217.0, 2", 8, 3, 16, NUMPARSE_OK},
        {"1, 8388608.5, 2", 8, 3, 15, NUMPARSE_OK},
        {"1, 16777217.000000001, 2", 8, 1, 3, NUMPARSE_TIE},
        {"1, 1.677721700000e7, 2", 8, 3, 22, NUMPARSE_OK},
        {"1.5, 1.000000059604644775390625000000000001]", 8, 1, 5, NUMPARSE_TIE},
        {"0.1, 3.4028235677973366e38", 8, 1, 5, NUMPARSE_TIE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        numparse_status st = numparse_f64_run(t, t + strlen(t), out, cases[i].cap, &n, &stop);
        if ((int)st != cases[i].status || n != cases[i].n || stop - t != cases[i].stop)
            tap_fail(__FILE__, __LINE__, "\"%s\": want %d n=%zu stop=%d, got %d n=%zu stop=%d",
                     t, cases[i].status, cases[i].n, cases[i].stop, st, n, (int)(stop - t));
    }
    const char *t = "1, 2,3 ,\t4\n]";
    numparse_f64_run(t, t + strlen(t), out, 8, &n, &stop);
    ASSERT_BITS_EQ(out[0], 1.0);
    ASSERT_BITS_EQ(out[3], 4.0);
    /* Digit runs of every length, split at every position of the 8-byte
     * blocks, against strtod. */
    char buf[64];
    for (int ilen = 1; ilen <= 20; ilen++) {
        for (int flen = 0; flen <= 20; flen++) {
            int k = 0;
            for (int j = 0; j < ilen; j++)
                buf[k++] = (char)('1' + (j * 7 + flen) % 9);
            if (flen) {
                buf[k++] = '.';
                for (int j = 0; j < flen; j++)
                    buf[k++] = (char)('0' + (j * 3 + ilen) % 10);
            }
            buf[k] = '\0';
            double got = 0;
            ASSERT_EQ(parse_all(buf, &got), NUMPARSE_OK);
            ASSERT_BITS_EQ(got, strtod(buf, NULL));
        }
    }
    /* Exponents of 1 to 7 digits (leading zeros too) and every sign, at
     * the end of the input and followed by more numbers (where one load
     * reads up to four of their digits), against strtod. */
    static const char *const exps[] = {"5", "05", "123", "0307", "-0307", "+0012", "00001",
                                       "-000300", "1234567", "-9", "+22", "-0324"};
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
        for (int tail = 0; tail < 2; tail++) {
            snprintf(buf, sizeof buf, "1.5e%s%s", exps[i], tail ? ", 12345678" : "");
            size_t len = strlen(buf);
            numparse_status st = numparse_f64_run(buf, buf + len, out, 8, &n, &stop);
            double want = strtod(buf, NULL);
            if (want > 1e308) { /* 1.5e1234567 */
                ASSERT_EQ(st, NUMPARSE_RANGE);
                continue;
            }
            ASSERT_EQ(st, NUMPARSE_OK);
            ASSERT_EQ(n, (size_t)(1 + tail));
            ASSERT_BITS_EQ(out[0], want);
        }
    }
}

/* numparse_count_commas against a byte loop: every start alignment and
 * length up to 40, bytes next to ',' in value ('-', '.', 0xac), and long
 * runs of commas that fill its byte lanes (255 blocks of 16) and carry on
 * past them. */
void test_numparse_count_commas(void)
{
    static char buf[3 * 255 * 16 + 64];
    static const char pool_bytes[] = {',', ',', '-', '.', '\xac', '\x2d', '\x0c', '\x00', '1', ' '};
    uint64_t state = 11;
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = pool_bytes[(test_rand(&state) >> 33) % sizeof pool_bytes];
    }
    for (size_t start = 0; start < 16; start++) {
        for (size_t len = 0; len <= 40; len++) {
            size_t want = 0;
            for (size_t i = start; i < start + len; i++)
                want += buf[i] == ',';
            ASSERT_EQ(numparse_count_commas(buf + start, buf + start + len), want);
        }
    }
    size_t want = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        want += buf[i] == ',';
    ASSERT_EQ(numparse_count_commas(buf, buf + sizeof buf), want);
    memset(buf, ',', sizeof buf);
    for (size_t len = 255 * 16 - 17; len < sizeof buf; len += 255 * 8 + 1)
        ASSERT_EQ(numparse_count_commas(buf + 3, buf + len), len - 3);
    ASSERT_EQ(numparse_count_commas(buf, buf + sizeof buf), sizeof buf);
}

/* float32 reading at its edges: ranges, subnormals, the tie between two
 * float32 values decided by a digit beyond the double's precision. */
void test_numparse_f32(void)
{
    static const struct {
        const char *text;
        int status;
        float want;
    } cases[] = {
        {"0.1", NUMPARSE_OK, 0.1f},
        {"-0", NUMPARSE_OK, -0.0f},
        {"3.4028234663852886e38", NUMPARSE_OK, 3.4028234663852886e38f},
        /* FLT_MAX + half an ulp, exactly: to even, which is up, past it */
        {"340282356779733661637539395458142568448", NUMPARSE_RANGE, 0},
        {"340282356779733661637539395458142568447", NUMPARSE_OK, 3.4028234663852886e38f},
        /* below it, but its double is that tie: the digits decide */
        {"3.4028235677973366e38", NUMPARSE_OK, 3.4028234663852886e38f},
        {"1e39", NUMPARSE_RANGE, 0},
        {"1e400", NUMPARSE_RANGE, 0},
        {"1.401298464324817e-45", NUMPARSE_OK, 1.401298464324817e-45f},
        {"7.006492321624085e-46", NUMPARSE_OK, 0.0f},        /* 2^-150: to even, 0 */
        {"7.0064923216240862e-46", NUMPARSE_OK, 1.401298464324817e-45f},
        {"-1e-50", NUMPARSE_OK, -0.0f},
        {"16777217", NUMPARSE_OK, 16777216.0f},                /* a tie, to even */
        {"16777217.000000000000000001", NUMPARSE_OK, 16777218.0f},
        {"16777216.999999999999999999", NUMPARSE_OK, 16777216.0f},
        /* 1 + 2^-24 (halfway between 1 and the next float32) plus 1e-30:
         * the double is the tie itself, the text is above it */
        {"1.000000059604644775390625000000000001", NUMPARSE_OK, 1.00000011920928955078125f},
        {"1.000000059604644775390625", NUMPARSE_OK, 1.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text, *stop;
        float got = 12345;
        numparse_status st = numparse_f32(t, t + strlen(t), &got, &stop);
        if ((int)st != cases[i].status ||
            (st == NUMPARSE_OK && memcmp(&got, &cases[i].want, sizeof got) != 0))
            tap_fail(__FILE__, __LINE__, "%s: want %d %a, got %d %a", t, cases[i].status,
                     (double)cases[i].want, st, (double)got);
    }
    ASSERT(numparse_f32_tie(16777217.0));
    ASSERT(!numparse_f32_tie(16777216.0));
    ASSERT(numparse_f32_tie(0x1p-150));
    ASSERT(numparse_f32_tie(0x3p-150));
    ASSERT(!numparse_f32_tie(0x2p-150));
    ASSERT(numparse_f32_tie(0x1.fffffep127 + 0x1p103));
    ASSERT(!numparse_f32_tie(0.1));
}

/* Why the run need not test texts of at most 8 decimals for float32 ties
 * (TIE_FREE in numparse.c): the decimals of 1 to 8 places nearest to
 * float32 midpoints D * 2^-s (2^24 <= D < 2^25, D odd) round, through the
 * double, to the same float32 as directly. */
void test_numparse_tie_free(void)
{
    uint64_t state = 77;
    char text[64];
    int checked = 0;
    for (int i = 0; i < 40000; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        uint64_t D = ((uint64_t)1 << 24) | (state >> 40) | 1;
        int s = 24 - (int)(state >> 20 & 15); /* values from 2^0 to 2^15 */
        double mid = ldexp((double)D, -s);
        for (int places = 1; places <= 8; places++) {
            snprintf(text, sizeof text, "%.*f", places, mid);
            double d;
            float f;
            const char *stop;
            size_t len = strlen(text);
            if (numparse_f64(text, text + len, &d, &stop) != NUMPARSE_OK ||
                numparse_f32(text, text + len, &f, &stop) != NUMPARSE_OK)
                continue;
            float through = (float)d;
            if (memcmp(&through, &f, sizeof f) != 0)
                tap_fail(__FILE__, __LINE__, "%s: through the double %a, directly %a", text,
                         (double)through, (double)f);
            checked++;
        }
    }
    ASSERT(checked > 300000);
}
