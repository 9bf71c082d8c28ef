/* The kernel over a request's whole array, cut into parts that run on the
 * worker pool for large arrays, and the first non-finite result found.
 * Knows nothing of HTTP or JSON. */
#ifndef LEAKYRELU_COMPUTE_H
#define LEAKYRELU_COMPUTE_H

#include <stddef.h>

#include "tensor.h"

struct pool;

typedef enum compute_op {
    COMPUTE_FORWARD,  /* x = leaky_relu(x) */
    COMPUTE_GRADIENT, /* x = d leaky_relu / dx at x */
    COMPUTE_BACKWARD  /* x = grad_output * (d leaky_relu / dx at x) */
} compute_op;

/* Arrays of at least this many elements per part run in parts. */
#define COMPUTE_PART (256 * 1024)

/* Runs op in place over the elements of x with slope (grad_output: x's
 * count and dtype, read by COMPUTE_BACKWARD only; may be NULL otherwise),
 * in parts on the workers and the caller when there are at least two
 * parts and workers is not NULL. A float32 x is computed in float32 with
 * (float)slope, as PyTorch does. Returns the index of the first result
 * that is not finite, or x->count. The values are exactly the
 * lrelu_*_f64 or lrelu_*_f32 kernels'. */
size_t compute_apply(compute_op op, tensor *x, const tensor *grad_output, double slope,
                     struct pool *workers);

#endif
