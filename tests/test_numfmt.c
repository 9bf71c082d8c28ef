/* Tests of the number formatter (src/numfmt.c): the shared vectors, the
 * layout of special values, random doubles against a reference, and the
 * one-product fast path against the exact Schubfach path. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "../src/numfmt.h"
#include "../src/numparse.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

static void format_into(double v, char *out)
{
    char buf[NUMFMT_F64_BUF];
    char *end = numfmt_f64(v, buf);
    memcpy(out, buf, (size_t)(end - buf));
    out[end - buf] = '\0';
}

void test_numfmt_layout(void)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {2.0, "2.0"}, {0.1, "0.1"},
        {-0.25, "-0.25"}, {1e-5, "1e-05"}, {1e-4, "0.0001"}, {1e16, "1e+16"},
        {1e15, "1000000000000000.0"}, {123456789012345680.0, "1.2345678901234568e+17"},
        {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"}, {1e100, "1e+100"},
        {9007199254740993.0, "9007199254740992.0"}, {0.3, "0.3"}, {1.5e-7, "1.5e-07"},
        {NAN, "NaN"}, {INFINITY, "Infinity"}, {-INFINITY, "-Infinity"},
    };
    char got[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_into(cases[i].v, got);
        ASSERT_STR_EQ(got, cases[i].text);
    }
}

void test_numfmt_vectors(void)
{
    FILE *f = test_open_data("format_f64.txt");
    if (!f)
        return;
    char line[256], text[64], got[64];
    unsigned long long bits;
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%llx %63s", &bits, text) != 2)
            continue;
        format_into(test_from_bits(bits), got);
        if (strcmp(got, text) != 0)
            tap_fail(__FILE__, __LINE__, "bits %016llx: want \"%s\", got \"%s\"",
                     bits, text, got);
        cases++;
    }
    fclose(f);
    ASSERT_EQ(cases, 20000);
}

/* Random doubles of every kind against the printf/strtod reference. */
void test_numfmt_vs_reference(void)
{
    uint64_t state = 0x2545F4914F6CDD1Du;
    char a[64], b[64];
    for (int i = 0; i < 300000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        uint64_t bits = state;
        switch (i % 4) {
        case 1: bits &= 0x800FFFFFFFFFFFFFu; break;         /* subnormals */
        case 2: bits &= 0xFFF0000000000000u | (bits >> 40); break; /* short */
        case 3: bits = (bits & 0x8000000000000000u) | /* powers of two */
                       ((bits >> 1) & 0x7FF0000000000000u); break;
        default: break;
        }
        double v = test_from_bits(bits);
        if (v != v || v - v != 0)
            continue;
        char *ea = numfmt_f64(v, a), *eb = ref_numfmt_f64(v, b);
        *ea = *eb = '\0';
        if (strcmp(a, b) != 0)
            tap_fail(__FILE__, __LINE__, "%016llx: got %s, reference %s",
                     (unsigned long long)bits, a, b);
    }
}

/* Doubles of the kinds that come near the fast path's thresholds, and
 * random ones: numfmt_f64 must write what numfmt__exact_f64 writes. */
typedef struct {
    uint64_t seed, count, failures, first_bad;
} f64_sweep;

static double fast_case(uint64_t *state, uint64_t i)
{
    static const double tens[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e15, 1e22, 1e-5, 1e-9};
    uint64_t r = test_rand(state), s = test_rand(state);
    double v;
    switch (i % 6) {
    case 0: return test_from_bits(r); /* any bits */
    case 1: /* short decimals */
        return (double)(r % 10000000) / tens[s % 12];
    case 2: /* dyadic values with few bits: exact midpoints and ties */
        return ldexp((double)(r % 100000), (int)(s % 120) - 60);
    case 3: /* subnormals */
        return test_from_bits(r & 0x000FFFFFFFFFFFFFu);
    case 4: /* neighbours of short decimals, whose interval bounds are near them */
        v = (double)(r % 100000) / tens[s % 12];
        return s & 1 ? nextafter(v, 0) : nextafter(v, INFINITY);
    default: /* powers of two and their neighbours, every exponent */
        v = ldexp(1, (int)(r % 2098) - 1074);
        return s % 3 == 0 ? v : s % 3 == 1 ? nextafter(v, 0) : nextafter(v, INFINITY);
    }
}

static void *sweep_fast_f64(void *arg)
{
    f64_sweep *w = arg;
    uint64_t state = w->seed;
    char a[NUMFMT_F64_BUF], b[NUMFMT_F64_BUF];
    for (uint64_t i = 0; i < w->count; i++) {
        double v = fast_case(&state, i);
        if (v != v || v - v != 0)
            continue;
        char *ea = numfmt_f64(v, a), *eb = numfmt__exact_f64(v, b);
        if (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0) {
            if (!w->failures++)
                w->first_bad = test_to_bits(v);
        }
    }
    return NULL;
}

/* 600,000 doubles (60,000 when instrumented; 200 million with
 * LEAKYRELU_HARD=1), on two threads. */
void test_numfmt_fast_vs_exact(void)
{
    uint64_t half = test_hard() ? 100000000 : test_instrumented() ? 30000 : 300000;
    f64_sweep w[2] = {{0x9E3779B97F4A7C15u, half, 0, 0}, {0xD1B54A32D192ED03u, half, 0, 0}};
    pthread_t th;
    ASSERT_EQ(pthread_create(&th, NULL, sweep_fast_f64, &w[1]), 0);
    sweep_fast_f64(&w[0]);
    pthread_join(th, NULL);
    for (int i = 0; i < 2; i++)
        if (w[i].failures)
            tap_fail(__FILE__, __LINE__, "%llu doubles differ from the exact path, first %016llx",
                     (unsigned long long)w[i].failures, (unsigned long long)w[i].first_bad);
    printf("#   %llu doubles written by both paths\n", (unsigned long long)(2 * half));
}

