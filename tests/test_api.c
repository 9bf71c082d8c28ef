/* Tests of the API handlers (src/api.c) without sockets: error replies,
 * routes, computations and the PyTorch cases. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
#include "../src/budget.h"
#include "../src/errors.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* Every error renders as {"error", "code", ...} with its table status. */
void test_errors_render(void)
{
    for (int i = 1; i < LR_ERR__COUNT; i++) {
        lr_error err;
        api_response resp;
        lr_error_clear(&err);
        err.code = (lr_err)i;
        if (i % 2) {
            err.offset = 7;
            strcpy(err.path, "x[1]");
        }
        api_error(&err, &resp);
        ASSERT_EQ(resp.status, lr_err_status((lr_err)i));
        json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
        ASSERT(j != NULL);
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "code")), lr_err_code((lr_err)i));
        ASSERT(json_is_string(json_object_get(j, "error")));
        ASSERT_EQ(json_integer_value(json_object_get(j, "offset")), i % 2 ? 7 : 0);
        ASSERT_EQ(json_object_get(j, "path") != NULL, i % 2);
        json_decref(j);
        api_response_free(&resp);
    }
}

/* Client bytes quoted in messages (a member name, a string among the
 * numbers, a path, a content type) always come out as valid UTF-8 JSON
 * (found by the fuzzer: an invalid escape of byte 0x8B). */
void test_api_quote_bytes(void)
{
    static const char *const bodies[] = {"{\"x\": [1], \"a\\\x8b\": 1}", "[1, \"\\\xff\"]"};
    for (int i = 0; i < 2; i++) {
        int status;
        api_request req = {.route = API_FORWARD,
                           .body = test_api_body(API_FORWARD, bodies[i], strlen(bodies[i]), NULL)};
        api_response resp;
        api_handle(&req, &resp);
        status = resp.status;
        ASSERT_EQ(status, 400);
        json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
        ASSERT(j != NULL);
        json_decref(j);
        api_response_free(&resp);
    }
    api_head call;
    api_response resp;
    ASSERT_EQ(api_begin("GET", "/\xff\xfe", NULL, &call, &resp), 0);
    ASSERT_EQ(resp.status, 404);
    ASSERT(resp.body && strstr(resp.body, "\\\\xFF"));
    api_response_free(&resp);
    ASSERT_EQ(api_begin("POST", "/forward", "text/\xff", &call, &resp), 0);
    ASSERT_EQ(resp.status, 415);
    ASSERT_STR_EQ(resp.body, "{\"error\": \"Content-Type must be application/json, "
                             "application/x-www-form-urlencoded, text/plain, application/octet-stream "
                             "or none, not text/\\\\xFF\", "
                             "\"code\": \"unsupported_media_type\"}");
    api_response_free(&resp);
}

/* Runs one request through the API and returns the response body. */
static char *call(api_route route, const char *body, const char *slope, int *status)
{
    api_param p = {"slope", 5, slope, slope ? strlen(slope) : 0};
    api_request req = {.route = route, .params = &p, .nparams = slope ? 1 : 0,
                       .body = test_api_body(route, body, strlen(body), NULL)};
    api_response resp;
    api_handle(&req, &resp);
    *status = resp.status;
    return resp.body;
}

