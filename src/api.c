/* Routes and handlers of the HTTP API. Errors are JSON built with jansson;
 * numeric results are written directly by tensor_write_json. */
#include "api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lrelu.h"
#include "mem.h"
#include "numparse.h"
#include "request.h"
#include "tensor.h"
#include "utf8.h"

#ifndef LEAKYRELU_VERSION
#define LEAKYRELU_VERSION "0.0.0-dev"
#endif

#define DEFAULT_SLOPE 0.01

static const struct {
    const char *path;
    int is_post;
    api_route route;
} routes[] = {
    {"/forward", 1, API_FORWARD}, {"/gradient", 1, API_GRADIENT},
    {"/healthz", 0, API_HEALTHZ}, {"/livez", 0, API_LIVEZ},
    {"/readyz", 0, API_READYZ},   {"/version", 0, API_VERSION},
};

const char *api_version(void) { return LEAKYRELU_VERSION; }

int api_route_has_body(api_route route)
{
    return route == API_FORWARD || route == API_GRADIENT;
}

/* Takes ownership of a malloc'd JSON text. */
static void respond(api_response *resp, int status, char *body)
{
    resp->status = status;
    resp->body = body;
    resp->len = body ? strlen(body) : 0;
    resp->stream = NULL;
}

static void respond_json(api_response *resp, int status, json_t *obj)
{
    /* jansson allocates with malloc by default (json_set_alloc_funcs is
     * never called), so the text can be released with free(). */
    respond(resp, status, obj ? json_dumps(obj, 0) : NULL);
    if (!resp->body)
        resp->status = 503;
    json_decref(obj);
}

