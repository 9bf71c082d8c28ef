/* Request bodies: JSON text -> tensors and parameters, with every error
 * located by byte offset or element path, whole or as the body arrives.
 * Knows nothing of HTTP. The files: request.c (the body and its members),
 * request_scan.c (the JSON grammar), request_array.c (arrays of numbers),
 * request_parts.c (long runs read in parts), request_reader.c (reading as
 * the body arrives); their shared internals are in request_internal.h. */
#ifndef LEAKYRELU_REQUEST_H
#define LEAKYRELU_REQUEST_H

#include <stddef.h>

#include "errors.h"
#include "tensor.h"

typedef enum request_kind {
    REQUEST_FORWARD,  /* members: x, slope, dtype */
    REQUEST_GRADIENT, /* members: x, slope, dtype, grad_output */
    REQUEST_OIP       /* an Open Inference Protocol inference request (request_oip.c) */
} request_kind;

/* An Open Inference Protocol request (REQUEST_OIP): what it says beside
 * the tensors. Inputs are read into x (the first) and grad_output (the
 * second), then put in place by name. */
#define REQUEST_OIP_INPUTS 2   /* x and grad_output */
#define REQUEST_OIP_OUTPUTS 4
#define REQUEST_OIP_NAME 32    /* bytes of a name, with its NUL */
#define REQUEST_OIP_ID 256     /* bytes of an id, with its NUL */

typedef struct request_oip_input {
    char name[REQUEST_OIP_NAME];
    int has_shape;
    int ndim;
    size_t shape[TENSOR_MAX_DIMS];
    int has_datatype;
    tensor_dtype dtype;
    int has_data;           /* "data" was given (read into the tensor) */
    int binary;             /* parameters.binary_data_size: the data follows the JSON */
    size_t binary_size;     /* its bytes */
} request_oip_input;

typedef struct request_oip_output {
    char name[REQUEST_OIP_NAME];
    int has_binary; /* parameters.binary_data was given */
    int binary;     /* its value */
} request_oip_output;

typedef struct request_oip {
    int has_id;
    char id[REQUEST_OIP_ID];
    int binary_output;  /* parameters.binary_data_output: true */
    size_t ninputs;     /* at most REQUEST_OIP_INPUTS once read without error */
    request_oip_input in[REQUEST_OIP_INPUTS]; /* in[0] is x's, in[1] grad_output's */
    int swapped;        /* x came second in the JSON (its binary data too) */
    int has_outputs;
    size_t noutputs;
    request_oip_output out[REQUEST_OIP_OUTPUTS];
    /* Where the reader is (request_oip.c): the level of the value being
     * read, and what it has seen there. */
    int at;
    unsigned seen, in_seen;
    int in_member;
} request_oip;

typedef struct request {
    int is_object;       /* body was {"x": ...}; else a bare array or number */
    tensor x;
    int has_grad_output;
    tensor grad_output;  /* same shape as x when present */
    int has_slope;       /* slope given in the body */
    tensor slopes;       /* its numbers: ndim 0 for one number, or a flat
                            array of one or more (one per channel: PReLU) */
    int has_dtype;       /* dtype given in the body */
    tensor_dtype dtype;  /* the tensors are read as float64 whatever it says:
                            the caller narrows them (tensor_to_f32) */
    request_oip oip;     /* REQUEST_OIP: the rest of the request */
    size_t numbers_in_parts; /* of x and grad_output, read in parts on workers */
    struct budget_account *account; /* charged for the tensors and the text a
                                       reader holds; NULL: nothing is */
} request;

/* Zeroes req; request_free releases what request_parse allocated. */
void request_init(request *req);
void request_free(request *req);

/* Charges what req allocates from now on to a (see budget.h); request_free
 * gives it back. */
void request_set_account(request *req, struct budget_account *a);

/* The most bytes reading a body of `len` bytes can hold at once, its
 * tensors and its text, however the body is split: each element takes at
 * least 2 bytes of text ("0,") and 8 of tensor; the text buffer holds at
 * most the text not yet read, the run read ahead and a partial step; each
 * buffer grows in steps that leave under 1 MiB unused. */
size_t request_reader_bound(size_t len);

/* Parses a request body of `len` bytes (need not be NUL-terminated) into
 * req, which must be initialized. Accepted bodies:
 *   {"x": X, "slope": S, "dtype": D}   slope and dtype optional
 *   {"x": X, "slope": S, "dtype": D, "grad_output": G}   REQUEST_GRADIENT only
 * S is a number or a flat array of at least one number (any error inside
 * it is invalid_slope);
 *   X                                  a bare number or array
 * where X is a number or a rectangular nested array of numbers at most
 * TENSOR_MAX_DIMS deep ([] allowed), G has X's shape and D is "float64"
 * or "float32".
 * Returns LR_ERR_OK, or an error with `err` filled in: syntax errors (400)
 * win over request errors (422), which are reported in document order,
 * except that unknown members are reported first and all together.
 * REQUEST_OIP reads an Open Inference Protocol inference request (see
 * request_oip.c): its inputs' data into x and grad_output, the rest into
 * req->oip, negative_slope into slopes.
 * On error req may hold partial data; request_free it in any case.
 * Thread-safe; allocates only the tensors' data (and, for REQUEST_OIP,
 * jansson's values of its small members while they are read). */
lr_err request_parse(const char *body, size_t len, request_kind kind,
                     request *req, lr_error *err);

struct pool;

/* request_parse, reading long runs of numbers (a megabyte or more of an
 * innermost array) in parts on `workers` and the calling thread; the
 * result, errors included, is exactly request_parse's. workers may be
 * NULL. */
lr_err request_parse_on(const char *body, size_t len, request_kind kind, struct pool *workers,
                        request *req, lr_error *err);

/* Reads a body as it arrives, keeping only the text still needed: when
 * the text runs out inside an array of numbers, the numbers read so far
 * stay in the tensors and their text is dropped; elsewhere (strings,
 * members skipped) the text is kept until it can be read whole. The
 * result, errors and offsets included, is exactly request_parse_on's on
 * the whole body, however the body is split. */
typedef struct request_reader request_reader;

/* Starts reading a body into req (initialized), errors into err. NULL
 * when memory runs out. */
request_reader *request_reader_new(request_kind kind, struct pool *workers, request *req,
                                   lr_error *err);

/* Reads only once `bytes` more text is held. Unless set: 64 KiB without
 * workers; with workers 576 KiB (two runs read ahead, 256 KiB each, plus
 * 64 KiB), so that long runs are read in parts while the next text comes.
 * Tests set 1 to read at every byte. */
void request_reader_set_batch(request_reader *r, size_t bytes);

/* Takes the next len bytes of the body. Returns 0, or -1 when memory ran
 * out (err says so, and what follows is ignored). */
int request_reader_feed(request_reader *r, const char *data, size_t len);

/* The body is complete: reads what is left and returns the outcome. */
lr_err request_reader_finish(request_reader *r);

/* The most bytes feeding r the len bytes at data (0: finishing it) can
 * take beyond what it holds: as request_reader_bound reckons, with the
 * elements counted by their separators in the text to read (data NULL:
 * len bytes not known, such as a coded body's, reckoned at 2 bytes an
 * element). r may be NULL (nothing held yet). */
size_t request_reader_need(const request_reader *r, const char *data, size_t len);

/* Bytes of text held now (its buffer's size). */
size_t request_reader_held(const request_reader *r);

void request_reader_free(request_reader *r);

#endif
