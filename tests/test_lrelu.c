/* Tests of the kernels (src/lrelu.c and its per-ISA files): the scalar
 * specification, and every SIMD variant against it bit for bit. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/lrelu.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* At least `need` readable bytes that end against an unreadable page (a
 * read past their end faults); *bytes is how many there are before it.
 * Free with munmap(region, *bytes + page size). NULL on failure. */
static char *guarded(size_t need, size_t *bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *bytes = (need + page - 1) / page * page;
    char *region = mmap(NULL, *bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    ASSERT(region != MAP_FAILED);
    if (region == MAP_FAILED)
        return NULL;
    ASSERT_EQ(mprotect(region + *bytes, page, PROT_NONE), 0);
    return region;
}

void test_lrelu_scalar(void)
{
    static const double slopes[] = {0.01, 0.0, 1.0, 2.5, -0.5, -0.0};
    static const double xs[] = {3.0, -3.0, 0.0, -0.0, 1e-310, -1e-310, 1e308, -1e308,
                                0.5, -0.25};
    size_t n = sizeof xs / sizeof xs[0];
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        double a = slopes[s], y[16], g[16], dx[16], dy[16];
        for (size_t i = 0; i < n; i++)
            dy[i] = (double)i - 4.5;
        lrelu_forward_f64(xs, y, n, a);
        lrelu_gradient_f64(xs, g, n, a);
        lrelu_backward_f64(xs, dy, dx, n, a);
        for (size_t i = 0; i < n; i++) {
            double x = xs[i];
            ASSERT_BITS_EQ(y[i], x > 0 ? x : a * x);
            ASSERT_BITS_EQ(g[i], x > 0 ? 1.0 : a);
            ASSERT_BITS_EQ(dx[i], dy[i] * (x > 0 ? 1.0 : a));
        }
    }
    /* The documented special values. */
    double x[3] = {-0.0, 0.0, -2.0}, y[3];
    lrelu_forward_f64(x, y, 3, 0.01);
    ASSERT_BITS_EQ(y[0], -0.0);
    ASSERT_BITS_EQ(y[1], 0.0);
    ASSERT_BITS_EQ(y[2], -0.02);
    lrelu_forward_f64(x, y, 3, 0.0);
    ASSERT_BITS_EQ(y[2], -0.0);
    lrelu_forward_f64(x, y, 3, 2.0); /* slope > 1: not max(a*x, x) */
    ASSERT_BITS_EQ(y[2], -4.0);
    lrelu_gradient_f64(x, y, 3, 0.2);
    ASSERT_BITS_EQ(y[0], 0.2);
    ASSERT_BITS_EQ(y[1], 0.2);
    /* In place. */
    lrelu_forward_f64(x, x, 3, 0.5);
    ASSERT_BITS_EQ(x[2], -1.0);
    ASSERT_EQ(lrelu_find_nonfinite_f64(x, 3), 3);
    double inf[2] = {1.0, INFINITY};
    ASSERT_EQ(lrelu_find_nonfinite_f64(inf, 2), 1);
    ASSERT_EQ(lrelu_find_nonfinite_f64(inf, 0), 0);
    /* every position in and around the blocks of 8, and the values at the
     * edge: the largest finite, NaN, -inf, a negative NaN */
    static double a[40];
    const double specials[] = {INFINITY, -INFINITY, NAN, -NAN};
    for (size_t len = 0; len <= 40; len++) {
        for (size_t k = 0; k < 40; k++)
            a[k] = k % 2 ? -DBL_MAX : DBL_MAX;
        ASSERT_EQ(lrelu_find_nonfinite_f64(a, len), len);
        for (size_t at = 0; at < len; at++) {
            a[at] = specials[(at + len) % 4];
            if (at + 1 < len)
                a[at + 1] = specials[(at + len + 1) % 4]; /* the first one counts */
            ASSERT_EQ(lrelu_find_nonfinite_f64(a, len), at);
            a[at] = DBL_MAX;
            if (at + 1 < len)
                a[at + 1] = DBL_MAX;
        }
    }
}

/* The compiled variant named isa, when this CPU runs it; else NULL, and
 * the running test is skipped, saying why. */
static const lrelu__variant *variant(const char *isa)
{
    size_t nv;
    const lrelu__variant *v = lrelu__variants(&nv);
    for (size_t k = 0; k < nv; k++) {
        if (strcmp(v[k].name, isa) != 0)
            continue;
        if (v[k].supported())
            return &v[k];
        tap_skip("%s not supported by this CPU", isa);
        return NULL;
    }
    tap_skip("%s is not compiled for this architecture", isa);
    return NULL;
}

/* The variants lrelu_variant_* test, besides scalar (the specification). */
static const char *const tested[] = {"sse2", "avx2", "avx512f", "neon"};

