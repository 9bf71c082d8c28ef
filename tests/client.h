/* The tests' HTTP client: requests through libcurl, their replies with
 * the headers the tests look at, and raw requests on a socket. */
#ifndef LEAKYRELU_TEST_CLIENT_H
#define LEAKYRELU_TEST_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct reply {
    long status;
    char *body;
    size_t len;
    char allow[64];
    char connection[32];
    char transfer_encoding[32];
    char retry_after[16];
    char request_id[160];
    char content_type[80];
    char head[4096]; /* every header line received, as received */
    CURLcode rc;
} reply;

/* libcurl's write callback appending to a reply's body (cls: the reply). */
size_t reply_on_body(char *data, size_t size, size_t n, void *cls);

/* Frees the body and clears r. */
void reply_free(reply *r);

/* One request. ctype NULL: curl's default for a body (form-urlencoded);
 * "" sends no Content-Type. h may be NULL for a fresh handle. */
void http(CURL *h, unsigned port, const char *method, const char *target, const char *body,
          const char *ctype, reply *r);

/* http with one more header line ("Name: value"), or none when NULL. */
void http_header(CURL *h, unsigned port, const char *method, const char *target,
                 const char *body, const char *ctype, const char *header, reply *r);

/* A request with a body of len bytes (may hold NUL bytes; NULL: none)
 * and the header lines in headers (NULL-ended; may be NULL). With
 * chunked, the body is sent in chunks of `chunked` bytes with no length
 * given; else with its Content-Length. No Content-Type unless given;
 * curl's Expect: 100-continue for bodies over 1 MiB unless "Expect:". */
void http_bytes(CURL *h, unsigned port, const char *method, const char *target,
                const void *body, size_t len, size_t chunked, const char *const *headers,
                reply *r);

/* The value of header `name` in r (case-insensitive), copied into out
 * (NUL-terminated); NULL when absent. */
const char *reply_header(const reply *r, const char *name, char *out, size_t cap);

/* Checks that an error reply is {"error": string, "code": code, ...} with
 * "offset" present iff want_offset, "path" equal to want_path if given. */
void check_error_body(const reply *r, const char *code, int want_offset, const char *want_path);

/* Sends len bytes of raw request text on a new connection to port and
 * reads what comes back (at most cap - 1 bytes, NUL-terminated) until the
 * server closes the connection (*closed = 1) or `wait_ms` pass with
 * nothing more (*closed = 0). Returns the bytes read, or -1. */
long http_raw(unsigned port, const char *data, size_t len, char *out, size_t cap, int wait_ms,
              int *closed);

/* The libcurl header callback filling a reply's header fields (cls: the
 * reply), for tests that set up their own handles. */
size_t reply_on_header(char *data, size_t size, size_t n, void *cls);

#endif
