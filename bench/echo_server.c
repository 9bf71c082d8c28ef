/* Baseline for `make bench`: a bare libmicrohttpd server that reads the
 * body and sends the same bytes back, with the same daemon options as ours:
 * the floor for a large request, whose reply is about as long as its body
 * (what merely moving the bytes in and out through libmicrohttpd costs).
 * Usage: bench_echo_server --port N --threads N (see baseline.h) */
#define _DEFAULT_SOURCE
#include "baseline.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct body {
    char *data;
    size_t len, cap;
} body;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version;
    body *b = *req_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        *req_cls = b;
        return b ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (b->len + *upload_size > b->cap) {
            size_t cap = b->cap ? b->cap : 65536;
            while (cap < b->len + *upload_size)
                cap *= 2;
            char *grown = realloc(b->data, cap);
            if (!grown)
                return MHD_NO;
            b->data = grown;
            b->cap = cap;
        }
        memcpy(b->data + b->len, upload, *upload_size);
        b->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    /* The reply takes the buffer; the completion callback frees the rest. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    b->data = NULL;
    enum MHD_Result res = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return res;
}

static void on_done(void *cls, struct MHD_Connection *c, void **req_cls,
                    enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    body *b = *req_cls;
    if (b) {
        free(b->data);
        free(b);
    }
    *req_cls = NULL;
}

int main(int argc, char **argv)
{
    return baseline_run(argc, argv, "echo baseline", on_request, on_done);
}
