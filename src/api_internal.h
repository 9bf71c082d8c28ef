/* Internals shared by the API's files (api__ prefix), one section per
 * file. The files depend one way: api.c (the route table, dispatch)
 * -> the handlers (api_compute, api_binary, api_infer, api_oip, api_plot)
 * -> api_query.c (what the compute handlers share) and api_body.c (the
 * body as it arrives) -> api_reply.c (replies and errors). Not for use
 * outside src/api*.c. */
#ifndef LEAKYRELU_API_INTERNAL_H
#define LEAKYRELU_API_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "api.h"
#include "budget.h"
#include "compute.h"
#include "errors.h"
#include "request.h"
#include "tensor.h"

/* ---- api_reply.c: replies and errors ---------------------------------
 * A reply's body is malloc'd text owned by the reply, or NULL for an
 * empty one; a reply that could not be built says so (out_of_memory). */

/* A reply of status with body[0..len) (malloc'd, owned by resp from here
 * on; NULL: empty). */
void api__respond(api_response *resp, int status, char *body, size_t len);

/* A reply of status with no body and no Content-Type (204, 304). */
void api__respond_empty(api_response *resp, int status);

/* A 200 with a copy of text[0..len] (its NUL included) as its body, of
 * content_type (static). Returns 1, or 0 with the error in resp. */
int api__respond_copy(api_response *resp, const char *text, size_t len,
                      const char *content_type);

/* A reply of status with obj's JSON text (obj is released; NULL, or text
 * that could not be had, is api__respond_failed). */
void api__respond_json(api_response *resp, int status, json_t *obj);

/* The reply could not be built (out of memory): the transport answers
 * 503 with its own static body. */
void api__respond_failed(api_response *resp);

/* The error reply for code, the detail formatted from fmt (NULL: the
 * table's message). */
void api__error_response(api_response *resp, lr_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Memory that could not be had: the budget's refusal (refused: 503
 * overloaded), or the system's (503 out_of_memory). */
void api__no_memory(api_response *resp, int refused);

/* Adds the header name (static): value (copied) to resp. Returns 1, or 0
 * when memory runs out or resp has API_HEADERS_MAX already. */
int api__add_header(api_response *resp, const char *name, const char *value);

/* For a 200 with a body: adds its ETag and cache_control (static) as
 * Cache-Control, and when the request's If-None-Match holds that tag,
 * makes it a 304 with no body. */
void api__cacheable(const api_request *req, api_response *resp, const char *cache_control);

/* ---- api_body.c: the body as it arrives ------------------------------ */

/* 0 when a coded body ended before its coded data did, else 1. */
int api__body_complete(api_body *b);

api_format api__body_format(const api_body *b);

/* The account the request's memory is charged to (refused: the budget
 * said no). */
budget_account *api__body_account(api_body *b);

/* A JSON body (/forward, /gradient): read to its end. Returns the
 * outcome, *req and *err pointing into b. Once. */
lr_err api__body_json(api_body *b, request **req, const lr_error **err);

/* An inference request's JSON: read to its end (once; later calls return
 * the same), *req and *err pointing into b. */
lr_err api__body_infer_json(api_body *b, request **req, const lr_error **err);

/* 0 when Inference-Header-Content-Length was not a byte count within the
 * body. */
int api__body_json_length_ok(const api_body *b);

/* The binary inputs' bytes all came, and no more: LR_ERR_OK or
 * LR_ERR_BINARY_LENGTH in err. */
lr_err api__body_binary_complete(const api_body *b, lr_error *err);

/* A binary body's bytes (*len of them), a budget block; NULL when the
 * empty block for an empty body could not be had. */
char *api__body_bytes(api_body *b, size_t *len);

/* The bytes' block, now the caller's (budget_block_free it). */
char *api__body_take_bytes(api_body *b);

/* ---- api_query.c: what the compute handlers share -------------------- */

/* What the query of a compute endpoint says; the shape and grad_output
 * only binary bodies take. */
typedef struct api__query {
    int has_slope;
    tensor slopes; /* as the body's: ndim 0 for one number, 1 for a list */
    int has_dtype;
    tensor_dtype dtype;
    int has_shape;
    int ndim;
    size_t shape[TENSOR_MAX_DIMS];
    int grad_output; /* the body is x, then grad_output */
} api__query;

/* Reads req's query into q (initialized here; api__query_free it in any
 * case): each parameter at most once, none a body of `format` does not
 * take. Returns LR_ERR_OK or the error, filled into err. */
lr_err api__query_read(const api_request *req, api_format format, api__query *q,
                       lr_error *err);
void api__query_free(api__query *q);

/* The slope parameter's value v[0..vlen): "0.25" or "0.25,0.1" (spaces
 * allowed after a comma), pushed onto t (ndim 1 for a list). Returns
 * LR_ERR_OK, or the error filled into err. */
lr_err api__query_slopes(const char *v, size_t vlen, tensor *t, lr_error *err);

/* The values g[0..count) (a float32 value held as a double when dtype is
 * float32) separated by ", ", between `before` and `after`, into a
 * malloc'd *text of *len bytes (NUL-terminated). Returns 1, or 0 when
 * memory ran out. */
int api__numbers_text(const double *g, size_t count, tensor_dtype dtype, const char *before,
                      const char *after, char **text, size_t *len);

/* ---- the handlers (route.h's table names them) ----------------------- */

void api__handle_compute(const api_request *hr, api_response *resp); /* api_compute.c */
void api__handle_binary(const api_request *hr, api_response *resp);  /* api_binary.c */
void api__handle_infer(const api_request *hr, api_response *resp);   /* api_infer.c */

/* api_oip.c: which route and model a path under /v2 names (head->route
 * and ->model): 1, or 0 with the 404 in resp; and the protocol's small
 * endpoints. */
int api__oip_route(const char *path, api_head *head, api_response *resp);
void api__handle_oip_server(const api_request *hr, api_response *resp);
void api__handle_oip_live(const api_request *hr, api_response *resp);
void api__handle_oip_ready(const api_request *hr, api_response *resp);
void api__handle_oip_model(const api_request *hr, api_response *resp);

/* api_plot.c: GET /plot.svg and GET /. */
void api__handle_plot(const api_request *hr, api_response *resp);
void api__handle_page(const api_request *hr, api_response *resp);

#endif
