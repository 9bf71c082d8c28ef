/* POST /forward and /gradient with a binary body (application/octet-stream):
 * little-endian IEEE float64 or float32 numbers, as ?dtype= says, shaped
 * as ?shape= says (else flat). They are computed in place, in the block
 * the body was received into, and that block is the reply: the input's
 * memory is all the request takes. NaN and infinities pass through as
 * the kernel computes them, as PyTorch's do. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "compute.h"

/* The wire is little-endian; a big-endian host swaps each number in place
 * on the way in and out. */
static void to_host(void *data, size_t count, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += size)
        for (size_t j = 0; j < size / 2; j++) {
            unsigned char t = p[j];
            p[j] = p[size - 1 - j];
            p[size - 1 - j] = t;
        }
#else
    (void)data;
    (void)count;
    (void)size;
#endif
}

/* Bytes of a shape's text, at most. */
#define SHAPE_TEXT (TENSOR_MAX_DIMS * 22 + 1)

/* "2,3" (sep ",") or "2, 3" for shape (2, 3); "" for a scalar. */
static void shape_text(const size_t *shape, int ndim, const char *sep, char buf[SHAPE_TEXT])
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < ndim && n < SHAPE_TEXT; i++)
        n += (size_t)snprintf(buf + n, SHAPE_TEXT - n, "%s%zu", i ? sep : "", shape[i]);
}

/* x (and grad_output) over the body's bytes, shaped by the query. Returns
 * 1, or 0 with the error in resp. */
static int shape_tensors(char *raw, size_t received, const api__query *q, tensor *x, tensor *g,
                         api_response *resp)
{
    tensor_dtype dtype = q->has_dtype ? q->dtype : TENSOR_F64;
    size_t size = dtype == TENSOR_F32 ? 4 : 8, parts = q->grad_output ? 2 : 1;
    const char *name = tensor_dtype_name(dtype);
    if (received % (size * parts) != 0) {
        if (parts == 2)
            api__error_response(resp, LR_ERR_BINARY_LENGTH, "the body has %zu bytes, not two "
                                "equal halves (x, then grad_output) of %zu-byte %s numbers",
                                received, size, name);
        else
            api__error_response(resp, LR_ERR_BINARY_LENGTH, "the body has %zu bytes, not a "
                                "whole number of %zu-byte %s numbers", received, size, name);
        return 0;
    }
    size_t count = received / size / parts;
    tensor_init(x);
    x->dtype = dtype;
    x->count = x->cap = count;
    x->data = (double *)(void *)raw;
    x->ndim = 1;
    x->shape[0] = count;
    if (q->has_shape) {
        size_t product = 0;
        int overflow = tensor_shape_count(q->shape, q->ndim, &product) != 0;
        if (overflow || product != count) {
            char text[SHAPE_TEXT];
            shape_text(q->shape, q->ndim, ", ", text);
            if (overflow)
                api__error_response(resp, LR_ERR_SHAPE_MISMATCH, "shape (%s) has more "
                                    "elements than memory can hold", text);
            else
                api__error_response(resp, LR_ERR_SHAPE_MISMATCH, "shape (%s) has %zu "
                                    "elements, but %s has %zu %s numbers (%zu bytes)", text,
                                    product, parts == 2 ? "each half of the body" : "the body",
                                    count, name, count * size);
            return 0;
        }
        x->ndim = q->ndim;
        memcpy(x->shape, q->shape, sizeof q->shape);
    }
    *g = *x;
    g->data = (double *)(void *)(raw + count * size);
    return 1;
}

/* The headers that say what the body is: its shape, dtype, and for a list
 * of slopes on /gradient the gradient of each. Returns 1, or 0 with the
 * error in resp. */
static int headers(const tensor *x, const double *grad_slope, size_t nslopes,
                   api_response *resp)
{
    char shape[SHAPE_TEXT], *slope_text = NULL;
    size_t len;
    shape_text(x->shape, x->ndim, ",", shape);
    int ok = (!grad_slope ||
              api__numbers_text(grad_slope, nslopes, x->dtype, "", "", &slope_text, &len)) &&
             api__add_header(resp, "Tensor-Shape", shape) &&
             api__add_header(resp, "Tensor-Dtype", tensor_dtype_name(x->dtype)) &&
             (!grad_slope || api__add_header(resp, "Grad-Slope", slope_text));
    free(slope_text);
    return ok;
}

void api__handle_binary(const api_request *hr, api_response *resp)
{
    api_body *b = hr->body;
    budget_account *account = api__body_account(b);
    api__query q;
    lr_error err;
    tensor x, g;
    double *grad_slope = NULL;
    size_t received;
    char *raw;
    if (api__query_read(hr, API_FORMAT_BINARY, &q, &err) != LR_ERR_OK) {
        api_error(&err, resp);
        goto done;
    }
    if (!(raw = api__body_bytes(b, &received))) {
        api__no_memory(resp, account->refused);
        goto done;
    }
    if (!shape_tensors(raw, received, &q, &x, &g, resp))
        goto done;
    compute_slope cs = compute_slope_of(q.has_slope ? &q.slopes : NULL, &x);
    if (compute_check_slope(&x, &cs, x.dtype, &err) != LR_ERR_OK) {
        api_error(&err, resp);
        goto done;
    }
    size_t size = x.dtype == TENSOR_F32 ? 4 : 8;
    to_host(raw, x.count * (q.grad_output ? 2 : 1), size);
    if (hr->route == API_GRADIENT && q.slopes.ndim == 1) { /* non-finite is fine */
        lr_err rc = (grad_slope = malloc(cs.count * sizeof *grad_slope))
                        ? compute_grad_slope(&x, q.grad_output ? &g : NULL, &cs, 0, grad_slope,
                                             &err)
                        : LR_ERR_NO_MEMORY;
        if (rc != LR_ERR_OK) {
            api__no_memory(resp, account->refused);
            goto done;
        }
    }
    compute_op op = hr->route == API_FORWARD ? COMPUTE_FORWARD
                    : q.grad_output           ? COMPUTE_BACKWARD
                                              : COMPUTE_GRADIENT;
    compute_apply(op, &x, q.grad_output ? &g : NULL, &cs, 0, hr->workers);
    to_host(raw, x.count, size);
    if (!headers(&x, grad_slope, cs.count, resp)) {
        api_response_free(resp);
        api__no_memory(resp, account->refused);
        goto done;
    }
    api__respond(resp, 200, api__body_take_bytes(b), x.count * size);
    resp->body_in_budget = 1;
    resp->content_type = "application/octet-stream";
    resp->elements = x.count;
done:
    free(grad_slope);
    api__query_free(&q);
}
