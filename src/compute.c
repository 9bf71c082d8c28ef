/* The kernel in parts: each part runs lrelu_*_f64 or lrelu_*_f32 over its
 * range, one slope per run of a channel's elements, and checks its own
 * results for overflow while they are still in cache; and the gradient
 * with respect to the slopes, summed with compensation. */
#include "compute.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lrelu.h"
#include "pool.h"

#define PARTS_MAX 64

/* Runs at least this long go to the dispatched (SIMD) kernel; shorter
 * ones to the scalar kernel, which costs no dispatch. */
#define RUN_SIMD_MIN 16

typedef struct job {
    compute_op op;
    int f32;
    int check; /* look for non-finite results */
    void *x;
    const void *grad_output;
    size_t count;
    const compute_slope *slope;
    size_t per_part;
    size_t bad[PARTS_MAX]; /* per part: the first non-finite, or count */
} job;

/* op over elements [i, i + n) of one channel, with slope a. */
static void run_f64(const job *k, size_t i, size_t n, double a)
{
    double *x = (double *)k->x + i;
    const double *dy = k->grad_output ? (const double *)k->grad_output + i : NULL;
    int simd = n >= RUN_SIMD_MIN;
    switch (k->op) {
    case COMPUTE_FORWARD:
        (simd ? lrelu_forward_f64 : lrelu_forward_f64__scalar)(x, x, n, a);
        break;
    case COMPUTE_GRADIENT:
        (simd ? lrelu_gradient_f64 : lrelu_gradient_f64__scalar)(x, x, n, a);
        break;
    case COMPUTE_BACKWARD:
        (simd ? lrelu_backward_f64 : lrelu_backward_f64__scalar)(x, dy, x, n, a);
        break;
    }
}

static void run_f32(const job *k, size_t i, size_t n, float a)
{
    float *x = (float *)k->x + i;
    const float *dy = k->grad_output ? (const float *)k->grad_output + i : NULL;
    int simd = n >= RUN_SIMD_MIN;
    switch (k->op) {
    case COMPUTE_FORWARD:
        (simd ? lrelu_forward_f32 : lrelu_forward_f32__scalar)(x, x, n, a);
        break;
    case COMPUTE_GRADIENT:
        (simd ? lrelu_gradient_f32 : lrelu_gradient_f32__scalar)(x, x, n, a);
        break;
    case COMPUTE_BACKWARD:
        (simd ? lrelu_backward_f32 : lrelu_backward_f32__scalar)(x, dy, x, n, a);
        break;
    }
}

/* op over elements [i, i + n) where element j's slope is values[(c + j
 * - i) % count]: x of shape (N, C), a channel per element, one loop (the
 * compiler vectorises it) instead of a kernel call per element. The same
 * arithmetic as the kernels: x > 0 ? x : x * a, dy * a. */
static void each_own_slope(const job *k, size_t i, size_t n, size_t c)
{
    const double *s = k->slope->values;
    size_t count = k->slope->count;
    for (size_t end = i + n; i < end;) {
        size_t m = count - c < end - i ? count - c : end - i; /* to the row's end */
        const double *a = s + c;
        if (k->f32) {
            float *x = (float *)k->x + i;
            const float *dy = k->grad_output ? (const float *)k->grad_output + i : NULL;
            for (size_t j = 0; j < m; j++) {
                float v = x[j], aj = (float)a[j];
                x[j] = k->op == COMPUTE_FORWARD    ? (v > 0.0f ? v : v * aj)
                       : k->op == COMPUTE_GRADIENT ? (v > 0.0f ? 1.0f : aj)
                                                   : (v > 0.0f ? dy[j] : dy[j] * aj);
            }
        } else {
            double *x = (double *)k->x + i;
            const double *dy = k->grad_output ? (const double *)k->grad_output + i : NULL;
            for (size_t j = 0; j < m; j++) {
                double v = x[j];
                x[j] = k->op == COMPUTE_FORWARD    ? (v > 0.0 ? v : v * a[j])
                       : k->op == COMPUTE_GRADIENT ? (v > 0.0 ? 1.0 : a[j])
                                                   : (v > 0.0 ? dy[j] : dy[j] * a[j]);
            }
        }
        i += m;
        c = 0;
    }
}

