/* Routes and handlers of the HTTP API: what a request line may ask, the
 * body as it arrives, the small endpoints and the error replies (JSON
 * built with jansson). The compute endpoints are api_compute.c's. */
#include "api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_internal.h"
#include "budget.h"
#include "lrelu.h"
#include "mem.h"
#include "metrics.h"
#include "numfmt.h"
#include "openapi.h"
#include "request.h"
#include "stream.h"
#include "utf8.h"
#include "version.h"

static const struct {
    const char *path;
    int is_post;
    api_route route;
} routes[] = {
    {"/forward", 1, API_FORWARD}, {"/gradient", 1, API_GRADIENT},
    {"/healthz", 0, API_HEALTHZ}, {"/livez", 0, API_LIVEZ},
    {"/readyz", 0, API_READYZ},   {"/version", 0, API_VERSION},
    {"/metrics", 0, API_METRICS}, {"/openapi.json", 0, API_OPENAPI},
    {"/plot.svg", 0, API_PLOT},   {"/", 0, API_PLAYGROUND},
};

const char *api_route_name(api_route route)
{
    static const char *const names[API_ROUTES] = {
        [API_FORWARD] = "forward", [API_GRADIENT] = "gradient", [API_HEALTHZ] = "healthz",
        [API_LIVEZ] = "livez",     [API_READYZ] = "readyz",     [API_VERSION] = "version",
        [API_METRICS] = "metrics", [API_OPENAPI] = "openapi",
        [API_PLOT] = "plot",       [API_PLAYGROUND] = "playground",
        [API_V2] = "v2",           [API_V2_LIVE] = "v2_health_live",
        [API_V2_READY] = "v2_health_ready", [API_V2_MODEL] = "v2_model",
        [API_V2_MODEL_READY] = "v2_model_ready", [API_V2_INFER] = "v2_infer",
        [API_NONE] = "none",
    };
    return (unsigned)route < API_ROUTES ? names[route] : "none";
}

int api_route_has_body(api_route route)
{
    return route == API_FORWARD || route == API_GRADIENT || route == API_V2_INFER;
}

/* The methods each route takes, for Allow. */
static const char *route_allow(api_route route)
{
    return api_route_has_body(route) ? "POST, OPTIONS" : "GET, HEAD, OPTIONS";
}

void api__respond(api_response *resp, int status, char *body)
{
    resp->status = status;
    resp->body = body;
    resp->len = body ? strlen(body) : 0;
    resp->stream = NULL;
    resp->charged = 0;
}

int api__respond_copy(api_response *resp, const char *text, size_t len,
                      const char *content_type)
{
    char *body = malloc(len + 1);
    if (!body) {
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return 0;
    }
    memcpy(body, text, len + 1);
    api__respond(resp, 200, body);
    resp->len = len;
    resp->content_type = content_type;
    return 1;
}

int api__add_header(api_response *resp, const char *name, const char *value)
{
    char *v = resp->nheaders < API_HEADERS_MAX ? strdup(value) : NULL;
    if (!v)
        return 0;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return 1;
}

static void respond_json(api_response *resp, int status, json_t *obj)
{
    /* jansson allocates with malloc by default (json_set_alloc_funcs is
     * never called), so the text can be released with free(). */
    api__respond(resp, status, obj ? json_dumps(obj, 0) : NULL);
    if (!resp->body)
        resp->status = 503;
    json_decref(obj);
}

