/* The scalar Leaky ReLU kernels (float64, then float32), which specify
 * the operation, and the choice of the fastest variant this CPU runs. */
#include "lrelu.h"

#include <math.h>

void lrelu_forward_f64__scalar(const double *x, double *y, size_t n, double slope)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        y[i] = v > 0.0 ? v : slope * v;
    }
}

void lrelu_gradient_f64__scalar(const double *x, double *g, size_t n, double slope)
{
    for (size_t i = 0; i < n; i++)
        g[i] = x[i] > 0.0 ? 1.0 : slope;
}

void lrelu_backward_f64__scalar(const double *x, const double *dy, double *dx, size_t n,
                                double slope)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0 ? dy[i] : dy[i] * slope;
}

void lrelu_forward_f32__scalar(const float *x, float *y, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v > 0.0f ? v : slope * v;
    }
}

void lrelu_gradient_f32__scalar(const float *x, float *g, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++)
        g[i] = x[i] > 0.0f ? 1.0f : slope;
}

void lrelu_backward_f32__scalar(const float *x, const float *dy, float *dx, size_t n,
                                float slope)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * slope;
}

static int always(void) { return 1; }

#if defined(__x86_64__)
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
static int has_avx512f(void) { return __builtin_cpu_supports("avx512f"); }
#endif

#define VARIANT(isa, check)                                                    \
    {#isa, check, lrelu_forward_f64__##isa, lrelu_gradient_f64__##isa,         \
     lrelu_backward_f64__##isa, lrelu_forward_f32__##isa,                      \
     lrelu_gradient_f32__##isa, lrelu_backward_f32__##isa}

static const lrelu__variant variants[] = {
    VARIANT(scalar, always),
#if defined(__x86_64__)
    VARIANT(sse2, always), /* part of x86-64 */
    VARIANT(avx2, has_avx2),
    VARIANT(avx512f, has_avx512f),
#endif
#if defined(__aarch64__)
    VARIANT(neon, always), /* part of AArch64 */
#endif
};

const lrelu__variant *lrelu__variants(size_t *n)
{
    *n = sizeof variants / sizeof variants[0];
    return variants;
}

static const lrelu__variant *active = &variants[0];

/* Runs before main (and before any thread): picks the last supported
 * variant, so the choice is made once and read without synchronisation. */
__attribute__((constructor)) static void lrelu_select(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
#endif
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (variants[i].supported())
            active = &variants[i];
}

void lrelu_forward_f64(const double *x, double *y, size_t n, double slope)
{
    active->forward(x, y, n, slope);
}

void lrelu_gradient_f64(const double *x, double *g, size_t n, double slope)
{
    active->gradient(x, g, n, slope);
}

void lrelu_backward_f64(const double *x, const double *dy, double *dx, size_t n,
                        double slope)
{
    active->backward(x, dy, dx, n, slope);
}

void lrelu_forward_f32(const float *x, float *y, size_t n, float slope)
{
    active->forward32(x, y, n, slope);
}

void lrelu_gradient_f32(const float *x, float *g, size_t n, float slope)
{
    active->gradient32(x, g, n, slope);
}

void lrelu_backward_f32(const float *x, const float *dy, float *dx, size_t n, float slope)
{
    active->backward32(x, dy, dx, n, slope);
}

size_t lrelu_find_nonfinite_f32(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return n;
}

size_t lrelu_find_nonfinite_f64(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return n;
}

const char *lrelu_variant(void) { return active->name; }
