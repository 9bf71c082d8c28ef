/* What tests/fuzz_http.c asks of the bytes a server sent on one
 * connection: HTTP/1.1 replies, each well-formed (fuzz_http_replies.c). */
#ifndef LEAKYRELU_FUZZ_HTTP_REPLIES_H
#define LEAKYRELU_FUZZ_HTTP_REPLIES_H

#include <stddef.h>

typedef struct replies_rules {
    const char *origin; /* the one origin CORS may allow */
    int strict;         /* libmicrohttpd's own defects: 0 tolerated, 1 its 5xx are
                           findings, 2 its doubled error head and its last chunk
                           after a reply to HEAD too */
    int may_head;       /* a request may have been HEAD: a reply may lack its body */
    int cut;            /* out holds only the first bytes the server sent */
} replies_rules;

/* Checks out[0..n), all a connection received until the server closed:
 * NULL when it is a sequence of well-formed replies, else what is wrong
 * (a static string). Allocates only while it runs. */
const char *replies_check(const char *out, size_t n, const replies_rules *rules);

#endif
