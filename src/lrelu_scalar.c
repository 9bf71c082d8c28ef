/* The scalar Leaky ReLU kernels (float64, then float32): the
 * specification every variant equals bit for bit, and the tails the
 * vector variants leave. Depends on nothing but the C library, so that
 * every instruction set's file may call it. */
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