/* The build's variants are scalar and tested ones, and the one in use is
 * the last this CPU runs. */
void test_lrelu_dispatch(void)
{
    size_t nv;
    const lrelu__variant *v = lrelu__variants(&nv);
    const char *best = "scalar";
    ASSERT(nv >= 1);
    ASSERT_STR_EQ(v[0].name, "scalar");
    for (size_t k = 1; k < nv; k++) {
        size_t t = 0;
        while (t < sizeof tested / sizeof tested[0] && strcmp(v[k].name, tested[t]) != 0)
            t++;
        if (t == sizeof tested / sizeof tested[0])
            tap_fail(__FILE__, __LINE__, "variant %s has no lrelu_variant_%s test", v[k].name,
                     v[k].name);
        if (v[k].supported())
            best = v[k].name;
    }
    ASSERT_STR_EQ(lrelu_variant(), best);
}

/* The SIMD variant isa equals the scalar kernel bit for bit at every tile
 * edge, in place and out of place, for several slopes, with the array's
 * end against an unreadable page (a read past the end faults). */
static void check_f64(const char *isa)
{
    static const double slopes[] = {0.01, 0.0, -0.0, 1.0, 2.5, -0.5, 1e-300, 1e300};
    static const size_t sizes[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,  15, 16,
                                   17, 31, 32, 33, 63, 64, 65, 100, 1000, 1003};
    enum { MAXN = 1003 };
    const lrelu__variant *v = variant(isa);
    if (!v)
        return;
    size_t bytes;
    char *region = guarded(MAXN * sizeof(double) * 3, &bytes), *guard = region + bytes;
    if (!region)
        return;
    double x[MAXN], dy[MAXN], want[MAXN];
    uint64_t state = 7;
    for (size_t i = 0; i < MAXN; i++) {
        static const double special[] = {0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 1.0, -1.0};
        uint64_t u = test_rand(&state);
        double r = (double)(int64_t)u / 9.2e18 * 1000.0;
        x[i] = i % 5 == 0 ? special[(u >> 33) % 8] : r;
        dy[i] = (double)(int64_t)(u * 3) / 9.2e18;
    }
    v->forward(NULL, NULL, 0, 0.5); /* n == 0: the pointers may be NULL */
    v->gradient(NULL, NULL, 0, 0.5);
    v->backward(NULL, NULL, NULL, 0, 0.5);
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            /* Inputs and output end at the guard page. */
            double *out = (double *)(void *)(guard - n * sizeof(double));
            double *xin = out - n, *din = xin - n;
            for (int op = 0; op < 3; op++) {
                memcpy(xin, x, n * sizeof(double));
                memcpy(din, dy, n * sizeof(double));
                if (op == 0) {
                    lrelu_forward_f64__scalar(x, want, n, slopes[s]);
                    v->forward(xin, out, n, slopes[s]);
                } else if (op == 1) {
                    lrelu_gradient_f64__scalar(x, want, n, slopes[s]);
                    v->gradient(xin, out, n, slopes[s]);
                } else {
                    lrelu_backward_f64__scalar(x, dy, want, n, slopes[s]);
                    v->backward(xin, din, out, n, slopes[s]);
                }
                if (n && memcmp(out, want, n * sizeof(double)) != 0)
                    tap_fail(__FILE__, __LINE__, "%s op %d slope %g n %zu differs", v->name,
                             op, slopes[s], n);
                /* In place: the output overwrites x (or dy). */
                memcpy(out, x, n * sizeof(double));
                memcpy(din, dy, n * sizeof(double));
                if (op == 0)
                    v->forward(out, out, n, slopes[s]);
                else if (op == 1)
                    v->gradient(out, out, n, slopes[s]);
                else
                    v->backward(out, din, out, n, slopes[s]);
                if (n && memcmp(out, want, n * sizeof(double)) != 0)
                    tap_fail(__FILE__, __LINE__, "%s op %d slope %g n %zu in place differs",
                             v->name, op, slopes[s], n);
            }
        }
    }
    munmap(region, bytes + (size_t)sysconf(_SC_PAGESIZE));
}

/* The float32 scalar kernels: float32 products (not double ones rounded
 * later), the slope as given, signs of zero kept. */
