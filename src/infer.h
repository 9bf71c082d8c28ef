/* Inference on the two models of the Open Inference Protocol, whatever
 * carried the request: decoded inputs (name, datatype, shape, data) and
 * parameters in, outputs out. leaky_relu computes y from x;
 * leaky_relu_grad computes grad, the gradient at x (or, with a
 * grad_output input, the backward pass), and grad_slope when
 * negative_slope is a list (PReLU). The REST side (api_infer.c) decodes
 * JSON and binary tensor data into an infer_request and writes the
 * result; another transport (gRPC) does the same with its own wire.
 * Knows nothing of HTTP or JSON. */
#ifndef LEAKYRELU_INFER_H
#define LEAKYRELU_INFER_H

#include <stddef.h>

#include "errors.h"
#include "tensor.h"

struct pool;

typedef enum infer_model {
    INFER_MODEL_FORWARD, /* "leaky_relu" */
    INFER_MODEL_GRADIENT /* "leaky_relu_grad" */
} infer_model;

/* The model's name: "leaky_relu" or "leaky_relu_grad". */
const char *infer_model_name(infer_model m);

/* The model named name[0..len): 0 with *m set, or -1. */
int infer_model_find(const char *name, size_t len, infer_model *m);

/* The model a request names, and its version (NULL: none named), as
 * every transport answers it: LR_ERR_OK with *m set, or LR_ERR_NOT_FOUND
 * saying which models and version there are. */
lr_err infer_model_named(const char *name, const char *version, infer_model *m, lr_error *err);

/* The models' one version. */
#define INFER_MODEL_VERSION "1"

#define INFER_INPUTS 2  /* x and grad_output */
#define INFER_OUTPUTS 4 /* outputs a request may name */

typedef struct infer_input {
    const char *name;   /* "x" or "grad_output" */
    tensor_dtype dtype; /* its datatype */
    tensor *t;          /* its data, shaped; numbers read as float64 for a
                           float32 input are narrowed here. x's is computed
                           in place: it becomes y or grad */
    const char *path;   /* where the data is, for errors ("inputs[0].data") */
} infer_input;

typedef struct infer_request {
    infer_model model;
    infer_input in[INFER_INPUTS]; /* in the request's order */
    size_t ninputs;
    const tensor *slopes; /* negative_slope: a number (ndim 0) or a list
                             (ndim 1); NULL: the default, 0.01 */
    struct {
        const char *name;
        int text; /* written as text, which has no infinities: a result
                     that overflows is an error */
    } outputs[INFER_OUTPUTS]; /* the outputs asked for, in order */
    size_t noutputs;          /* 0: all the model has */
    int text;                 /* `text` for each output when none is named */
} infer_request;

typedef struct infer_output {
    const char *name; /* "y", "grad" or "grad_slope" (static) */
    int slope;        /* grad_slope (values in infer_result.grad_slope),
                         else the kernel's result (infer_result.y) */
    int text;         /* as asked */
} infer_output;

typedef struct infer_result {
    infer_output out[INFER_OUTPUTS]; /* in the order asked */
    size_t noutputs;
    tensor *y;            /* x's tensor, computed in place when an output
                             is the kernel's result, else NULL */
    tensor_dtype dtype;   /* the outputs' datatype: the inputs' */
    double *grad_slope;   /* one per slope, rounded to dtype (malloc'd;
                             NULL unless asked for) */
    size_t nslopes;       /* grad_slope's shape: [nslopes] */
} infer_result;

/* Checks the request (inputs named x and grad_output once each, of one
 * datatype and shape; grad_output only for leaky_relu_grad; the
 * outputs the model's, once each; the slope one or one per channel, in
 * float32's range for float32) and computes the outputs asked for, on
 * `workers` (may be NULL) for large tensors. Returns LR_ERR_OK, or the
 * error with its path in err (res then holds nothing). Free res with
 * infer_result_free in either case. Thread-safe. */
lr_err infer_run(const infer_request *req, struct pool *workers, infer_result *res,
                 lr_error *err);

void infer_result_free(infer_result *res);

#endif
