/* Routes and handlers: plain functions from a parsed HTTP request to a
 * response, with no socket or HTTP library involved (server.c adapts). */
#ifndef LEAKYRELU_API_H
#define LEAKYRELU_API_H

#include <stddef.h>

#include "budget.h"
#include "coding.h"
#include "errors.h"
#include "infer.h"
#include "route.h"

struct budget;
struct metrics;
struct metrics_extra;
struct pool;
struct stream;

typedef struct api_param {
    const char *key;   /* decoded; may contain NUL bytes, hence the lengths */
    size_t key_len;
    const char *value; /* NULL for "?key" without '=' */
    size_t value_len;
} api_param;

/* How a request's body is written, from its Content-Type. */
typedef enum api_format {
    API_FORMAT_JSON,   /* application/json (or the other text types, or none) */
    API_FORMAT_BINARY, /* application/octet-stream: little-endian IEEE numbers */
    API_FORMAT_OIP     /* an inference request: JSON, then any binary inputs */
} api_format;

/* What a request's head (its line and headers) asks for, as api_begin
 * found it; the transport adds what it read of the framing. */
typedef struct api_head {
    api_route route; /* API_NONE when no path matched */
    api_format format;
    infer_model model; /* API_V2_MODEL, _MODEL_READY, _INFER */
    int options;     /* OPTIONS: no body; api_handle answers what may be asked */
    int form;        /* Content-Type application/x-www-form-urlencoded: read as
                        JSON (curl -d sends it), told so if it is not */
    const char *json_length; /* API_V2_INFER: the Inference-Header-Content-Length
                                header (the JSON's bytes, binary data after), or
                                NULL; set by the caller before api_body_new */
    coding coding;   /* the body's Content-Encoding; set by the caller */
    size_t max_body; /* the most bytes the body may decode to (0: no limit);
                        set by the caller */
} api_head;

/* Replies of at least this many elements are streamed. */
#define API_STREAM_MIN 4096

/* The most extra headers a reply has (api_response.headers). */
#define API_HEADERS_MAX 6

/* Bytes sent after a reply's body, never copied (a binary reply's
 * tensors): freed with the response (free), the charge released to the
 * budget (budget_release). */
typedef struct api_part {
    void *data;
    size_t len;
    struct budget *budget; /* NULL: nothing charged */
    size_t charged;
} api_part;

#define API_PARTS_MAX 2

typedef struct api_response {
    int status;
    char *body;        /* malloc'd, owned by the reply; NULL: empty (or
                          `stream` is set) */
    size_t len;
    struct stream *stream; /* when not NULL the body, of unknown length, comes
                              from stream_read (stream.h); owned by the caller */
    int body_in_budget; /* body is a budget block (budget_malloc): free it
                           with budget_block_free, not free */
    int out_of_memory; /* the reply could not be built: answer 503 with a
                          static body, whatever else is set */
    const char *content_type; /* static; NULL: application/json; "": none */
    size_t elements;   /* array elements computed (for metrics and the log) */
    const char *allow; /* the Allow header for 405 and OPTIONS, else NULL (static) */
    unsigned retry_after; /* seconds for a Retry-After header; 0: none */
    int close;         /* close the connection after this reply */
    struct {
        const char *name;  /* static */
        char *value;       /* malloc'd, owned by the response */
    } headers[API_HEADERS_MAX]; /* more headers to send, nheaders of them */
    size_t nheaders;
    api_part parts[API_PARTS_MAX]; /* sent after body, in order */
    size_t nparts;
} api_response;

/* Whether some endpoint serves method (GET, HEAD, POST, OPTIONS; case
 * matters): any other is answered 501 by api_begin. */
int api_method_known(const char *method);

/* Checks what can be checked from the request line and headers alone:
 * the method (501 when no endpoint serves it), the path (404; its
 * decoded bytes, no NUL among them; "*" is the server as a whole, for
 * OPTIONS: 204), the method on it (405), and for POST routes the Content-Type
 * (415: application/json, application/x-www-form-urlencoded, text/plain
 * or none are JSON; application/octet-stream is binary; parameters such
 * as charset are ignored). Fills *head (its route API_NONE when no path
 * matched). Returns 1 when the request may go on, else 0 with the error
 * response in resp. HEAD is accepted wherever GET is, and OPTIONS on
 * every endpoint (head->options; it takes no body). Thread-safe. */
