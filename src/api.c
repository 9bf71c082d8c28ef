/* Routes and handlers of the HTTP API. Errors are JSON built with jansson;
 * numeric results are written directly by tensor_write_json. */
#include "api.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "budget.h"
#include "compute.h"
#include "lrelu.h"
#include "mem.h"
#include "metrics.h"
#include "numfmt.h"
#include "numparse.h"
#include "request.h"
#include "stream.h"
#include "tensor.h"
#include "utf8.h"
#include "version.h"

#define DEFAULT_SLOPE 0.01

static const struct {
    const char *path;
    int is_post;
    api_route route;
} routes[] = {
    {"/forward", 1, API_FORWARD}, {"/gradient", 1, API_GRADIENT},
    {"/healthz", 0, API_HEALTHZ}, {"/livez", 0, API_LIVEZ},
    {"/readyz", 0, API_READYZ},   {"/version", 0, API_VERSION},
    {"/metrics", 0, API_METRICS},
};

const char *api_route_name(api_route route)
{
    static const char *const names[API_ROUTES] = {
        [API_FORWARD] = "forward", [API_GRADIENT] = "gradient", [API_HEALTHZ] = "healthz",
        [API_LIVEZ] = "livez",     [API_READYZ] = "readyz",     [API_VERSION] = "version",
        [API_METRICS] = "metrics", [API_NONE] = "none",
    };
    return (unsigned)route < API_ROUTES ? names[route] : "none";
}

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
    resp->charged = 0;
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
    resp->retry_after = err->code == LR_ERR_OVERLOADED ? 1 : 0;
    respond_json(resp, lr_err_status(err->code), obj);
}

__attribute__((format(printf, 3, 4)))
static void error_response(api_response *resp, lr_err code, const char *fmt, ...)
{
    lr_error err;
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(&err, code, fmt, ap);
    va_end(ap);
    api_error(&err, resp);
}

/* application/json, application/x-www-form-urlencoded (what curl -d
 * sends) or text/plain (what fetch sends for a string body), any
 * parameters after ';', or no Content-Type at all. */
static int media_type_ok(const char *ct)
{
    static const char *const ok[] = {"application/json", "application/x-www-form-urlencoded",
                                     "text/plain"};
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
    *route = API_NONE;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        *route = routes[i].route;
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
                           "Content-Type must be application/json, "
                           "application/x-www-form-urlencoded, text/plain or none, not %.100s",
                           content_type);
            return 0;
        }
        return 1;
    }
    error_response(resp, LR_ERR_NOT_FOUND,
                   "no endpoint %.200s; try POST /forward or POST /gradient", path);
    return 0;
}

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

struct api_body {
    request req;
    lr_error err;
    request_reader *reader;
    budget_account account; /* the request's memory */
    size_t len, received;   /* bytes declared (or API_LENGTH_UNKNOWN), and come */
};

