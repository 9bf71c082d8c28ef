/* Scalar Leaky ReLU kernels: the specification of the operation. */
#include "lrelu.h"

#include <math.h>

void lrelu_forward_f64(const double *x, double *y, size_t n, double slope)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        y[i] = v > 0.0 ? v : slope * v;
    }
}

void lrelu_gradient_f64(const double *x, double *g, size_t n, double slope)
{
    for (size_t i = 0; i < n; i++)
        g[i] = x[i] > 0.0 ? 1.0 : slope;
}

void lrelu_backward_f64(const double *x, const double *dy, double *dx, size_t n,
                        double slope)
{
    /* dy * 1.0 == dy exactly (also for -0.0), so this is PyTorch's
     * grad_output * (x > 0 ? 1 : slope) bit for bit. */
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] > 0.0 ? dy[i] : dy[i] * slope;
}

size_t lrelu_find_nonfinite_f64(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return i;
    return n;
}

const char *lrelu_variant(void) { return "scalar"; }
