/* Tests of the function's picture (src/plot.c) without a server: which
 * specs are refused, the size bound over many specs, and the text the
 * picture carries. tests/plot_check.py reads the pictures as an SVG
 * consumer does (the curves against the kernel, the ticks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/plot.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

static plot_spec spec_of(double xmin, double xmax, double slope)
{
    return (plot_spec){.slopes = {slope}, .nslopes = 1, .xmin = xmin, .xmax = xmax,
                       .what = PLOT_BOTH, .width = 640, .height = 400};
}

void test_plot_check(void)
{
    plot_spec s = spec_of(-5, 5, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_OK);
    s = spec_of(1, 1, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(2, 1, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(NAN, 1, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(-INFINITY, 1, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(-1.7e308, 1.7e308, 0.01); /* the span overflows */
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(1000, 1000.0001, 0.01); /* under a millionth of |x| */
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(1000, 1000.01, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_OK);
    s = spec_of(1, 1 + 1e-12, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(-1e-300, 1e-300, 0.01); /* tiny, but wide for its size */
    ASSERT_EQ(plot_check(&s), PLOT_OK);
    s.f32 = 1; /* both ends are 0 in float32 */
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(-1e39, 1, 0.01);
    s.f32 = 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_RANGE);
    s = spec_of(-5, 5, 1e300);
    ASSERT_EQ(plot_check(&s), PLOT_OK);
    s.f32 = 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SLOPES);
    s = spec_of(-1e300, 5, 1e300);
    ASSERT_EQ(plot_check(&s), PLOT_NOT_FINITE);
    s = spec_of(-1e30, 5, 1e10);
    s.f32 = 1; /* 1e40 is past float32 */
    ASSERT_EQ(plot_check(&s), PLOT_NOT_FINITE);
    s = spec_of(-5, 5, NAN);
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SLOPES);
    s = spec_of(-5, 5, 0.01);
    s.nslopes = 0;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SLOPES);
    s.nslopes = PLOT_SLOPES_MAX + 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SLOPES);
    s = spec_of(-5, 5, 0.01);
    s.width = PLOT_WIDTH_MIN - 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SIZE);
    s.width = PLOT_WIDTH_MAX + 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SIZE);
    s.width = PLOT_WIDTH_MAX;
    s.height = PLOT_HEIGHT_MIN - 1;
    ASSERT_EQ(plot_check(&s), PLOT_BAD_SIZE);
    s.height = PLOT_HEIGHT_MAX;
    ASSERT_EQ(plot_check(&s), PLOT_OK);
}

/* Random specs: each picture fits plot_svg_max, fills exactly its length
 * plus the NUL, and is refused by a buffer one byte shorter. */
void test_plot_bound(void)
{
    uint64_t rng = 42;
    size_t worst = 0;
    for (int i = 0; i < 300; i++) {
        plot_spec s = spec_of(0, 1, 0);
        s.nslopes = 1 + test_rand(&rng) % PLOT_SLOPES_MAX;
        for (size_t k = 0; k < s.nslopes; k++)
            s.slopes[k] = (test_rand_unit(&rng) - 0.5) * pow(10, (double)(test_rand(&rng) % 13) - 6);
        double mid = (test_rand_unit(&rng) - 0.5) * pow(10, (double)(test_rand(&rng) % 30) - 12);
        double half = fabs(mid) * 1e-5 + pow(10, (double)(test_rand(&rng) % 24) - 12);
        s.xmin = i % 7 == 0 ? 0 : mid - half;
        s.xmax = mid + half;
        s.what = (plot_what)(1 + test_rand(&rng) % 3);
        s.f32 = (int)(test_rand(&rng) % 2);
        s.width = PLOT_WIDTH_MIN + (int)(test_rand(&rng) % (PLOT_WIDTH_MAX - PLOT_WIDTH_MIN + 1));
        s.height = PLOT_HEIGHT_MIN + (int)(test_rand(&rng) % (PLOT_HEIGHT_MAX - PLOT_HEIGHT_MIN + 1));
        if (plot_check(&s) != PLOT_OK)
            continue;
        size_t cap = plot_svg_max(&s);
        char *buf = malloc(cap);
        ASSERT(buf != NULL);
        if (!buf)
            return;
        size_t len = plot_svg(&s, buf, cap);
        ASSERT(len > 0 && len < cap);
        ASSERT_EQ(strlen(buf), len);
        ASSERT_EQ(plot_svg(&s, buf, len), 0);
        ASSERT_EQ(plot_svg(&s, buf, len + 1), len);
        worst = len * 100 / cap > worst ? len * 100 / cap : worst;
        free(buf);
    }
    printf("# the largest picture took %zu%% of its bound\n", worst);
}

