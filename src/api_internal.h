/* Internals shared by the API's files (api__ prefix): a request body as
 * it is read, the error reply, the compute endpoints. Not for use outside
 * src/api*.c. */
#ifndef LEAKYRELU_API_INTERNAL_H
#define LEAKYRELU_API_INTERNAL_H

#include <stddef.h>

#include "api.h"
#include "budget.h"
#include "errors.h"
#include "request.h"

struct api_body {
    request req;
    lr_error err;
    request_reader *reader;
    budget_account account; /* the request's memory */
    size_t len, received;   /* bytes declared (or API_LENGTH_UNKNOWN), and come */
};

/* Fills resp with the error reply for code, the detail formatted from
 * fmt (NULL: the table's message). */
void api__error_response(api_response *resp, lr_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* api_compute.c: POST /forward and /gradient; frees nothing (api_handle
 * frees the body). */
void api__handle_compute(const api_request *hr, api_response *resp);

#endif