void api_error(const lr_error *err, api_response *resp)
{
    memset(resp, 0, sizeof *resp); /* it owns nothing yet (api.h) */
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

void api__error_response(api_response *resp, lr_err code, const char *fmt, ...)
{
    lr_error err;
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(&err, code, fmt, ap);
    va_end(ap);
    api_error(&err, resp);
}

/* The body format a Content-Type names, or -1: application/json,
 * application/x-www-form-urlencoded (what curl -d sends), text/plain
 * (what fetch sends for a string body) or no Content-Type at all are
 * JSON; application/octet-stream is binary; parameters after ';' are
 * ignored. */
static int media_format(const char *ct)
{
    static const struct {
        const char *type;
        api_format format;
    } ok[] = {{"application/json", API_FORMAT_JSON},
              {"application/x-www-form-urlencoded", API_FORMAT_JSON},
              {"text/plain", API_FORMAT_JSON},
              {"application/octet-stream", API_FORMAT_BINARY}};
    if (!ct)
        return API_FORMAT_JSON;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (*ct == '\0')
        return API_FORMAT_JSON; /* an empty header is no header */
    size_t n = strcspn(ct, "; \t");
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return -1; /* "application/json garbage" */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (n == strlen(ok[i].type) && strncasecmp(ct, ok[i].type, n) == 0)
            return (int)ok[i].format;
    return -1;
}

int api_begin(const char *method, const char *path, const char *content_type,
              api_call *call, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    memset(call, 0, sizeof *call);
    call->route = API_NONE;
    if (strncmp(path, "/v2", 3) == 0 && (path[3] == '\0' || path[3] == '/'))
        return api__oip_begin(method, path, content_type, call, resp);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        call->route = routes[i].route;
        if (strcmp(method, "OPTIONS") == 0) { /* answered by api_handle */
            call->options = 1;
            return 1;
        }
        int allowed = routes[i].is_post ? strcmp(method, "POST") == 0
                                        : strcmp(method, "GET") == 0 ||
                                              strcmp(method, "HEAD") == 0;
        if (!allowed) {
            api__error_response(resp, LR_ERR_METHOD, "%s is not allowed on %s; use %s", method,
                                path, routes[i].is_post ? "POST" : "GET");
            resp->allow = route_allow(routes[i].route);
            return 0;
        }
        int format = routes[i].is_post ? media_format(content_type) : API_FORMAT_JSON;
        if (format < 0) {
            api__error_response(resp, LR_ERR_MEDIA_TYPE,
                                "Content-Type must be application/json, "
                                "application/x-www-form-urlencoded, text/plain, "
                                "application/octet-stream or none, not %.100s",
                                content_type);
            return 0;
        }
        call->format = (api_format)format;
        return 1;
    }
    api__error_response(resp, LR_ERR_NOT_FOUND,
                        "no endpoint %.200s; try POST /forward or POST /gradient, or see "
                        "GET /openapi.json", path);
    return 0;
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

/* The text of a reply too small to stream (fewer than API_STREAM_MIN
 * numbers, each with ", "), with room for its JSON around them. */
#define SMALL_REPLY_MAX ((size_t)API_STREAM_MIN * (NUMFMT_F64_MAX + 2) + 4096)

/* What a binary body holds beside its bytes: the block's head, and the
 * reply's few headers. */
#define BINARY_OVERHEAD 4096

size_t api_body_reserve(api_format format, size_t len)
{
    if (len == API_LENGTH_UNKNOWN)
        len = UNKNOWN_RESERVE;
    if (format == API_FORMAT_BINARY)
        return add_sat(len, BINARY_OVERHEAD);
    if (format == API_FORMAT_OIP) /* JSON, binary inputs (read, sent back in place), a stream */
        return add_sat(add_sat(request_reader_bound(len), len),
                       add_sat(reply_bound(len), STREAM_MEMORY_MAX));
    return add_sat(request_reader_bound(len), reply_bound(len));
}

/* A byte count of at most len (when known): digits only. */
static int parse_length(const char *s, size_t len, size_t *out)
{
    size_t n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (SIZE_MAX - 9) / 10)
            return -1;
        n = n * 10 + (size_t)(*s - '0');
    }
    if (len != API_LENGTH_UNKNOWN && n > len)
        return -1;
    *out = n;
    return 0;
}

api_body *api_body_new(const api_call *call, struct pool *workers, budget *bg, size_t len,
                       lr_err *why)
{
    if (call->coding != CODING_IDENTITY) /* what it decodes to is unknown */
        len = API_LENGTH_UNKNOWN;
    size_t reserve = api_body_reserve(call->format, len), json_len = API_LENGTH_UNKNOWN;
    int bad_json_length = call->format == API_FORMAT_OIP && call->json_length &&
                          parse_length(call->json_length, len, &json_len) != 0;
    if (json_len != API_LENGTH_UNKNOWN && len != API_LENGTH_UNKNOWN)
        /* JSON of json_len bytes, then binary inputs received and sent back in place */
        reserve = add_sat(add_sat(request_reader_bound(json_len), reply_bound(json_len)),
                          add_sat(len - json_len, STREAM_MEMORY_MAX + SMALL_REPLY_MAX));
    if (call->coding != CODING_IDENTITY)
        reserve = add_sat(reserve, CODING_MEMORY);
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
    b->format = call->format;
    b->len = len;
    b->received = 0;
    b->raw = NULL;
    b->raw_cap = 0;
    b->reader = NULL;
    request_init(&b->req);
    request_set_account(&b->req, &b->account);
    lr_error_clear(&b->err);
    b->json_len = json_len;
    b->bad_json_length = bad_json_length;
    b->json_done = 0;
    b->json_rc = LR_ERR_OK;
    b->bin_input = b->bin_off = b->bin_extra = 0;
    b->max_body = call->max_body ? call->max_body : SIZE_MAX;
    b->decoder = NULL;
    if (call->coding != CODING_IDENTITY && !(b->decoder = coding_decoder_new(call->coding))) {
        budget_close(&b->account);
        free(b);
        return NULL;
    }
    if (b->format == API_FORMAT_BINARY)
        return b;
    request_kind kind = b->format == API_FORMAT_OIP ? REQUEST_OIP
                        : call->route == API_FORWARD ? REQUEST_FORWARD
                                                     : REQUEST_GRADIENT;
    b->reader = request_reader_new(kind, workers, &b->req, &b->err);
    if (!b->reader) {
        coding_decoder_free(b->decoder);
        budget_close(&b->account);
        free(b);
        return NULL;
    }
    return b;
}

/* A binary body's bytes: straight into one block, the size declared (or
 * growing as mem_grow says when none was), the one copy they get. */
