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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version;
    enum MHD_Result res;
    baseline_body *b = baseline_collect(c, req_cls, upload, upload_size, &res);
    if (!b)
        return res;
    /* The reply takes the buffer; baseline_body_done frees the rest. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    b->data = NULL;
    res = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return res;
}

int main(int argc, char **argv)
{
    return baseline_run(argc, argv, "echo baseline", on_request, baseline_body_done);
}
