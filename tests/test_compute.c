/* Tests of src/compute.c: the kernel in parts on the workers gives the
 * scalar kernel's values bit for bit, for every op and part count, and
 * finds the first non-finite result wherever it is. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../src/compute.h"
#include "../src/lrelu.h"
#include "../src/pool.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* Sizes of whole parts plus a few: parts are multiples of 8 but the last. */
static const size_t sizes[] = {0, 1, 1000, COMPUTE_PART * 2 - 1, COMPUTE_PART * 2 + 1,
                               COMPUTE_PART * 3 + 5, COMPUTE_PART * 7 + 3};

/* A tensor over the caller's n elements (not owned: never tensor_free it). */
static tensor view(void *data, size_t n, tensor_dtype dtype)
{
    tensor t;
    tensor_init(&t);
    t.data = data;
    t.count = t.cap = n;
    t.dtype = dtype;
    t.ndim = 1;
    t.shape[0] = n;
    return t;
}

static size_t apply_f64(compute_op op, double *x, const double *dy, size_t n, double slope,
                        pool *workers)
{
    tensor tx = view(x, n, TENSOR_F64), tg = view((void *)(uintptr_t)dy, n, TENSOR_F64);
    compute_slope cs = {&slope, 1, 1};
    return compute_apply(op, &tx, dy ? &tg : NULL, &cs, 1, workers);
}

void test_compute_parts(void)
{
    static const double slopes[] = {0.01, 0.0, -0.5, 2.5};
    enum { MAXN = COMPUTE_PART * 7 + 3 };
    double *x = malloc(MAXN * sizeof *x), *dy = malloc(MAXN * sizeof *dy);
    double *want = malloc(MAXN * sizeof *want), *got = malloc(MAXN * sizeof *got);
    pool *pools[3] = {NULL, pool_new(1), pool_new(3)};
    ASSERT(x && dy && want && got && pools[1] && pools[2]);
    if (!x || !dy || !want || !got)
        goto out;
    uint64_t state = 17;
    for (size_t i = 0; i < MAXN; i++) {
        x[i] = test_rand_unit(&state) * 2000 - 1000;
        dy[i] = test_rand_unit(&state) - 0.5;
        if (i % 11 == 0)
            x[i] = i % 2 ? -0.0 : 0.0;
    }
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
            for (int op = COMPUTE_FORWARD; op <= COMPUTE_BACKWARD; op++) {
                if (op == COMPUTE_FORWARD)
                    lrelu_forward_f64__scalar(x, want, n, slopes[s]);
                else if (op == COMPUTE_GRADIENT)
                    lrelu_gradient_f64__scalar(x, want, n, slopes[s]);
                else
                    lrelu_backward_f64__scalar(x, dy, want, n, slopes[s]);
                for (int p = 0; p < 3; p++) {
                    memcpy(got, x, n * sizeof *got);
                    size_t bad = apply_f64((compute_op)op, got, dy, n, slopes[s], pools[p]);
                    if (bad != n || (n && memcmp(got, want, n * sizeof *got) != 0))
                        tap_fail(__FILE__, __LINE__, "op %d, slope %g, n %zu, pool %d: differs",
                                 op, slopes[s], n, p);
                }
            }
        }
    }
out:
    free(x);
    free(dy);
    free(want);
    free(got);
    pool_free(pools[1]);
    pool_free(pools[2]);
}

/* Overflows in several parts, or in one: the first is reported, alone
 * and on workers; NaN and infinities given as grad_output count too. */