static void format_f32_into(float v, char *out)
{
    char buf[NUMFMT_F32_BUF];
    char *end = numfmt_f32(v, buf);
    ASSERT(end - buf <= NUMFMT_F32_MAX);
    memcpy(out, buf, (size_t)(end - buf));
    out[end - buf] = '\0';
}

void test_numfmt_f32_layout(void)
{
    static const struct {
        float v;
        const char *text;
    } cases[] = {
        {0.0f, "0.0"}, {-0.0f, "-0.0"}, {1.0f, "1.0"}, {2.0f, "2.0"}, {0.1f, "0.1"},
        {-0.25f, "-0.25"}, {1e-5f, "1e-05"}, {1e-4f, "0.0001"}, {1e16f, "1e+16"},
        {1e15f, "1000000000000000.0"}, {-1e15f, "-1000000000000000.0"},
        {16777216.0f, "16777216.0"}, {16777218.0f, "16777218.0"},
        {3.4028234663852886e38f, "3.4028235e+38"}, {1.401298464324817e-45f, "1e-45"},
        {1.1754943508222875e-38f, "1.1754944e-38"}, {-1.1754942106924411e-38f, "-1.1754942e-38"},
        {0.3f, "0.3"}, {1.5e-7f, "1.5e-07"}, {123456.789f, "123456.79"},
        {(float)(1.0 / 3.0), "0.33333334"}, {NAN, "NaN"}, {INFINITY, "Infinity"},
        {-INFINITY, "-Infinity"},
    };
    char got[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        format_f32_into(cases[i].v, got);
        ASSERT_STR_EQ(got, cases[i].text);
    }
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Random float32 values of every kind against the printf/strtof
 * reference: shortest, then closest. */
void test_numfmt_f32_vs_reference(void)
{
    uint64_t state = 0x2545F4914F6CDD1Du;
    char a[64], b[64];
    for (int i = 0; i < 200000; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        uint32_t bits = (uint32_t)(state >> 16);
        switch (i % 4) {
        case 1: bits &= 0x807FFFFFu; break;                        /* subnormals */
        case 2: bits &= 0xFF800000u | (bits >> 16); break;          /* short */
        case 3: bits = (bits & 0x80000000u) | ((bits >> 1) & 0x7F800000u); break; /* 2^n */
        default: break;
        }
        float v = f32_from(bits);
        if (v != v || v - v != 0)
            continue;
        char *ea = numfmt_f32(v, a), *eb = ref_numfmt_f32(v, b);
        *ea = *eb = '\0';
        if (strcmp(a, b) != 0)
            tap_fail(__FILE__, __LINE__, "%08x: got %s, reference %s", bits, a, b);
    }
}

/* Every finite float32 from `first` on, `step` apart: formatted as the
 * exact path formats it, then read back by strtof and by numparse_f32,
 * exactly; returns the failures. */
typedef struct {
    uint64_t first, step, count;
    uint64_t failures;
    uint32_t first_bad;
} f32_sweep;

static void *sweep_f32(void *arg)
{
    f32_sweep *w = arg;
    char buf[NUMFMT_F32_BUF + 1], exact[NUMFMT_F32_BUF];
    for (uint64_t i = 0, u = w->first; i < w->count; i++, u += w->step) {
        uint32_t bits = (uint32_t)u;
        if ((bits & 0x7F800000u) == 0x7F800000u)
            continue;
        float v = f32_from(bits), back = 0;
        char *end = numfmt_f32(v, buf), *exact_end = numfmt__exact_f32(v, exact);
        *end = '\0';
        const char *stop;
        float c = strtof(buf, NULL);
        if (end - buf != exact_end - exact || memcmp(buf, exact, (size_t)(end - buf)) != 0 ||
            numparse_f32(buf, end, &back, &stop) != NUMPARSE_OK || stop != end ||
            f32_bits(back) != bits || f32_bits(c) != bits) {
            if (!w->failures++)
                w->first_bad = bits;
        }
    }
    return NULL;
}

/* A random million float32 bit patterns (100,000 when instrumented; all
 * 2^32 with LEAKYRELU_HARD=1, on two threads, a few minutes) are written
 * as the exact path writes them and round-trip through numfmt_f32. */
void test_numfmt_f32_round_trip(void)
{
    f32_sweep w[2];
    pthread_t th;
    if (test_hard()) {
        w[0] = (f32_sweep){0, 2, (uint64_t)1 << 31, 0, 0};
        w[1] = (f32_sweep){1, 2, (uint64_t)1 << 31, 0, 0};
    } else { /* strides odd and coprime to 2^32: scattered over all patterns */
        uint64_t half = test_instrumented() ? 50000 : 500000;
        w[0] = (f32_sweep){12345, 0x9E3779B1u, half, 0, 0};
        w[1] = (f32_sweep){67890, 0x85EBCA77u, half, 0, 0};
    }
    ASSERT_EQ(pthread_create(&th, NULL, sweep_f32, &w[1]), 0);
    sweep_f32(&w[0]);
    pthread_join(th, NULL);
    for (int i = 0; i < 2; i++)
        if (w[i].failures)
            tap_fail(__FILE__, __LINE__, "%llu float32 values do not round-trip, first %08x",
                     (unsigned long long)w[i].failures, w[i].first_bad);
    printf("#   %llu float32 bit patterns formatted and read back\n",
             (unsigned long long)(w[0].count + w[1].count));
}