void test_api_compute(void)
{
    static const struct {
        api_route route;
        const char *body, *slope;
        int status;
        const char *reply;
    } cases[] = {
        {API_FORWARD, "{\"x\": [[1, -2], [3, -4]], \"slope\": 0.1}", NULL, 200,
         "{\"y\": [[1.0, -0.2], [3.0, -0.4]]}"},
        {API_FORWARD, "[1, -2, 3]", "0.1", 200, "[1.0, -0.2, 3.0]"},
        {API_FORWARD, "[-0, 0, -1e-05]", NULL, 200, "[-0.0, 0.0, -1.0000000000000001e-07]"},
        {API_FORWARD, "{\"x\": []}", NULL, 200, "{\"y\": []}"},
        {API_FORWARD, "{\"x\": [[], []]}", NULL, 200, "{\"y\": [[], []]}"},
        {API_FORWARD, "-2", "3", 200, "-6.0"},
        {API_FORWARD, "{\"x\": -2}", "3", 200, "{\"y\": -6.0}"},
        {API_FORWARD, "[1000000000000000000000000000000, 1e16, 123]", NULL, 200,
         "[1e+30, 1e+16, 123.0]"},
        {API_GRADIENT, "[2, 0, -0, -3]", "0.25", 200, "[1.0, 0.25, 0.25, 0.25]"},
        {API_GRADIENT, "{\"x\": [2, -3], \"grad_output\": [0.5, 4], \"slope\": 0.5}", NULL,
         200, "{\"grad\": [0.5, 2.0]}"},
        {API_FORWARD, "{\"x\": [1], \"slope\": 2}", "2", 422, NULL},
        {API_FORWARD, "[1]", "abc", 422, NULL},
        {API_FORWARD, "[1]", "", 422, NULL},
        {API_FORWARD, "[1]", "1e400", 422, NULL},
        {API_FORWARD, "[1, -1e300]", "1e10", 422, NULL},
        {API_FORWARD, "[1, 2", "abc", 400, NULL},
        {API_FORWARD, "{\"x\": [-1e300]}", "1e10", 422, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status;
        char *body = call(cases[i].route, cases[i].body, cases[i].slope, &status);
        ASSERT_EQ(status, cases[i].status);
        ASSERT(body != NULL);
        if (cases[i].reply)
            ASSERT_STR_EQ(body, cases[i].reply);
        free(body);
    }
    int status;
    char *body = call(API_FORWARD, "[1, -1e300]", "1e10", &status);
    ASSERT_STR_EQ(body, "{\"error\": \"the result overflows to infinity (slope * x) at x[1]\", "
                        "\"code\": \"result_not_finite\", \"path\": \"x[1]\"}");
    free(body);
    body = call(API_FORWARD, "{\"x\": [1, 2,, 3]}", NULL, &status);
    ASSERT_STR_EQ(body, "{\"error\": \"unexpected ','; expected a number or an array at byte "
                        "12\", \"code\": \"invalid_json\", \"offset\": 12}");
    free(body);
}

void test_api_routes(void)
{
    static const struct {
        const char *method, *path, *ct;
        int ok, status;
        const char *allow;
    } cases[] = {
        {"POST", "/forward", NULL, 1, 0, NULL},
        {"POST", "/gradient", "application/json; charset=utf-8", 1, 0, NULL},
        {"POST", "/forward", "application/x-www-form-urlencoded", 1, 0, NULL},
        {"POST", "/forward", "Application/JSON", 1, 0, NULL},
        {"POST", "/forward", "text/plain", 1, 0, NULL},
        {"POST", "/forward", "text/plain;charset=UTF-8", 1, 0, NULL},
        {"POST", "/forward", "text/html", 0, 415, NULL},
        {"POST", "/forward", "application/jsonx", 0, 415, NULL},
        {"POST", "/forward", "application/json garbage", 0, 415, NULL},
        {"POST", "/forward", ";charset=utf-8", 0, 415, NULL},
        {"POST", "/forward", "  ", 1, 0, NULL},
        {"POST", "/forward", "application/json ; charset=utf-8", 1, 0, NULL},
        {"GET", "/forward", NULL, 0, 405, "POST, OPTIONS"},
        {"PUT", "/gradient", NULL, 0, 501, "POST, OPTIONS"}, /* no endpoint serves PUT */
        {"CONNECT", "example.com:443", NULL, 0, 501, NULL},
        {"get", "/healthz", NULL, 0, 501, NULL}, /* methods are case-sensitive */
        {"FOO", "/nope", NULL, 0, 501, NULL},
        {"OPTIONS", "*", NULL, 0, 204, "GET, HEAD, POST, OPTIONS"},
        {"GET", "*", NULL, 0, 400, NULL},
        {"POST", "/healthz", NULL, 0, 405, "GET, HEAD, OPTIONS"},
        {"OPTIONS", "/forward", "text/html", 1, 0, NULL},
        {"OPTIONS", "/readyz", NULL, 1, 0, NULL},
        {"OPTIONS", "/nope", NULL, 0, 404, NULL},
        {"GET", "/healthz", NULL, 1, 0, NULL},
        {"HEAD", "/readyz", NULL, 1, 0, NULL},
        {"GET", "/nope", NULL, 0, 404, NULL},
        {"GET", "/forward/", NULL, 0, 404, NULL},
        {"GET", "/metrics", NULL, 1, 0, NULL},
        {"POST", "/metrics", NULL, 0, 405, "GET, HEAD, OPTIONS"},
    };
    /* Which route each names, refused or not (for the metrics' labels). */
    static const struct {
        const char *method, *path;
        api_route route;
    } named[] = {{"PUT", "/forward", API_FORWARD}, {"GET", "/metrics", API_METRICS},
                 {"GET", "/nope", API_NONE}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        api_head call = {.route = API_ROUTES};
        api_response resp;
        api_begin(named[i].method, named[i].path, NULL, &call, &resp);
        ASSERT_EQ(call.route, named[i].route);
        api_response_free(&resp);
    }
    ASSERT_STR_EQ(api_route_name(API_NONE), "none");
    ASSERT_STR_EQ(api_route_name(API_METRICS), "metrics");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_head call;
        api_response resp;
        int ok = api_begin(cases[i].method, cases[i].path, cases[i].ct, &call, &resp);
        ASSERT_EQ(ok, cases[i].ok);
        if (!ok) {
            ASSERT_EQ(resp.status, cases[i].status);
            ASSERT(resp.status == 204 || (resp.body && strstr(resp.body, "\"code\"")));
            if (cases[i].allow)
                ASSERT_STR_EQ(resp.allow, cases[i].allow);
            api_response_free(&resp);
        }
    }
    api_request req = {.route = API_READYZ, .draining = 1};
    api_response resp;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 503);
    api_response_free(&resp);
    api_request opt = {.route = API_GRADIENT, .options = 1};
    api_handle(&opt, &resp);
    ASSERT_EQ(resp.status, 204);
    ASSERT_EQ(resp.len, 0);
    ASSERT_STR_EQ(resp.allow, "POST, OPTIONS");
    api_response_free(&resp);
    req.draining = 0;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 200);
    ASSERT_STR_EQ(resp.body, "{\"status\": \"ok\"}");
    api_response_free(&resp);
    /* /metrics without counters (a server always has them) is a 404. */
    req.route = API_METRICS;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 404);
    api_response_free(&resp);
}

