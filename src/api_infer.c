/* POST /v2/models/{model}[/versions/1]/infer: an Open Inference Protocol
 * inference request, read (api_oip.c), computed by the same kernel as
 * /forward and /gradient, and answered with the outputs asked for, each
 * as JSON (flat data, written by tensor_write_json or streamed) or as
 * binary data after the JSON (Triton's extension; the tensor's own
 * memory is sent, never copied). */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "infer.h"
#include "budget.h"
#include "compute.h"
#include "mem.h"
#include "numfmt.h"
#include "stream.h"

/* A reply's JSON text as it is written. */
typedef struct text {
    char *s;
    size_t len, cap;
    int failed; /* out of memory: s is NULL */
} text;

/* Room for n more bytes at the text's end (NULL once memory ran out);
 * the caller writes there and adds what it wrote to t->len. */
static char *room(text *t, size_t n)
{
    if (!t->failed && n > t->cap - t->len) {
        size_t cap = t->cap * 2 > t->len + n + 256 ? t->cap * 2 : t->len + n + 256;
        char *grown = cap > t->len ? realloc(t->s, cap) : NULL;
        if (!grown) {
            free(t->s);
            *t = (text){.failed = 1};
        } else {
            t->s = grown;
            t->cap = cap;
        }
    }
    return t->failed ? NULL : t->s + t->len;
}

static void put(text *t, const char *s, size_t n)
{
    char *p = room(t, n);
    if (p) {
        memcpy(p, s, n);
        t->len += n;
    }
}

