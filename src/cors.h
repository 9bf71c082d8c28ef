/* Cross-origin requests from browsers (CORS, the WHATWG Fetch standard,
 * "CORS protocol"): the origins allowed to call the service, and the
 * values of the headers that say so. Knows nothing of HTTP libraries. */
#ifndef LEAKYRELU_CORS_H
#define LEAKYRELU_CORS_H

#include <stddef.h>

#define CORS_ORIGINS_MAX 16
#define CORS_ORIGIN_MAX 256

/* Zeroed: no origin is allowed (no CORS headers at all). */
typedef struct cors {
    int any;  /* "*": every origin */
    size_t n; /* else these */
    char origin[CORS_ORIGINS_MAX][CORS_ORIGIN_MAX];
} cors;

/* Allows origin: "*", or an origin as browsers send it, scheme "://" host
 * and an optional ":" port, with no path ("https://app.example.com",
 * "http://localhost:3000"). Returns 0, or -1 when malformed or when
 * CORS_ORIGINS_MAX are allowed already. */
int cors_add(cors *c, const char *origin);

/* 1 when any origin is allowed. */
int cors_on(const cors *c);

/* The Access-Control-Allow-Origin value for a request whose Origin
 * header is origin (NULL: none): "*", the origin itself, or NULL when it
 * is not allowed (no CORS headers are then sent). Thread-safe. */
const char *cors_allow(const cors *c, const char *origin);

/* The reply headers a page may read (Access-Control-Expose-Headers). */
#define CORS_EXPOSE "X-Request-Id, Retry-After, Tensor-Shape, Tensor-Dtype, Grad-Slope, " \
                    "Inference-Header-Content-Length, Content-Encoding"

/* The request headers a page may send when its preflight names none
 * (Access-Control-Allow-Headers). */
#define CORS_ALLOW_HEADERS "Content-Type, Content-Encoding, Inference-Header-Content-Length, " \
                           "X-Request-Id"

/* How long a browser may cache a preflight's answer, in seconds. */
#define CORS_MAX_AGE "600"

/* 1 when s is a list of header names a preflight may echo back
 * (Access-Control-Request-Headers: tokens separated by commas and
 * spaces, at most 512 bytes), else 0. */
int cors_header_list_ok(const char *s);

#endif
