/* Baseline for `make bench`: a bare libmicrohttpd server that reads the
 * body and answers "ok", with the same daemon options as ours (epoll
 * thread pool, timeout, connection limit): the
 * ceiling for small-request throughput.
 * Usage: bench_ok_server --port N --threads N (see baseline.h) */
#define _DEFAULT_SOURCE
#include "baseline.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char ok[] = "ok";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    if (!*req_cls) {
        *req_cls = ok;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, ok, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    enum MHD_Result res = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return res;
}

int main(int argc, char **argv)
{
    return baseline_run(argc, argv, "ok baseline", on_request, NULL);
}
