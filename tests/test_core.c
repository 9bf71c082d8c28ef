/* Unit tests of the kernel, the error table, request decoding, the API
 * handlers and configuration, all without sockets. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <jansson.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/api.h"
#include "../src/config.h"
#include "../src/errors.h"
#include "../src/lrelu.h"
#include "../src/numfmt.h"
#include "../src/pool.h"
#include "../src/request.h"
#include "../src/stream.h"
#include "../src/tensor.h"
#include "../src/utf8.h"
#include "tap.h"
#include "tests.h"

/* A body for the API, fed in one piece. */
static api_body *test_body(api_route route, const char *text, size_t len, pool *workers)
{
    api_body *b = api_body_new(route, workers);
    ASSERT(b != NULL);
    if (b)
        ASSERT_EQ(api_body_feed(b, text, len), 0);
    return b;
}

void test_errors_table(void)
{
    for (int i = 1; i < LR_ERR__COUNT; i++) {
        int st = lr_err_status((lr_err)i);
        ASSERT(st >= 400 && st <= 599);
        ASSERT(strlen(lr_err_message((lr_err)i)) > 0);
        for (int j = 1; j < i; j++)
            if (strcmp(lr_err_code((lr_err)i), lr_err_code((lr_err)j)) == 0)
                tap_fail(__FILE__, __LINE__, "code %s used twice", lr_err_code((lr_err)i));
    }
    ASSERT_EQ(lr_err_status(LR_ERR_OK), 200);
}

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

/* Client bytes quoted in messages always come out as valid UTF-8 JSON
 * (found by the fuzzer: an invalid escape of byte 0x8B). */
void test_errors_quote_bytes(void)
{
    char out[64];
    utf8_sanitize("ok \xc3\xa9 \xff\x01 \xe2\x82", out, sizeof out);
    ASSERT_STR_EQ(out, "ok \xc3\xa9 \\xFF\\x01 \\xE2\\x82");
    utf8_sanitize("\xc3\xa9\xc3\xa9", out, 4); /* cut on a character boundary */
    ASSERT_STR_EQ(out, "\xc3\xa9");
    static const char *const bodies[] = {"{\"x\": [1], \"a\\\x8b\": 1}", "[1, \"\\\xff\"]"};
    for (int i = 0; i < 2; i++) {
        int status;
        api_request req = {.route = API_FORWARD,
                           .body = test_body(API_FORWARD, bodies[i], strlen(bodies[i]), NULL)};
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
    ASSERT(resp.body != NULL);
    free(resp.body);
}

void test_kernel_scalar(void)
{
    static const double slopes[] = {0.01, 0.0, 1.0, 2.5, -0.5, -0.0};
    static const double xs[] = {3.0, -3.0, 0.0, -0.0, 1e-310, -1e-310, 1e308, -1e308,
                                0.5, -0.25};
    size_t n = sizeof xs / sizeof xs[0];
    for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
        double a = slopes[s], y[16], g[16], dx[16], dy[16];
        for (size_t i = 0; i < n; i++)
            dy[i] = (double)i - 4.5;
        lrelu_forward_f64(xs, y, n, a);
        lrelu_gradient_f64(xs, g, n, a);
        lrelu_backward_f64(xs, dy, dx, n, a);
        for (size_t i = 0; i < n; i++) {
            double x = xs[i];
            ASSERT_BITS_EQ(y[i], x > 0 ? x : a * x);
            ASSERT_BITS_EQ(g[i], x > 0 ? 1.0 : a);
            ASSERT_BITS_EQ(dx[i], dy[i] * (x > 0 ? 1.0 : a));
        }
    }
    /* The documented special values. */
    double x[3] = {-0.0, 0.0, -2.0}, y[3];
    lrelu_forward_f64(x, y, 3, 0.01);
    ASSERT_BITS_EQ(y[0], -0.0);
    ASSERT_BITS_EQ(y[1], 0.0);
    ASSERT_BITS_EQ(y[2], -0.02);
    lrelu_forward_f64(x, y, 3, 0.0);
    ASSERT_BITS_EQ(y[2], -0.0);
    lrelu_forward_f64(x, y, 3, 2.0); /* slope > 1: not max(a*x, x) */
    ASSERT_BITS_EQ(y[2], -4.0);
    lrelu_gradient_f64(x, y, 3, 0.2);
    ASSERT_BITS_EQ(y[0], 0.2);
    ASSERT_BITS_EQ(y[1], 0.2);
    /* In place. */
    lrelu_forward_f64(x, x, 3, 0.5);
    ASSERT_BITS_EQ(x[2], -1.0);
    ASSERT_EQ(lrelu_find_nonfinite_f64(x, 3), 3);
    double inf[2] = {1.0, INFINITY};
    ASSERT_EQ(lrelu_find_nonfinite_f64(inf, 2), 1);
    ASSERT_EQ(lrelu_find_nonfinite_f64(inf, 0), 0);
    /* every position in and around the blocks of 8, and the values at the
     * edge: the largest finite, NaN, -inf, a negative NaN */
    static double a[40];
    const double specials[] = {INFINITY, -INFINITY, NAN, -NAN};
    for (size_t len = 0; len <= 40; len++) {
        for (size_t k = 0; k < 40; k++)
            a[k] = k % 2 ? -DBL_MAX : DBL_MAX;
        ASSERT_EQ(lrelu_find_nonfinite_f64(a, len), len);
        for (size_t at = 0; at < len; at++) {
            a[at] = specials[(at + len) % 4];
            if (at + 1 < len)
                a[at + 1] = specials[(at + len + 1) % 4]; /* the first one counts */
            ASSERT_EQ(lrelu_find_nonfinite_f64(a, len), at);
            a[at] = DBL_MAX;
            if (at + 1 < len)
                a[at + 1] = DBL_MAX;
        }
    }
}

