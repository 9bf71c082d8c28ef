/* Tests of the Open Inference Protocol endpoints (src/api_oip.c,
 * src/api_infer.c) without sockets: the paths, the metadata, inference
 * with JSON and binary inputs and outputs, the PyTorch cases, streamed
 * replies, and the errors as the protocol words them. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
#include "../src/lrelu.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* One request to path (a body and its JSON length, or none): the reply
 * with its body and parts joined into *out (malloc'd, *len bytes). */
static int oip(const char *method, const char *path, const char *body, size_t len,
               const char *json_length, char **out, size_t *out_len, api_response *keep)
{
    api_head call;
    api_response resp;
    *out = NULL;
    *out_len = 0;
    if (!api_begin(method, path, NULL, &call, &resp)) {
        *out = resp.body;
        *out_len = resp.len;
        resp.body = NULL;
        int status = resp.status;
        if (keep)
            *keep = resp;
        else
            api_response_free(&resp);
        return status;
    }
    api_body *b = NULL;
    if (api_route_has_body(call.route)) {
        lr_err why;
        call.json_length = json_length;
        b = api_body_new(&call, NULL, NULL, len, &why);
        ASSERT(b != NULL);
        for (size_t at = 0; b && at < len; at += 7) /* in pieces, a binary part split too */
            ASSERT_EQ(api_body_feed(b, body + at, len - at < 7 ? len - at : 7), LR_ERR_OK);
    }
    api_request req = {.route = call.route, .model = call.model, .body = b};
    api_handle(&req, &resp);
    size_t total = resp.len;
    for (size_t i = 0; i < resp.nparts; i++)
        total += resp.parts[i].len;
    if (resp.stream) {
        *out = test_stream_text(resp.stream, out_len); /* and frees it */
        resp.stream = NULL;
    } else if (resp.body) {
        *out = malloc(total + 1);
        memcpy(*out, resp.body, resp.len);
        size_t at = resp.len;
        for (size_t i = 0; i < resp.nparts; i++, at += resp.parts[i - 1].len)
            memcpy(*out + at, resp.parts[i].data, resp.parts[i].len);
        (*out)[total] = '\0';
        *out_len = total;
    }
    int status = resp.status;
    if (keep) /* the caller frees it */
        *keep = resp;
    else
        api_response_free(&resp);
    return status;
}

static int get(const char *path, char **out)
{
    size_t len;
    return oip("GET", path, NULL, 0, NULL, out, &len, NULL);
}

void test_api_oip_routes(void)
{
    static const struct {
        const char *method, *path;
        int status;
        const char *reply;
    } cases[] = {
        {"GET", "/v2", 200, "{\"name\": \"leakyrelu\", \"version\": \"" "0.1.0" "\", "
                            "\"extensions\": [\"binary_tensor_data\"]}"},
        {"GET", "/v2/", 200, NULL},
        {"GET", "/v2/health/live", 200, "{\"live\": true}"},
        {"HEAD", "/v2/health/ready", 200, "{\"ready\": true}"},
        {"GET", "/v2/models/leaky_relu/ready", 200, "{\"name\": \"leaky_relu\", \"ready\": true}"},
        {"GET", "/v2/models/leaky_relu_grad/versions/1/ready", 200,
         "{\"name\": \"leaky_relu_grad\", \"ready\": true}"},
        {"GET", "/v2/models/leaky_relu", 200,
         "{\"name\": \"leaky_relu\", \"versions\": [\"1\"], \"platform\": \"leakyrelu\", "
         "\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", \"shape\": [-1]}], \"outputs\": "
         "[{\"name\": \"y\", \"datatype\": \"FP64\", \"shape\": [-1]}]}"},
        {"GET", "/v2/models/leaky_relu_grad/versions/1", 200, NULL},
        {"GET", "/v2/models/relu", 404, "{\"error\": \"unknown model \\\"relu\\\"; the models are "
                                        "\\\"leaky_relu\\\" and \\\"leaky_relu_grad\\\"\", "
                                        "\"code\": \"not_found\"}"},
        {"GET", "/v2/models/leaky_relu/versions/2", 404, NULL},
        {"GET", "/v2/models/leaky_relu/versions/", 404, NULL},
        {"GET", "/v2/models/leaky_relu/versions/1/infer", 405, NULL},
        {"POST", "/v2/models/leaky_relu", 405, NULL},
        {"GET", "/v2/health", 404, NULL},
        {"GET", "/v2/models", 404, NULL},
        {"GET", "/v2/models/leaky_relu/stats", 404, NULL},
        {"GET", "/v2x", 404, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got;
        int status = get(cases[i].path, &got);
        if (strcmp(cases[i].method, "GET") != 0) {
            size_t len;
            free(got);
            status = oip(cases[i].method, cases[i].path, NULL, 0, NULL, &got, &len, NULL);
        }
        if (status != cases[i].status || (cases[i].reply && strcmp(got, cases[i].reply) != 0))
            tap_fail(__FILE__, __LINE__, "%s %s: want %d %s, got %d %s", cases[i].method,
                     cases[i].path, cases[i].status, cases[i].reply ? cases[i].reply : "",
                     status, got ? got : "(none)");
        free(got);
    }
    api_head call;
    api_response resp;
    ASSERT_EQ(api_begin("POST", "/v2/models/leaky_relu_grad/infer", "application/octet-stream",
                        &call, &resp), 1);
    ASSERT_EQ(call.route, API_V2_INFER);
    ASSERT_EQ(call.model, INFER_MODEL_GRADIENT);
    ASSERT_EQ(call.format, API_FORMAT_OIP);
    ASSERT_STR_EQ(api_route_name(API_V2_INFER), "v2_infer");
    /* not ready while draining: a 4xx, as the protocol says */
    api_request req = {.route = API_V2_MODEL_READY, .draining = 1};
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 400);
    api_response_free(&resp);
}

