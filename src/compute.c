/* The kernel in parts: each part runs lrelu_*_f64 or lrelu_*_f32 over its
 * range and checks its own results for overflow while they are still in
 * cache. */
#include "compute.h"

#include "lrelu.h"
#include "pool.h"

#define PARTS_MAX 64

typedef struct job {
    compute_op op;
    int f32;
    void *x;
    const void *grad_output;
    size_t count;
    double slope;
    size_t per_part;
    size_t bad[PARTS_MAX]; /* per part: the first non-finite, or count */
} job;

static void apply_part(void *arg, size_t i)
{
    job *k = arg;
    size_t begin = i * k->per_part;
    k->bad[i] = k->count;
    if (begin >= k->count)
        return;
    size_t n = k->count - begin < k->per_part ? k->count - begin : k->per_part;
    size_t bad;
    if (k->f32) {
        float *x = (float *)k->x + begin, a = (float)k->slope;
        switch (k->op) {
        case COMPUTE_FORWARD:
            lrelu_forward_f32(x, x, n, a);
            break;
        case COMPUTE_GRADIENT:
            lrelu_gradient_f32(x, x, n, a);
            break;
        case COMPUTE_BACKWARD:
            lrelu_backward_f32(x, (const float *)k->grad_output + begin, x, n, a);
            break;
        }
        bad = lrelu_find_nonfinite_f32(x, n);
    } else {
        double *x = (double *)k->x + begin;
        switch (k->op) {
        case COMPUTE_FORWARD:
            lrelu_forward_f64(x, x, n, k->slope);
            break;
        case COMPUTE_GRADIENT:
            lrelu_gradient_f64(x, x, n, k->slope);
            break;
        case COMPUTE_BACKWARD:
            lrelu_backward_f64(x, (const double *)k->grad_output + begin, x, n, k->slope);
            break;
        }
        bad = lrelu_find_nonfinite_f64(x, n);
    }
    if (bad < n)
        k->bad[i] = begin + bad;
}

size_t compute_apply(compute_op op, tensor *x, const tensor *grad_output, double slope,
                     struct pool *workers)
{
    size_t count = x->count;
    job k = {.op = op, .f32 = x->dtype == TENSOR_F32, .x = x->data,
             .grad_output = grad_output ? grad_output->data : NULL, .count = count,
             .slope = slope};
    /* Large arrays are cut in parts of at least COMPUTE_PART elements (a
     * multiple of 8: whole cache lines), run on the workers too. */
    size_t parts = count / COMPUTE_PART;
    if (workers && parts > pool_threads(workers) + 1)
        parts = pool_threads(workers) + 1;
    if (parts > PARTS_MAX)
        parts = PARTS_MAX;
    if (!workers || parts < 2)
        parts = 1;
    k.per_part = ((count + parts - 1) / parts + 15) & ~(size_t)15; /* covers count */
    pool_run(parts > 1 ? workers : NULL, parts, apply_part, &k);
    size_t bad = count;
    for (size_t i = 0; i < parts; i++)
        bad = k.bad[i] < bad ? k.bad[i] : bad;
    return bad;
}