static char *draw(const plot_spec *s)
{
    size_t cap = plot_svg_max(s);
    char *buf = malloc(cap);
    if (buf && plot_svg(s, buf, cap) == 0) {
        free(buf);
        buf = NULL;
    }
    ASSERT(buf != NULL);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

void test_plot_text(void)
{
    plot_spec s = spec_of(-5, 5, 0.1);
    s.f32 = 1;
    char *svg = draw(&s);
    if (!svg)
        return;
    /* float32's slope as float32 prints it; the formula's '>' escaped */
    ASSERT(strstr(svg, "<title>Leaky ReLU, a = 0.1, float32</title>") != NULL);
    ASSERT(strstr(svg, "x if x &gt; 0, else a\xc2\xb7x") != NULL);
    ASSERT(strstr(svg, "x > 0") == NULL);
    ASSERT(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                        "version=\"1.1\" width=\"640\" height=\"400\"", 110) == 0);
    ASSERT_EQ(count(svg, "<g>"), 2);
    ASSERT_EQ(count(svg, "class=\"curve\""), 2);
    ASSERT_EQ(count(svg, "class=\"at-zero\""), 1); /* the gradient's dots at 0 */
    ASSERT_EQ(count(svg, "class=\"after-zero\""), 1);
    ASSERT_EQ(count(svg, "<script"), 0);
    free(svg);

    s = spec_of(-3, 2, 0.25);
    s.slopes[1] = -0.5;
    s.slopes[2] = 1e-05;
    s.nslopes = 3;
    s.what = PLOT_GRADIENT;
    if (!(svg = draw(&s)))
        return;
    ASSERT(strstr(svg, "<title>Leaky ReLU, a = 0.25, -0.5, 1e-05 (PReLU), float64</title>") != NULL);
    ASSERT_EQ(count(svg, "<g>"), 1);
    ASSERT_EQ(count(svg, "class=\"curve\""), 3);
    ASSERT_EQ(count(svg, "class=\"at-zero\""), 3);
    ASSERT(strstr(svg, ">a = 1e-05</text>") != NULL); /* the legend */
    /* each gradient curve is two subpaths */
    for (const char *p = svg; (p = strstr(p, "class=\"curve\"")) != NULL; p++) {
        const char *d = strstr(p, " d=\""), *end = d ? strchr(d + 4, '"') : NULL;
        size_t ms = 0;
        for (const char *q = d; q && q < end; q++)
            ms += *q == 'M';
        ASSERT_EQ(ms, 2);
    }
    free(svg);

    s = spec_of(1, 9, 0.5); /* no origin in range: no dots, one piece */
    s.what = PLOT_GRADIENT;
    if (!(svg = draw(&s)))
        return;
    ASSERT_EQ(count(svg, "class=\"at-zero\""), 0);
    ASSERT_EQ(count(svg, " M"), 0);
    free(svg);

    /* A range up to near DBL_MAX, its span finite: its points once took
     * the span times their index first, which overflowed (make fuzz: GET
     * /plot.svg?xmin=-3&xmax=1e308 drew inf and nan coordinates). */
    s = spec_of(-3, 1e308, 0.01);
    ASSERT_EQ(plot_check(&s), PLOT_OK);
    if (!(svg = draw(&s)))
        return;
    ASSERT_EQ(count(svg, "inf"), 0);
    ASSERT_EQ(count(svg, "nan"), 0);
    free(svg);
}
