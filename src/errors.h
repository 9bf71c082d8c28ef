/* One table of every error the service reports: its enum name, HTTP status,
 * machine-readable code and default human message (libuv's UV_ERRNO_MAP). */
#ifndef LEAKYRELU_ERRORS_H
#define LEAKYRELU_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

/*       name              status  code                      message */
#define LR_ERRORS(X)                                                                        \
    X(OK,                  200, "ok",                    "ok")                              \
    X(EMPTY_BODY,          400, "empty_body",            "the request body is empty")       \
    X(JSON_SYNTAX,         400, "invalid_json",          "malformed JSON")                  \
    X(JSON_NUMBER,         400, "invalid_number",        "malformed JSON number")           \
    X(JSON_UTF8,           400, "invalid_utf8",          "invalid UTF-8 in the JSON text")  \
    X(JSON_TRAILING,       400, "trailing_data",         "unexpected data after the JSON value") \
    X(BAD_FRAMING,         400, "invalid_framing",       "the request's length headers contradict each other") \
    X(BAD_HOST,            400, "invalid_host",          "an HTTP/1.1 request must have exactly one Host header") \
    X(BAD_ENCODING,        400, "invalid_content_encoding", "the body is not valid data of its Content-Encoding") \
    X(BAD_TARGET,          400, "invalid_target",        "the request target is not a path (origin or absolute form) without NUL bytes") \
    X(BAD_HEADER,          400, "invalid_header",        "a header's name is not a token, or its value holds NUL, CR or LF") \
    X(BAD_MESSAGE,         400, "invalid_message",       "the message is not valid Protocol Buffers wire data") \
    X(NOT_FOUND,           404, "not_found",             "no such endpoint")                \
    X(METHOD,              405, "method_not_allowed",    "method not allowed on this endpoint") \
    X(BODY_TOO_LARGE,      413, "body_too_large",        "the request body is larger than the server's limit") \
    X(MEDIA_TYPE,          415, "unsupported_media_type", "Content-Type must be application/json, application/x-www-form-urlencoded, text/plain, application/octet-stream or none") \
    X(CONTENT_ENCODING,    415, "unsupported_content_encoding", "the body's Content-Encoding must be gzip, deflate or identity") \
    X(BODY_TYPE,           422, "invalid_body",          "the body must be an object, an array or a number") \
    X(MISSING_X,           422, "missing_x",             "the request has no \"x\" member") \
    X(NOT_A_NUMBER,        422, "not_a_number",          "an element is not a number")      \
    X(RAGGED,              422, "ragged_array",          "nested arrays are not rectangular") \
    X(TOO_DEEP,            422, "too_deep",              "arrays are nested deeper than 32 levels") \
    X(NUMBER_RANGE,        422, "number_out_of_range",   "a number is outside the range of a double") \
    X(BAD_SLOPE,           422, "invalid_slope",         "slope must be a finite number")   \
    X(SLOPE_COUNT,         422, "slope_count_mismatch",  "slope must have one number, or one per channel of x (its axis 1)") \
    X(SLOPE_TWICE,         422, "slope_conflict",        "slope is given both in the body and in the query") \
    X(BAD_DTYPE,           422, "invalid_dtype",         "dtype must be \"float64\" or \"float32\"") \
    X(DTYPE_TWICE,         422, "dtype_conflict",        "dtype is given both in the body and in the query") \
    X(SHAPE_MISMATCH,      422, "shape_mismatch",        "grad_output must have the same shape as x") \
    X(BAD_SHAPE,           422, "invalid_shape",         "shape must be a list of sizes") \
    X(BINARY_LENGTH,       422, "invalid_binary_length", "the binary body's length does not match its dtype and shape") \
    X(UNKNOWN_MEMBER,      422, "unknown_member",        "the request object has an unknown member") \
    X(DUPLICATE_MEMBER,    422, "duplicate_member",      "a member appears twice in the request object") \
    X(UNKNOWN_PARAM,       422, "unknown_parameter",     "unknown query parameter")         \
    X(BAD_PARAMETER,       422, "invalid_parameter",     "a request parameter has the wrong type") \
    X(BAD_INPUT,           422, "invalid_input",         "an inference input is missing, unknown or malformed") \
    X(BAD_OUTPUT,          422, "invalid_output",        "a requested output is unknown or malformed") \
    X(BAD_MEMBER,          422, "invalid_member",        "a member of the request has the wrong type") \
    X(NOT_FINITE,          422, "result_not_finite",     "the result is not a finite number") \
    X(TRANSFER_CODING,     501, "unsupported_transfer_encoding", "only the chunked transfer coding is supported") \
    X(NOT_IMPLEMENTED,     501, "method_not_implemented", "no endpoint serves this method")  \
    X(NO_MEMORY,           503, "out_of_memory",         "the server is out of memory; retry later") \
    X(OVERLOADED,          503, "overloaded",            "the server's memory budget (--max-memory) is taken by the requests in progress; retry later") \
    X(SHUTTING_DOWN,       503, "shutting_down",         "the server is shutting down")

typedef enum lr_err {
#define LR_ERR_ENUM(name, status, code, msg) LR_ERR_##name,
    LR_ERRORS(LR_ERR_ENUM)
#undef LR_ERR_ENUM
    LR_ERR__COUNT
} lr_err;

/* Where an error happened and what exactly was wrong. `offset` is a byte
 * offset into the body (LR_NO_OFFSET when it does not apply), `path` names an
 * element ("x[3][1]") or a member ("slope"), empty when it does not apply, and
 * `detail` replaces the table's message when non-empty. */
#define LR_NO_OFFSET ((size_t)-1)
#define LR_PATH_MAX 512
#define LR_DETAIL_MAX 512

typedef struct lr_error {
    lr_err code;
    size_t offset;
    char path[LR_PATH_MAX];
    char detail[LR_DETAIL_MAX];
} lr_error;

/* Table lookups; `e` must be a valid lr_err. Thread-safe (static data). */
int lr_err_status(lr_err e);
const char *lr_err_code(lr_err e);
const char *lr_err_message(lr_err e);

/* Resets `err` to LR_ERR_OK with no offset, path or detail. */
void lr_error_clear(lr_error *err);

/* Sets `err` to `code` with no offset or path, and the detail formatted
 * from fmt (truncated to LR_DETAIL_MAX; NULL: none, so the table's
 * message is shown). Returns code. */
lr_err lr_error_set(lr_error *err, lr_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lr_err lr_error_vset(lr_error *err, lr_err code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