__attribute__((format(printf, 2, 3)))
static void putf(text *t, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(t, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static const char *datatype(tensor_dtype d) { return d == TENSOR_F32 ? "FP32" : "FP64"; }

/* {"model_name": ..., "model_version": "1", "id": ..., "outputs": [ */
static void reply_head(text *t, const api_request *hr, const request *req)
{
    putf(t, "{\"model_name\": \"%s\", \"model_version\": \"" INFER_MODEL_VERSION "\"",
         infer_model_name(hr->model));
    if (req->oip.has_id) { /* escaped as JSON */
        json_t *s = json_string(req->oip.id);
        char *id = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        if (id) {
            put(t, ", \"id\": ", 8);
            put(t, id, strlen(id));
        } else {
            t->failed = 1;
        }
        free(id);
        json_decref(s);
    }
    put(t, ", \"outputs\": [", 14);
}

/* An output's name, datatype and shape. */
static void output_head(text *t, const infer_output *o, const infer_result *res)
{
    putf(t, "{\"name\": \"%s\", \"datatype\": \"%s\", \"shape\": [", o->name,
         datatype(res->dtype));
    if (o->slope) {
        putf(t, "%zu", res->nslopes);
    } else {
        for (int d = 0; d < res->y->ndim; d++)
            putf(t, "%s%zu", d ? ", " : "", res->y->shape[d]);
    }
    put(t, "]", 1);
}

/* The path of input i's data (0: x, 1: grad_output) as the JSON has it. */
static const char *data_path(const request *req, size_t i)
{
    return (i == 0) == !req->oip.swapped ? "inputs[0].data" : "inputs[1].data";
}

/* The query takes nothing: the slope is a parameter of the request. */
static int no_query(const api_request *hr, api_response *resp)
{
    if (hr->nparams == 0)
        return 1;
    api__error_response(resp, LR_ERR_UNKNOWN_PARAM, "unknown query parameter \"%.*s\"; an "
                        "inference request takes its slope as the parameter negative_slope",
                        (int)(hr->params[0].key_len < 100 ? hr->params[0].key_len : 100),
                        hr->params[0].key);
    return 0;
}

/* The request as the transport-neutral core takes it: the inputs' data
 * (x first, as the reader put it), the slope, the outputs asked for and
 * whether each is written as JSON text. */
static void to_infer(const api_request *hr, request *req, infer_request *ir)
{
    const request_oip *o = &req->oip;
    tensor *t[2] = {&req->x, &req->grad_output};
    *ir = (infer_request){.model = hr->model,
                          .slopes = req->has_slope ? &req->slopes : NULL,
                          .ninputs = o->ninputs,
                          .noutputs = o->has_outputs ? o->noutputs : 0,
                          .text = !o->binary_output};
    for (size_t i = 0; i < o->ninputs && i < INFER_INPUTS; i++)
        ir->in[i] = (infer_input){o->in[i].name, o->in[i].dtype, t[i], data_path(req, i)};
    for (size_t i = 0; i < ir->noutputs && i < INFER_OUTPUTS; i++) {
        ir->outputs[i].name = o->out[i].name;
        ir->outputs[i].text = !(o->out[i].has_binary ? o->out[i].binary : o->binary_output);
    }
}

/* grad_slope's values in the dtype, as binary data (a part). */
static int slope_part(const infer_result *res, api_part *part)
{
    size_t size = res->dtype == TENSOR_F32 ? 4 : 8;
    unsigned char *v = malloc(res->nslopes * size + 1);
    if (!v)
        return 0;
    for (size_t c = 0; c < res->nslopes; c++) {
        float f = (float)res->grad_slope[c];
        memcpy(v + c * size, size == 4 ? (const void *)&f : (const void *)&res->grad_slope[c],
               size);
    }
    *part = (api_part){v, res->nslopes * size, NULL, 0};
    return 1;
}

/* The JSON: every output's head; the data of the JSON ones, the kernel's
 * result flat, written here, or (stream_main) streamed between *before
 * and *after. */
static void reply_json(const api_request *hr, const request *req, const infer_result *res,
                       int stream_main, text *before, text *after)
{
    text *t = before;
    size_t size = res->dtype == TENSOR_F32 ? 4 : 8;
    reply_head(t, hr, req);
    for (size_t i = 0; i < res->noutputs; i++) {
        const infer_output *o = &res->out[i];
        if (i)
            put(t, ", ", 2);
        output_head(t, o, res);
        if (!o->text) {
            putf(t, ", \"parameters\": {\"binary_data_size\": %zu}}",
                 (o->slope ? res->nslopes : res->y->count) * size);
            continue;
        }
        put(t, ", \"data\": ", 10);
        if (o->slope) {
            char *s;
            size_t len;
            if (api__numbers_text(res->grad_slope, res->nslopes, res->dtype, "[", "]", &s, &len))
                put(t, s, len);
            else
                t->failed = 1;
            free(s);
        } else if (stream_main) {
            t = after; /* the data is streamed between before and after */
        } else {
            tensor flat = *res->y;
            flat.ndim = 1;
            flat.shape[0] = flat.count;
            size_t bound = tensor_json_bound(&flat);
            char *p = bound < SIZE_MAX ? room(t, bound) : NULL;
            if (p)
                t->len += (size_t)(tensor_write_json(&flat, p) - p);
            else
                t->failed = 1;
        }
        put(t, "}", 1);
    }
    put(t, "]}", 2);
}

/* Binary data after the JSON, in the outputs' order: the tensor's own
 * memory (and its charge) moves to the reply. Returns 1, or 0 when memory
 * ran out. */
static int reply_parts(const infer_result *res, api_response *resp)
{
    char length[32];
    snprintf(length, sizeof length, "%zu", resp->len);
    resp->content_type = "application/octet-stream";
    if (!api__add_header(resp, "Inference-Header-Content-Length", length))
        return 0;
    size_t size = res->dtype == TENSOR_F32 ? 4 : 8;
    for (size_t i = 0; i < res->noutputs; i++) {
        if (res->out[i].text)
            continue;
        if (res->out[i].slope) {
            if (!slope_part(res, &resp->parts[resp->nparts]))
                return 0;
            resp->nparts++;
            continue;
        }
        size_t charge, len = res->y->count * size;
        budget *owner = res->y->account ? res->y->account->b : NULL;
        void *data = tensor_take_data(res->y, &charge); /* the data is the reply's */
        resp->parts[resp->nparts++] = (api_part){data, len, owner, owner ? charge : 0};
    }
    return 1;
}

/* The reply to a computed request: JSON, streamed when the kernel's result
 * is long and goes as text, then any binary outputs. */
static void reply(const api_request *hr, const request *req, const infer_result *res,
                  api_body *b, api_response *resp)
{
    const budget_account *account = api__body_account(b);
    int stream_main = 0;
    for (size_t i = 0; i < res->noutputs; i++)
        stream_main |= !res->out[i].slope && res->out[i].text &&
                       res->y->count >= API_STREAM_MIN;
    text before = {0}, after = {0};
    reply_json(hr, req, res, stream_main, &before, &after);
    if (before.failed || after.failed) {
        free(before.s);
        free(after.s);
        api__no_memory(resp, account->refused);
        return;
    }
    size_t elements = req->x.count;
    if (stream_main) {
        res->y->ndim = 1;
        res->y->shape[0] = res->y->count;
        stream *st = stream_new(res->y, before.s, before.len, after.s, after.len, hr->workers);
        free(before.s);
        free(after.s);
        if (!st) {
            api__no_memory(resp, account->refused);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        resp->elements = elements;
        return;
    }
    api__respond(resp, 200, before.s, before.len);
    resp->elements = elements;
    int binary = 0;
    for (size_t i = 0; i < res->noutputs; i++)
        binary |= !res->out[i].text;
    if (binary && !reply_parts(res, resp)) {
        api_response_free(resp);
        api__no_memory(resp, account->refused);
    }
}

void api__handle_infer(const api_request *hr, api_response *resp)
{
    api_body *b = hr->body;
    if (!b) {
        api__error_response(resp, LR_ERR_EMPTY_BODY, NULL);
        return;
    }
    if (!api__body_json_length_ok(b)) {
        api__error_response(resp, LR_ERR_BINARY_LENGTH, "Inference-Header-Content-Length must "
                            "be the byte count of the JSON at the body's start");
        return;
    }
    request *req;
    const lr_error *json_err;
    lr_error err;
    lr_err rc = api__body_infer_json(b, &req, &json_err);
    if (rc == LR_ERR_NO_MEMORY || rc == LR_ERR_OVERLOADED) {
        api__no_memory(resp, api__body_account(b)->refused);
    } else if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        api_error(json_err, resp); /* malformed JSON wins */
    } else if (!no_query(hr, resp)) {
    } else if (rc != LR_ERR_OK) {
        api_error(json_err, resp);
    } else if (api__body_binary_complete(b, &err) != LR_ERR_OK) {
        api_error(&err, resp);
    } else {
        infer_request ir;
        infer_result res;
        to_infer(hr, req, &ir);
        if (infer_run(&ir, hr->workers, &res, &err) != LR_ERR_OK)
            api_error(&err, resp);
        else
            reply(hr, req, &res, b, resp);
        infer_result_free(&res);
    }
}
