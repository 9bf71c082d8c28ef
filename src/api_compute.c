/* The compute endpoints, /forward and /gradient, with a JSON body: the
 * body against the query, the dtype, the kernel, and the reply (written
 * directly by tensor_write_json, or streamed). */
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
#include "stream.h"
#include "tensor.h"

void api__no_memory(const api_body *b, api_response *resp)
{
    api__error_response(resp, b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY, NULL);
}

int api__slope_gradient_text(const api_body *b, const tensor *x, const tensor *grad_output,
                             const compute_slope *cs, const char *before, const char *after,
                             int nonfinite_ok, char **text, size_t *len, api_response *resp)
{
    size_t around = strlen(before) + strlen(after) + 1;
    double *g = malloc(cs->count * sizeof *g);
    char *out = malloc(cs->count * (NUMFMT_F64_MAX + 2) + around);
    if (!g || !out || compute_slope_gradient(x, grad_output, cs, g) != 0) {
        free(g);
        free(out);
        api__no_memory(b, resp);
        return 0;
    }
    int f32 = x->dtype == TENSOR_F32;
    char *p = out + strlen(before);
    memcpy(out, before, (size_t)(p - out));
    for (size_t c = 0; c < cs->count; c++) {
        if (!nonfinite_ok && (f32 ? !isfinite((float)g[c]) : !isfinite(g[c]))) {
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
    memcpy(p, after, strlen(after) + 1);
    p += strlen(after);
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
    /* The text around X: {"y":  and } for an object body, with
     * , "grad_slope": [...] before the } for a list of slopes. */
    char *owned = NULL;
    size_t tail_len = 0;
    if (list && op != COMPUTE_FORWARD &&
        !api__slope_gradient_text(hr->body, x, req->has_grad_output ? &req->grad_output : NULL,
                                  cs, ", \"grad_slope\": [", "]}", 0, &owned, &tail_len, resp))
        return;
    int object = req->is_object || owned;
    const char *tail = owned ? owned : object ? "}" : "";
    tail_len = owned ? tail_len : strlen(tail);
    char head[16];
    size_t head_len = object ? (size_t)snprintf(head, sizeof head, "{\"%s\": ", key) : 0;
    size_t bad = compute_apply(op, x, req->has_grad_output ? &req->grad_output : NULL, cs, 1,
                               hr->workers);
    if (bad < x->count) {
        lr_error err;
        lr_error_set(&err, LR_ERR_NOT_FINITE, "the result overflows to infinity (%s)",
                     req->has_grad_output ? "grad_output * slope" : "slope * x");
        tensor_path(x, bad, "x", err.path, sizeof err.path);
        api_error(&err, resp);
        free(owned);
        return;
    }
    if (x->count >= API_STREAM_MIN && x->ndim > 0) {
        stream *st = stream_new(x, head, head_len, tail, tail_len, hr->workers);
        free(owned);
        if (!st) {
            api__no_memory(hr->body, resp);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        return;
    }
    size_t bound = tensor_json_bound(x);
    if (bound > SIZE_MAX - 32 - tail_len) {
        free(owned);
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    bound += tail_len + 32;
    /* Charged to the budget when there is one (then released when the
     * HTTP library frees the reply), else plain memory. */
    budget_account *account = &hr->body->account;
    char *out = account->b ? budget_malloc(account, bound) : malloc(bound);
    if (!out) {
        free(owned);
        api__no_memory(hr->body, resp);
        return;
    }
    mem_hint_large(out, bound);
    memcpy(out, head, head_len);
    char *p = tensor_write_json(x, out + head_len);
    memcpy(p, tail, tail_len);
    p += tail_len;
    *p = '\0';
    free(owned);
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
    if (!api__slopes_f32(cs, resp))
        return 0;
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
        api__no_memory(hr->body, resp);
        return;
    }
    api__query q = {0};
    tensor_init(&q.slopes);
    if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        api_error(err, resp); /* malformed JSON wins over request errors */
    } else if (api__query_read(hr, API_FORMAT_JSON, &q, &qerr) != LR_ERR_OK) {
        api_error(&qerr, resp);
    } else if (rc != LR_ERR_OK) {
        api_error(err, resp);
    } else if (q.has_slope && req->has_slope) {
        api__error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
    } else if (q.has_dtype && req->has_dtype) {
        api__error_response(resp, LR_ERR_DTYPE_TWICE, NULL);
    } else {
        static const double default_slope = API__DEFAULT_SLOPE;
        const tensor *slopes = req->has_slope ? &req->slopes : q.has_slope ? &q.slopes : NULL;
        tensor_dtype dtype = req->has_dtype ? req->dtype : q.has_dtype ? q.dtype : TENSOR_F64;
        compute_slope cs = {.values = slopes ? slopes->data : &default_slope,
                            .count = slopes ? slopes->count : 1,
                            .inner = compute_inner(&req->x)};
        int list = slopes && slopes->ndim == 1;
        size_t elements = req->x.count; /* a streamed reply takes x */
        if (api__channels_match(&req->x, &cs, resp) &&
            (dtype == TENSOR_F64 || narrow(req, &cs, resp)))
            compute(hr, req, &cs, list, resp);
        if (resp->status == 200)
            resp->elements = elements;
    }
    api__query_free(&q);
}