/* The /forward body {"x": X, "slope": S[, "grad_output": G]} of a
 * PyTorch case as an inference request, X's text kept as it is. */
static char *oip_body(const char *req, size_t *len)
{
    json_t *j = json_loads(req, JSON_DECODE_ANY, NULL);
    const char *x = strstr(req, "\"x\": ") + 5, *s = strstr(req, ", \"slope\": ");
    const char *g = strstr(req, ", \"grad_output\": ");
    char shape[256] = "";
    size_t n = 0;
    for (json_t *v = json_object_get(j, "x"); json_is_array(v); v = json_array_get(v, 0))
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%zu", n ? ", " : "",
                              json_array_size(v));
    size_t cap = strlen(req) * 2 + 512;
    char *out = malloc(cap);
    int k = snprintf(out, cap, "{\"parameters\": {\"negative_slope\": %.*s}, \"inputs\": [{\"name\": "
                     "\"x\", \"shape\": [%s], \"datatype\": \"FP64\", \"data\": %s%.*s%s}",
                     (int)(strcspn(s + 11, ",}")), s + 11, shape,
                     json_is_array(json_object_get(j, "x")) ? "" : "[", (int)(s - x), x,
                     json_is_array(json_object_get(j, "x")) ? "" : "]");
    if (g)
        k += snprintf(out + k, cap - (size_t)k, ", {\"name\": \"grad_output\", \"shape\": [%s], "
                      "\"datatype\": \"FP64\", \"data\": %s%.*s%s}", shape,
                      json_is_array(json_object_get(j, "x")) ? "" : "[",
                      (int)strcspn(g + 17, "}"), g + 17,
                      json_is_array(json_object_get(j, "x")) ? "" : "]");
    k += snprintf(out + k, cap - (size_t)k, "]}");
    *len = (size_t)k;
    json_decref(j);
    return out;
}

/* The reply's text: the numbers of want's value, flat, in an output. */
static char *oip_want(const char *model, const char *name, const char *want, const char *req)
{
    const char *v = strchr(want, ':') + 2;
    size_t vlen = strlen(v) - 1; /* without the final '}' */
    json_t *j = json_loads(req, JSON_DECODE_ANY, NULL);
    char shape[256] = "";
    size_t n = 0;
    for (json_t *x = json_object_get(j, "x"); json_is_array(x); x = json_array_get(x, 0))
        n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%zu", n ? ", " : "",
                              json_array_size(x));
    json_decref(j);
    char *out = malloc(vlen + 512), *p;
    p = out + sprintf(out, "{\"model_name\": \"%s\", \"model_version\": \"1\", \"outputs\": "
                      "[{\"name\": \"%s\", \"datatype\": \"FP64\", \"shape\": [%s], \"data\": [",
                      model, name, shape);
    for (size_t i = 0; i < vlen; i++)
        if (v[i] != '[' && v[i] != ']')
            *p++ = v[i];
    strcpy(p, "]}]}");
    return out;
}