/* One PyTorch case through api_handle: the reply is exactly PyTorch's. */
static void torch_on_api(void *arg, int line, int which, const char *req, const char *want)
{
    (void)arg;
    int status;
    char *got = call(which == 0 ? API_FORWARD : API_GRADIENT, req, NULL, &status);
    if (status != 200 || !got || strcmp(got, want) != 0)
        tap_fail(__FILE__, __LINE__, "case %d/%d: status %d\n#   want %.200s\n#   got  %.200s",
                 line, which, status, want, got ? got : "(null)");
    free(got);
}

void test_api_torch_cases(void)
{
    ASSERT_EQ(test_torch_cases(torch_on_api, NULL), 200);
}

static void prelu_on_api(void *arg, int line, const char *req, int backward, const char *want,
                         const double *gs, size_t n)
{
    (void)arg;
    int status;
    char *got = call(backward ? API_GRADIENT : API_FORWARD, req, NULL, &status);
    int ok = status == 200 && got &&
             (backward ? test_check_grad_slope(got, want, gs, n) : strcmp(got, want) == 0);
    if (!ok)
        tap_fail(__FILE__, __LINE__, "prelu case %d/%d: status %d\n#   want %.300s\n#   got  %.300s",
                 line, backward, status, want, got ? got : "(null)");
    free(got);
}

void test_api_torch_prelu(void)
{
    ASSERT_EQ(test_torch_prelu_cases(prelu_on_api, NULL), 40);
}

void test_api_torch_f32(void)
{
    ASSERT_EQ(test_torch_f32_cases(torch_on_api, NULL), 60);
}

/* Replies of API_STREAM_MIN elements or more are streamed, alone and on
 * workers, smaller ones are a plain body; both exactly the reply. A route
 * given no body has an empty one. */
void test_api_large_replies(void)
{
    pool *workers = pool_new(2);
    ASSERT(workers != NULL);
    static const size_t counts[] = {API_STREAM_MIN - 1, API_STREAM_MIN, 3 * 256 * 1024 + 5};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        for (int use = 0; use < 2; use++) {
            char *want, *body = test_big_body(&counts[c], 1, (int)c % 2, &want);
            pool *w = use ? workers : NULL;
            api_request req = {.route = API_FORWARD,
                               .body = test_api_body(API_FORWARD, body, strlen(body), w),
                               .workers = w};
            api_response resp;
            api_handle(&req, &resp);
            ASSERT_EQ(resp.status, 200);
            ASSERT_EQ(resp.stream != NULL, counts[c] >= API_STREAM_MIN);
            size_t len = 0;
            char *got = resp.stream ? test_stream_text(resp.stream, &len) : resp.body;
            ASSERT_STR_EQ(got, want);
            free(got);
            free(want);
            free(body);
        }
    }
    pool_free(workers);
    api_request req = {.route = API_GRADIENT};
    api_response resp;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 400);
    ASSERT(resp.body && strstr(resp.body, "\"empty_body\""));
    api_response_free(&resp);
}

