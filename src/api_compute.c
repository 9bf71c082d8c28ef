/* The compute endpoints, /forward and /gradient: the query, the slope
 * (one, or one per channel), the dtype, the kernel, and the reply
 * (written directly by tensor_write_json, or streamed). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "compute.h"
#include "mem.h"
#include "numfmt.h"
#include "numparse.h"
#include "stream.h"
#include "tensor.h"

#define DEFAULT_SLOPE 0.01

/* What the query may say: slope (one number, or a list) and dtype, each
 * at most once. query_free releases it. */
typedef struct query {
    int has_slope;
    tensor slopes; /* as the body's: ndim 0 for one number, 1 for a list */
    int has_dtype;
    tensor_dtype dtype;
} query;

static void query_free(query *q) { tensor_free(&q->slopes); }

/* "0.25" or "0.25,0.1" (spaces allowed after a comma) into t. */
static lr_err query_slopes(const char *v, size_t vlen, tensor *t, lr_error *err)
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

static int param_is(const api_param *p, const char *name)
{
    return p->key_len == strlen(name) && memcmp(p->key, name, p->key_len) == 0;
}

/* Reads the query parameters into q. */
static lr_err read_query(const api_request *req, query *q, lr_error *err)
{
    lr_error_clear(err);
    memset(q, 0, sizeof *q);
    tensor_init(&q->slopes);
    for (size_t i = 0; i < req->nparams; i++) {
        const api_param *pm = &req->params[i];
        const char *v = pm->value ? pm->value : "";
        size_t vlen = pm->value ? pm->value_len : 0;
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
            continue;
        }
        if (!param_is(pm, "slope"))
            return lr_error_set(err, LR_ERR_UNKNOWN_PARAM,
                                "unknown query parameter \"%.100s\"; expected \"slope\" or "
                                "\"dtype\"", pm->key);
        if (q->has_slope)
            return lr_error_set(err, LR_ERR_SLOPE_TWICE, "slope is given twice in the query");
        if (query_slopes(v, vlen, &q->slopes, err) != LR_ERR_OK)
            return err->code;
        q->has_slope = 1;
    }
    return LR_ERR_OK;
}
/* Memory that could not be had: the budget's refusal, or the system's. */
static void no_memory(const api_body *b, api_response *resp)
{
    api__error_response(resp, b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY, NULL);
}

/* `, "grad_slope": [...]`: the gradient with respect to each of the
 * slopes, in x's dtype, into a malloc'd *text (*len bytes). Returns 1, or
 * 0 with the error in resp. */
static int slope_gradient_text(const api_request *hr, const request *req,
                               const compute_slope *cs, char **text, size_t *len,
                               api_response *resp)
{
    double *g = malloc(cs->count * sizeof *g);
    char *out = malloc(cs->count * (NUMFMT_F64_MAX + 2) + 32);
    if (!g || !out ||
        compute_slope_gradient(&req->x, req->has_grad_output ? &req->grad_output : NULL, cs,
                               g) != 0) {
        free(g);
        free(out);
        no_memory(hr->body, resp);
        return 0;
    }
    int f32 = req->x.dtype == TENSOR_F32;
    char *p = out + sprintf(out, ", \"grad_slope\": [");
    for (size_t c = 0; c < cs->count; c++) {
        if (f32 ? !isfinite((float)g[c]) : !isfinite(g[c])) {
            lr_error err;
            lr_error_set(&err, LR_ERR_NOT_FINITE, "the gradient of slope %zu overflows to "
                         "infinity (the sum of grad_output * x)", c);
            snprintf(err.path, sizeof err.path, "slope[%zu]", c);
            api_error(&err, resp);
            free(g);
            free(out);
            return 0;
        }
        if (c) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        char buf[NUMFMT_F64_BUF];
        char *end = f32 ? numfmt_f32((float)g[c], buf) : numfmt_f64(g[c], buf);
        memcpy(p, buf, (size_t)(end - buf));
        p += end - buf;
    }
    *p++ = ']';
    free(g);
    *text = out;
    *len = (size_t)(p - out);
    return 1;
}

/* Runs the kernel in place on x and writes {"y": ...} / {"grad": ...}, or
 * the bare result for bare bodies, streamed when large; with a list of
 * slopes, /gradient also answers "grad_slope", always in an object. */
