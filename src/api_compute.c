/* The compute endpoints, /forward and /gradient, with a JSON body: the
 * body against the query, the dtype, the kernel, and the reply (written
 * directly by tensor_write_json, or streamed). A binary body goes to
 * api_binary.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "compute.h"
#include "mem.h"
#include "stream.h"
#include "tensor.h"

/* The reply's text, x's numbers between head and tail: in a block charged
 * to the request's account when it has a budget (released when the
 * transport frees the reply), else plain memory; or streamed when long. */
static void reply(const api_request *hr, tensor *x, const char *head, size_t head_len,
                  const char *tail, size_t tail_len, api_response *resp)
{
    budget_account *account = api__body_account(hr->body);
    if (x->count >= API_STREAM_MIN && x->ndim > 0) {
        stream *st = stream_new(x, head, head_len, tail, tail_len, hr->workers);
        if (!st) {
            api__no_memory(resp, account->refused);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        return;
    }
    size_t bound = tensor_json_bound(x);
    if (bound > SIZE_MAX - 32 - tail_len) {
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    bound += tail_len + 32;
    char *out = account->b ? budget_malloc(account, bound) : malloc(bound);
    if (!out) {
        api__no_memory(resp, account->refused);
        return;
    }
    mem_hint_large(out, bound);
    memcpy(out, head, head_len);
    char *p = tensor_write_json(x, out + head_len);
    memcpy(p, tail, tail_len);
    p += tail_len;
    *p = '\0';
    api__respond(resp, 200, out, (size_t)(p - out));
    resp->body_in_budget = account->b != NULL;
}

/* Runs the kernel in place on x and writes {"y": ...} / {"grad": ...}, or
 * the bare result for bare bodies; with a list of slopes, /gradient also
 * answers "grad_slope", always in an object. */
static void compute(const api_request *hr, request *req, const compute_slope *cs, int list,
                    api_response *resp)
{
    tensor *x = &req->x;
    const tensor *g = req->has_grad_output ? &req->grad_output : NULL;
    compute_op op = hr->route == API_FORWARD ? COMPUTE_FORWARD
                    : g                      ? COMPUTE_BACKWARD
                                             : COMPUTE_GRADIENT;
    lr_error err;
    /* The text around x: {"y":  and } for an object body, with
     * , "grad_slope": [...] before the } for a list of slopes. */
    char *owned = NULL;
    size_t tail_len = 0;
    if (list && op != COMPUTE_FORWARD) {
        double *v = malloc(cs->count * sizeof *v);
        lr_err rc = v ? compute_grad_slope(x, g, cs, 1, v, &err) : LR_ERR_NO_MEMORY;
        if (rc == LR_ERR_OK && !api__numbers_text(v, cs->count, x->dtype, ", \"grad_slope\": [",
                                                  "]}", &owned, &tail_len))
            rc = LR_ERR_NO_MEMORY;
        free(v);
        if (rc != LR_ERR_OK) {
            if (rc == LR_ERR_NO_MEMORY)
                api__no_memory(resp, api__body_account(hr->body)->refused);
            else
                api_error(&err, resp);
            return;
        }
    }
    int object = req->is_object || owned;
    const char *tail = owned ? owned : object ? "}" : "";
    tail_len = owned ? tail_len : strlen(tail);
    char head[16];
    size_t head_len =
        object ? (size_t)snprintf(head, sizeof head, "{\"%s\": ", op == COMPUTE_FORWARD ? "y"
                                                                                       : "grad")
               : 0;
    if (compute_run(op, x, g, cs, 1, hr->workers, "x", "", &err) != LR_ERR_OK)
        api_error(&err, resp);
    else
        reply(hr, x, head, head_len, tail, tail_len, resp);
    free(owned);
}

/* The body's slope and dtype, or the query's (not both), the checks, the
 * narrowing to float32, then compute. */
static void compute_with(const api_request *hr, request *req, const api__query *q,
                         api_response *resp)
{
    lr_error err;
    if (q->has_slope && req->has_slope) {
        api__error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
        return;
    }
    if (q->has_dtype && req->has_dtype) {
        api__error_response(resp, LR_ERR_DTYPE_TWICE, NULL);
        return;
    }
    const tensor *slopes = req->has_slope ? &req->slopes : q->has_slope ? &q->slopes : NULL;
    tensor_dtype dtype = req->has_dtype ? req->dtype : q->has_dtype ? q->dtype : TENSOR_F64;
    compute_slope cs = compute_slope_of(slopes, &req->x);
    size_t elements = req->x.count; /* a streamed reply takes x */
    if (compute_check_slope(&req->x, &cs, dtype, &err) != LR_ERR_OK ||
        (dtype == TENSOR_F32 && (compute_narrow(&req->x, "x", &err) != LR_ERR_OK ||
                                 compute_narrow(&req->grad_output, "grad_output", &err) !=
                                     LR_ERR_OK))) {
        api_error(&err, resp);
        return;
    }
    compute(hr, req, &cs, slopes && slopes->ndim == 1, resp);
    if (resp->status == 200)
        resp->elements = elements;
}

void api__handle_compute(const api_request *hr, api_response *resp)
{
    if (!hr->body) { /* a route's body is always given; none is an empty one */
        api__error_response(resp, LR_ERR_EMPTY_BODY, NULL);
        return;
    }
    if (api__body_format(hr->body) == API_FORMAT_BINARY) {
        api__handle_binary(hr, resp);
        return;
    }
    request *req;
    const lr_error *body_err;
    lr_error qerr;
    lr_err rc = api__body_json(hr->body, &req, &body_err);
    if (rc == LR_ERR_NO_MEMORY && api__body_account(hr->body)->refused) {
        api__no_memory(resp, 1);
        return;
    }
    api__query q;
    if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        tensor_init(&q.slopes);
        api_error(body_err, resp); /* malformed JSON wins over request errors */
    } else if (api__query_read(hr, API_FORMAT_JSON, &q, &qerr) != LR_ERR_OK) {
        api_error(&qerr, resp);
    } else if (rc != LR_ERR_OK) {
        api_error(body_err, resp);
    } else {
        compute_with(hr, req, &q, resp);
    }
    api__query_free(&q);
}