/* float32 bodies with ties and range edges, small and large (runs of
 * rows read in parts on workers), fed whole and in pieces of 1000 bytes
 * (the reader drops the text it has read): every number rounded once. */
void test_api_f32_ties(void)
{
    pool *workers = pool_new(2);
    static const size_t shapes[][2] = {{3, 7}, {20000, 50}, {2, 150000}};
    /* instrumented (valgrind, ASan): the small one, and rows too short
     * for parts */
    static const size_t small[][2] = {{3, 7}, {200, 50}, {2, 1500}};
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const size_t *shape = test_instrumented() ? small[c] : shapes[c];
        char *want, *body = test_f32_body(shape[0], shape[1], &want);
        size_t len = strlen(body);
        for (int mode = 0; mode < 3; mode++) {
            pool *w = mode ? workers : NULL;
            size_t piece = mode == 2 ? 1000 : len;
            lr_err why;
            api_body *ab = api_body_new(&(api_head){.route = API_FORWARD}, w, NULL, len, &why);
            ASSERT(ab != NULL);
            for (size_t at = 0; ab && at < len; at += piece)
                ASSERT_EQ(api_body_feed(ab, body + at, len - at < piece ? len - at : piece),
                          LR_ERR_OK);
            api_request req = {.route = API_FORWARD, .body = ab, .workers = w};
            api_response resp;
            api_handle(&req, &resp);
            ASSERT_EQ(resp.status, 200);
            size_t n = 0;
            char *got = resp.stream ? test_stream_text(resp.stream, &n) : resp.body;
            if (!got || strcmp(got, want) != 0)
                tap_fail(__FILE__, __LINE__, "shape %zu x %zu mode %d: reply differs", shape[0],
                         shape[1], mode);
            free(got);
        }
        free(want);
        free(body);
    }
    pool_free(workers);
}

/* The float32 errors: dtype's values, twice, a number or slope beyond
 * float32's range (each named), and the query's dtype for bare arrays. */