static void compute(const api_request *hr, request *req, const compute_slope *cs, int list,
                    api_response *resp)
{
    tensor *x = &req->x;
    const char *key = hr->route == API_FORWARD ? "y" : "grad";
    compute_op op = hr->route == API_FORWARD ? COMPUTE_FORWARD
                    : req->has_grad_output  ? COMPUTE_BACKWARD
                                            : COMPUTE_GRADIENT;
    char *after = NULL;
    size_t after_len = 0;
    if (list && op != COMPUTE_FORWARD &&
        !slope_gradient_text(hr, req, cs, &after, &after_len, resp))
        return;
    int object = req->is_object || after;
    size_t bad = compute_apply(op, x, req->has_grad_output ? &req->grad_output : NULL, cs,
                               hr->workers);
    if (bad < x->count) {
        lr_error err;
        lr_error_set(&err, LR_ERR_NOT_FINITE, "the result overflows to infinity (%s)",
                     req->has_grad_output ? "grad_output * slope" : "slope * x");
        tensor_path(x, bad, "x", err.path, sizeof err.path);
        api_error(&err, resp);
        free(after);
        return;
    }
    if (x->count >= API_STREAM_MIN && x->ndim > 0) {
        stream *st = stream_new(x, object ? key : NULL, after, after_len, hr->workers);
        free(after);
        if (!st) {
            no_memory(hr->body, resp);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        return;
    }
    size_t bound = tensor_json_bound(x);
    if (bound > SIZE_MAX - 32 - after_len) {
        free(after);
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    bound += after_len + 32;
    /* Charged to the budget when there is one (then released when the
     * HTTP library frees the reply), else plain memory. */
    budget_account *account = &hr->body->account;
    char *out = account->b ? budget_malloc(account, bound) : malloc(bound);
    if (!out) {
        free(after);
        no_memory(hr->body, resp);
        return;
    }
    mem_hint_large(out, bound);
    char *p = out;
    if (object)
        p += sprintf(p, "{\"%s\": ", key);
    p = tensor_write_json(x, p);
    if (after_len)
        memcpy(p, after, after_len);
    p += after_len;
    if (object)
        *p++ = '}';
    *p = '\0';
    free(after);
    resp->status = 200;
    resp->body = out;
    resp->charged = account->b != NULL;
    resp->len = (size_t)(p - out);
}
/* A float32 request: its tensors narrowed to float32 (each number rounded
 * once from its text), the slope checked against float32's range.
 * Returns 1, or 0 with the error in resp. */
static int narrow(request *req, const compute_slope *cs, api_response *resp)
{
    lr_error err;
    for (size_t c = 0; c < cs->count; c++) {
        if ((float)cs->values[c] - (float)cs->values[c] != 0) {
            lr_error_set(&err, LR_ERR_BAD_SLOPE, "slope %g is outside the range of float32",
                         cs->values[c]);
            api_error(&err, resp);
            return 0;
        }
    }
    tensor *t[2] = {&req->x, &req->grad_output};
    const char *names[2] = {"x", "grad_output"};
    for (int i = 0; i < 2; i++) {
        size_t bad = tensor_to_f32(t[i]);
        if (bad < t[i]->count) {
            lr_error_set(&err, LR_ERR_NUMBER_RANGE, "number outside the range of float32");
            tensor_path(t[i], bad, names[i], err.path, sizeof err.path);
            api_error(&err, resp);
            return 0;
        }
    }
    return 1;
}

/* One slope for all, or one per channel of x (PReLU). Returns 1, or 0
 * with the error in resp. */
static int channels_match(const tensor *x, const compute_slope *cs, api_response *resp)
{
    size_t channels = compute_channels(x);
    if (cs->count == 1 || cs->count == channels)
        return 1;
    lr_error err;
    if (x->ndim < 2 || channels == 0)
        lr_error_set(&err, LR_ERR_SLOPE_COUNT, "slope has %zu numbers, but x has %s: give 1 slope",
                     cs->count, channels ? "one channel (fewer than 2 dimensions)"
                                         : "no channels (its axis 1 is empty)");
    else
        lr_error_set(&err, LR_ERR_SLOPE_COUNT, "slope has %zu numbers, but x has %zu channel%s "
                     "(the length of its axis 1): give %zu slope%s, or 1 for all",
                     cs->count, channels, channels == 1 ? "" : "s", channels,
                     channels == 1 ? "" : "s");
    snprintf(err.path, sizeof err.path, "slope");
    api_error(&err, resp);
    return 0;
}

void api__handle_compute(const api_request *hr, api_response *resp)
{
    if (!hr->body) { /* a route's body is always given; none is an empty one */
        api__error_response(resp, LR_ERR_EMPTY_BODY, NULL);
        return;
    }
    request *req = &hr->body->req;
    const lr_error *err = &hr->body->err;
    lr_error qerr;
    lr_err rc = request_reader_finish(hr->body->reader);
    if (rc == LR_ERR_NO_MEMORY && hr->body->account.refused) {
        no_memory(hr->body, resp);
        return;
    }
    query q = {0};
    tensor_init(&q.slopes);
    if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        api_error(err, resp); /* malformed JSON wins over request errors */
    } else if (read_query(hr, &q, &qerr) != LR_ERR_OK) {
        api_error(&qerr, resp);
    } else if (rc != LR_ERR_OK) {
        api_error(err, resp);
    } else if (q.has_slope && req->has_slope) {
        api__error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
    } else if (q.has_dtype && req->has_dtype) {
        api__error_response(resp, LR_ERR_DTYPE_TWICE, NULL);
    } else {
        static const double default_slope = DEFAULT_SLOPE;
        const tensor *slopes = req->has_slope ? &req->slopes : q.has_slope ? &q.slopes : NULL;
        tensor_dtype dtype = req->has_dtype ? req->dtype : q.has_dtype ? q.dtype : TENSOR_F64;
        compute_slope cs = {.values = slopes ? slopes->data : &default_slope,
                            .count = slopes ? slopes->count : 1,
                            .inner = compute_inner(&req->x)};
        int list = slopes && slopes->ndim == 1;
        size_t elements = req->x.count; /* a streamed reply takes x */
        if (channels_match(&req->x, &cs, resp) && (dtype == TENSOR_F64 || narrow(req, &cs, resp)))
            compute(hr, req, &cs, list, resp);
        if (resp->status == 200)
            resp->elements = elements;
    }
    query_free(&q);
}
