/* Leaky ReLU kernels over float64 arrays. The scalar code in lrelu.c is the
 * specification every faster variant must equal bit for bit. */
#ifndef LEAKYRELU_LRELU_H
#define LEAKYRELU_LRELU_H

#include <stddef.h>

/* y[i] = x[i] > 0 ? x[i] : slope * x[i], for i < n (PyTorch's leaky_relu).
 * For 0 <= slope <= 1 this equals max(slope * x, x); for other slopes it is
 * PyTorch's and TensorFlow's definition, not the max form. -0.0 and the sign
 * of slope * x are kept. `y` may equal `x` (in place); otherwise the arrays
 * must not overlap. n may be 0 (then neither pointer is read). Thread-safe. */
void lrelu_forward_f64(const double *x, double *y, size_t n, double slope);

/* g[i] = x[i] > 0 ? 1.0 : slope: the derivative, with f'(0) = slope as in
 * PyTorch. Same aliasing and thread-safety rules as lrelu_forward_f64. */
void lrelu_gradient_f64(const double *x, double *g, size_t n, double slope);

/* dx[i] = dy[i] * (x[i] > 0 ? 1.0 : slope): the backward pass given the
 * gradient of the output. `dx` may equal `x` or `dy`. Thread-safe. */
void lrelu_backward_f64(const double *x, const double *dy, double *dx, size_t n,
                        double slope);

/* Returns the index of the first element of a[0..n) that is NaN or
 * infinite, or n when all are finite. */
size_t lrelu_find_nonfinite_f64(const double *a, size_t n);

/* Name of the kernel variant in use ("scalar"). */
const char *lrelu_variant(void);

#endif
