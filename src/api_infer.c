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

/* An output of the reply: the kernel's result (y or grad) or grad_slope. */
typedef struct output {
    const char *name;
    int slope; /* grad_slope, else the kernel's result */
    int binary;
} output;

/* The outputs asked for, in the request's order (all the model has when
 * none are named), each binary as its parameter or binary_data_output
 * says. Returns their count, or 0 with the error in resp. */
static size_t pick_outputs(const api_request *hr, const request *req, int list, output *out,
                           api_response *resp)
{
    const request_oip *o = &req->oip;
    const char *main = hr->model == API_MODEL_FORWARD ? "y" : "grad";
    int has_slope = hr->model == API_MODEL_GRADIENT && list;
    if (!o->has_outputs) {
        out[0] = (output){main, 0, o->binary_output};
        out[1] = (output){"grad_slope", 1, o->binary_output};
        return has_slope ? 2 : 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < o->noutputs; i++) {
        const request_oip_output *ro = &o->out[i];
        int slope = strcmp(ro->name, "grad_slope") == 0;
        if (strcmp(ro->name, main) != 0 && !(slope && has_slope)) {
            lr_error err;
            lr_error_set(&err, LR_ERR_BAD_OUTPUT, "unknown output \"%s\"; %s's outputs are "
                         "\"%s\"%s", ro->name, hr->model == API_MODEL_FORWARD ? "leaky_relu"
                                                                              : "leaky_relu_grad",
                         main, hr->model == API_MODEL_FORWARD ? ""
                               : list ? " and \"grad_slope\""
                                      : " (and \"grad_slope\" when negative_slope is a list)");
            snprintf(err.path, sizeof err.path, "outputs[%zu].name", i);
            api_error(&err, resp);
            return 0;
        }
        for (size_t k = 0; k < n; k++) {
            if (strcmp(out[k].name, ro->name) == 0) {
                api__error_response(resp, LR_ERR_BAD_OUTPUT, "output \"%s\" is asked for twice",
                                    ro->name);
                return 0;
            }
        }
        out[n++] = (output){slope ? "grad_slope" : main, slope,
                            ro->has_binary ? ro->binary : o->binary_output};
    }
    return n;
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

/* The body has every binary input's bytes, and no more. */
static int binary_complete(const api_body *b, api_response *resp)
{
    const request_oip *o = &b->req.oip;
    size_t want = 0;
    for (size_t i = 0; i < o->ninputs; i++)
        want += o->in[i].binary ? o->in[i].binary_size : 0;
    size_t got = b->received - (b->json_len == API_LENGTH_UNKNOWN ? b->received : b->json_len);
    if (got == want)
        return 1;
    if (b->json_len == API_LENGTH_UNKNOWN) {
        api__error_response(resp, LR_ERR_BINARY_LENGTH, "the inputs have binary_data_size (%zu "
                            "bytes in all), but no Inference-Header-Content-Length header says "
                            "where the JSON ends and they begin", want);
        return 0;
    }
    api__error_response(resp, LR_ERR_BINARY_LENGTH, "the body has %zu bytes after its JSON "
                        "(Inference-Header-Content-Length: %zu), but the inputs' "
                        "binary_data_size add up to %zu", got,
                        b->json_len == API_LENGTH_UNKNOWN ? b->received : b->json_len, want);
    return 0;
}

/* The path of input i's data (0: x, 1: grad_output) as the JSON has it. */
static const char *data_path(const request *req, size_t i)
{
    return (i == 0) == !req->oip.swapped ? "inputs[0].data" : "inputs[1].data";
}

/* Float32 inputs sent as JSON, narrowed as /forward's are. */
static int narrow(request *req, api_response *resp)
{
    tensor *t[2] = {&req->x, &req->grad_output};
    for (size_t i = 0; i < req->oip.ninputs; i++) {
        if (!req->oip.in[i].has_data)
            continue;
        size_t bad = tensor_to_f32(t[i]);
        if (bad < t[i]->count) {
            lr_error err;
            lr_error_set(&err, LR_ERR_NUMBER_RANGE, "number outside the range of float32");
            tensor_path(t[i], bad, data_path(req, i), err.path, sizeof err.path);
            api_error(&err, resp);
            return 0;
        }
    }
    return 1;
}

/* grad_slope's values in the dtype, as binary data (a part). */
static int slope_part(const api_body *b, const tensor *x, const tensor *g,
                      const compute_slope *cs, api_part *part, api_response *resp)
{
    double *v = malloc(cs->count * sizeof *v);
    if (!v || compute_slope_gradient(x, g, cs, v) != 0) {
        free(v);
        api__no_memory(b, resp);
        return 0;
    }
    if (x->dtype == TENSOR_F32) { /* narrowed in place: the first half */
        float *f = (float *)(void *)v;
        for (size_t c = 0; c < cs->count; c++)
            f[c] = (float)v[c];
    }
    *part = (api_part){v, cs->count * (x->dtype == TENSOR_F32 ? 4 : 8), NULL, 0};
    return 1;
}

static const char *datatype(const tensor *x) { return x->dtype == TENSOR_F32 ? "FP32" : "FP64"; }

/* {"model_name": ..., "model_version": "1", "id": ..., "outputs": [ */
static void reply_head(text *t, const api_request *hr, const request *req)
{
    putf(t, "{\"model_name\": \"%s\", \"model_version\": \"1\"",
         hr->model == API_MODEL_FORWARD ? "leaky_relu" : "leaky_relu_grad");
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
static void output_head(text *t, const output *o, const tensor *x, size_t slopes)
{
    putf(t, "{\"name\": \"%s\", \"datatype\": \"%s\", \"shape\": [", o->name, datatype(x));
    if (o->slope) {
        putf(t, "%zu", slopes);
    } else {
        for (int d = 0; d < x->ndim; d++)
            putf(t, "%s%zu", d ? ", " : "", x->shape[d]);
    }
    put(t, "]", 1);
}

void api__handle_infer(const api_request *hr, api_response *resp)
{
    api_body *b = hr->body;
    if (!b) {
        api__error_response(resp, LR_ERR_EMPTY_BODY, NULL);
        return;
    }
    if (b->bad_json_length) {
        api__error_response(resp, LR_ERR_BINARY_LENGTH, "Inference-Header-Content-Length must "
                            "be the byte count of the JSON at the body's start");
        return;
    }
    api__oip_json_done(b);
    request *req = &b->req;
    if (b->json_rc == LR_ERR_NO_MEMORY || b->json_rc == LR_ERR_OVERLOADED) {
        api__no_memory(b, resp);
        return;
    }
    if (b->json_rc != LR_ERR_OK && lr_err_status(b->json_rc) != 422) {
        api_error(&b->err, resp); /* malformed JSON wins */
        return;
    }
    if (!no_query(hr, resp))
        return;
    if (b->json_rc != LR_ERR_OK) {
        api_error(&b->err, resp);
        return;
    }
    if (!binary_complete(b, resp))
        return;
    if (hr->model == API_MODEL_FORWARD && req->has_grad_output) {
        api__error_response(resp, LR_ERR_BAD_INPUT, "leaky_relu takes one input, \"x\"; "
                            "grad_output is leaky_relu_grad's");
        return;
    }
    static const double default_slope = API__DEFAULT_SLOPE;
    compute_slope cs = {.values = req->has_slope ? req->slopes.data : &default_slope,
                        .count = req->has_slope ? req->slopes.count : 1,
                        .inner = compute_inner(&req->x)};
    int list = req->has_slope && req->slopes.ndim == 1;
    output outs[REQUEST_OIP_OUTPUTS];
    size_t nout = pick_outputs(hr, req, list, outs, resp);
    if (nout == 0 || !api__channels_match(&req->x, &cs, resp))
        return;
    if (req->dtype == TENSOR_F32 && (!api__slopes_f32(&cs, resp) || !narrow(req, resp)))
        return;
    tensor *x = &req->x, *g = req->has_grad_output ? &req->grad_output : NULL;
    int want_main = 0, main_json = 0, slope_json = 0;
    api_part slope_bin = {0};
    char *slope_text = NULL;
    size_t slope_len = 0;
    for (size_t i = 0; i < nout; i++) {
        want_main |= !outs[i].slope;
        main_json |= !outs[i].slope && !outs[i].binary;
        slope_json |= outs[i].slope && !outs[i].binary;
        if (outs[i].slope && outs[i].binary && !slope_part(b, x, g, &cs, &slope_bin, resp))
            return;
    }
    if (slope_json && !api__slope_gradient_text(b, x, g, &cs, "[", "]", 0, &slope_text, &slope_len,
                                                resp))
        goto done;
    compute_op op = hr->model == API_MODEL_FORWARD ? COMPUTE_FORWARD
                    : g                            ? COMPUTE_BACKWARD
                                                   : COMPUTE_GRADIENT;
    size_t elements = x->count;
    if (want_main) {
        size_t bad = compute_apply(op, x, g, &cs, main_json, hr->workers);
        if (bad < x->count) {
            lr_error err;
            lr_error_set(&err, LR_ERR_NOT_FINITE, "the result overflows to infinity (%s); "
                         "binary outputs carry infinities", g ? "grad_output * slope"
                                                              : "slope * x");
            tensor_path(x, bad, data_path(req, 0), err.path, sizeof err.path);
            api_error(&err, resp);
            goto done;
        }
    }
    /* The JSON: every output's head; the data of the JSON ones, the
     * kernel's result flat (written here, or streamed after `before`). */
    text before = {0}, after = {0}, *t = &before;
    int stream_main = main_json && x->count >= API_STREAM_MIN;
    size_t size = x->dtype == TENSOR_F32 ? 4 : 8;
    int binary = 0;
    reply_head(t, hr, req);
    for (size_t i = 0; i < nout; i++) {
        const output *o = &outs[i];
        if (i)
            put(t, ", ", 2);
        output_head(t, o, x, cs.count);
        binary |= o->binary;
        if (o->binary) {
            putf(t, ", \"parameters\": {\"binary_data_size\": %zu}}",
                 o->slope ? slope_bin.len : x->count * size);
        } else if (o->slope) {
            put(t, ", \"data\": ", 10);
            put(t, slope_text, slope_len);
            put(t, "}", 1);
        } else {
            put(t, ", \"data\": ", 10);
            if (stream_main) {
                t = &after; /* the data is streamed between before and after */
            } else {
                tensor flat = *x;
                flat.ndim = 1;
                flat.shape[0] = x->count;
                size_t bound = tensor_json_bound(&flat);
                char *p = bound < SIZE_MAX ? room(t, bound) : NULL;
                if (p)
                    t->len += (size_t)(tensor_write_json(&flat, p) - p);
                else
                    t->failed = 1;
            }
            put(t, "}", 1);
        }
    }
    put(t, "]}", 2);
    if (before.failed || after.failed) {
        free(before.s);
        free(after.s);
        api__no_memory(b, resp);
        goto done;
    }
    if (stream_main) {
        x->ndim = 1;
        x->shape[0] = x->count;
        stream *st = stream_new(x, before.s, before.len, after.s, after.len, hr->workers);
        free(before.s);
        free(after.s);
        if (!st) {
            api__no_memory(b, resp);
            goto done;
        }
        resp->status = 200;
        resp->stream = st;
        resp->elements = elements;
        goto done;
    }
    resp->status = 200;
    resp->body = before.s;
    resp->len = before.len;
    resp->elements = elements;
    if (!binary)
        goto done;
    /* Binary data after the JSON, in the outputs' order: the tensor's own
     * memory (and its charge) moves to the reply. */
    char length[32];
    snprintf(length, sizeof length, "%zu", before.len);
    resp->content_type = "application/octet-stream";
    resp->headers[0].name = "Inference-Header-Content-Length";
    resp->headers[0].value = strdup(length);
    resp->nheaders = 1;
    if (!resp->headers[0].value) {
        api_response_free(resp);
        api__no_memory(b, resp);
        goto done;
    }
    for (size_t i = 0; i < nout; i++) {
        if (!outs[i].binary)
            continue;
        if (outs[i].slope) {
            resp->parts[resp->nparts++] = slope_bin;
            slope_bin.data = NULL;
            continue;
        }
        size_t charge, len = x->count * size;
        budget *owner = x->account ? x->account->b : NULL;
        void *data = tensor_take_data(x, &charge); /* the data is the reply's */
        resp->parts[resp->nparts++] = (api_part){data, len, owner, owner ? charge : 0};
    }
done:
    free(slope_bin.data);
    free(slope_text);
}
