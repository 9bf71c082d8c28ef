/* Leaky ReLU kernels over float64 and float32 arrays. The scalar variants
 * in lrelu.c are the specification; the SIMD variants (one file per instruction set) equal
 * it bit for bit, and the best one the CPU supports is chosen once, at
 * start-up. */
#ifndef LEAKYRELU_LRELU_H
#define LEAKYRELU_LRELU_H

#include <stddef.h>

/* y[i] = x[i] > 0 ? x[i] : slope * x[i], for i < n (PyTorch's leaky_relu).
 * For 0 <= slope <= 1 this equals max(slope * x, x); for other slopes it is
 * PyTorch's and TensorFlow's definition, not the max form. -0.0 and the sign
 * of slope * x are kept. `y` may equal `x` (in place); otherwise the arrays
 * must not overlap. n may be 0 (then neither pointer is read). Never reads
 * or writes past element n - 1. Thread-safe. */
void lrelu_forward_f64(const double *x, double *y, size_t n, double slope);

/* g[i] = x[i] > 0 ? 1.0 : slope: the derivative, with f'(0) = slope as in
 * PyTorch. Same aliasing and thread-safety rules as lrelu_forward_f64. */
void lrelu_gradient_f64(const double *x, double *g, size_t n, double slope);

/* dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope, which is PyTorch's
 * dy * (x > 0 ? 1 : slope) bit for bit (dy * 1.0 == dy). `dx` may equal
 * `x` or `dy`. Thread-safe. */
void lrelu_backward_f64(const double *x, const double *dy, double *dx, size_t n,
                        double slope);

/* Returns the index of the first element of a[0..n) that is NaN or
 * infinite, or n when all are finite. */
size_t lrelu_find_nonfinite_f64(const double *a, size_t n);

/* The same three in float32, as PyTorch computes a float32 tensor: the
 * slope is a float32 (PyTorch casts the Python float: pass (float)slope)
 * and every product is a float32 product, rounded once. Same aliasing
 * and thread-safety rules. */
void lrelu_forward_f32(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32(const float *x, const float *dy, float *dx, size_t n, float slope);
size_t lrelu_find_nonfinite_f32(const float *a, size_t n);

/* Name of the variant in use: "scalar", "sse2", "avx2", "avx512f", "neon". */
const char *lrelu_variant(void);

/* Internals shared with the per-ISA files and the tests. */
typedef void (*lrelu__unary_fn)(const double *x, double *y, size_t n, double slope);
typedef void (*lrelu__binary_fn)(const double *x, const double *dy, double *dx, size_t n,
                                 double slope);

typedef void (*lrelu__unary32_fn)(const float *x, float *y, size_t n, float slope);
typedef void (*lrelu__binary32_fn)(const float *x, const float *dy, float *dx, size_t n,
                                   float slope);

typedef struct lrelu__variant {
    const char *name;
    int (*supported)(void); /* 1 when this CPU runs it */
    lrelu__unary_fn forward;
    lrelu__unary_fn gradient;
    lrelu__binary_fn backward;
    lrelu__unary32_fn forward32;
    lrelu__unary32_fn gradient32;
    lrelu__binary32_fn backward32;
} lrelu__variant;

/* Every variant compiled into this build, best last; entry 0 is scalar.
 * The count is in *n. */
const lrelu__variant *lrelu__variants(size_t *n);

void lrelu_forward_f64__scalar(const double *x, double *y, size_t n, double slope);
void lrelu_gradient_f64__scalar(const double *x, double *g, size_t n, double slope);
void lrelu_backward_f64__scalar(const double *x, const double *dy, double *dx, size_t n,
                                double slope);
void lrelu_forward_f32__scalar(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32__scalar(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32__scalar(const float *x, const float *dy, float *dx, size_t n,
                                float slope);
#if defined(__x86_64__)
void lrelu_forward_f64__sse2(const double *x, double *y, size_t n, double slope);
void lrelu_gradient_f64__sse2(const double *x, double *g, size_t n, double slope);
void lrelu_backward_f64__sse2(const double *x, const double *dy, double *dx, size_t n,
                              double slope);
void lrelu_forward_f32__sse2(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32__sse2(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32__sse2(const float *x, const float *dy, float *dx, size_t n,
                              float slope);
void lrelu_forward_f64__avx2(const double *x, double *y, size_t n, double slope);
void lrelu_gradient_f64__avx2(const double *x, double *g, size_t n, double slope);
void lrelu_backward_f64__avx2(const double *x, const double *dy, double *dx, size_t n,
                              double slope);
void lrelu_forward_f32__avx2(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32__avx2(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32__avx2(const float *x, const float *dy, float *dx, size_t n,
                              float slope);
void lrelu_forward_f64__avx512f(const double *x, double *y, size_t n, double slope);
void lrelu_gradient_f64__avx512f(const double *x, double *g, size_t n, double slope);
void lrelu_backward_f64__avx512f(const double *x, const double *dy, double *dx, size_t n,
                                 double slope);
void lrelu_forward_f32__avx512f(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32__avx512f(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32__avx512f(const float *x, const float *dy, float *dx, size_t n,
                                 float slope);
#endif
#if defined(__aarch64__)
void lrelu_forward_f64__neon(const double *x, double *y, size_t n, double slope);
void lrelu_gradient_f64__neon(const double *x, double *g, size_t n, double slope);
void lrelu_backward_f64__neon(const double *x, const double *dy, double *dx, size_t n,
                              double slope);
void lrelu_forward_f32__neon(const float *x, float *y, size_t n, float slope);
void lrelu_gradient_f32__neon(const float *x, float *g, size_t n, float slope);
void lrelu_backward_f32__neon(const float *x, const float *dy, float *dx, size_t n,
                              float slope);
#endif

#endif