static lr_err raw_feed(api_body *b, const char *data, size_t len)
{
    if (len > b->raw_cap - b->received) {
        size_t cap = b->len != API_LENGTH_UNKNOWN && b->received + len <= b->len
                         ? b->len
                         : mem_grow(b->raw_cap, b->received + len, 64 * 1024);
        char *grown = cap ? budget_realloc(&b->account, b->raw, cap) : NULL;
        if (!grown)
            return b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY;
        if (!b->raw)
            mem_hint_large(grown, cap);
        b->raw = grown;
        b->raw_cap = cap;
    }
    memcpy(b->raw + b->received, data, len);
    b->received += len;
    return LR_ERR_OK;
}

/* The body's bytes as they are (decoded, for a coded body). */
static lr_err plain_feed(api_body *b, const char *data, size_t len)
{
    if (b->format == API_FORMAT_BINARY)
        return len ? raw_feed(b, data, len) : LR_ERR_OK;
    if (b->format == API_FORMAT_OIP) {
        lr_err rc = api__oip_feed(b, data, len);
        if (rc == LR_ERR_OK && !b->json_done && b->len != API_LENGTH_UNKNOWN &&
            b->received <= b->len)
            budget_trim(&b->account, add_sat(still_needed(b), b->len - b->received));
        return rc;
    }
    if (request_reader_feed(b->reader, data, len) != 0)
        return b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY;
    b->received += len;
    /* What is read needs no reservation any more: the rest goes back for
     * the requests that come next. */
    if (b->len != API_LENGTH_UNKNOWN && b->received <= b->len)
        budget_trim(&b->account, still_needed(b));
    return LR_ERR_OK;
}

static int decoded(void *cls, const char *data, size_t len)
{
    api_body *b = cls;
    if (len > b->max_body - b->received)
        return LR_ERR_BODY_TOO_LARGE; /* a zip bomb stops here */
    return (int)plain_feed(b, data, len);
}

lr_err api_body_feed(api_body *b, const char *data, size_t len)
{
    if (!b->decoder)
        return plain_feed(b, data, len);
    int rc = coding_decode(b->decoder, data, len, decoded, b);
    return rc < 0 ? LR_ERR_BAD_ENCODING : (lr_err)rc;
}

void api_body_free(api_body *b)
{
    if (!b)
        return;
    request_reader_free(b->reader);
    coding_decoder_free(b->decoder);
    request_free(&b->req);
    budget_block_free(b->raw);
    budget_close(&b->account);
    free(b);
}

void api_response_free(api_response *resp)
{
    if (resp->charged)
        budget_block_free(resp->body);
    else
        free(resp->body);
    stream_free(resp->stream);
    for (size_t i = 0; i < resp->nheaders; i++)
        free(resp->headers[i].value);
    resp->nheaders = 0;
    for (size_t i = 0; i < resp->nparts; i++) {
        free(resp->parts[i].data);
        budget_release(resp->parts[i].budget, resp->parts[i].charged);
    }
    resp->nparts = 0;
    resp->body = NULL;
    resp->stream = NULL;
    resp->charged = 0;
}

static void handle_metrics(const api_request *req, api_response *resp)
{
    static const metrics_extra none = {.memory_budget_bytes = SIZE_MAX};
    if (!req->metrics) {
        api__error_response(resp, LR_ERR_NOT_FOUND, "this server keeps no metrics");
        return;
    }
    size_t len = 0;
    char *text = metrics_render(req->metrics, req->extra ? req->extra : &none, &len);
    api__respond(resp, text ? 200 : 503, text);
    resp->len = len;
    resp->content_type = text ? METRICS_CONTENT_TYPE : NULL;
}

void api_handle(const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    if (req->body && req->body->decoder && coding_decode_end(req->body->decoder) != 0) {
        api__error_response(resp, LR_ERR_BAD_ENCODING, "the body ends before its coded data "
                            "does (cut short?)");
        api_body_free(req->body);
        return;
    }
    if (req->options) { /* what may be asked here (a CORS preflight too) */
        api__respond(resp, 204, strdup(""));
        resp->allow = route_allow(req->route);
        resp->content_type = "";
        if (!resp->body)
            resp->status = 503;
        api_body_free(req->body);
        return;
    }
    if (req->route >= API_V2 && req->route <= API_V2_INFER) {
        api__handle_oip(req, resp);
        if (resp->status == 422) /* the protocol's request errors are 400s */
            resp->status = 400;
        api_body_free(req->body);
        return;
    }
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        if (req->body && req->body->format == API_FORMAT_BINARY)
            api__handle_binary(req, resp);
        else
            api__handle_compute(req, resp);
        break;
    case API_READYZ:
        if (req->draining) {
            api__error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
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
    case API_OPENAPI:
        if (api__respond_copy(resp, openapi_json, openapi_json_len, "application/json"))
            api__cacheable(req, resp, "no-cache");
        break;
    case API_PLOT:
        api__handle_plot(req, resp);
        break;
    case API_PLAYGROUND:
        api__handle_page(req, resp);
        break;
    default:
        api__error_response(resp, LR_ERR_NOT_FOUND, NULL);
        break;
    }
    api_body_free(req->body);
}