static void apply_part(void *arg, size_t p)
{
    job *k = arg;
    const compute_slope *s = k->slope;
    size_t begin = p * k->per_part;
    k->bad[p] = k->count;
    if (begin >= k->count)
        return;
    size_t n = k->count - begin < k->per_part ? k->count - begin : k->per_part;
    /* One slope for all: one run. Else runs of `inner` elements, the
     * channel advancing (and wrapping) from one run to the next. */
    size_t inner = s->count == 1 ? n : s->inner;
    size_t c = s->count == 1 ? 0 : begin / inner % s->count, i = begin, end = begin + n;
    size_t run = inner - (s->count == 1 ? 0 : begin % inner);
    if (s->count > 1 && inner == 1) {
        each_own_slope(k, i, n, c);
        i = end;
    }
    while (i < end) {
        if (run > end - i)
            run = end - i;
        if (k->f32)
            run_f32(k, i, run, (float)s->values[c]); /* as PyTorch casts it */
        else
            run_f64(k, i, run, s->values[c]);
        i += run;
        run = inner;
        c = c + 1 == s->count ? 0 : c + 1;
    }
    if (!k->check)
        return;
    size_t bad = k->f32 ? lrelu_find_nonfinite_f32((float *)k->x + begin, n)
                        : lrelu_find_nonfinite_f64((double *)k->x + begin, n);
    if (bad < n)
        k->bad[p] = begin + bad;
}