static void torch_on_oip(void *arg, int line, int which, const char *req, const char *want)
{
    (void)arg;
    size_t len, got_len;
    char *body = oip_body(req, &len), *got;
    const char *path = which ? "/v2/models/leaky_relu_grad/infer" : "/v2/models/leaky_relu/infer";
    int status = oip("POST", path, body, len, NULL, &got, &got_len, NULL);
    char *w = oip_want(which ? "leaky_relu_grad" : "leaky_relu", which ? "grad" : "y", want, req);
    if (status != 200 || !got || strcmp(got, w) != 0)
        tap_fail(__FILE__, __LINE__, "case %d/%d: status %d\n#   want %.300s\n#   got  %.300s",
                 line, which, status, w, got ? got : "(null)");
    free(w);
    free(got);
    free(body);
}

/* The 200 PyTorch cases as inference requests: the same numbers as
 * /forward's replies, byte for byte, flat. */
void test_api_oip_torch(void)
{
    ASSERT_EQ(test_torch_cases(torch_on_oip, NULL), 200);
}

/* Binary inputs and outputs, and a reply streamed: each bit for bit. */
void test_api_oip_binary(void)
{
    enum { N = 5000 };
    static double x[N], want[N];
    uint64_t st = 3;
    for (size_t i = 0; i < N; i++)
        x[i] = (test_rand_unit(&st) - 0.5) * 100;
    x[0] = -INFINITY;
    x[1] = NAN;
    lrelu_forward_f64(x, want, N, 0.3);
    char head[512], length[32];
    int hl = snprintf(head, sizeof head, "{\"id\": \"a\\\"b\", \"parameters\": "
                      "{\"negative_slope\": 0.3}, \"inputs\": [{\"name\": \"x\", \"shape\": [50, "
                      "100], \"datatype\": \"FP64\", \"parameters\": {\"binary_data_size\": %d}}], "
                      "\"outputs\": [{\"name\": \"y\", \"parameters\": {\"binary_data\": true}}]}",
                      N * 8);
    snprintf(length, sizeof length, "%d", hl);
    char *body = malloc((size_t)hl + N * 8);
    memcpy(body, head, (size_t)hl);
    memcpy(body + hl, x, N * 8);
    char *got;
    size_t len;
    api_response r;
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl + N * 8, length, &got,
                  &len, &r), 200);
    ASSERT_STR_EQ(r.content_type, "application/octet-stream");
    ASSERT_STR_EQ(r.nheaders ? r.headers[0].name : "", "Inference-Header-Content-Length");
    const char *json = "{\"model_name\": \"leaky_relu\", \"model_version\": \"1\", \"id\": "
                       "\"a\\\"b\", \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP64\", "
                       "\"shape\": [50, 100], \"parameters\": {\"binary_data_size\": 40000}}]}";
    size_t jl = strlen(json);
    char jlen[32];
    snprintf(jlen, sizeof jlen, "%zu", jl);
    ASSERT_STR_EQ(r.nheaders ? r.headers[0].value : "", jlen);
    ASSERT(got && len == jl + N * 8 && memcmp(got, json, jl) == 0 &&
           memcmp(got + jl, want, N * 8) == 0);
    api_response_free(&r);
    free(got);
    /* the same binary input, the output as JSON: streamed (5000 numbers),
     * but the infinity and NaN cannot be written */
    hl = snprintf(head, sizeof head, "{\"inputs\": [{\"name\": \"x\", \"shape\": [%d], "
                  "\"datatype\": \"FP64\", \"parameters\": {\"binary_data_size\": %d}}]}", N,
                  N * 8);
    snprintf(length, sizeof length, "%d", hl);
    memcpy(body, head, (size_t)hl);
    x[0] = -1;
    x[1] = 2;
    memcpy(body + hl, x, N * 8);
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl + N * 8, length, &got,
                  &len, NULL), 200);
    json_t *j = got ? json_loadb(got, len, 0, NULL) : NULL;
    json_t *data = json_object_get(json_array_get(json_object_get(j, "outputs"), 0), "data");
    ASSERT_EQ(json_array_size(data), N);
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++) {
        double v = json_real_value(json_array_get(data, i)), w = x[i] > 0 ? x[i] : 0.01 * x[i];
        wrong += memcmp(&v, &w, 8) != 0;
    }
    ASSERT_EQ(wrong, 0);
    json_decref(j);
    free(got);
    x[0] = -INFINITY;
    memcpy(body + hl, x, N * 8);
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl + N * 8, length, &got,
                  &len, NULL), 400);
    ASSERT(got && strstr(got, "result_not_finite"));
    free(got);
    /* short and long binary data, a bad header length */
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl + N * 8 - 1, length,
                  &got, &len, NULL), 400);
    ASSERT(got && strstr(got, "invalid_binary_length") && strstr(got, "add up to 40000"));
    free(got);
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl + N * 8, "x", &got,
                  &len, NULL), 400);
    ASSERT(got && strstr(got, "Inference-Header-Content-Length must be"));
    free(got);
    ASSERT_EQ(oip("POST", "/v2/models/leaky_relu/infer", body, (size_t)hl, NULL, &got, &len,
                  NULL), 400);
    ASSERT(got && strstr(got, "no Inference-Header-Content-Length header"));
    free(got);
    free(body);
}

