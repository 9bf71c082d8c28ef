/* The kernel over a request's whole array, cut into parts that run on the
 * worker pool for large arrays, and the first non-finite result found.
 * Knows nothing of HTTP or JSON. */
#ifndef LEAKYRELU_COMPUTE_H
#define LEAKYRELU_COMPUTE_H

#include <stddef.h>

#include "errors.h"
#include "tensor.h"

struct pool;

/* The slope when none is given: PyTorch's default negative_slope. */
#define COMPUTE_DEFAULT_SLOPE 0.01

typedef enum compute_op {
    COMPUTE_FORWARD,  /* x = leaky_relu(x) */
    COMPUTE_GRADIENT, /* x = d leaky_relu / dx at x */
    COMPUTE_BACKWARD  /* x = grad_output * (d leaky_relu / dx at x) */
} compute_op;

/* Arrays of at least this many elements per part run in parts. */
#define COMPUTE_PART (256 * 1024)

/* The slope: one for every element, or one per channel (PReLU) along x's
 * axis 1, each channel's elements in runs of `inner` (the product of x's
 * dimensions after the second; see compute_inner). */
typedef struct compute_slope {
    const double *values; /* `count` of them */
    size_t count;         /* 1, or x's channels (compute_channels) */
    size_t inner;         /* used when count > 1 */
} compute_slope;

/* x's channels, PyTorch's: the length of axis 1, or 1 below 2 dimensions. */
size_t compute_channels(const tensor *x);

/* The elements of one channel that follow each other: the product of x's
 * dimensions after the second (1 for fewer than three). */
size_t compute_inner(const tensor *x);

/* Runs op in place over the elements of x (grad_output: x's count and
 * dtype, read by COMPUTE_BACKWARD only; may be NULL otherwise), element i
 * with slope->values[(i / inner) % count], in parts on the workers and the
 * caller when there are at least two parts and workers is not NULL. A
 * float32 x is computed in float32 with (float)slope, as PyTorch does.
 * With check, returns the index of the first result that is not finite,
 * or x->count; without (non-finite values are welcome), x->count.
 * The values are exactly the lrelu_*_f64 or lrelu_*_f32 kernels' on each
 * run of one slope. */
size_t compute_apply(compute_op op, tensor *x, const tensor *grad_output,
                     const compute_slope *slope, int check, struct pool *workers);

/* The gradient of sum(grad_output * leaky_relu(x)) with respect to each
 * slope: out[c] = the sum of grad_output[i] * x[i] (x[i] alone when
 * grad_output is NULL) over channel c's elements where x[i] <= 0, as
 * PyTorch's autograd defines it. Summed in float64, in element order, with
 * Neumaier's compensation (float32 products are exact in float64), so the
 * error stays near one rounding of the result whatever the count. Call it
 * before compute_apply overwrites x. Returns 0, or -1 when memory runs out
 * (slope->count doubles are allocated). */
int compute_slope_gradient(const tensor *x, const tensor *grad_output,
                           const compute_slope *slope, double *out);

/* The steps every transport's handlers share, each returning LR_ERR_OK
 * or the error (with its element path) filled into err; none allocates
 * but compute_grad_slope's sum. */

/* The slope of a request whose slopes are `slopes` (a number, ndim 0, or
 * a list, ndim 1; NULL: the default), for x. Points into slopes. */
compute_slope compute_slope_of(const tensor *slopes, const tensor *x);

/* The slope against x: one, or one per channel of x (PReLU), else
 * LR_ERR_SLOPE_COUNT at "slope"; for a float32 x (dtype), each within
 * float32's range, else LR_ERR_BAD_SLOPE. */
lr_err compute_check_slope(const tensor *x, const compute_slope *cs, tensor_dtype dtype,
                           lr_error *err);

/* Narrows t, read as float64, to float32 (tensor_to_f32): a number out of
 * float32's range is LR_ERR_NUMBER_RANGE at its element of `name`. */
lr_err compute_narrow(tensor *t, const char *name, lr_error *err);

/* compute_apply; with `finite` (the result is written as text, which has
 * no infinities), a result that overflows is LR_ERR_NOT_FINITE at its
 * element of `name`, the message ending with `note` (may be ""). */
lr_err compute_run(compute_op op, tensor *x, const tensor *grad_output,
                   const compute_slope *cs, int finite, struct pool *workers, const char *name,
                   const char *note, lr_error *err);

/* compute_slope_gradient into out[cs->count], each rounded to x's dtype
 * (a float32 value held as a double); with `finite`, one that overflows
 * is LR_ERR_NOT_FINITE at "slope[c]". LR_ERR_NO_MEMORY when the sum's
 * memory could not be had. Call it before compute_run overwrites x. */
lr_err compute_grad_slope(const tensor *x, const tensor *grad_output, const compute_slope *cs,
                          int finite, double *out, lr_error *err);

#endif
