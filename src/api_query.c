/* What the compute endpoints share, whatever the body's format: the query
 * (slope, dtype; for binary bodies shape and grad_output), and the text of
 * a short list of numbers (grad_slope's). The checks on the slope are
 * compute.c's, shared with every transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "compute.h"
#include "numfmt.h"
#include "numparse.h"

lr_err api__query_slopes(const char *v, size_t vlen, tensor *t, lr_error *err)
{
    const char *p = v, *end = v + vlen;
    for (;;) {
        double d;
        const char *stop = p;
        numparse_status st = p < end ? numparse_f64(p, end, &d, &stop) : NUMPARSE_SYNTAX;
        if (st == NUMPARSE_RANGE)
            return lr_error_set(err, LR_ERR_BAD_SLOPE, "query parameter slope has a number "
                                "outside the range of a double");
        if (st != NUMPARSE_OK || (stop < end && *stop != ','))
            return lr_error_set(err, LR_ERR_BAD_SLOPE,
                                "query parameter slope is not a number or a list of numbers "
                                "(\"0.25,0.1\"): \"%.100s\"", v);
        if (tensor_push(t, d) != 0)
            return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
        if (stop == end)
            break;
        for (p = stop + 1; p < end && *p == ' '; p++) {
        }
        t->ndim = 1;
    }
    t->shape[0] = t->count;
    return LR_ERR_OK;
}

/* "2,3" (spaces allowed after a comma; "" is a scalar's shape) into q. */
static lr_err query_shape(const char *v, size_t vlen, api__query *q, lr_error *err)
{
    const char *p = v, *end = v + vlen;
    q->ndim = 0;
    while (p < end) {
        size_t n = 0;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9' && n <= (SIZE_MAX - 9) / 10)
            n = n * 10 + (size_t)(*p++ - '0');
        if (p == digits || (p < end && *p != ',') || q->ndim == TENSOR_MAX_DIMS)
            goto bad;
        q->shape[q->ndim++] = n;
        if (p == end)
            break;
        for (p++; p < end && *p == ' '; p++) {
        }
        if (p == end) /* "2," */
            goto bad;
    }
    return LR_ERR_OK;
bad:
    return lr_error_set(err, LR_ERR_BAD_SHAPE, "query parameter shape must be up to %d sizes "
                        "separated by commas (\"2,3\"; empty for a scalar), not \"%.100s\"",
                        TENSOR_MAX_DIMS, v);
}

static int param_is(const api_param *p, const char *name)
{
    return p->key_len == strlen(name) && memcmp(p->key, name, p->key_len) == 0;
}

/* The parameters each body format takes, for the unknown parameter's
 * message. */
static const char *expected(api_route route, api_format format)
{
    if (format != API_FORMAT_BINARY)
        return "\"slope\" or \"dtype\"";
    return route == API_GRADIENT ? "\"slope\", \"dtype\", \"shape\" or \"grad_output\""
                                 : "\"slope\", \"dtype\" or \"shape\"";
}

static lr_err query_param(const api_param *pm, api_route route, api_format format,
                          api__query *q, lr_error *err)
{
    const char *v = pm->value ? pm->value : "";
    size_t vlen = pm->value ? pm->value_len : 0;
    int binary = format == API_FORMAT_BINARY;
    if (param_is(pm, "dtype")) {
        if (q->has_dtype)
            return lr_error_set(err, LR_ERR_DTYPE_TWICE, "dtype is given twice in the query");
        if (vlen == 7 && memcmp(v, "float64", 7) == 0)
            q->dtype = TENSOR_F64;
        else if (vlen == 7 && memcmp(v, "float32", 7) == 0)
            q->dtype = TENSOR_F32;
        else
            return lr_error_set(err, LR_ERR_BAD_DTYPE,
                                "query parameter dtype must be \"float64\" or \"float32\", "
                                "not \"%.100s\"", v);
        q->has_dtype = 1;
        return LR_ERR_OK;
    }
    if (param_is(pm, "slope")) {
        if (q->has_slope)
            return lr_error_set(err, LR_ERR_SLOPE_TWICE, "slope is given twice in the query; "
                                "a slope per channel is one list: slope=0.1,0.2");
        q->has_slope = 1;
        return api__query_slopes(v, vlen, &q->slopes, err);
    }
    if (binary && param_is(pm, "shape")) {
        if (q->has_shape)
            return lr_error_set(err, LR_ERR_BAD_SHAPE, "shape is given twice in the query");
        q->has_shape = 1;
        return query_shape(v, vlen, q, err);
    }
    if (binary && route == API_GRADIENT && param_is(pm, "grad_output")) {
        if (q->grad_output || !((vlen == 1 && v[0] == '1') || (vlen == 4 && !memcmp(v, "true", 4))))
            return lr_error_set(err, LR_ERR_UNKNOWN_PARAM, "query parameter grad_output must "
                                "be given once, as grad_output=1 (the body is then x followed "
                                "by grad_output)");
        q->grad_output = 1;
        return LR_ERR_OK;
    }
    return lr_error_set(err, LR_ERR_UNKNOWN_PARAM, "unknown query parameter \"%.*s\"; "
                        "expected %s%s", (int)(pm->key_len < 100 ? pm->key_len : 100), pm->key,
                        expected(route, format),
                        binary && route == API_FORWARD && param_is(pm, "grad_output")
                            ? " (grad_output is for /gradient)"
                        : param_is(pm, "negative_slope") ? " (PyTorch's negative_slope is "
                                                           "\"slope\" here)"
                                                         : "");
}

lr_err api__query_read(const api_request *req, api_format format, api__query *q, lr_error *err)
{
    lr_error_clear(err);
    memset(q, 0, sizeof *q);
    tensor_init(&q->slopes);
    for (size_t i = 0; i < req->nparams; i++)
        if (query_param(&req->params[i], req->route, format, q, err) != LR_ERR_OK)
            return err->code;
    return LR_ERR_OK;
}

void api__query_free(api__query *q) { tensor_free(&q->slopes); }

int api__numbers_text(const double *g, size_t count, tensor_dtype dtype, const char *before,
                      const char *after, char **text, size_t *len)
{
    size_t nb = strlen(before), na = strlen(after);
    /* numfmt may touch NUMFMT_F64_BUF bytes where it writes at most
     * NUMFMT_F64_MAX: the slack is for the last number. */
    char *out = malloc(count * (NUMFMT_F64_MAX + 2) + nb + na + NUMFMT_F64_BUF);
    *text = out;
    if (!out)
        return 0;
    char *p = out + nb;
    memcpy(out, before, nb);
    for (size_t c = 0; c < count; c++) {
        if (c) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        p = dtype == TENSOR_F32 ? numfmt_f32((float)g[c], p) : numfmt_f64(g[c], p);
    }
    memcpy(p, after, na + 1);
    *len = (size_t)(p - out) + na;
    return 1;
}