int api_begin(const char *method, const char *path, const char *content_type,
              api_head *head, api_response *resp);

/* A request body read as it arrives (see request_reader): the connection
 * feeds it piece by piece, then hands it to api_handle. This is the one
 * way a body reaches the API (tests feed theirs in one piece). */
typedef struct api_body api_body;

/* The body's length when no Content-Length gave it. */
#define API_LENGTH_UNKNOWN ((size_t)-1)

/* For a request whose route (head) takes a body of `len` bytes (or
 * API_LENGTH_UNKNOWN), on the memory budget b (may be NULL: no budget).
 * It claims the most the request can take, its reading, its tensors and
 * its reply (for JSON about 5 bytes per body byte, see
 * request_reader_bound; for binary the body itself, computed and sent
 * back in place), capped at the budget; a body of unknown length claims
 * more as it grows. Nothing is charged yet: api_body_room grants room
 * before each piece. Returns NULL (*why: LR_ERR_NO_MEMORY) when memory
 * runs out. */
api_body *api_body_new(const api_head *head, struct pool *workers, struct budget *b,
                       size_t len, lr_err *why);

/* The body's length as declared, or API_LENGTH_UNKNOWN. */
size_t api_body_declared(const api_body *b);

/* Room for the next n bytes of the body, at data (n = 0: it is complete;
 * room for the reply): what feeding them can take, granted by the budget
 * before they are read. BUDGET_WAIT: no room yet; pause the request, then
 * api_body_wait. BUDGET_REFUSED or BUDGET_EXPIRED: answer
 * api_body_refusal's error. */
budget_grant_rc api_body_room(api_body *b, const char *data, size_t n);

/* After BUDGET_WAIT (see budget_wait): wake(cls) once room is granted or
 * the wait expires, then api_body_room again; 1 when that already
 * happened. */
int api_body_wait(api_body *b, budget_wake_fn *wake, void *cls);

/* Why room was refused: LR_ERR_BODY_TOO_LARGE (it needs more than the
 * whole budget), else LR_ERR_OVERLOADED. */
lr_err api_body_refusal(const api_body *b);

/* The next bytes of the body, as received (a coded body is decoded here,
 * as it comes). Returns LR_ERR_OK, or LR_ERR_NO_MEMORY,
 * LR_ERR_OVERLOADED or LR_ERR_BODY_TOO_LARGE (more than the whole
 * budget) when its memory could not be had, LR_ERR_BAD_ENCODING
 * when it is not data of its coding, LR_ERR_BODY_TOO_LARGE when it
 * decodes to more than head->max_body (what follows is then ignored). */
lr_err api_body_feed(api_body *b, const char *data, size_t len);

/* Frees a body that was not handed to api_handle; NULL is ignored. */
void api_body_free(api_body *b);

typedef struct api_request {
    api_route route;
    const api_param *params; /* decoded query parameters */
    size_t nparams;
    api_body *body;          /* routes with a body: read as it came (NULL is
                                an empty body); api_handle frees it */
    infer_model model;       /* the OIP routes' */
    int options;             /* OPTIONS: 204 with the route's methods in Allow
                                (and told to a CORS preflight) */
    int draining;            /* shutting down: /readyz answers 503 */
    const char *if_none_match; /* the If-None-Match header, or NULL */
    struct budget *budget;   /* the memory budget a GET reply built for the
                                request (/plot.svg's) is charged to; may be NULL */
    struct pool *workers;    /* for large requests' parallel parts; may be NULL */
    const struct metrics *metrics;      /* for /metrics; may be NULL */
    const struct metrics_extra *extra;  /* with it: what other modules count */
} api_request;

/* Frees what resp owns (its body, however allocated, or its stream) when
 * it is not handed to the HTTP library. */
void api_response_free(api_response *resp);

/* Answers a request that passed api_begin; frees req->body. Thread-safe. */
void api_handle(const api_request *req, api_response *resp);

/* Fills resp, which must own nothing, with the JSON error body for err:
 *   {"error": "<message>", "code": "<code>", "offset": N, "path": "x[1]"}
 * where offset and path appear only when set. Thread-safe. */
void api_error(const lr_error *err, api_response *resp);

#endif