void test_api_oip_errors(void)
{
    static const struct {
        const char *model, *body, *code, *words;
        int status;
    } cases[] = {
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1]}, {\"name\": \"grad_output\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1]}]}", "invalid_input", "grad_output is leaky_relu_grad's", 400},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1]}], \"outputs\": [{\"name\": \"grad\"}]}", "invalid_output",
         "leaky_relu's outputs are \\\"y\\\"", 400},
        {"leaky_relu_grad", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": "
         "\"FP64\", \"data\": [1]}], \"outputs\": [{\"name\": \"grad_slope\"}]}", "invalid_output",
         "when negative_slope is a list", 400},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1]}], \"outputs\": [{\"name\": \"y\"}, {\"name\": \"y\"}]}", "invalid_output",
         "asked for twice", 400},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 2], \"datatype\": \"FP64\", "
         "\"data\": [1, 2]}], \"parameters\": {\"negative_slope\": [1, 2, 3]}}",
         "slope_count_mismatch", NULL, 400},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", "
         "\"data\": [1e39]}]}", "number_out_of_range", "inputs[0].data[0]", 400},
        {"leaky_relu_grad", "{\"inputs\": [{\"name\": \"grad_output\", \"shape\": [1], "
         "\"datatype\": \"FP32\", \"data\": [1e39]}, {\"name\": \"x\", \"shape\": [1], "
         "\"datatype\": \"FP32\", \"data\": [1]}]}", "number_out_of_range",
         "inputs[0].data[0]", 400},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [1e308]}], \"parameters\": {\"negative_slope\": 10}}", "invalid_input", NULL, 200},
        {"leaky_relu", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
         "\"data\": [-1e308]}], \"parameters\": {\"negative_slope\": 10}}", "result_not_finite",
         NULL, 400},
        {"leaky_relu", "{\"inputs\": [", "invalid_json", "at byte 12", 400},
        {"leaky_relu", "", "empty_body", NULL, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], *got;
        size_t len;
        snprintf(path, sizeof path, "/v2/models/%s/infer", cases[i].model);
        int status = oip("POST", path, cases[i].body, strlen(cases[i].body), NULL, &got, &len,
                         NULL);
        int ok = status == cases[i].status &&
                 (status == 200 || (got && strstr(got, cases[i].code) &&
                                    (!cases[i].words || strstr(got, cases[i].words))));
        if (!ok)
            tap_fail(__FILE__, __LINE__, "case %zu: want %d %s, got %d %s", i, cases[i].status,
                     cases[i].code, status, got ? got : "(none)");
        free(got);
    }
}