size_t compute_apply(compute_op op, tensor *x, const tensor *grad_output,
                     const compute_slope *slope, int check, struct pool *workers)
{
    size_t count = x->count;
    job k = {.op = op, .f32 = x->dtype == TENSOR_F32, .check = check, .x = x->data,
             .grad_output = grad_output ? grad_output->data : NULL, .count = count,
             .slope = slope};
    /* Large arrays are cut in parts of at least COMPUTE_PART elements (a
     * multiple of 16: whole cache lines), run on the workers too. */
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

size_t compute_inner(const tensor *x)
{
    size_t inner = 1;
    for (int d = 2; d < x->ndim; d++)
        inner *= x->shape[d];
    return inner;
}

size_t compute_channels(const tensor *x) { return x->ndim >= 2 ? x->shape[1] : 1; }

/* Neumaier's compensated sum (A. Neumaier, "Rundungsfehleranalyse einiger
 * Verfahren zur Summation endlicher Summen", ZAMM 54, 1974): the rounding
 * error of each addition is kept in *comp, whichever operand is larger. */
static inline void add(double *sum, double *comp, double v)
{
    double t = *sum + v;
    *comp += fabs(*sum) >= fabs(v) ? (*sum - t) + v : (v - t) + *sum;
    *sum = t;
}

int compute_slope_gradient(const tensor *x, const tensor *grad_output,
                           const compute_slope *slope, double *out)
{
    size_t channels = slope->count, inner = slope->count == 1 ? x->count : slope->inner;
    double *comp = calloc(channels ? channels : 1, sizeof *comp);
    if (!comp)
        return -1;
    for (size_t c = 0; c < channels; c++)
        out[c] = 0.0;
    int f32 = x->dtype == TENSOR_F32;
    const double *x64 = x->data, *g64 = grad_output ? grad_output->data : NULL;
    const float *x32 = x->data32, *g32 = grad_output ? grad_output->data32 : NULL;
    size_t c = 0;
    for (size_t i = 0; i < x->count; i += inner) {
        size_t n = x->count - i < inner ? x->count - i : inner;
        /* products of two float32 values are exact in double */
        for (size_t j = i; j < i + n; j++) {
            double v = f32 ? (double)x32[j] : x64[j];
            if (v <= 0.0)
                add(&out[c], &comp[c], grad_output ? v * (f32 ? (double)g32[j] : g64[j]) : v);
        }
        c = c + 1 == channels ? 0 : c + 1;
    }
    /* An infinite term (binary bodies may hold one) leaves the plain sum
     * its IEEE value and the compensation NaN (inf - inf): the sum is
     * then the answer, as an uncompensated one would be. */
    for (size_t k = 0; k < channels; k++)
        if (isfinite(out[k]))
            out[k] += comp[k];
    free(comp);
    return 0;
}

compute_slope compute_slope_of(const tensor *slopes, const tensor *x)
{
    static const double default_slope = COMPUTE_DEFAULT_SLOPE;
    return (compute_slope){.values = slopes ? slopes->data : &default_slope,
                           .count = slopes ? slopes->count : 1,
                           .inner = compute_inner(x)};
}

lr_err compute_check_slope(const tensor *x, const compute_slope *cs, tensor_dtype dtype,
                           lr_error *err)
{
    size_t channels = compute_channels(x);
    if (cs->count != 1 && cs->count != channels) {
        if (x->ndim < 2 || channels == 0)
            lr_error_set(err, LR_ERR_SLOPE_COUNT, "slope has %zu numbers, but x has %s: give 1 "
                         "slope", cs->count, channels ? "one channel (fewer than 2 dimensions)"
                                                      : "no channels (its axis 1 is empty)");
        else
            lr_error_set(err, LR_ERR_SLOPE_COUNT, "slope has %zu numbers, but x has %zu "
                         "channel%s (the length of its axis 1): give %zu slope%s, or 1 for all",
                         cs->count, channels, channels == 1 ? "" : "s", channels,
                         channels == 1 ? "" : "s");
        snprintf(err->path, sizeof err->path, "slope");
        return err->code;
    }
    for (size_t c = 0; dtype == TENSOR_F32 && c < cs->count; c++)
        if ((float)cs->values[c] - (float)cs->values[c] != 0)
            return lr_error_set(err, LR_ERR_BAD_SLOPE, "slope %g is outside the range of "
                                "float32", cs->values[c]);
    return LR_ERR_OK;
}

lr_err compute_narrow(tensor *t, const char *name, lr_error *err)
{
    size_t bad = tensor_to_f32(t);
    if (bad == t->count)
        return LR_ERR_OK;
    lr_error_set(err, LR_ERR_NUMBER_RANGE, "number outside the range of float32");
    tensor_path(t, bad, name, err->path, sizeof err->path);
    return err->code;
}

lr_err compute_run(compute_op op, tensor *x, const tensor *grad_output,
                   const compute_slope *cs, int finite, struct pool *workers, const char *name,
                   const char *note, lr_error *err)
{
    size_t bad = compute_apply(op, x, grad_output, cs, finite, workers);
    if (bad == x->count)
        return LR_ERR_OK;
    lr_error_set(err, LR_ERR_NOT_FINITE, "the result overflows to infinity (%s)%s",
                 op == COMPUTE_BACKWARD ? "grad_output * slope" : "slope * x", note);
    tensor_path(x, bad, name, err->path, sizeof err->path);
    return err->code;
}

lr_err compute_grad_slope(const tensor *x, const tensor *grad_output, const compute_slope *cs,
                          int finite, double *out, lr_error *err)
{
    if (compute_slope_gradient(x, grad_output, cs, out) != 0)
        return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
    for (size_t c = 0; c < cs->count; c++) {
        if (x->dtype == TENSOR_F32)
            out[c] = (float)out[c];
        if (finite && !isfinite(out[c])) {
            lr_error_set(err, LR_ERR_NOT_FINITE, "the gradient of slope %zu overflows to "
                         "infinity (the sum of grad_output * x)", c);
            snprintf(err->path, sizeof err->path, "slope[%zu]", c);
            return err->code;
        }
    }
    return LR_ERR_OK;
}
