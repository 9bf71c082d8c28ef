/* Internals shared by the API's files (api__ prefix): a request body as
 * it is read, the error reply, the compute endpoints. Not for use outside
 * src/api*.c. */
#ifndef LEAKYRELU_API_INTERNAL_H
#define LEAKYRELU_API_INTERNAL_H

#include <stddef.h>

#include "api.h"
#include "budget.h"
#include "errors.h"
#include "compute.h"
#include "request.h"
#include "tensor.h"

/* The slope when none is given, PyTorch's. */
#define API__DEFAULT_SLOPE 0.01

struct api_body {
    api_format format;
    request req;            /* JSON: read by reader as the body comes */
    lr_error err;
    request_reader *reader;
    char *raw;              /* binary: the body as it came, a budget block */
    size_t raw_cap;         /* its size (raw holds `received` bytes) */
    budget_account account; /* the request's memory */
    size_t len, received;   /* bytes declared (or API_LENGTH_UNKNOWN), and come
                               (decoded, for a coded body) */
    coding_decoder *decoder; /* a coded body's, or NULL */
    size_t max_body;         /* the most it may decode to */
    /* An inference request (API_FORMAT_OIP): its JSON, then the binary
     * data of the inputs that said binary_data_size, in their order. */
    size_t json_len;        /* Inference-Header-Content-Length, or API_LENGTH_UNKNOWN */
    int bad_json_length;    /* that header was not a byte count within the body */
    int json_done;          /* the JSON is read: what follows is binary data */
    lr_err json_rc;         /* its outcome, then */
    size_t bin_input;       /* the input (in JSON order) the next bytes go to */
    size_t bin_off;         /* its bytes so far */
    size_t bin_extra;       /* bytes beyond the last input's */
};

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

/* 1 when every slope of cs is within float32's range, else 0 with the
 * error in resp. */
int api__slopes_f32(const compute_slope *cs, api_response *resp);

/* 1 when cs has one slope, or one per channel of x (PReLU), else 0 with
 * the error in resp. */
int api__channels_match(const tensor *x, const compute_slope *cs, api_response *resp);

/* The gradient with respect to each slope of cs, the numbers in x's
 * dtype separated by ", ", between `before` and `after`, into a malloc'd
 * *text of *len bytes (NUL-terminated). A number that is not finite is an
 * error unless nonfinite_ok (binary bodies pass them through). Returns 1,
 * or 0 with the error in resp. */
int api__slope_gradient_text(const api_body *b, const tensor *x, const tensor *grad_output,
                             const compute_slope *cs, const char *before, const char *after,
                             int nonfinite_ok, char **text, size_t *len, api_response *resp);

/* Memory that could not be had for b: the budget's refusal (503
 * overloaded), or the system's (503 out_of_memory). */
void api__no_memory(const api_body *b, api_response *resp);

/* Fills resp with the error reply for code, the detail formatted from
 * fmt (NULL: the table's message). */
void api__error_response(api_response *resp, lr_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* api_compute.c: POST /forward and /gradient with a JSON body; frees
 * nothing (api_handle frees the body). */
void api__handle_compute(const api_request *hr, api_response *resp);

/* api_binary.c: the same with a binary body. */
void api__handle_binary(const api_request *hr, api_response *resp);

/* api_oip.c: the Open Inference Protocol's paths under /v2 (as api_begin
 * does for the others), its small endpoints, and an inference request's
 * body as it arrives. */
int api__oip_begin(const char *method, const char *path, const char *content_type,
                   api_call *call, api_response *resp);
void api__handle_oip(const api_request *hr, api_response *resp);
lr_err api__oip_feed(api_body *b, const char *data, size_t len);

/* Finishes reading an inference request's JSON (once): b->json_rc. */
void api__oip_json_done(api_body *b);

/* api_infer.c: POST /v2/models/{model}/infer, the body read. */
void api__handle_infer(const api_request *hr, api_response *resp);

/* A reply of status with the JSON text body (malloc'd, owned by resp
 * from here on; NULL: 503). */
void api__respond(api_response *resp, int status, char *body);

/* A 200 with a copy of text[0..len] (its NUL included) as its body, of
 * content_type (static). Returns 1, or 0 with the 503 in resp. */
int api__respond_copy(api_response *resp, const char *text, size_t len,
                      const char *content_type);

/* api_plot.c: GET /plot.svg and GET /. */
void api__handle_plot(const api_request *hr, api_response *resp);
void api__handle_page(const api_request *hr, api_response *resp);

/* For a 200 with a body: adds its ETag and cache_control (static) as
 * Cache-Control, and when the request's If-None-Match holds that tag,
 * makes it a 304 with no body. */
void api__cacheable(const api_request *req, api_response *resp, const char *cache_control);

/* Adds the header name (static): value (copied) to resp. Returns 1, or 0
 * when memory runs out or resp has API_HEADERS_MAX already. */
int api__add_header(api_response *resp, const char *name, const char *value);

#endif