void test_api_f32_errors(void)
{
    static const struct {
        const char *body, *dtype; /* dtype: the query's */
        int status;
        const char *reply; /* the whole reply, or a part of it */
    } cases[] = {
        {"[1, -2]", "float32", 200, "[1.0, -0.02]"},
        {"[0.1]", "float64", 200, "[0.1]"},
        {"{\"x\": [0.1, -0.1], \"dtype\": \"float64\"}", NULL, 200, "{\"y\": [0.1, -0.001]}"},
        {"{\"x\": [1, 1e39], \"dtype\": \"float32\"}", NULL, 422,
         "\"path\": \"x[1]\""},
        {"{\"x\": [1], \"grad_output\": [-4e38], \"dtype\": \"float32\"}", NULL, 422,
         "\"path\": \"grad_output[0]\""},
        {"{\"x\": [1], \"slope\": 1e39, \"dtype\": \"float32\"}", NULL, 422,
         "slope 1e+39 is outside the range of float32"},
        {"{\"x\": [1], \"dtype\": \"float16\"}", NULL, 422,
         "dtype must be \\\"float64\\\" or \\\"float32\\\", not \\\"float16\\\""},
        {"{\"x\": [1], \"dtype\": null}", NULL, 422, "\"invalid_dtype\""},
        {"{\"x\": [1], \"dtype\": \"float32\", \"dtype\": \"float32\"}", NULL, 422,
         "\"duplicate_member\""},
        {"{\"x\": [1], \"dtype\": \"float32\"}", "float32", 422, "\"dtype_conflict\""},
        {"[1]", "int8", 422, "\"invalid_dtype\""},
        {"{\"x\": [-1e-46, 1e-46], \"dtype\": \"float32\"}", NULL, 200,
         "{\"y\": [-0.0, 0.0]}"},
        {"{\"dtype\": \"float32\", \"x\": -3.4028235e38, \"slope\": 2}", NULL, 422,
         "\"result_not_finite\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *d = cases[i].dtype;
        api_param p = {"dtype", 5, d, d ? strlen(d) : 0};
        api_route route = strstr(cases[i].body, "grad_output") ? API_GRADIENT : API_FORWARD;
        api_request req = {.route = route, .params = &p, .nparams = d ? 1 : 0,
                           .body = test_api_body(route, cases[i].body, strlen(cases[i].body),
                                                 NULL)};
        api_response resp;
        api_handle(&req, &resp);
        if (resp.status != cases[i].status || !resp.body ||
            (cases[i].status == 200 ? strcmp(resp.body, cases[i].reply) != 0
                                    : !strstr(resp.body, cases[i].reply)))
            tap_fail(__FILE__, __LINE__, "%s: want %d %s, got %d %s", cases[i].body,
                     cases[i].status, cases[i].reply, resp.status,
                     resp.body ? resp.body : "(null)");
        api_response_free(&resp);
    }
}

/* PReLU's broadcasting: one slope in a list is every channel's; inputs
 * below 2 dimensions have one channel; a count that is neither 1 nor the
 * channels is named; ?slope= takes a list; /gradient always answers
 * grad_slope in an object; float32 combines. */
void test_api_prelu_edges(void)
{
    static const struct {
        api_route route;
        const char *body, *query_slope;
        int status;
        const char *reply; /* whole (200), or a part */
    } cases[] = {
        {API_FORWARD, "{\"x\": [[-2, 4], [-8, 1]], \"slope\": [0.5]}", NULL, 200,
         "{\"y\": [[-1.0, 4.0], [-4.0, 1.0]]}"},
        {API_GRADIENT, "{\"x\": [[-2, 4], [-8, 1]], \"slope\": [0.5]}", NULL, 200,
         "{\"grad\": [[0.5, 1.0], [0.5, 1.0]], \"grad_slope\": [-10.0]}"},
        {API_GRADIENT, "{\"x\": [[-2, 4], [-8, 1]], \"slope\": [0.5, 0.25]}", NULL, 200,
         "{\"grad\": [[0.5, 1.0], [0.5, 1.0]], \"grad_slope\": [-10.0, 0.0]}"},
        {API_GRADIENT, "{\"x\": [[-2, -4], [-8, 1]], \"slope\": [0.5, 0.25]}", NULL, 200,
         "{\"grad\": [[0.5, 0.25], [0.5, 1.0]], \"grad_slope\": [-10.0, -4.0]}"},
        {API_GRADIENT, "{\"x\": [-2, 4, -1], \"slope\": [0.5], \"grad_output\": [3, 1, 1]}",
         NULL, 200, "{\"grad\": [1.5, 1.0, 0.5], \"grad_slope\": [-7.0]}"},
        {API_GRADIENT, "{\"x\": -3, \"slope\": [0.5]}", NULL, 200,
         "{\"grad\": 0.5, \"grad_slope\": [-3.0]}"},
        {API_FORWARD, "{\"x\": [], \"slope\": [0.5]}", NULL, 200, "{\"y\": []}"},
        {API_GRADIENT, "{\"x\": [[[], []]], \"slope\": [0.5, 0.1]}", NULL, 200,
         "{\"grad\": [[[], []]], \"grad_slope\": [0.0, 0.0]}"},
        {API_GRADIENT, "{\"x\": [[], []], \"slope\": [0.5, 0.1]}", NULL, 422,
         "x has no channels (its axis 1 is empty): give 1 slope"},
        {API_FORWARD, "{\"x\": [-2, 4], \"slope\": [0.5, 0.25]}", NULL, 422,
         "slope has 2 numbers, but x has one channel (fewer than 2 dimensions): give 1 slope"},
        {API_FORWARD, "{\"x\": -2, \"slope\": [0.5, 0.25]}", NULL, 422, "\"slope_count_mismatch\""},
        {API_FORWARD, "{\"x\": [[[-1]], [[-1]]], \"slope\": [1, 2, 3]}", NULL, 422,
         "but x has 1 channel (the length of its axis 1): give 1 slope, or 1 for all"},
        {API_FORWARD, "{\"x\": [[-1, -1, -1]], \"slope\": [1, 2]}", NULL, 422,
         "give 3 slopes, or 1 for all"},
        {API_FORWARD, "{\"x\": [1], \"slope\": []}", NULL, 422, "\"invalid_slope\""},
        {API_FORWARD, "{\"x\": [1], \"slope\": [[0.5]]}", NULL, 422, "not 2-dimensional"},
        {API_FORWARD, "{\"x\": [1], \"slope\": [0.5, true]}", NULL, 422,
         "\"code\": \"invalid_slope\", \"path\": \"slope[1]\""},
        {API_FORWARD, "[[-1, -1], [-2, 2]]", "0.5,0.25", 200, "[[-0.5, -0.25], [-1.0, 2.0]]"},
        {API_FORWARD, "[[-1, -1], [-2, 2]]", "0.5, 0.25", 200, "[[-0.5, -0.25], [-1.0, 2.0]]"},
        {API_GRADIENT, "[[-1, -1], [-2, 2]]", "0.5,0.25", 200,
         "{\"grad\": [[0.5, 0.25], [0.5, 1.0]], \"grad_slope\": [-3.0, -1.0]}"},
        {API_FORWARD, "[[-1, -1]]", "0.5,", 422, "\"invalid_slope\""},
        {API_FORWARD, "[[-1, -1]]", ",0.5", 422, "\"invalid_slope\""},
        {API_FORWARD, "[[-1, -1]]", "0.5,,1", 422, "\"invalid_slope\""},
        {API_FORWARD, "{\"x\": [[-1, -1]], \"slope\": [1, 2]}", "0.5,0.25", 422,
         "\"slope_conflict\""},
        {API_GRADIENT, "{\"x\": [[-0.1, -3]], \"slope\": [0.1, 0.2], \"dtype\": \"float32\"}",
         NULL, 200, "{\"grad\": [[0.1, 0.2]], \"grad_slope\": [-0.1, -3.0]}"},
        {API_FORWARD, "{\"x\": [[-0.1, -3]], \"slope\": [0.1, 1e39], \"dtype\": \"float32\"}",
         NULL, 422, "slope 1e+39 is outside the range of float32"},
        {API_GRADIENT, "{\"x\": [[-1e308, -1e308]], \"slope\": [0.1, 0.2], "
         "\"grad_output\": [[1e308, 1]]}", NULL, 422,
         "\"code\": \"result_not_finite\", \"path\": \"slope[0]\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status;
        char *got = call(cases[i].route, cases[i].body, cases[i].query_slope, &status);
        if (status != cases[i].status || !got ||
            (status == 200 ? strcmp(got, cases[i].reply) != 0 : !strstr(got, cases[i].reply)))
            tap_fail(__FILE__, __LINE__, "%s %s: want %d %s, got %d %s", cases[i].body,
                     cases[i].query_slope ? cases[i].query_slope : "", cases[i].status,
                     cases[i].reply, status, got ? got : "(null)");
        free(got);
    }
}

/* Feeds body to a request on budget b in pieces of `piece` bytes, each
 * with room granted first (as the server does; no waiting), answers it
 * and reads the reply to its end. Returns the status; *code gets the
 * error code's text when there is one. */
static long budget_run(budget *b, api_route route, const char *body, size_t len, size_t declared,
                       size_t piece, pool *workers, char *code, size_t code_len)
{
    lr_err why;
    code[0] = '\0';
    api_body *ab = api_body_new(&(api_head){.route = route}, workers, b, declared, &why);
    if (!ab) {
        snprintf(code, code_len, "%s", lr_err_code(why));
        return lr_err_status(why);
    }
    lr_err fed = LR_ERR_OK;
    for (size_t at = 0; at < len && fed == LR_ERR_OK; at += piece) {
        size_t n = len - at < piece ? len - at : piece;
        fed = api_body_room(ab, body + at, n) == BUDGET_GRANTED ? api_body_feed(ab, body + at, n)
                                                      : api_body_refusal(ab);
    }
    if (fed == LR_ERR_OK && api_body_room(ab, NULL, 0) != BUDGET_GRANTED) /* the reply's */
        fed = api_body_refusal(ab);
    if (fed != LR_ERR_OK) {
        api_body_free(ab);
        snprintf(code, code_len, "%s", lr_err_code(fed));
        return lr_err_status(fed);
    }
    api_request req = {.route = route, .body = ab, .workers = workers};
    api_response resp;
    api_handle(&req, &resp);
    if (resp.status != 200 && resp.body) {
        const char *c = strstr(resp.body, "\"code\": \"");
        if (c)
            snprintf(code, code_len, "%.*s", (int)strcspn(c + 9, "\""), c + 9);
    }
    size_t n;
    if (resp.stream)
        free(test_stream_text(resp.stream, &n));
    resp.stream = NULL;
    api_response_free(&resp);
    return resp.status;
}

/* The room granted before each piece of a body is never exceeded,
 * however dense its numbers, however it is split, with workers or
 * without; all is released at the end; a body that does not fit now is
 * refused with 503 overloaded, one that needs more than the whole budget
 * with 413, whether its length is known or not. */
void test_api_budget(void)
{
    pool *workers = pool_new(2);
    ASSERT(workers != NULL);
    /* Dense numbers (2 bytes each), rows, grad_output, one long number,
     * a long unknown member, a large reply. */
    size_t n = 1500000, big = 300000;
    char *dense = malloc(2 * n + 2), *rows = malloc(4 * n + 8), *grad = malloc(4 * n + 64);
    char *longnum = malloc(n + 32), *member = malloc(n + 64);
    ASSERT(dense && rows && grad && longnum && member);
    char *p = dense;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        *p++ = (char)('0' + i % 10);
        *p++ = ',';
    }
    p[-1] = ']';
    *p = '\0';
    p = rows;
    *p++ = '[';
    for (size_t i = 0; i < n / 2; i++)
        p += sprintf(p, "[%d,%d]%s", (int)(i % 7), -(int)(i % 5), i + 1 < n / 2 ? "," : "");
    strcpy(p, "]");
    p = grad + sprintf(grad, "{\"x\":[");
    for (size_t i = 0; i < n / 2; i++)
        p += sprintf(p, "%d,", (int)(i % 3) - 1);
    p += sprintf(p - 1, "],\"grad_output\":[") - 1;
    for (size_t i = 0; i < n / 2; i++)
        p += sprintf(p, "%d,", (int)(i % 9));
    strcpy(p - 1, "]}");
    p = longnum + sprintf(longnum, "[1.");
    memset(p, '5', n);
    strcpy(p + n, "]");
    p = member + sprintf(member, "{\"x\":[1,2],\"slope\":0.5,\"");
    memset(p, 'a', n);
    strcpy(p + n, "\":1}");
    size_t shape = big;
    char *want, *wide = test_big_body(&shape, 1, 1, &want);
    free(want);
    /* float32, and the same text read as float64: its ties noted, with
     * their memory, in a streamed reply's tensor */
    char *f32 = test_f32_body(test_instrumented() ? 300 : 3000, 100, &want), *f64 = strdup(f32);
    free(want);
    ASSERT(f64 != NULL);
    memcpy(strstr(f64, "\"float32\"") + 6, "64", 2);
    const struct {
        const char *name, *body;
        api_route route;
        long status;
    } bodies[] = {
        {"dense", dense, API_FORWARD, 200},      {"rows", rows, API_FORWARD, 200},
        {"grad_output", grad, API_GRADIENT, 200}, {"long number", longnum, API_FORWARD, 200},
        {"long member", member, API_FORWARD, 422}, {"wide", wide, API_GRADIENT, 200},
        {"float32", f32, API_FORWARD, 200},       {"float64 ties", f64, API_FORWARD, 200},
    };
    static const size_t pieces[] = {4096, 65536, (size_t)1 << 30};
    char code[64];
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        size_t len = strlen(bodies[i].body);
        for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
            for (int use = 0; use < 2; use++) {
                budget *b = budget_new(SIZE_MAX);
                ASSERT(b != NULL);
                long status = budget_run(b, bodies[i].route, bodies[i].body, len, len,
                                         pieces[k], use ? workers : NULL, code, sizeof code);
                if (status != bodies[i].status)
                    tap_fail(__FILE__, __LINE__, "%s, pieces of %zu: status %ld (%s)",
                             bodies[i].name, pieces[k], status, code);
                ASSERT_EQ(budget_used(b), 0);
                if (budget_beyond(b) != 0)
                    tap_fail(__FILE__, __LINE__, "%s, pieces of %zu%s: %zu bytes beyond the "
                             "grants", bodies[i].name, pieces[k], use ? ", workers" : "",
                             budget_beyond(b));
                /* The peak is what was granted: exactly that is room
                 * enough; a byte less never fits. */
                size_t peak = budget_peak(b);
                budget_free(b);
                b = budget_new(peak);
                ASSERT(b != NULL);
                status = budget_run(b, bodies[i].route, bodies[i].body, len, len, pieces[k],
                                    use ? workers : NULL, code, sizeof code);
                if (status != bodies[i].status)
                    tap_fail(__FILE__, __LINE__, "%s in a budget of %zu: status %ld (%s)",
                             bodies[i].name, peak, status, code);
                ASSERT_EQ(budget_peak(b), peak);
                ASSERT_EQ(budget_used(b), 0);
                /* With one byte taken by an older request, it is refused
                 * (this budget has no queue); in a budget a byte smaller,
                 * it never fits. */
                budget_account other;
                budget_open(b, &other, 1);
                ASSERT_EQ(budget_grant(&other, 1), BUDGET_GRANTED);
                ASSERT_EQ(budget_run(b, bodies[i].route, bodies[i].body, len, len, pieces[k],
                                     use ? workers : NULL, code, sizeof code), 503);
                ASSERT_STR_EQ(code, "overloaded");
                budget_close(&other);
                ASSERT_EQ(budget_used(b), 0);
                budget_free(b);
                b = budget_new(peak - 1);
                ASSERT(b != NULL);
                ASSERT_EQ(budget_run(b, bodies[i].route, bodies[i].body, len, len, pieces[k],
                                     use ? workers : NULL, code, sizeof code), 413);
                ASSERT_STR_EQ(code, "body_too_large");
                ASSERT_EQ(budget_used(b), 0);
                budget_free(b);
            }
        }
    }
    /* A body of unknown length is charged as it grows: in a budget too
     * small for it, it is refused partway with 413, and everything is
     * released; with a byte of it held by another, with 503. */
    budget *b = budget_new((size_t)4 << 20);
    ASSERT(b != NULL);
    ASSERT_EQ(budget_run(b, API_FORWARD, dense, strlen(dense), API_LENGTH_UNKNOWN, 65536,
                         workers, code, sizeof code), 413);
    ASSERT_STR_EQ(code, "body_too_large");
    ASSERT_EQ(budget_used(b), 0);
    budget_account other;
    budget_open(b, &other, 1);
    ASSERT_EQ(budget_grant(&other, 1), BUDGET_GRANTED);
    ASSERT_EQ(budget_run(b, API_FORWARD, "[1, -2]", 7, API_LENGTH_UNKNOWN, 3, workers, code,
                         sizeof code), 200);
    budget_close(&other);
    ASSERT_EQ(budget_used(b), 0);
    /* A small one fits. */
    ASSERT_EQ(budget_run(b, API_FORWARD, "[1, -2]", 7, API_LENGTH_UNKNOWN, 3, workers, code,
                         sizeof code), 200);
    ASSERT_EQ(budget_used(b), 0);
    budget_free(b);
    pool_free(workers);
    free(dense);
    free(rows);
    free(grad);
    free(longnum);
    free(member);
    free(wide);
    free(f32);
    free(f64);
}