void test_compute_nonfinite(void)
{
    enum { N = COMPUTE_PART * 3 + 5 };
    static const size_t places[][2] = {
        {300001, 600003}, {0, N - 1}, {N - 1, N - 1}, {COMPUTE_PART - 1, COMPUTE_PART}};
    double *x = malloc(N * sizeof *x), *dy = malloc(N * sizeof *dy);
    pool *workers = pool_new(3);
    ASSERT(x && dy && workers);
    for (size_t k = 0; x && dy && k < sizeof places / sizeof places[0]; k++) {
        for (int use = 0; use < 2; use++) {
            for (size_t i = 0; i < N; i++)
                x[i] = i == places[k][0] || i == places[k][1] ? -1e300 : 1.0;
            size_t bad = apply_f64(COMPUTE_FORWARD, x, NULL, N, 1e10, use ? workers : NULL);
            ASSERT_EQ(bad, places[k][0]);
            for (size_t i = 0; i < N; i++) {
                x[i] = -1.0;
                dy[i] = i == places[k][1] ? INFINITY : 1.0;
            }
            bad = apply_f64(COMPUTE_BACKWARD, x, dy, N, 0.5, use ? workers : NULL);
            ASSERT_EQ(bad, places[k][1]);
        }
    }
    free(x);
    free(dy);
    pool_free(workers);
}

/* float32 in parts: exactly the scalar float32 kernels with (float)slope,
 * and a float32 overflow (a double would not overflow) reported. */
void test_compute_parts_f32(void)
{
    static const double slopes[] = {0.01, 0.1, -0.5, 2.5};
    enum { N = COMPUTE_PART * 5 + 7 };
    float *x = malloc(N * sizeof *x), *dy = malloc(N * sizeof *dy);
    float *want = malloc(N * sizeof *want), *got = malloc(N * sizeof *got);
    pool *workers = pool_new(3);
    ASSERT(x && dy && want && got && workers);
    if (!x || !dy || !want || !got)
        goto out;
    uint64_t state = 23;
    for (size_t i = 0; i < N; i++) {
        x[i] = (float)(test_rand_unit(&state) * 2000 - 1000);
        dy[i] = (float)(test_rand_unit(&state) - 0.5);
    }
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        for (int op = COMPUTE_FORWARD; op <= COMPUTE_BACKWARD; op++) {
            float a = (float)slopes[s];
            if (op == COMPUTE_FORWARD)
                lrelu_forward_f32__scalar(x, want, N, a);
            else if (op == COMPUTE_GRADIENT)
                lrelu_gradient_f32__scalar(x, want, N, a);
            else
                lrelu_backward_f32__scalar(x, dy, want, N, a);
            for (int use = 0; use < 2; use++) {
                memcpy(got, x, N * sizeof *got);
                tensor tx = view(got, N, TENSOR_F32), tg = view(dy, N, TENSOR_F32);
                compute_slope cs = {&slopes[s], 1, 1};
                size_t bad = compute_apply((compute_op)op, &tx, &tg, &cs, 1, use ? workers : NULL);
                if (bad != N || memcmp(got, want, N * sizeof *got) != 0)
                    tap_fail(__FILE__, __LINE__, "f32 op %d slope %g workers %d differs", op,
                             slopes[s], use);
            }
        }
    }
    for (size_t i = 0; i < N; i++)
        got[i] = i == COMPUTE_PART * 3 + 1 ? -1e30f : 1.0f;
    tensor tx = view(got, N, TENSOR_F32);
    static const double big = 1e10;
    compute_slope cs = {&big, 1, 1};
    ASSERT_EQ(compute_apply(COMPUTE_FORWARD, &tx, NULL, &cs, 1, workers), COMPUTE_PART * 3 + 1);
out:
    free(x);
    free(dy);
    free(want);
    free(got);
    pool_free(workers);
}

/* Per-channel slopes: every element equals the scalar kernel's with its
 * channel's slope, for runs shorter and longer than the SIMD cut-off,
 * parts that start inside a run, both dtypes; and the slope gradient
 * against a long double sum of the same products. */