/* Decoding cases: body, kind, expected error, offset (-1: none), path. */
static const struct {
    const char *body;
    request_kind kind;
    lr_err code;
    long offset;
    const char *path;
} decode_cases[] = {
    {"", REQUEST_FORWARD, LR_ERR_EMPTY_BODY, -1, ""},
    {"  \n", REQUEST_FORWARD, LR_ERR_EMPTY_BODY, -1, ""},
    {"[1, 2", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 5, ""},
    {"[1,]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"[1 2]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"[NaN]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[-Infinity]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[Infinity]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[01]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 2, ""},
    {"[.5]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[1.]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 3, ""},
    {"[+1]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[0x10]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 2, ""},
    {"[1e]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 3, ""},
    {"[1] x", REQUEST_FORWARD, LR_ERR_JSON_TRAILING, 4, ""},
    {"{\"x\": [1]}}", REQUEST_FORWARD, LR_ERR_JSON_TRAILING, 10, ""},
    {"{\"x\": \"\xff\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\": \"\xc0\xaf\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\": \"\xed\xa0\x80\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\\ud800\": 1}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"{\"x\\q\": 1}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"{\"x\": [1], \"a\": \"\x01\"}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 17, ""},
    {"{\"x\": [1], \"a\": [1, tru]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 20, ""},
    {"{\"x\" [1]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 5, ""},
    {"{x: [1]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 1, ""},
    /* A syntax error after a request error still wins (400 over 422). */
    {"{\"x\": [\"a\"], \"slope\": 1,}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 24, ""},
    {"\"text\"", REQUEST_FORWARD, LR_ERR_BODY_TYPE, -1, ""},
    {"null", REQUEST_FORWARD, LR_ERR_BODY_TYPE, -1, ""},
    {"{}", REQUEST_FORWARD, LR_ERR_MISSING_X, -1, ""},
    {"{\"slope\": 0.1}", REQUEST_FORWARD, LR_ERR_MISSING_X, -1, ""},
    {"[1, \"2\"]", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x[1]"},
    {"[[1, 2], [3, null]]", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x[1][1]"},
    {"{\"x\": true}", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x"},
    {"[[1, 2], [3]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1, 2], [3, 4, 5]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1, 2], 3]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[1, [2]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[], [1]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1], []]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[[]], []]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[1, 1e400]", REQUEST_FORWARD, LR_ERR_NUMBER_RANGE, -1, "x[1]"},
    {"[[-1e999]]", REQUEST_FORWARD, LR_ERR_NUMBER_RANGE, -1, "x[0][0]"},
    {"{\"x\": [1], \"slope\": \"0.1\"}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, ""},
    {"{\"x\": [1], \"slope\": 1e400}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, ""},
    {"{\"x\": [1], \"slope\": null}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, ""},
    {"{\"x\": [1], \"y\": 2}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"grad_output\": [2]}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [\"a\"], \"z\": 2}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"x\": [2]}", REQUEST_FORWARD, LR_ERR_DUPLICATE_MEMBER, -1, ""},
    {"{\"x\": [1, 2], \"grad_output\": [1]}", REQUEST_GRADIENT, LR_ERR_SHAPE_MISMATCH, -1, ""},
    {"{\"x\": [[1, 2]], \"grad_output\": [1, 2]}", REQUEST_GRADIENT, LR_ERR_SHAPE_MISMATCH, -1, ""},
    {"{\"x\": [1], \"grad_output\": [\"a\"]}", REQUEST_GRADIENT, LR_ERR_NOT_A_NUMBER, -1,
     "grad_output[0]"},
    /* Valid requests. */
    {"[]", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {"{\"x\": [[1, 2], [3, 4]], \"slope\": 2}", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {"{\"\\u0078\": 1}", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {" {\"x\":[[],[]],\"a\\u00e9\\ud83d\\ude00\":0}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"grad_output\": [2]}", REQUEST_GRADIENT, LR_ERR_OK, -1, ""},
};

void test_request_decode(void)
{
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        request req;
        lr_error err;
        request_init(&req);
        const char *b = decode_cases[i].body;
        lr_err rc = request_parse(b, strlen(b), decode_cases[i].kind, &req, &err);
        long off = err.offset == LR_NO_OFFSET ? -1 : (long)err.offset;
        if (rc != decode_cases[i].code || err.code != rc || off != decode_cases[i].offset ||
            strcmp(err.path, decode_cases[i].path) != 0)
            tap_fail(__FILE__, __LINE__,
                     "case %zu %s: want %s at %ld \"%s\", got %s at %ld \"%s\" (%s)", i, b,
                     lr_err_code(decode_cases[i].code), decode_cases[i].offset,
                     decode_cases[i].path, lr_err_code(rc), off, err.path, err.detail);
        request_free(&req);
    }
}

void test_request_shapes(void)
{
    request req;
    lr_error err;
    const char *b = "{\"x\": [[[1, -2, 3], [4, 5, 6]]], \"slope\": -0.5}";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 3);
    ASSERT_EQ(req.x.shape[0], 1);
    ASSERT_EQ(req.x.shape[1], 2);
    ASSERT_EQ(req.x.shape[2], 3);
    ASSERT_EQ(req.x.count, 6);
    ASSERT(req.has_slope && req.slope == -0.5 && req.is_object);
    ASSERT_BITS_EQ(req.x.data[1], -2.0);
    request_free(&req);

    b = "[[], [], []]";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 2);
    ASSERT_EQ(req.x.shape[0], 3);
    ASSERT_EQ(req.x.shape[1], 0);
    ASSERT_EQ(req.x.count, 0);
    request_free(&req);

    b = "-0";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 0);
    ASSERT_EQ(req.x.count, 1);
    ASSERT_BITS_EQ(req.x.data[0], -0.0);
    ASSERT(!req.is_object);
    request_free(&req);

    /* 32 levels are fine, 33 are too deep; 100 levels stop the scan. */
    static const int depths[] = {32, 33, 100};
    char deep[512];
    for (size_t d = 0; d < 3; d++) {
        int n = 0, depth = depths[d];
        for (int i = 0; i < depth; i++)
            deep[n++] = '[';
        deep[n++] = '1';
        for (int i = 0; i < depth; i++)
            deep[n++] = ']';
        request_init(&req);
        lr_err rc = request_parse(deep, (size_t)n, REQUEST_FORWARD, &req, &err);
        ASSERT_EQ(rc, depth == 32 ? LR_ERR_OK : LR_ERR_TOO_DEEP);
        if (depth == 32)
            ASSERT_EQ(req.x.ndim, 32);
        request_free(&req);
    }
}

/* Builds prefix + depth '[' + middle + depth ']' (or fewer: `close`) +
 * suffix into a malloc'd string. */
static char *nest(const char *prefix, int depth, const char *middle, int close,
                  const char *suffix)
{
    size_t n = strlen(prefix) + strlen(middle) + strlen(suffix) + 2 * (size_t)depth + 1;
    char *b = malloc(n), *p = b;
    if (!b)
        return NULL;
    p += sprintf(p, "%s", prefix);
    memset(p, '[', (size_t)depth);
    p += depth;
    p += sprintf(p, "%s", middle);
    memset(p, ']', (size_t)close);
    p += close;
    sprintf(p, "%s", suffix);
    return b;
}

/* Deep nesting is a request error (422) that never hides a syntax error
 * (400) or an unknown member; found by review. */
void test_request_deep(void)
{
    static const struct {
        const char *prefix;
        int depth;
        const char *middle;
        int close;
        const char *suffix;
        lr_err code;
    } cases[] = {
        {"{\"x\": [1], \"a\": ", 70, "", 70, "} garbage", LR_ERR_JSON_TRAILING},
        {"{\"x\": [1], \"a\": ", 70, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"{\"x\": [1], \"a\": ", 70, "", 70, "}", LR_ERR_UNKNOWN_MEMBER},
        {"{\"x\": [1], \"a\": ", 300, "{\"k\": [true]}", 300, "}", LR_ERR_UNKNOWN_MEMBER},
        {"{\"x\": [1], \"a\": ", 300, "{\"k\" [true]}", 300, "}", LR_ERR_JSON_SYNTAX},
        {"", 70, "1", 69, "", LR_ERR_JSON_SYNTAX},
        {"", 70, "1", 70, "", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 40, "1", 40, "}", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 300, "1", 300, "}", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 300, "1", 300, "", LR_ERR_JSON_SYNTAX},
        /* Where no value can start, N, I, '.' and '+' are plain syntax errors. */
        {"{Nope}", 0, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"", 1, "1 .5", 1, "", LR_ERR_JSON_SYNTAX},
        {"{\"x\": [1] N}", 0, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"", 1, "1, .5", 1, "", LR_ERR_JSON_NUMBER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = nest(cases[i].prefix, cases[i].depth, cases[i].middle, cases[i].close,
                       cases[i].suffix);
        request req;
        lr_error err;
        request_init(&req);
        lr_err rc = b ? request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err) : LR_ERR_NO_MEMORY;
        if (rc != cases[i].code)
            tap_fail(__FILE__, __LINE__, "case %zu: want %s, got %s (%s)", i,
                     lr_err_code(cases[i].code), lr_err_code(rc), err.detail);
        request_free(&req);
        free(b);
    }
}

/* Runs one request through the API and returns the response body. */
static char *call(api_route route, const char *body, const char *slope, int *status)
{
    api_param p = {"slope", 5, slope, slope ? strlen(slope) : 0};
    api_request req = {.route = route, .params = &p, .nparams = slope ? 1 : 0,
                       .body = test_body(route, body, strlen(body), NULL)};
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
        {"POST", "/forward", "text/plain", 0, 415, NULL},
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

/* Extracts the raw text of member `key` from a line written by Python's
 * json module: values there never contain ', "'. */
static int torch_field(const char *line, const char *key, char *out, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *s = strstr(line, pat);
    if (!s)
        return -1;
    s += strlen(pat);
    const char *e = strstr(s, ", \"");
    if (!e)
        e = strrchr(s, '}');
    if (!e || (size_t)(e - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return 0;
}

/* For each PyTorch case, the request and the exact reply text expected for
 * forward, gradient and backward. Shared with the integration tests. */
int torch_case(const char *line, int which, char *req, char *want, size_t len)
{
    static char x[1 << 16], slope[64], val[1 << 16], go[1 << 16];
    static const char *const keys[] = {"y", "grad", "grad_input"};
    if (torch_field(line, "x", x, sizeof x) || torch_field(line, "slope", slope, sizeof slope) ||
        torch_field(line, keys[which], val, sizeof val) ||
        torch_field(line, "grad_output", go, sizeof go))
        return -1;
    if (which == 2)
        snprintf(req, len, "{\"x\": %s, \"slope\": %s, \"grad_output\": %s}", x, slope, go);
    else
        snprintf(req, len, "{\"x\": %s, \"slope\": %s}", x, slope);
    snprintf(want, len, "{\"%s\": %s}", which == 0 ? "y" : "grad", val);
    return 0;
}

void test_api_torch_cases(void)
{
    char path[512];
    FILE *f = fopen(tap_data_path("torch_cases.jsonl", path, sizeof path), "r");
    ASSERT(f != NULL);
    if (!f)
        return;
    static char line[1 << 18], req[1 << 18], want[1 << 18];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        for (int which = 0; which < 3; which++) {
            if (torch_case(line, which, req, want, sizeof req) != 0) {
                tap_fail(__FILE__, __LINE__, "case %d: cannot read the line", cases);
                continue;
            }
            int status;
            char *got = call(which == 0 ? API_FORWARD : API_GRADIENT, req, NULL, &status);
            if (status != 200 || !got || strcmp(got, want) != 0)
                tap_fail(__FILE__, __LINE__, "case %d/%d: status %d\n#   want %.200s\n#   got  %.200s",
                         cases, which, status, want, got ? got : "(null)");
            free(got);
        }
        cases++;
    }
    fclose(f);
    ASSERT_EQ(cases, 200);
}

void test_config(void)
{
    config cfg;
    FILE *devnull = fopen("/dev/null", "w");
    ASSERT(devnull != NULL);
    if (!devnull)
        return;
    char *ok[] = {"x", "--port", "0", "--bind=::1", "--threads", "3", "--max-body", "2M",
                  "--timeout", "5", "--grace=1", NULL};
    ASSERT_EQ(config_load(&cfg, 11, ok, devnull, devnull), -1);
    ASSERT_EQ(cfg.port, 0);
    ASSERT_STR_EQ(cfg.bind, "::1");
    ASSERT_EQ(cfg.threads, 3);
    ASSERT_EQ(cfg.max_body, 2 << 20);
    ASSERT_EQ(cfg.timeout_s, 5);
    ASSERT_EQ(cfg.grace_s, 1);
    char *bad[][3] = {{"x", "--port", "65536"}, {"x", "--bind", "localhost:1"},
                      {"x", "--threads", "0"},  {"x", "--max-body", "12Q"},
                      {"x", "--nope", "1"},     {"x", "--timeout", "-1"},
                      {"x", "--port", ""}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(config_load(&cfg, 3, bad[i], devnull, devnull), 2);
    char *help[] = {"x", "--help", NULL};
    ASSERT_EQ(config_load(&cfg, 2, help, devnull, devnull), 0);
    fclose(devnull);

    size_t n;
    ASSERT_EQ(config_parse_size("1024", &n), 0);
    ASSERT_EQ(n, 1024);
    ASSERT_EQ(config_parse_size("64M", &n), 0);
    ASSERT_EQ(n, 64 << 20);
    ASSERT_EQ(config_parse_size("1GiB", &n), 0);
    ASSERT_EQ(n, 1 << 30);
    ASSERT_EQ(config_parse_size("8k", &n), 0);
    ASSERT_EQ(n, 8192);
    ASSERT_EQ(config_parse_size("0", &n), -1);
    ASSERT_EQ(config_parse_size("-5", &n), -1);
    ASSERT_EQ(config_parse_size("5T", &n), -1);
    ASSERT_EQ(config_parse_size("99999999999999999999", &n), -1);
}

/* Every SIMD variant this CPU runs equals the scalar kernel bit for bit at
 * every tile edge, in place and out of place, for several slopes, with the
 * array's end against an unreadable page (a read past the end faults). */
void test_kernel_variants(void)
{
    static const double slopes[] = {0.01, 0.0, -0.0, 1.0, 2.5, -0.5, 1e-300, 1e300};
    static const size_t sizes[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,  15, 16,
                                   17, 31, 32, 33, 63, 64, 65, 100, 1000, 1003};
    enum { MAXN = 1003 };
    long page = sysconf(_SC_PAGESIZE);
    size_t bytes = ((MAXN * sizeof(double) * 3 + (size_t)page - 1) / (size_t)page + 1) *
                   (size_t)page;
    char *region = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(region != MAP_FAILED);
    if (region == MAP_FAILED)
        return;
    char *guard = region + bytes - (size_t)page;
    ASSERT_EQ(mprotect(guard, (size_t)page, PROT_NONE), 0);
    size_t nv;
    const lrelu__variant *v = lrelu__variants(&nv);
    const char *best = "scalar";
    double x[MAXN], dy[MAXN], want[MAXN];
    uint64_t state = 7;
    for (size_t i = 0; i < MAXN; i++) {
        static const double special[] = {0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 1.0, -1.0};
        state = state * 6364136223846793005u + 1442695040888963407u; /* Knuth's LCG */
        double r = (double)(int64_t)state / 9.2e18 * 1000.0;
        x[i] = i % 5 == 0 ? special[(state >> 33) % 8] : r;
        dy[i] = (double)(int64_t)(state * 3) / 9.2e18;
    }
    for (size_t k = 0; k < nv; k++) {
        if (!v[k].supported())
            continue;
        best = v[k].name;
        v[k].forward(NULL, NULL, 0, 0.5); /* n == 0: the pointers may be NULL */
        v[k].gradient(NULL, NULL, 0, 0.5);
        v[k].backward(NULL, NULL, NULL, 0, 0.5);
        for (size_t s = 0; s < sizeof slopes / sizeof slopes[0]; s++) {
            for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
                size_t n = sizes[z];
                /* Inputs and output end at the guard page. */
                double *out = (double *)(void *)(guard - n * sizeof(double));
                double *xin = out - n, *din = xin - n;
                for (int op = 0; op < 3; op++) {
                    memcpy(xin, x, n * sizeof(double));
                    memcpy(din, dy, n * sizeof(double));
                    if (op == 0) {
                        lrelu_forward_f64__scalar(x, want, n, slopes[s]);
                        v[k].forward(xin, out, n, slopes[s]);
                    } else if (op == 1) {
                        lrelu_gradient_f64__scalar(x, want, n, slopes[s]);
                        v[k].gradient(xin, out, n, slopes[s]);
                    } else {
                        lrelu_backward_f64__scalar(x, dy, want, n, slopes[s]);
                        v[k].backward(xin, din, out, n, slopes[s]);
                    }
                    if (n && memcmp(out, want, n * sizeof(double)) != 0)
                        tap_fail(__FILE__, __LINE__, "%s op %d slope %g n %zu differs",
                                 v[k].name, op, slopes[s], n);
                    /* In place: the output overwrites x (or dy). */
                    memcpy(out, x, n * sizeof(double));
                    memcpy(din, dy, n * sizeof(double));
                    if (op == 0)
                        v[k].forward(out, out, n, slopes[s]);
                    else if (op == 1)
                        v[k].gradient(out, out, n, slopes[s]);
                    else
                        v[k].backward(out, din, out, n, slopes[s]);
                    if (n && memcmp(out, want, n * sizeof(double)) != 0)
                        tap_fail(__FILE__, __LINE__, "%s op %d slope %g n %zu in place differs",
                                 v[k].name, op, slopes[s], n);
                }
            }
        }
        printf("#   variant %s checked\n", v[k].name);
    }
    ASSERT_STR_EQ(lrelu_variant(), best);
    munmap(region, bytes);
}

/* The writer copies the text of a value seen among the last two distinct
 * ones instead of formatting it again: the reply must be exactly what
 * formatting every element gives, for runs, alternations, long texts and
 * values that differ only in sign. */
void test_tensor_write_repeats(void)
{
    static const double values[] = {1.0, 0.01, -0.0, 0.0, -1.2345678901234567e-300,
                                  123456.789, 1e22, -2.5, 5e-324};
    enum { ROWS = 7, COLS = 300 };
    tensor t;
    tensor_init(&t);
    ASSERT_EQ(tensor_reserve(&t, ROWS * COLS), 0);
    uint64_t state = 12345;
    for (size_t i = 0; i < ROWS * COLS; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        /* long runs, then two alternating values, then anything */
        size_t pick = i < 200 ? 4 : i < 900 ? (state >> 60) % 2 : (state >> 59) % 9;
        t.data[i] = values[pick];
    }
    t.count = ROWS * COLS;
    t.ndim = 2;
    t.shape[0] = ROWS;
    t.shape[1] = COLS;
    size_t bound = tensor_json_bound(&t);
    char *got = malloc(bound), *want = malloc(bound);
    ASSERT(got && want);
    char *end = tensor_write_json(&t, got);
    char *w = want;
    for (size_t r = 0; r < ROWS; r++) {
        *w++ = r ? ',' : '[';
        if (r)
            *w++ = ' ';
        *w++ = '[';
        for (size_t c = 0; c < COLS; c++) {
            if (c) {
                memcpy(w, ", ", 2);
                w += 2;
            }
            char buf[NUMFMT_F64_BUF];
            char *e = numfmt_f64(t.data[r * COLS + c], buf);
            memcpy(w, buf, (size_t)(e - buf));
            w += e - buf;
        }
        *w++ = ']';
    }
    *w++ = ']';
    ASSERT_EQ((size_t)(end - got), (size_t)(w - want));
    ASSERT(memcmp(got, want, (size_t)(w - want)) == 0);
    free(got);
    free(want);
    tensor_free(&t);
}

/* Writes elements [begin, end) of t in pieces of at most cap bytes,
 * appending to *w; checks every piece's size. */
static void write_range_in_pieces(const tensor *t, size_t begin, size_t end, size_t cap,
                                  char **w)
{
    tensor_cursor c;
    tensor_cursor_init(&c, t, begin, end);
    char *piece = malloc(cap);
    ASSERT(piece != NULL);
    size_t n;
    while ((n = tensor_write_piece(&c, piece, cap)) > 0) {
        ASSERT(n <= cap);
        memcpy(*w, piece, n);
        *w += n;
    }
    free(piece);
}

/* Pieces of every size, of whole tensors and of ranges written apart,
 * join into exactly tensor_write_json's text, for all kinds of shapes. */
void test_tensor_write_pieces(void)
{
    static const double values[] = {1.0, 0.01, -0.0, -1.2345678901234567e-300, 123456.789,
                                  1e22, -2.5, 5e-324, 0.1};
    static const size_t shapes[][5] = { /* ndim, then the shape */
        {1, 1}, {1, 5}, {1, 1000}, {2, 3, 4}, {3, 2, 1, 3}, {4, 1, 1, 1, 1}, {2, 7, 300},
        {3, 1000, 1, 2}, {4, 2, 1, 3, 1},
    };
    static const size_t caps[] = {TENSOR_PIECE_MIN, TENSOR_PIECE_MIN + 1, 300, 1000, 65536};
    uint64_t state = 99;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        tensor t;
        tensor_init(&t);
        t.ndim = (int)shapes[si][0];
        size_t count = 1;
        for (int k = 0; k < t.ndim; k++)
            count *= (t.shape[k] = shapes[si][k + 1]);
        ASSERT_EQ(tensor_reserve(&t, count), 0);
        for (size_t i = 0; i < count; i++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            t.data[i] = values[(state >> 33) % (sizeof values / sizeof values[0])];
        }
        t.count = count;
        size_t bound = tensor_json_bound(&t);
        char *want = malloc(bound), *got = malloc(bound + TENSOR_PIECE_MIN);
        ASSERT(want && got);
        size_t want_len = (size_t)(tensor_write_json(&t, want) - want);
        for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
            char *w = got;
            write_range_in_pieces(&t, 0, count, caps[ci], &w);
            if ((size_t)(w - got) != want_len || memcmp(got, want, want_len) != 0)
                tap_fail(__FILE__, __LINE__, "shape %zu, cap %zu: pieces differ", si, caps[ci]);
            /* the same in three ranges, as worker threads write them */
            size_t a = count / 3, b = count - count / 4;
            w = got;
            write_range_in_pieces(&t, 0, a, caps[ci], &w);
            write_range_in_pieces(&t, a, b, caps[ci], &w);
            write_range_in_pieces(&t, b, count, caps[ci], &w);
            if ((size_t)(w - got) != want_len || memcmp(got, want, want_len) != 0)
                tap_fail(__FILE__, __LINE__, "shape %zu, cap %zu: ranges differ", si, caps[ci]);
        }
        free(want);
        free(got);
        tensor_free(&t);
    }
}

/* A body of n random doubles (as "%.17g", so they parse back exactly) in
 * the given shape, bare or as {"x": ...}; *want gets the /forward reply
 * for slope 0.01, from the kernel's definition and tensor_write_json. */
char *test_big_body(const size_t *shape, int ndim, int object, char **want)
{
    tensor y;
    tensor_init(&y);
    y.ndim = ndim;
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= (y.shape[k] = shape[k]);
    ASSERT_EQ(tensor_reserve(&y, n), 0);
    y.count = n;
    char *body = malloc(n * 32 + 64), *p = body;
    ASSERT(body != NULL);
    uint64_t state = n;
    p += sprintf(p, "%s", object ? "{\"x\": " : "");
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        double x = ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 1000;
        size_t rest = i, opens = 0;
        for (int k = ndim - 1; k >= 0 && rest % shape[k] == 0; k--, opens++)
            rest /= shape[k];
        if (i) {
            memset(p, ']', opens);
            p += opens;
            p += sprintf(p, ", ");
        } else {
            opens = (size_t)ndim;
        }
        memset(p, '[', opens);
        p += opens;
        p += sprintf(p, "%.17g", x);
        y.data[i] = x > 0 ? x : 0.01 * x;
    }
    memset(p, ']', (size_t)ndim);
    p += ndim;
    p += sprintf(p, "%s", object ? "}" : "");
    *want = malloc(tensor_json_bound(&y) + 16);
    ASSERT(*want != NULL);
    char *w = *want;
    w += sprintf(w, "%s", object ? "{\"y\": " : "");
    w = tensor_write_json(&y, w);
    sprintf(w, "%s", object ? "}" : "");
    tensor_free(&y);
    return body;
}

/* Large replies come as a stream: read with sizes from 1 byte up, its
 * text is exactly the reply, head and tail included. */
void test_api_stream(void)
{
    static const size_t shapes[][3] = {{API_STREAM_MIN, 1, 1}, {120, 50, 1}, {10, 41, 13}};
    static const int ndims[] = {1, 2, 3};
    static const size_t reads[] = {1, 7, 300, 65536, 259, 260, 4096, 2};
    pool *workers = pool_new(2);
    ASSERT(workers != NULL);
    for (int run = 0; run < 6; run++) {
        int si = run % 3, object = run / 3;
        /* alone, then on workers; the slot ring turns many times */
        for (int use = 0; use < 2; use++) {
            char *want, *body = test_big_body(shapes[si], ndims[si], object, &want);
            api_request req = {.route = API_FORWARD,
                               .body = test_body(API_FORWARD, body, strlen(body), use ? workers : NULL),
                               .workers = use ? workers : NULL};
            api_response resp;
            api_handle(&req, &resp);
            ASSERT_EQ(resp.status, 200);
            if (resp.body != NULL || resp.stream == NULL) {
                tap_fail(__FILE__, __LINE__, "shape %d: the reply is not streamed", si);
                free(resp.body);
                free(want);
                free(body);
                continue;
            }
            size_t want_len = strlen(want), got_len = 0;
            char *got = malloc(want_len + 65536);
            ASSERT(got != NULL);
            for (size_t r = 0;; r++) {
                size_t max = reads[r % (sizeof reads / sizeof reads[0])];
                if (got_len + max > want_len + 65536) {
                    tap_fail(__FILE__, __LINE__, "the stream runs past the reply's length");
                    break;
                }
                ptrdiff_t n = stream_read(resp.stream, got + got_len, max);
                if (n < 0 || (size_t)n > max) {
                    tap_fail(__FILE__, __LINE__, "read %td bytes of at most %zu", n, max);
                    break;
                }
                if (n == 0)
                    break;
                got_len += (size_t)n;
            }
            ASSERT_EQ(got_len, want_len);
            ASSERT(memcmp(got, want, want_len) == 0);
            stream_free(resp.stream);
            free(got);
            free(want);
            free(body);
        }
    }
    /* Freed half read, with ranges still queued or being formatted. */
    size_t many[] = {200000};
    char *want, *body = test_big_body(many, 1, 1, &want);
    for (int k = 0; k < 3; k++) {
        api_request req = {.route = API_FORWARD,
                           .body = test_body(API_FORWARD, body, strlen(body), workers),
                           .workers = workers};
        api_response resp;
        api_handle(&req, &resp);
        ASSERT(resp.stream != NULL);
        char buf[1000];
        for (int r = 0; r < k * 300 && resp.stream; r++)
            ASSERT(stream_read(resp.stream, buf, sizeof buf) > 0);
        stream_free(resp.stream);
    }
    free(want);
    free(body);

    /* Arrays large enough for the kernel to run in parts on the workers:
     * forward against its definition; gradient and backward against the
     * same request run alone. Sizes of 256Ki-element parts plus a few,
     * split in parts that are whole multiples of 8 but for the rest. */
    static const size_t large_sizes[] = {3 * 256 * 1024 + 5, 2 * 256 * 1024 + 1};
    for (int ls = 0; ls < 2; ls++) {
        size_t large[] = {large_sizes[ls]};
        body = test_big_body(large, 1, 1, &want);
        const char *array = strchr(body, '[');
        size_t array_len = strlen(array) - 1; /* without the object's '}' */
        char *backward = malloc(2 * array_len + 64);
        ASSERT(backward != NULL);
        sprintf(backward, "{\"x\": %.*s, \"grad_output\": %.*s}", (int)array_len, array,
                (int)array_len, array);
        const struct {
            api_route route;
            const char *text;
        } big[] = {{API_FORWARD, body}, {API_GRADIENT, body}, {API_GRADIENT, backward}};
        for (int b = 0; b < 3; b++) {
            char *text[2] = {NULL, NULL};
            size_t len[2] = {0, 0};
            for (int use = 0; use < 2; use++) {
                api_request req = {.route = big[b].route,
                                   .body = test_body(big[b].route, big[b].text, strlen(big[b].text), use ? workers : NULL),
                                   .workers = use ? workers : NULL};
                api_response resp;
                api_handle(&req, &resp);
                ASSERT(resp.status == 200 && resp.stream != NULL);
                text[use] = malloc(strlen(big[b].text) + 65536);
                ptrdiff_t n;
                while (resp.stream && text[use] &&
                       (n = stream_read(resp.stream, text[use] + len[use], 65536)) > 0)
                    len[use] += (size_t)n;
                stream_free(resp.stream);
            }
            ASSERT(text[0] && text[1] && len[0] == len[1] && memcmp(text[0], text[1], len[0]) == 0);
            if (b == 0)
                ASSERT(len[1] == strlen(want) && memcmp(text[1], want, len[1]) == 0);
            free(text[0]);
            free(text[1]);
        }
        free(backward);
        free(want);
        free(body);
    }
    /* A result that overflows in two parts: the first one is reported,
     * alone and on workers. */
    size_t big_n = 3 * 256 * 1024 + 5;
    body = malloc(big_n * 8 + 64);
    ASSERT(body != NULL);
    char *p = body + sprintf(body, "{\"slope\": 1e10, \"x\": [");
    for (size_t i = 0; i < big_n; i++)
        p += sprintf(p, "%s%s", i ? "," : "", i == 300001 || i == 600003 ? "-1e300" : "1");
    sprintf(p, "]}");
    for (int use = 0; use < 2; use++) {
        api_request req = {.route = API_FORWARD,
                           .body = test_body(API_FORWARD, body, strlen(body), use ? workers : NULL),
                           .workers = use ? workers : NULL};
        api_response resp;
        api_handle(&req, &resp);
        ASSERT_EQ(resp.status, 422);
        ASSERT(resp.stream == NULL && resp.body && strstr(resp.body, "\"x[300001]\"") != NULL);
        free(resp.body);
    }
    free(body);
    pool_free(workers);
    /* one element fewer than API_STREAM_MIN: a plain body */
    size_t shape = API_STREAM_MIN - 1;
    body = test_big_body(&shape, 1, 0, &want);
    api_request req = {.route = API_FORWARD, .body = test_body(API_FORWARD, body, strlen(body), NULL)};
    api_response resp;
    api_handle(&req, &resp);
    ASSERT(resp.stream == NULL && resp.body != NULL);
    ASSERT_STR_EQ(resp.body, want);
    free(resp.body);
    free(want);
    free(body);
}

typedef struct pool_probe {
    int hits[1000];
    pool_task tasks[100];
    int ran[100];
} pool_probe;

static void probe_part(void *arg, size_t i)
{
    ((pool_probe *)arg)->hits[i]++;
}

static void probe_task(void *arg)
{
    (*(int *)arg)++;
}

/* pool_run calls every part once, whatever the part count; submitted
 * tasks run once each by pool_free at the latest; a queued task taken
 * back with pool_cancel never runs. */
void test_pool(void)
{
    static pool_probe probe, probe_other;
    for (unsigned threads = 1; threads <= 3; threads++) {
        pool *p = pool_new(threads);
        ASSERT(p != NULL);
        if (!p)
            return;
        ASSERT_EQ(pool_threads(p), threads);
        static const size_t counts[] = {0, 1, 2, 3, 7, 1000};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            memset(probe.hits, 0, sizeof probe.hits);
            pool_run(p, counts[c], probe_part, &probe);
            for (size_t i = 0; i < 1000; i++)
                ASSERT_EQ(probe.hits[i], i < counts[c] ? 1 : 0);
            if (counts[c] == 0)
                continue;
            /* the same in two halves, with the workers busy elsewhere or not */
            memset(probe.hits, 0, sizeof probe.hits);
            pool_batch *b = pool_start(p, counts[c], probe_part, &probe);
            ASSERT(b != NULL);
            if (!b)
                continue;
            if (c % 2)
                pool_run(p, 2, probe_part, &probe_other);
            pool_join(b);
            for (size_t i = 0; i < 1000; i++)
                ASSERT_EQ(probe.hits[i], i < counts[c] ? 1 : 0);
        }
        memset(probe.ran, 0, sizeof probe.ran);
        int cancelled = 0;
        for (int i = 0; i < 100; i++) {
            probe.tasks[i] = (pool_task){.fn = probe_task, .arg = &probe.ran[i]};
            pool_submit(p, &probe.tasks[i]);
        }
        for (int i = 99; i >= 90; i--)
            cancelled += pool_cancel(p, &probe.tasks[i]) ? 1 : 0;
        pool_free(p); /* runs what is still queued */
        int ran = 0;
        for (int i = 0; i < 100; i++) {
            ASSERT(probe.ran[i] <= 1);
            ran += probe.ran[i];
        }
        ASSERT_EQ(ran + cancelled, 100);
    }
    pool_run(NULL, 5, probe_part, &probe); /* no pool: all on the caller */
}

/* body parsed alone and on workers: the outcomes must be equal (status,
 * error offset, path and message; x bit for bit). Returns the outcome,
 * with x's count and the numbers read in parts on the workers. */
static lr_err check_on_workers(const char *body, size_t len, pool *workers, size_t *count,
                               size_t *in_parts, const char *what)
{
    request a, b;
    lr_error ea, eb;
    request_init(&a);
    request_init(&b);
    lr_err ra = request_parse(body, len, REQUEST_FORWARD, &a, &ea);
    lr_err rb = request_parse_on(body, len, REQUEST_FORWARD, workers, &b, &eb);
    int same = ra == rb && ea.offset == eb.offset && strcmp(ea.path, eb.path) == 0 &&
               strcmp(ea.detail, eb.detail) == 0;
    if (same && ra == LR_ERR_OK)
        same = a.x.count == b.x.count && a.x.ndim == b.x.ndim &&
               memcmp(a.x.shape, b.x.shape, sizeof a.x.shape) == 0 &&
               memcmp(a.x.data, b.x.data, a.x.count * sizeof(double)) == 0;
    if (!same)
        tap_fail(__FILE__, __LINE__, "%s: alone %s at %zu \"%s\", on workers %s at %zu \"%s\"",
                 what, lr_err_code(ra), ea.offset, ea.detail, lr_err_code(rb), eb.offset,
                 eb.detail);
    *count = a.x.count;
    *in_parts = b.numbers_in_parts;
    request_free(&a);
    request_free(&b);
    return ra;
}

/* Long runs of numbers read in parts on workers give exactly what the
 * sequential reader gives: the same values, and for broken bodies the
 * same error (code, offset, path, message), wherever the flaw sits. */
void test_request_parallel_runs(void)
{
    enum { N = 70000 }; /* about 1.4 MB of text per run */
    pool *workers = pool_new(3);
    ASSERT(workers != NULL);
    char *body = malloc((size_t)N * 2 * 32 + 256);
    ASSERT(body != NULL);
    static const char *const flaws[] = {
        NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true", "1.5e+3\n", NULL,
    };
    for (int f = 0; f < (int)(sizeof flaws / sizeof flaws[0]); f++) {
        for (int rows = 1; rows <= 2; rows++) {
            uint64_t state = 7;
            char *p = body;
            p += sprintf(p, "{\"x\": %s", rows == 2 ? "[" : "");
            for (int r = 0; r < rows; r++) {
                *p++ = r ? ',' : '[';
                if (r)
                    p += sprintf(p, " [");
                int extra = f == 10 && r == 1; /* the second row longer: ragged */
                for (int i = 0; i < N + extra; i++) {
                    state = state * 6364136223846793005u + 1442695040888963407u;
                    const char *sep = i == 0 ? "" : (i % 1000 == 999 ? ",\n\t" : ", ");
                    if (flaws[f] && i == (f * 7919) % N && r == rows - 1)
                        p += sprintf(p, "%s%s", sep, flaws[f]);
                    else
                        p += sprintf(p, "%s%.17g", sep,
                                     ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 1e6);
                }
                *p++ = ']';
            }
            p += sprintf(p, "%s}", rows == 2 ? "]" : "");
            char what[64];
            snprintf(what, sizeof what, "flaw %d, %d rows", f, rows);
            size_t count, in_parts;
            lr_err ra =
                check_on_workers(body, (size_t)(p - body), workers, &count, &in_parts, what);
            int valid = f == 0 || f == 9 || (f == 10 && rows == 1); /* 9: a fine number */
            ASSERT_EQ(ra == LR_ERR_OK, valid);
            if (ra == LR_ERR_OK) {
                /* the parts were used, not fallen back from */
                ASSERT_EQ(in_parts, count);
                ASSERT(count == (size_t)N * (size_t)rows);
            }
        }
    }
    /* A flaw that follows a whole number ("7 x") as the last element of a
     * part: numbers of one width put the parts' cuts (the first comma
     * after each quarter of the bytes, with 3 workers) at known places. */
    for (int cut = 1; cut <= 3; cut++) {
        for (int d = -2; d <= 2; d++) {
            char *p = body;
            p += sprintf(p, "[");
            for (int i = 0; i < N; i++)
                p += sprintf(p, "%s%s", i ? ", " : "",
                             i == cut * N / 4 + d ? "7.0000000000000000 x" : "1.2345678901234567");
            p += sprintf(p, "]");
            request a, b;
            lr_error ea, eb;
            request_init(&a);
            request_init(&b);
            lr_err ra = request_parse(body, (size_t)(p - body), REQUEST_FORWARD, &a, &ea);
            lr_err rb = request_parse_on(body, (size_t)(p - body), REQUEST_FORWARD, workers, &b,
                                         &eb);
            ASSERT(ra != LR_ERR_OK);
            if (ra != rb || ea.offset != eb.offset)
                tap_fail(__FILE__, __LINE__, "cut %d%+d: alone %d at %zu, on workers %d at %zu",
                         cut, d, ra, ea.offset, rb, eb.offset);
            request_free(&a);
            request_free(&b);
        }
    }
    free(body);
    pool_free(workers);
}

/* Up to max cuts in (0, len) for feeding a body in pieces of 1 to `piece`
 * bytes, from the generator *state; returns how many. */
static size_t random_cuts(uint64_t *state, size_t len, size_t piece, size_t *cuts, size_t max)
{
    size_t n = 0;
    for (size_t at = 0; n < max;) {
        *state = *state * 6364136223846793005u + 1442695040888963407u;
        at += 1 + (*state >> 33) % piece;
        if (at >= len)
            break;
        cuts[n++] = at;
    }
    return n;
}

/* Reads body through a request_reader fed in pieces ending at cuts[] (and
 * the rest), reading after every `batch` bytes, and checks the outcome
 * equals request_parse's on the whole body: status, error code, offset,
 * path and message, members and tensors bit for bit. */
static size_t check_reader(const char *body, size_t len, request_kind kind, const size_t *cuts,
                           size_t ncuts, size_t batch, pool *workers, const char *what)
{
    request a, b;
    lr_error ea, eb;
    request_init(&a);
    request_init(&b);
    lr_err ra = request_parse(body, len, kind, &a, &ea);
    request_reader *r = request_reader_new(kind, workers, &b, &eb);
    ASSERT(r != NULL);
    if (!r)
        return 0;
    if (batch) /* else the default */
        request_reader_set_batch(r, batch);
    size_t at = 0;
    for (size_t i = 0; i < ncuts; i++) {
        ASSERT_EQ(request_reader_feed(r, body + at, cuts[i] - at), 0);
        at = cuts[i];
    }
    ASSERT_EQ(request_reader_feed(r, body + at, len - at), 0);
    lr_err rb = request_reader_finish(r);
    request_reader_free(r);
    int same = ra == rb && ea.code == eb.code && ea.offset == eb.offset &&
               strcmp(ea.path, eb.path) == 0 && strcmp(ea.detail, eb.detail) == 0;
    if (same && ra == LR_ERR_OK) {
        same = a.is_object == b.is_object && a.has_slope == b.has_slope &&
               memcmp(&a.slope, &b.slope, sizeof a.slope) == 0 &&
               a.has_grad_output == b.has_grad_output;
        const tensor *ta[2] = {&a.x, &a.grad_output}, *tb[2] = {&b.x, &b.grad_output};
        for (int k = 0; k < 2 && same; k++)
            same = ta[k]->count == tb[k]->count && ta[k]->ndim == tb[k]->ndim &&
                   memcmp(ta[k]->shape, tb[k]->shape, sizeof ta[k]->shape) == 0 &&
                   (ta[k]->count == 0 ||
                    memcmp(ta[k]->data, tb[k]->data, ta[k]->count * sizeof(double)) == 0);
    }
    if (!same)
        tap_fail(__FILE__, __LINE__,
                 "%s (%zu bytes, %zu cuts, first %zu): whole %s at %zu \"%s\", read in pieces "
                 "%s at %zu \"%s\"",
                 what, len, ncuts, ncuts ? cuts[0] : 0, lr_err_code(ra), ea.offset, ea.detail,
                 lr_err_code(rb), eb.offset, eb.detail);
    size_t in_parts = b.numbers_in_parts;
    if (rb == LR_ERR_OK) /* each number counted once, however often text was re-read */
        ASSERT(in_parts <= b.x.count + b.grad_output.count);
    request_free(&a);
    request_free(&b);
    return in_parts;
}

/* Bodies cut in two at every byte boundary (at 64 spread ones past 256
 * bytes), and fed one byte at a time. */
static void check_reader_everywhere(const char *body, request_kind kind, const char *what)
{
    size_t len = strlen(body);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    ASSERT(cuts != NULL);
    if (!cuts)
        return;
    size_t step = len <= 256 ? 1 : len / 64;
    for (size_t k = 1; k < len; k += step) {
        cuts[0] = k;
        (void)check_reader(body, len, kind, cuts, 1, 1, NULL, what);
    }
    for (size_t k = 1; k < len; k++)
        cuts[k - 1] = k;
    (void)check_reader(body, len, kind, cuts, len > 0 ? len - 1 : 0, 1, NULL, what);
    free(cuts);
}

void test_request_reader(void)
{
    /* every decode case, and bodies that cut strings, escapes, UTF-8,
     * literals, exponents and skipped members in every place */
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++)
        check_reader_everywhere(decode_cases[i].body, decode_cases[i].kind, "decode case");
    static const char *const more[] = {
        "{\"x\": [[1.5e+300, -2.25E-3], [0, -0]], \"slope\": 1e-2}",
        "{\"a\\u00e9\\ud83d\\ude00\\n\": {\"k\": [true, false, null, \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]}, \"x\": [1]}",
        "{\"x\": [1, 2], \"x\": [3]}",
        "{\"slope\": \"a\", \"x\": [[1], [2, 3]]}",
        "{\"x\": [1, \"two\", [3]], \"slope\": 0.5, \"zz\": [[[[]]]]}",
        "[1, 2] x",
        "[1, 2]   ",
        "{\"x\": [1, 1e999, 2]}",
        "{\"x\": [[1, 2], [3, 4]], \"grad_output\": [[1, 2], [3]]}",
        "\"text\"",
        "{\"x\": [1, 2, 3], \"slope\": tru}",
        "{\"x\": [1, 2, 3], \"slope\": 12.",
        "[1, 2, \"\xc3\"]",
        "{\"x\": [1], \"bad\": \"\\ud83d\"}",
        "123.456e-7",
        "[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]",
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        for (int kind = 0; kind < 2; kind++)
            check_reader_everywhere(more[i], (request_kind)kind, "tricky body");

    /* the 600 PyTorch request bodies, every cut */
    char path[512];
    FILE *f = fopen(tap_data_path("torch_cases.jsonl", path, sizeof path), "r");
    ASSERT(f != NULL);
    static char line[1 << 18], req[1 << 18], want[1 << 18];
    while (f && fgets(line, sizeof line, f))
        for (int which = 0; which < 3; which++)
            if (torch_case(line, which, req, want, sizeof req) == 0)
                check_reader_everywhere(req, which ? REQUEST_GRADIENT : REQUEST_FORWARD,
                                        "torch case");
    if (f)
        fclose(f);

    /* Large bodies at random cuts, with the default batch and a small one,
     * alone and on workers; the text held stays small for valid ones. */
    pool *workers = pool_new(2);
    static const size_t shapes[][2] = {{200000, 1}, {400, 500}};
    uint64_t state = 3;
    for (int si = 0; si < 2; si++) {
        char *want_text, *body = test_big_body(shapes[si], si + 1, si == 0, &want_text);
        size_t len = strlen(body), cuts[4000];
        size_t n = random_cuts(&state, len, 9000, cuts, 4000);
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 64 * 1024, NULL, "large body");
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 1000, workers, "large body");
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers, "large body, workers");
        request q;
        lr_error e;
        request_init(&q);
        request_reader *r = request_reader_new(REQUEST_FORWARD, NULL, &q, &e);
        size_t at = 0, held = 0;
        for (size_t i = 0; i < n && r; i++) {
            request_reader_feed(r, body + at, cuts[i] - at);
            at = cuts[i];
            if (request_reader_held(r) > held)
                held = request_reader_held(r);
        }
        if (r) {
            request_reader_feed(r, body + at, len - at);
            ASSERT_EQ(request_reader_finish(r), LR_ERR_OK);
            request_reader_free(r);
        }
        if (held > 256 * 1024)
            tap_fail(__FILE__, __LINE__, "held %zu bytes of a %zu-byte body", held, len);
        /* a flaw late in the body: the same error, offset included */
        body[len - 1000] = 'x';
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 64 * 1024, NULL, "flawed large body");
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers, "flawed, workers");
        request_free(&q);
        free(want_text);
        free(body);
    }
    pool_free(workers);
}

/* Flaws of a rows body: a number replaced (1-8), a row changed (9-11, 16),
 * the separator before a row changed (12-15), a row too many or too few
 * in a 3-D block (17-18). */
static const char *const rows_flaws[] = {
    NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true",
    "short row", "long row", "empty row", " [", "], [", "\n\t,  [\r\n", "[[", ")",
    "extra row", "missing row",
};

/* A rows body: "[[n, ...], ...]" of rows x cols numbers from nums (each
 * number's text at nums + at[k]), 3-D as [2][rows / 2][cols] when deep,
 * with flaw f at row fr, column fc. Returns its length. */
static size_t rows_body(char *out, const char *nums, const size_t *at, size_t n_nums, size_t rows,
                        size_t cols, int deep, int f, size_t fr, size_t fc)
{
    const char *flaw = rows_flaws[f];
    char *p = out;
    size_t per = rows / 2, i = 0;
    p += sprintf(p, "{\"slope\": 0.25, \"x\": [%s[", deep ? "[" : "");
    for (size_t r = 0; r < rows; r++) {
        if (r) {
            const char *sep = deep && r % per == 0 ? "], [[" : ", [";
            if (r == fr && (f == 12 || f == 13 || f == 14))
                sep = flaw;
            else if (r == fr && f == 15)
                sep = ", [[";
            p += sprintf(p, "%s", sep);
        }
        if (deep && r == fr && f == 17) { /* one more row in this block */
            for (size_t c = 0; c < cols; c++)
                p += sprintf(p, "%s%zu", c ? ", " : "", c);
            p += sprintf(p, "], [");
        }
        size_t n = cols - (r == fr && f == 9) + (r == fr && f == 10);
        if (r == fr && f == 11)
            n = 0;
        if (deep && r == fr && f == 18) { /* this row left out of its block */
            p -= 3;                     /* the ", [" just written */
            i += cols;
            continue;
        }
        for (size_t c = 0; c < n; c++, i++) {
            if (c)
                p += sprintf(p, ", ");
            if (r == fr && c == fc && f >= 1 && f <= 8) {
                p += sprintf(p, "%s", flaw);
            } else {
                size_t k = i % n_nums;
                memcpy(p, nums + at[k], at[k + 1] - at[k]);
                p += at[k + 1] - at[k];
            }
        }
        *p++ = r == fr && f == 16 ? ')' : ']';
        if (r == fr && f == 15)
            *p++ = ']';
    }
    p += sprintf(p, "]%s}", deep ? "]" : "");
    return (size_t)(p - out);
}

/* Many rows of one length are read in parts too: cut after rows, each
 * part checked to be exactly rows of numbers, on workers while the caller
 * waits (the whole body held) and while the reader receives (read ahead).
 * Outcomes equal request_parse's on every flaw in a row or between rows,
 * at the first row, in later parts and at the last row; valid bodies (2-D
 * and 3-D) are read in parts. */
void test_request_rows(void)
{
    enum { N = 60000 }; /* about 1.2 MB */
    char *nums = malloc((size_t)N * 32), *body = malloc((size_t)N * 2 * 40 + 4096);
    size_t *at = malloc((N + 1) * sizeof *at);
    pool *workers = pool_new(3), *one = pool_new(1);
    ASSERT(nums && body && at && workers && one);
    if (!nums || !body || !at || !workers || !one)
        goto out;
    uint64_t state = 11;
    at[0] = 0;
    for (size_t i = 0; i < N; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        at[i + 1] = at[i] + (size_t)sprintf(nums + at[i], "%.17g",
                                             ((double)(state >> 11) * 0x1p-53 - 0.5) * 1e3);
    }
    static const size_t widths[] = {12, 1000};
    for (int w = 0; w < 2; w++) {
        size_t cols = widths[w];
        for (int f = 0; f < (int)(sizeof rows_flaws / sizeof rows_flaws[0]); f++) {
            for (int deep = 0; deep <= 1; deep++) {
                if ((f >= 17) != deep && f != 0)
                    continue; /* the block flaws are 3-D only */
                /* 3-D: two blocks of N numbers, over PARALLEL_RUN_BYTES each */
                size_t rows = (deep ? 2 * N : N) / cols / 2 * 2;
                const size_t places[][2] = {
                    {0, 0}, {1, cols / 2}, {rows / 2 + 3, cols - 1}, {rows - 1, 1}};
                for (int k = 0; k < (f ? 4 : 1); k++) {
                    size_t fr = places[k][0], fc = places[k][1];
                    if ((f >= 12 && f <= 14) && fr == 0)
                        fr = 2; /* between rows: not before the first */
                    if (f >= 17 && fr % (rows / 2) == 0)
                        fr++;
                    size_t len = rows_body(body, nums, at, N, rows, cols, deep, f, fr, fc);
                    char what[64];
                    snprintf(what, sizeof what, "%zu cols, flaw %d at row %zu%s", cols, f, fr,
                             deep ? " (3-D)" : "");
                    size_t count, in_parts;
                    lr_err ra = check_on_workers(body, len, workers, &count, &in_parts, what);
                    int valid = f == 0 || f == 14;
                    ASSERT_EQ(ra == LR_ERR_OK, valid);
                    if (valid) /* the rows after the first were read in parts */
                        ASSERT_EQ(in_parts, count - cols);
                    /* and read as they arrive, in pieces of up to 40 KiB */
                    size_t cuts[100], n = random_cuts(&state, len, 40 * 1024, cuts, 100);
                    in_parts = check_reader(body, len, REQUEST_FORWARD, cuts, n, 0,
                                            k % 2 ? one : workers, "rows read ahead");
                    if (valid)
                        ASSERT(in_parts > (size_t)N / 2);
                }
            }
        }
    }
    /* A long first row, then many short ones: no room is reserved for
     * rows x cols numbers the text cannot hold (it was 2.4 GB here). */
    char *p = body;
    p += sprintf(p, "[[0");
    for (int i = 1; i < 1000; i++)
        p += sprintf(p, ",0");
    for (int i = 0; i < 300000; i++)
        p += sprintf(p, "], [0");
    p += sprintf(p, "]]");
    request q;
    lr_error e;
    request_init(&q);
    ASSERT_EQ(request_parse_on(body, (size_t)(p - body), REQUEST_FORWARD, workers, &q, &e),
              LR_ERR_RAGGED);
    ASSERT(q.x.cap <= (size_t)(p - body));
    request_free(&q);
out:
    pool_free(workers);
    pool_free(one);
    free(nums);
    free(body);
    free(at);
}

/* The most text a reader holds while a body is fed in 16 KiB pieces; the
 * outcome and the count of x's elements in *rc and *count. */
static size_t max_held(const char *body, size_t len, pool *workers, lr_err *rc, size_t *count)
{
    request q;
    lr_error e;
    request_init(&q);
    request_reader *r = request_reader_new(REQUEST_FORWARD, workers, &q, &e);
    ASSERT(r != NULL);
    size_t held = 0;
    *rc = LR_ERR_NO_MEMORY;
    for (size_t at = 0; r && at < len; at += 16384) {
        request_reader_feed(r, body + at, len - at < 16384 ? len - at : 16384);
        if (request_reader_held(r) > held)
            held = request_reader_held(r);
    }
    if (r) {
        *rc = request_reader_finish(r);
        request_reader_free(r);
    }
    *count = q.x.count;
    request_free(&q);
    return held;
}

/* Bodies checked for syntax only once a request error is found (a string
 * among the numbers, a ragged row, an unknown member with a large value,
 * nested objects skipped) are not held whole either: the reader saves
 * where the syntax check stands when the text runs out. Outcomes equal
 * request_parse's, at random cuts, alone and on workers. */
void test_request_reader_skips(void)
{
    enum { N = 120000 }; /* about 2.5 MB */
    char *body = malloc((size_t)N * 32 + 256);
    ASSERT(body != NULL);
    if (!body)
        return;
    static const struct {
        const char *head, *tail;
    } kinds[] = {
        {"{\"x\": [1, \"a\"", "]}"},
        {"[[1, 2], [3], [4", "]]"},
        {"{\"zz\": [[0.5", "]], \"x\": [1]}"},
        {"{\"zz\": {\"a\": [true, null], \"b\": {\"c\": [0", "}}, \"x\": [1]}"},
    };
    pool *workers = pool_new(1);
    uint64_t state = 9;
    for (int kind = 0; kind < 4; kind++) {
        char *p = body;
        p += sprintf(p, "%s", kinds[kind].head);
        for (size_t i = 0; i < N; i++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            if (kind == 2 && i % 100 == 99)
                p += sprintf(p, "], [%.17g", (double)(state >> 11) * 0x1p-40);
            else if (kind == 3 && i % 1000 == 999)
                p += sprintf(p, "], \"d%zu\": {\"e\": \"\\u00e9\", \"f\": [-1e-300",
                             i); /* the object is closed below */
            else
                p += sprintf(p, ", %.17g", (double)(state >> 11) * 0x1p-40);
        }
        if (kind == 3) { /* the last array, and the objects opened among the numbers */
            *p++ = ']';
            for (size_t i = 999; i < N; i += 1000)
                *p++ = '}';
        }
        p += sprintf(p, "%s", kinds[kind].tail);
        size_t len = (size_t)(p - body), cuts[4000];
        size_t n = random_cuts(&state, len, 32 * 1024, cuts, 4000);
        request q;
        lr_error e;
        request_init(&q);
        ASSERT_EQ(lr_err_status(request_parse(body, len, REQUEST_FORWARD, &q, &e)), 422);
        request_free(&q);
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, NULL, "checked for syntax");
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                           "checked for syntax, workers");
        lr_err rc;
        size_t count;
        size_t alone = max_held(body, len, NULL, &rc, &count);
        size_t on_workers = max_held(body, len, workers, &rc, &count);
        if (alone > 256 * 1024 || on_workers > 2 * 1024 * 1024)
            tap_fail(__FILE__, __LINE__, "kind %d: held %zu bytes alone, %zu on workers, of %zu",
                     kind, alone, on_workers, len);
        /* a syntax error at the very end still wins over the 422 */
        body[len - 1] = ',';
        (void)check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, NULL, "400 at the end");
    }
    pool_free(workers);
    free(body);
}

/* Long arrays read as they arrive with workers: runs are read ahead on
 * them while more text comes, and a flaw anywhere in such a run (in the
 * part read before going on, in a part left to the workers, at a cut)
 * sends the reader back to read it in order: every outcome equals
 * request_parse's on the whole body. Valid bodies are read in parts, and
 * hold little text. */
void test_request_reader_ahead(void)
{
    enum { N = 100000 }; /* about 2 MB */
    static const char *const flaws[] = {
        NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true", "1.5e+3\n", "7 x",
    };
    /* The numbers' text once (sprintf is the slow part), with where each
     * one starts; each body copies it around its flaw. */
    char *text = malloc((size_t)N * 32), *body = malloc((size_t)N * 32 + 256);
    size_t *starts = malloc((N + 1) * sizeof *starts);
    ASSERT(text && body && starts);
    if (!text || !body || !starts) {
        free(text);
        free(body);
        free(starts);
        return;
    }
    uint64_t state = 5;
    size_t text_len = 0;
    for (size_t i = 0; i < N; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        text_len += (size_t)sprintf(text + text_len, "%s",
                                    i == 0 ? "" : i % 500 == 499 ? ",\n  " : ", ");
        starts[i] = text_len;
        text_len += (size_t)sprintf(text + text_len, "%.17g",
                                    ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 1e4);
    }
    starts[N] = text_len;
    for (unsigned threads = 1; threads <= 2; threads++) {
        pool *workers = pool_new(threads);
        ASSERT(workers != NULL);
        for (int f = 0; f < (int)(sizeof flaws / sizeof flaws[0]); f++) {
            for (int place = 0; place < (flaws[f] ? 3 : 1); place++) {
                int object = (f + place) % 2;
                size_t at_flaw = (size_t)(place * 37 + f * 11) % 100 * (N / 100) + (size_t)place;
                char *p = body;
                p += sprintf(p, "%s[", object ? "{\"x\": " : "");
                if (flaws[f]) { /* the number at_flaw replaced by the flaw */
                    size_t end = starts[at_flaw] + strcspn(text + starts[at_flaw], ",");
                    memcpy(p, text, starts[at_flaw]);
                    p += starts[at_flaw];
                    p += sprintf(p, "%s", flaws[f]);
                    memcpy(p, text + end, text_len - end);
                    p += text_len - end;
                } else {
                    memcpy(p, text, text_len);
                    p += text_len;
                }
                p += sprintf(p, "]%s", object ? ", \"slope\": 0.5}" : "");
                size_t len = (size_t)(p - body), cuts[4000]; /* pieces as sockets give */
                size_t n = random_cuts(&state, len, 40 * 1024, cuts, 4000);
                size_t in_parts = check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                                               "read ahead");
                if (!flaws[f] || f == 9) /* 9: a fine number */
                    ASSERT(in_parts > N / 2);
            }
        }
        /* the text held stays near two batches, not the body */
        char *p = body;
        *p++ = '[';
        memcpy(p, text, text_len);
        p += text_len;
        *p++ = ']';
        size_t len = (size_t)(p - body);
        /* fed in one piece: each number read (and counted) once */
        (void)check_reader(body, len, REQUEST_FORWARD, NULL, 0, 0, workers, "one piece");
        lr_err rc;
        size_t count, held = max_held(body, len, workers, &rc, &count);
        ASSERT_EQ(rc, LR_ERR_OK);
        ASSERT_EQ(count, (size_t)N);
        if (held > 2 * 1024 * 1024)
            tap_fail(__FILE__, __LINE__, "held %zu bytes of a %zu-byte body", held, len);
        pool_free(workers);
    }
    free(text);
    free(starts);
    free(body);
}
