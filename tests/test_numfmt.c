/* Tests of the number formatter (src/numfmt.c): the shared vectors, the
 * layout of special values, and random doubles against a reference. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../src/numfmt.h"
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