void test_compute_channels(void)
{
    static const size_t shapes[][3] = {
        {7, 3, 1}, {5, 4, 17}, {2, 2, 1}, {1, 5, 1000}, {300, 3, 1}, {3, 2, COMPUTE_PART + 5},
        {COMPUTE_PART / 2 + 3, 5, 1}};
    static const double slopes[] = {0.01, -0.5, 2.5, 0.25, 1e-3};
    pool *workers = pool_new(3);
    ASSERT(workers != NULL);
    uint64_t state = 31;
    for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
        size_t C = shapes[z][1], inner = shapes[z][2], n = shapes[z][0] * C * inner;
        double *x = malloc(n * sizeof *x), *dy = malloc(n * sizeof *dy), *got = malloc(n * 8);
        float *x32 = malloc(n * sizeof *x32), *dy32 = malloc(n * sizeof *dy32), *got32 = malloc(n * 4);
        ASSERT(x && dy && got && x32 && dy32 && got32);
        for (size_t i = 0; i < n; i++) {
            x[i] = test_rand_unit(&state) * 20 - 10;
            dy[i] = test_rand_unit(&state) - 0.5;
            x32[i] = (float)x[i];
            dy32[i] = (float)dy[i];
        }
        compute_slope cs = {slopes, C, inner};
        for (int op = COMPUTE_FORWARD; op <= COMPUTE_BACKWARD; op++) {
            for (int use = 0; use < 2; use++) {
                memcpy(got, x, n * 8);
                memcpy(got32, x32, n * 4);
                tensor t = view(got, n, TENSOR_F64), g = view(dy, n, TENSOR_F64);
                tensor t32 = view(got32, n, TENSOR_F32), g32 = view(dy32, n, TENSOR_F32);
                ASSERT_EQ(compute_apply((compute_op)op, &t, &g, &cs, 1, use ? workers : NULL), n);
                ASSERT_EQ(compute_apply((compute_op)op, &t32, &g32, &cs, 1, use ? workers : NULL), n);
                size_t bad = 0;
                for (size_t i = 0; i < n; i++) {
                    double a = slopes[i / inner % C], w;
                    float a32 = (float)a, w32;
                    if (op == COMPUTE_FORWARD) {
                        w = x[i] > 0 ? x[i] : x[i] * a;
                        w32 = x32[i] > 0 ? x32[i] : x32[i] * a32;
                    } else if (op == COMPUTE_GRADIENT) {
                        w = x[i] > 0 ? 1.0 : a;
                        w32 = x32[i] > 0 ? 1.0f : a32;
                    } else {
                        w = x[i] > 0 ? dy[i] : dy[i] * a;
                        w32 = x32[i] > 0 ? dy32[i] : dy32[i] * a32;
                    }
                    bad += memcmp(&got[i], &w, 8) != 0 || memcmp(&got32[i], &w32, 4) != 0;
                }
                if (bad)
                    tap_fail(__FILE__, __LINE__, "shape %zu x %zu x %zu op %d workers %d: %zu differ",
                             shapes[z][0], C, inner, op, use, bad);
            }
        }
        double gs[8], gs32[8];
        tensor t = view(x, n, TENSOR_F64), g = view(dy, n, TENSOR_F64);
        tensor t32 = view(x32, n, TENSOR_F32), g32 = view(dy32, n, TENSOR_F32);
        ASSERT_EQ(compute_slope_gradient(&t, &g, &cs, gs), 0);
        ASSERT_EQ(compute_slope_gradient(&t32, &g32, &cs, gs32), 0);
        for (size_t c = 0; c < C; c++) {
            /* binary128 (software arithmetic: exact under valgrind too,
             * whose long double is a double) */
            __float128 w = 0, w32 = 0;
            for (size_t i = 0; i < n; i++) {
                if (i / inner % C != c)
                    continue;
                if (x[i] <= 0)
                    w += (__float128)x[i] * dy[i];
                if (x32[i] <= 0)
                    w32 += (__float128)x32[i] * dy32[i];
            }
            double e = (double)(gs[c] - w), e32 = (double)(gs32[c] - w32);
            ASSERT(fabs(e) <= 1e-13 * fabs((double)w));
            ASSERT(fabs(e32) <= 1e-13 * fabs((double)w32));
        }
        free(x);
        free(dy);
        free(got);
        free(x32);
        free(dy32);
        free(got32);
    }
    pool_free(workers);
}
