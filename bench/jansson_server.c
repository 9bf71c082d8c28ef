/* Baseline for `make bench`: the obvious libmicrohttpd + jansson Leaky ReLU
 * server (one json_t per element). POST /forward?slope=S with a JSON array
 * body; answers the array of results. Same daemon options as ours.
 * Usage: bench_jansson_server --port N --threads N (see baseline.h) */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include "baseline.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    (void)cls, (void)url, (void)method, (void)version;
    enum MHD_Result res;
    baseline_body *b = baseline_collect(c, req_cls, upload, upload_size, &res);
    if (!b)
        return res;
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "slope");
    double slope = s ? atof(s) : 0.01;
    json_error_t err;
    json_t *in = json_loadb(b->data ? b->data : "", b->len, 0, &err);
    if (!json_is_array(in)) {
        json_decref(in);
        return reply(c, 400, strdup("{\"error\": \"bad json\"}"));
    }
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) {
        double x = json_number_value(v);
        json_array_append_new(out, json_real(x > 0 ? x : slope * x));
    }
    char *text = json_dumps(out, 0);
    json_decref(in);
    json_decref(out);
    return reply(c, 200, text);
}

int main(int argc, char **argv)
{
    return baseline_run(argc, argv, "jansson baseline", on_request, baseline_body_done);
}