void test_lrelu_scalar_f32(void)
{
    static const float slopes[] = {0.01f, 0.0f, 1.0f, 2.5f, -0.5f, -0.0f, 1e30f};
    static const float xs[] = {3.0f, -3.0f, 0.0f, -0.0f, 1e-40f, -1e-40f, 3e38f, -3e38f,
                               0.1f, -0.1f};
    size_t n = sizeof xs / sizeof xs[0];
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        float a = slopes[s], y[16], g[16], dx[16], dy[16];
        for (size_t i = 0; i < n; i++)
            dy[i] = (float)i - 4.3f;
        lrelu_forward_f32(xs, y, n, a);
        lrelu_gradient_f32(xs, g, n, a);
        lrelu_backward_f32(xs, dy, dx, n, a);
        for (size_t i = 0; i < n; i++) {
            float x = xs[i], wy = x > 0 ? x : a * x, wg = x > 0 ? 1.0f : a;
            float wd = dy[i] * (x > 0 ? 1.0f : a);
            ASSERT(memcmp(&y[i], &wy, 4) == 0 && memcmp(&g[i], &wg, 4) == 0 &&
                   memcmp(&dx[i], &wd, 4) == 0);
        }
    }
    /* -0.1f * 0.01f in float32 is not the double product rounded twice
     * the other way: check against the float32 product's exact bits */
    float x[3] = {-0.1f, -0.0f, -3e38f}, y[3];
    lrelu_forward_f32(x, y, 3, 0.01f);
    float want = (float)((double)-0.1f * (double)0.01f); /* exact product, one rounding */
    ASSERT(memcmp(&y[0], &want, 4) == 0);
    ASSERT(signbit(y[1]));
    lrelu_forward_f32(x, y, 3, 2.0f); /* overflows float32, not double */
    ASSERT(isinf(y[2]));
    ASSERT_EQ(lrelu_find_nonfinite_f32(y, 3), 2);
    ASSERT_EQ(lrelu_find_nonfinite_f32(y, 2), 2);
}

/* check_f64 for the float32 kernels: every tile edge of 4, 8 and 16
 * floats, in place, against an unreadable page. */
static void check_f32(const char *isa)
{
    static const float slopes[] = {0.01f, 0.0f, -0.0f, 1.0f, 2.5f, -0.5f, 1e-30f, 1e30f};
    static const size_t sizes[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,  15, 16,  17,  31,
                                   32, 33, 47, 48, 63, 64, 65, 100, 1000, 1003, 1024};
    enum { MAXN = 1024 };
    const lrelu__variant *v = variant(isa);
    if (!v)
        return;
    size_t bytes;
    char *region = guarded(MAXN * sizeof(float) * 3, &bytes), *guard = region + bytes;
    if (!region)
        return;
    float x[MAXN], dy[MAXN], want[MAXN];
    uint64_t state = 9;
    for (size_t i = 0; i < MAXN; i++) {
        static const float special[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 3e38f, -3e38f, 1.0f, -1.0f};
        uint64_t u = test_rand(&state);
        float r = (float)((double)(int64_t)u / 9.2e18 * 1000.0);
        x[i] = i % 5 == 0 ? special[(u >> 33) % 8] : r;
        dy[i] = (float)((double)(int64_t)(u * 3) / 9.2e18);
    }
    v->forward32(NULL, NULL, 0, 0.5f);
    v->gradient32(NULL, NULL, 0, 0.5f);
    v->backward32(NULL, NULL, NULL, 0, 0.5f);
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            size_t n = sizes[z];
            float *out = (float *)(void *)(guard - n * sizeof(float));
            float *xin = out - n, *din = xin - n;
            for (int op = 0; op < 3; op++) {
                for (int in_place = 0; in_place < 2; in_place++) {
                    memcpy(xin, x, n * sizeof(float));
                    memcpy(din, dy, n * sizeof(float));
                    float *src = xin;
                    if (in_place) {
                        memcpy(out, x, n * sizeof(float));
                        src = out;
                    }
                    if (op == 0) {
                        lrelu_forward_f32__scalar(x, want, n, slopes[s]);
                        v->forward32(src, out, n, slopes[s]);
                    } else if (op == 1) {
                        lrelu_gradient_f32__scalar(x, want, n, slopes[s]);
                        v->gradient32(src, out, n, slopes[s]);
                    } else {
                        lrelu_backward_f32__scalar(x, dy, want, n, slopes[s]);
                        v->backward32(src, din, out, n, slopes[s]);
                    }
                    if (n && memcmp(out, want, n * sizeof(float)) != 0)
                        tap_fail(__FILE__, __LINE__, "%s f32 op %d slope %g n %zu%s differs",
                                 v->name, op, (double)slopes[s], n,
                                 in_place ? " in place" : "");
                }
            }
        }
    }
    munmap(region, bytes + (size_t)sysconf(_SC_PAGESIZE));
}

/* One test per variant and element type: lrelu_variant_avx2, ... */
#define VARIANT_TESTS(isa)                                                     \
    void test_lrelu_variant_##isa(void) { check_f64(#isa); }                   \
    void test_lrelu_variant_f32_##isa(void) { check_f32(#isa); }
VARIANT_TESTS(sse2)
VARIANT_TESTS(avx2)
VARIANT_TESTS(avx512f)
VARIANT_TESTS(neon)
