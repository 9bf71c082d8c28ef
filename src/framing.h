/* The request head's framing, checked before anything else is read: one
 * Content-Length or one Transfer-Encoding (chunked), never both; one Host
 * on HTTP/1.1; at most one Content-Encoding on a body, one we decode
 * (RFC 9112 sections 3.2, 6.1 and 6.3; RFC 9110 section 8.4). libmicrohttpd 0.9.75 lets all of these
 * through. Knows nothing of HTTP libraries: the server feeds it every
 * header of the request. */
#ifndef LEAKYRELU_FRAMING_H
#define LEAKYRELU_FRAMING_H

#include <stddef.h>

#include "coding.h"
#include "errors.h"

/* Bytes of a header value kept for error messages. */
#define FRAMING_VALUE_MAX 64

typedef struct framing {
    unsigned content_length, transfer_encoding, host, content_encoding; /* counts */
    char te[FRAMING_VALUE_MAX];  /* the first Transfer-Encoding, cut short */
    char ce[FRAMING_VALUE_MAX];  /* the first Content-Encoding, cut short */
    int te_chunked;              /* that Transfer-Encoding is exactly "chunked" */
    char bad[FRAMING_VALUE_MAX]; /* the first malformed header's name, cut short */
    const char *bad_why;         /* what is wrong with it, or NULL */
} framing;

/* Starts the check of one request head. */
void framing_init(framing *f);

/* Takes one header line as received (name and value of the given
 * lengths, not NUL-terminated; names compare case-insensitively, values
 * with surrounding whitespace ignored). Duplicates count. A name that is
 * not a token, or a value with NUL, CR or LF, is malformed (RFC 9110
 * sections 5.1 and 5.5). */
void framing_header(framing *f, const char *name, size_t name_len, const char *value,
                    size_t value_len);

/* The header `name` was malformed in a way its name and value do not show
 * (the HTTP library cut its value at a NUL, or folded a line into it). */
void framing_malformed(framing *f, const char *name, size_t name_len, const char *why);

/* The head's verdict, once every header was taken: LR_ERR_OK, or the
 * error with its message in err. Every error here is to be answered with
 * the connection closed, as the body's end cannot be trusted:
 *   a malformed header: invalid_header (400);
 *   both Content-Length and Transfer-Encoding, more than one
 *   Content-Length, Transfer-Encoding on HTTP/1.0: invalid_framing (400);
 *   a Transfer-Encoding other than one "chunked": unsupported_transfer_encoding (501);
 *   on HTTP/1.1, no Host or more than one: invalid_host (400).
 * http_1_1: the request line says HTTP/1.1 (or later). */
lr_err framing_verdict(const framing *f, int http_1_1, lr_error *err);

/* For a route that reads a body: LR_ERR_OK with its coding in *out
 * (identity without a Content-Encoding), or, for a Content-Encoding other
 * than one of gzip, deflate and identity (or more than one),
 * unsupported_content_encoding (415) naming it. */
lr_err framing_encoding(const framing *f, coding *out, lr_error *err);

/* The path of a request target as sent (RFC 9112 section 3.2): the
 * origin form "/path?query", or the absolute form
 * "http://host/path?query" (its scheme http or https, any case; no path
 * is "/"), percent-decoded into out (cap bytes with its NUL; longer is
 * cut, and can then match no route), *len its decoded bytes. "*" (the
 * asterisk form) is "*". LR_ERR_OK, or invalid_target (400) with why in
 * err: another form, a space or control byte, a malformed or NUL escape
 * ("%00"). raw may be NULL (no target: invalid). */
lr_err framing_target(const char *raw, char *out, size_t cap, size_t *len, lr_error *err);

#endif