void api_error(const lr_error *err, api_response *resp)
{
    char msg[LR_DETAIL_MAX + LR_PATH_MAX + 64], safe[sizeof msg];
    int n = snprintf(msg, sizeof msg, "%s",
                     err->detail[0] ? err->detail : lr_err_message(err->code));
    if (err->path[0] && n >= 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n, " at %s", err->path);
    if (err->offset != LR_NO_OFFSET && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, " at byte %zu", err->offset);
    /* Messages quote client bytes (names, escapes, headers, the path):
     * make them valid, printable UTF-8 or jansson refuses the string. */
    utf8_sanitize(msg, safe, sizeof safe);
    json_t *obj = json_pack("{s:s, s:s}", "error", safe, "code", lr_err_code(err->code));
    if (obj && err->offset != LR_NO_OFFSET &&
        json_object_set_new(obj, "offset", json_integer((json_int_t)err->offset)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    if (obj && err->path[0] &&
        json_object_set_new(obj, "path", json_string(err->path)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    resp->allow = NULL;
    respond_json(resp, lr_err_status(err->code), obj);
}

__attribute__((format(printf, 3, 4)))
static void error_response(api_response *resp, lr_err code, const char *fmt, ...)
{
    lr_error err;
    lr_error_clear(&err);
    err.code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.detail, sizeof err.detail, fmt, ap);
        va_end(ap);
    }
    api_error(&err, resp);
}

/* application/json or application/x-www-form-urlencoded (what curl -d
 * sends), any parameters after ';', or no Content-Type at all. */
static int media_type_ok(const char *ct)
{
    static const char *const ok[] = {"application/json",
                                     "application/x-www-form-urlencoded"};
    if (!ct)
        return 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (*ct == '\0')
        return 1; /* an empty header is no header */
    size_t n = strcspn(ct, "; \t");
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return 0; /* "application/json garbage" */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (n == strlen(ok[i]) && strncasecmp(ct, ok[i], n) == 0)
            return 1;
    return 0;
}

int api_begin(const char *method, const char *path, const char *content_type,
              api_route *route, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        int allowed = routes[i].is_post ? strcmp(method, "POST") == 0
                                        : strcmp(method, "GET") == 0 ||
                                              strcmp(method, "HEAD") == 0;
        if (!allowed) {
            error_response(resp, LR_ERR_METHOD, "%s is not allowed on %s; use %s", method,
                           path, routes[i].is_post ? "POST" : "GET");
            resp->allow = routes[i].is_post ? "POST" : "GET, HEAD";
            return 0;
        }
        if (routes[i].is_post && !media_type_ok(content_type)) {
            error_response(resp, LR_ERR_MEDIA_TYPE,
                           "Content-Type must be application/json, not %.100s", content_type);
            return 0;
        }
        *route = routes[i].route;
        return 1;
    }
    error_response(resp, LR_ERR_NOT_FOUND,
                   "no endpoint %.200s; try POST /forward or POST /gradient", path);
    return 0;
}

/* Reads the query parameters: only "slope" is known. */
static lr_err query_slope(const api_request *req, int *has, double *slope, lr_error *err)
{
    lr_error_clear(err);
    *has = 0;
    for (size_t i = 0; i < req->nparams; i++) {
        const char *k = req->params[i].key, *v = req->params[i].value;
        size_t vlen = req->params[i].value_len;
        if (req->params[i].key_len != 5 || memcmp(k, "slope", 5) != 0) {
            err->code = LR_ERR_UNKNOWN_PARAM;
            snprintf(err->detail, sizeof err->detail,
                     "unknown query parameter \"%.100s\"; expected \"slope\"", k);
            return err->code;
        }
        if (*has) {
            err->code = LR_ERR_SLOPE_TWICE;
            snprintf(err->detail, sizeof err->detail, "slope is given twice in the query");
            return err->code;
        }
        const char *stop = v;
        numparse_status st = v && vlen ? numparse_f64(v, v + vlen, slope, &stop)
                                       : NUMPARSE_SYNTAX;
        if (st != NUMPARSE_OK || stop != v + vlen) {
            err->code = LR_ERR_BAD_SLOPE;
            snprintf(err->detail, sizeof err->detail,
                     st == NUMPARSE_RANGE
                         ? "query parameter slope is outside the range of a double"
                         : "query parameter slope is not a number: \"%.100s\"",
                     v ? v : "");
            return err->code;
        }
        *has = 1;
    }
    return LR_ERR_OK;
}

/* A reply written piece by piece as the connection asks for it: the
 * result tensor, taken over from the request, and where its text stands.
 * Reads of at least STREAM_FILL_MIN bytes are written straight into the
 * caller's buffer; smaller ones go through `stage`. */
#define STREAM_FILL_MIN (TENSOR_PIECE_MIN + 16)
#define STREAM_STAGE 4096

struct api_stream {
    tensor x;
    tensor_cursor cur;
    char head[16]; /* {"y":  or {"grad":  for object bodies */
    size_t head_len;
    int tail;      /* the closing '}' is still to write */
    size_t staged, staged_off;
    char stage[STREAM_STAGE];
};

static api_stream *stream_new(tensor *x, const char *key)
{
    api_stream *st = malloc(sizeof *st);
    if (!st)
        return NULL;
    st->x = *x; /* the data moves to the stream */
    tensor_init(x);
    tensor_cursor_init(&st->cur, &st->x, 0, st->x.count);
    st->head_len = key ? (size_t)snprintf(st->head, sizeof st->head, "{\"%s\": ", key) : 0;
    st->tail = key != NULL;
    st->staged = st->staged_off = 0;
    return st;
}

/* The next bytes of the reply into out (cap >= STREAM_FILL_MIN); 0 at
 * the end. */
static size_t stream_fill(api_stream *st, char *out, size_t cap)
{
    size_t n = st->head_len;
    memcpy(out, st->head, n);
    st->head_len = 0;
    n += tensor_write_piece(&st->cur, out + n, cap - n);
    if (st->cur.closed && st->tail && n < cap) {
        out[n++] = '}';
        st->tail = 0;
    }
    return n;
}

ptrdiff_t api_stream_read(api_stream *st, char *buf, size_t max)
{
    if (st->staged_off == st->staged) {
        if (max >= STREAM_FILL_MIN)
            return (ptrdiff_t)stream_fill(st, buf, max);
        st->staged = stream_fill(st, st->stage, sizeof st->stage);
        st->staged_off = 0;
    }
    size_t n = st->staged - st->staged_off;
    if (n > max)
        n = max;
    memcpy(buf, st->stage + st->staged_off, n);
    st->staged_off += n;
    return (ptrdiff_t)n;
}

void api_stream_free(api_stream *st)
{
    if (!st)
        return;
    tensor_free(&st->x);
    free(st);
}

/* Runs the kernel in place on x and writes {"y": ...} / {"grad": ...}, or
 * the bare result for bare bodies. */
static void compute(const api_request *hr, request *req, double slope, api_response *resp)
{
    tensor *x = &req->x;
    const char *key = "y";
    if (hr->route == API_FORWARD) {
        lrelu_forward_f64(x->data, x->data, x->count, slope);
    } else if (req->has_grad_output) {
        lrelu_backward_f64(x->data, req->grad_output.data, x->data, x->count, slope);
        key = "grad";
    } else {
        lrelu_gradient_f64(x->data, x->data, x->count, slope);
        key = "grad";
    }
    size_t bad = lrelu_find_nonfinite_f64(x->data, x->count);
    if (bad < x->count) {
        lr_error err;
        lr_error_clear(&err);
        err.code = LR_ERR_NOT_FINITE;
        tensor_path(x, bad, "x", err.path, sizeof err.path);
        snprintf(err.detail, sizeof err.detail, "the result overflows to infinity (%s)",
                 req->has_grad_output ? "grad_output * slope" : "slope * x");
        api_error(&err, resp);
        return;
    }
    if (x->count >= API_STREAM_MIN && x->ndim > 0) {
        api_stream *st = stream_new(x, req->is_object ? key : NULL);
        if (!st) {
            error_response(resp, LR_ERR_NO_MEMORY, NULL);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        return;
    }
    size_t bound = tensor_json_bound(x);
    if (bound > SIZE_MAX - 32) {
        error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    char *out = malloc(bound + 32);
    if (!out) {
        error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    mem_hint_large(out, bound + 32);
    char *p = out;
    if (req->is_object)
        p += sprintf(p, "{\"%s\": ", key);
    p = tensor_write_json(x, p);
    if (req->is_object)
        *p++ = '}';
    *p = '\0';
    resp->status = 200;
    resp->body = out;
    resp->len = (size_t)(p - out);
}

static void handle_compute(const api_request *hr, api_response *resp)
{
    request req;
    lr_error err, qerr;
    request_init(&req);
    lr_err rc = request_parse(hr->body, hr->body_len,
                              hr->route == API_FORWARD ? REQUEST_FORWARD : REQUEST_GRADIENT,
                              &req, &err);
    /* The text is no longer needed: a large body's memory is returned
     * before the reply's is taken. */
    free(hr->body_owned);
    int has_query_slope;
    double slope = DEFAULT_SLOPE, qslope = 0;
    if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        api_error(&err, resp); /* malformed JSON wins over request errors */
    } else if (query_slope(hr, &has_query_slope, &qslope, &qerr) != LR_ERR_OK) {
        api_error(&qerr, resp);
    } else if (rc != LR_ERR_OK) {
        api_error(&err, resp);
    } else if (has_query_slope && req.has_slope) {
        error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
    } else {
        if (req.has_slope)
            slope = req.slope;
        else if (has_query_slope)
            slope = qslope;
        compute(hr, &req, slope, resp);
    }
    request_free(&req);
}

void api_handle(const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        handle_compute(req, resp);
        return;
    default:
        free(req->body_owned);
        break;
    }
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        return;
    case API_READYZ:
        if (req->draining) {
            error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
            return;
        }
        /* fall through */
    case API_HEALTHZ:
    case API_LIVEZ:
        respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    case API_VERSION:
        respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s}", "name", "leakyrelu", "version",
                               LEAKYRELU_VERSION, "kernel", lrelu_variant()));
        return;
    }
}
