/* Tests of the API handlers (src/api.c) without sockets: error replies,
 * routes, computations and the PyTorch cases. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
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
        free(resp.body);
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
        free(resp.body);
    }
    api_route route;
    api_response resp;
    ASSERT_EQ(api_begin("GET", "/\xff\xfe", NULL, &route, &resp), 0);
    ASSERT_EQ(resp.status, 404);
    ASSERT(resp.body && strstr(resp.body, "\\\\xFF"));
    free(resp.body);
    ASSERT_EQ(api_begin("POST", "/forward", "text/\xff", &route, &resp), 0);
    ASSERT_EQ(resp.status, 415);
    ASSERT_STR_EQ(resp.body, "{\"error\": \"Content-Type must be application/json, "
                             "application/x-www-form-urlencoded, text/plain or none, not text/\\\\xFF\", "
                             "\"code\": \"unsupported_media_type\"}");
    free(resp.body);
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
        {"GET", "/forward", NULL, 0, 405, "POST"},
        {"PUT", "/gradient", NULL, 0, 405, "POST"},
        {"POST", "/healthz", NULL, 0, 405, "GET, HEAD"},
        {"GET", "/healthz", NULL, 1, 0, NULL},
        {"HEAD", "/readyz", NULL, 1, 0, NULL},
        {"GET", "/nope", NULL, 0, 404, NULL},
        {"GET", "/forward/", NULL, 0, 404, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_route route;
        api_response resp;
        int ok = api_begin(cases[i].method, cases[i].path, cases[i].ct, &route, &resp);
        ASSERT_EQ(ok, cases[i].ok);
        if (!ok) {
            ASSERT_EQ(resp.status, cases[i].status);
            ASSERT(resp.body && strstr(resp.body, "\"code\""));
            if (cases[i].allow)
                ASSERT_STR_EQ(resp.allow, cases[i].allow);
            free(resp.body);
        }
    }
    api_request req = {.route = API_READYZ, .draining = 1};
    api_response resp;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 503);
    free(resp.body);
    req.draining = 0;
    api_handle(&req, &resp);
    ASSERT_EQ(resp.status, 200);
    ASSERT_STR_EQ(resp.body, "{\"status\": \"ok\"}");
    free(resp.body);
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
    free(resp.body);
}