/* Memory that could not be had: the budget's refusal, or the system's. */
static void no_memory(const api_body *b, api_response *resp)
{
    error_response(resp, b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY, NULL);
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
        char buf[NUMFMT_F64_BUF];
        char *end = f32 ? numfmt_f32((float)g[c], buf) : numfmt_f64(g[c], buf);
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
        error_response(resp, LR_ERR_NO_MEMORY, NULL);
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

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* The most a reply to a body of len bytes allocates: a stream, or for
 * fewer than API_STREAM_MIN elements their text (each number with ", ",
 * the brackets and separators at most twice the body's, or 4 bytes per
 * dimension of each element), with a head and '}'. */
static size_t reply_bound(size_t len)
{
    size_t elements = len / 2 + 1;
    if (elements >= API_STREAM_MIN)
        return STREAM_MEMORY_MAX;
    size_t brackets = len < SIZE_MAX / 2 ? 2 * len : SIZE_MAX;
    if (brackets > 4 * TENSOR_MAX_DIMS * elements)
        brackets = 4 * TENSOR_MAX_DIMS * elements;
    return (NUMFMT_F64_MAX + 2) * elements + brackets + 64;
}

/* What a body of unknown length reserves: its first 64 KiB. */
#define UNKNOWN_RESERVE (64 * 1024)

/* The reservation for what is still to come of b: reading the text still
 * to arrive and the text held, and the reply. */
static size_t still_needed(const api_body *b)
{
    size_t to_come = b->len - b->received;
    return add_sat(request_reader_bound(add_sat(to_come, request_reader_held(b->reader))),
                   reply_bound(b->len));
}

size_t api_body_reserve(size_t len)
{
    if (len == API_LENGTH_UNKNOWN)
        len = UNKNOWN_RESERVE;
    return add_sat(request_reader_bound(len), reply_bound(len));
}

api_body *api_body_new(api_route route, struct pool *workers, budget *bg, size_t len,
                       lr_err *why)
{
    size_t reserve = api_body_reserve(len);
    *why = LR_ERR_BODY_TOO_LARGE;
    if (bg && reserve > budget_limit(bg))
        return NULL;
    *why = LR_ERR_NO_MEMORY;
    api_body *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    if (budget_open(bg, &b->account, reserve) != 0) {
        *why = LR_ERR_OVERLOADED;
        free(b);
        return NULL;
    }
    b->len = len;
    b->received = 0;
    request_init(&b->req);
    request_set_account(&b->req, &b->account);
    b->reader = request_reader_new(route == API_FORWARD ? REQUEST_FORWARD : REQUEST_GRADIENT,
                                   workers, &b->req, &b->err);
    if (!b->reader) {
        budget_close(&b->account);
        free(b);
        return NULL;
    }
    return b;
}

lr_err api_body_feed(api_body *b, const char *data, size_t len)
{
    if (request_reader_feed(b->reader, data, len) != 0)
        return b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY;
    b->received += len;
    /* What is read needs no reservation any more: the rest goes back for
     * the requests that come next. */
    if (b->len != API_LENGTH_UNKNOWN && b->received <= b->len)
        budget_trim(&b->account, still_needed(b));
    return LR_ERR_OK;
}

void api_body_free(api_body *b)
{
    if (!b)
        return;
    request_reader_free(b->reader);
    request_free(&b->req);
    budget_close(&b->account);
    free(b);
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

static void handle_compute(const api_request *hr, api_response *resp)
{
    if (!hr->body) { /* a route's body is always given; none is an empty one */
        error_response(resp, LR_ERR_EMPTY_BODY, NULL);
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
        error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
    } else if (q.has_dtype && req->has_dtype) {
        error_response(resp, LR_ERR_DTYPE_TWICE, NULL);
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

void api_response_free(api_response *resp)
{
    if (resp->charged)
        budget_block_free(resp->body);
    else
        free(resp->body);
    stream_free(resp->stream);
    resp->body = NULL;
    resp->stream = NULL;
    resp->charged = 0;
}

static void handle_metrics(const api_request *req, api_response *resp)
{
    static const metrics_extra none = {.memory_budget_bytes = SIZE_MAX};
    if (!req->metrics) {
        error_response(resp, LR_ERR_NOT_FOUND, "this server keeps no metrics");
        return;
    }
    size_t len = 0;
    char *text = metrics_render(req->metrics, req->extra ? req->extra : &none, &len);
    respond(resp, text ? 200 : 503, text);
    resp->len = len;
    resp->content_type = text ? METRICS_CONTENT_TYPE : NULL;
}

void api_handle(const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        handle_compute(req, resp);
        break;
    case API_READYZ:
        if (req->draining) {
            error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
            break;
        }
        /* fall through */
    case API_HEALTHZ:
    case API_LIVEZ:
        respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        break;
    case API_VERSION:
        respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s}", "name", "leakyrelu", "version",
                               LEAKYRELU_VERSION, "kernel", lrelu_variant()));
        break;
    case API_METRICS:
        handle_metrics(req, resp);
        break;
    case API_NONE:
    case API_ROUTES:
        error_response(resp, LR_ERR_NOT_FOUND, NULL);
        break;
    }
    api_body_free(req->body);
}
