/* The choice of the fastest Leaky ReLU variant this CPU runs, made once
 * at start-up, and the public kernels that call it. The variants are
 * lrelu_scalar.c (the specification) and one file per instruction set. */
#include "lrelu.h"

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

const char *lrelu_variant(void) { return active->name; }