/* The mistakes a new user makes first get an error that names the fix:
 * a form for a body, the slope given twice, NaN in JSON, PyTorch's name
 * for the slope. Each through api_begin, as the server calls it. */
void test_api_common_mistakes(void)
{
    static const struct {
        const char *path, *content_type, *body, *key, *value;
        int status;
        const char *says;
    } cases[] = {
        {"/forward", "application/x-www-form-urlencoded", "x=1&x=-2", NULL, NULL, 400,
         "requests.post(url, json="},
        {"/forward", " application/x-www-form-urlencoded; charset=utf-8", "x=%5B1%5D", NULL,
         NULL, 400, "-H 'Content-Type: application/json'"},
        {"/forward", "application/json", "[1, NaN]", NULL, NULL, 400,
         "a binary body (Content-Type: application/octet-stream) carries them"},
        {"/gradient", NULL, "[1, -inf]", NULL, NULL, 400, "carries them at byte 4"},
        {"/forward", NULL, "[1, nan]", NULL, NULL, 400, "carries them at byte 4"},
        {"/forward", NULL, "{\"x\": [1], \"negative_slope\": 0.2}", NULL, NULL, 422,
         "(PyTorch's negative_slope is \\\"slope\\\" here)"},
        {"/forward", NULL, "[1]", "negative_slope", "0.2", 422,
         "(PyTorch's negative_slope is \\\"slope\\\" here)"},
        {"/forward", NULL, "[1]", "slope", "0.1", 422, "one list: slope=0.1,0.2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_head head;
        api_response resp;
        lr_err why;
        ASSERT_EQ(api_begin("POST", cases[i].path, cases[i].content_type, &head, &resp), 1);
        api_response_free(&resp);
        api_body *b = api_body_new(&head, NULL, NULL, strlen(cases[i].body), &why);
        ASSERT(b != NULL);
        if (!b)
            continue;
        ASSERT_EQ(api_body_feed(b, cases[i].body, strlen(cases[i].body)), LR_ERR_OK);
        /* the slope twice: the same parameter two times */
        api_param p[2] = {{cases[i].key, cases[i].key ? strlen(cases[i].key) : 0, cases[i].value,
                           cases[i].value ? strlen(cases[i].value) : 0}, {"slope", 5, "0.2", 3}};
        size_t nparams = !cases[i].key ? 0 : strcmp(cases[i].key, "slope") == 0 ? 2 : 1;
        api_request req = {.route = head.route, .params = p, .nparams = nparams, .body = b};
        api_handle(&req, &resp);
        ASSERT_EQ(resp.status, cases[i].status);
        if (!resp.body || !strstr(resp.body, cases[i].says))
            tap_fail(__FILE__, __LINE__, "case %zu: %s does not say %s", i,
                     resp.body ? resp.body : "(no body)", cases[i].says);
        api_response_free(&resp);
    }
}
