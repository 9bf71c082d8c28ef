/* Tests of the binary bodies of /forward and /gradient (src/api_binary.c)
 * without sockets: results bit for bit against the scalar kernels, NaN
 * and infinities passed through, the shape and grad_slope headers, and
 * every error. */
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

/* Parses "k=v&k=v" into params (pointing into q, which it changes). */
static size_t parse_query(char *q, api_param *p, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && n < max;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        p[n].key = kv;
        p[n].key_len = eq ? (size_t)(eq - kv) : strlen(kv);
        p[n].value = eq ? eq + 1 : NULL;
        p[n].value_len = eq ? strlen(eq + 1) : 0;
        n++;
    }
    return n;
}

/* The reply to a binary body of len bytes, fed in pieces of `piece`
 * bytes, declared (Content-Length) or not. */
static void run(api_route route, const char *query, const void *data, size_t len, size_t piece,
                int declared, api_response *resp)
{
    char q[256];
    api_param p[8];
    snprintf(q, sizeof q, "%s", query);
    size_t np = parse_query(q, p, 8);
    lr_err why;
    api_head call = {.route = route, .format = API_FORMAT_BINARY};
    api_body *b = api_body_new(&call, NULL, NULL, declared ? len : API_LENGTH_UNKNOWN, &why);
    ASSERT(b != NULL);
    for (size_t at = 0; b && at < len; at += piece)
        ASSERT_EQ(api_body_feed(b, (const char *)data + at, len - at < piece ? len - at : piece),
                  LR_ERR_OK);
    api_request req = {.route = route, .params = p, .nparams = np, .body = b};
    api_handle(&req, resp);
}

void test_api_binary_compute(void)
{
    enum { N = 1000 };
    static double x[2 * N], want[N];
    static float x32[N], want32[N];
    uint64_t st = 7;
    for (size_t i = 0; i < 2 * N; i++)
        x[i] = (test_rand_unit(&st) - 0.5) * 8;
    x[3] = NAN;
    x[4] = INFINITY;
    x[5] = -INFINITY;
    x[6] = -0.0;
    for (size_t i = 0; i < N; i++)
        x32[i] = (float)x[i];
    static const size_t pieces[] = {8000, 1, 3, 7, 4096};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        int declared = k % 2 == 0;
        api_response r;
        /* forward, float64, one slope, a shape */
        lrelu_forward_f64(x, want, N, 0.25);
        run(API_FORWARD, "slope=0.25&shape=10,100", x, N * 8, pieces[k], declared, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.content_type, "application/octet-stream");
        ASSERT_EQ(r.len, N * 8);
        ASSERT(r.body && memcmp(r.body, want, N * 8) == 0);
        ASSERT_STR_EQ(test_header(&r, "Tensor-Shape"), "10,100");
        ASSERT_STR_EQ(test_header(&r, "Tensor-Dtype"), "float64");
        ASSERT_EQ(r.elements, N);
        api_response_free(&r);
        /* float32, flat */
        lrelu_forward_f32(x32, want32, N, 0.25f);
        run(API_FORWARD, "dtype=float32&slope=0.25", x32, N * 4, pieces[k], declared, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT(r.body && r.len == N * 4 && memcmp(r.body, want32, N * 4) == 0);
        ASSERT_STR_EQ(test_header(&r, "Tensor-Shape"), "1000");
        ASSERT_STR_EQ(test_header(&r, "Tensor-Dtype"), "float32");
        api_response_free(&r);
        /* backward: x, then grad_output */
        lrelu_backward_f64(x, x + N, want, N, 0.01);
        run(API_GRADIENT, "grad_output=1", x, 2 * N * 8, pieces[k], declared, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT(r.body && r.len == N * 8 && memcmp(r.body, want, N * 8) == 0);
        ASSERT(test_header(&r, "Grad-Slope") == NULL);
        api_response_free(&r);
    }
    /* PReLU: two channels of (5, 2, 100), with grad_slope in a header */
    api_response r;
    double slopes[2] = {0.5, -2}, gs[2] = {0, 0};
    for (size_t i = 0; i < N; i++) {
        double a = slopes[i / 100 % 2];
        want[i] = x[i] > 0 ? 1.0 : a;
        if (x[i] <= 0 && i > 6) /* NaN is not <= 0; the infinities are kept out */
            gs[i / 100 % 2] += x[i];
    }
    run(API_GRADIENT, "slope=0.5,-2&shape=5,2,100", x, N * 8, N * 8, 1, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && memcmp(r.body, want, N * 8) == 0);
    ASSERT(test_header(&r, "Grad-Slope") != NULL);
    double g0 = 0, g1 = 0;
    ASSERT_EQ(sscanf(test_header(&r, "Grad-Slope") ? test_header(&r, "Grad-Slope") : "", "%lf, %lf", &g0, &g1), 2);
    /* x[5] = -inf is in channel 0: its sum is -inf, as IEEE sums it */
    ASSERT(isinf(g0) && g0 < 0);
    ASSERT(fabs(g1 - gs[1]) <= 1e-12 * fabs(gs[1]));
    api_response_free(&r);
    /* an empty body, and a scalar */
    run(API_FORWARD, "", "", 0, 1, 1, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    ASSERT(r.body != NULL);
    ASSERT_STR_EQ(test_header(&r, "Tensor-Shape"), "0");
    api_response_free(&r);
    double minus = -4;
    run(API_FORWARD, "shape=", &minus, 8, 8, 1, &r);
    ASSERT_EQ(r.status, 200);
    double got = 0;
    memcpy(&got, r.body ? r.body : "", r.body ? 8 : 0);
    ASSERT_BITS_EQ(got, -0.04);
    ASSERT_STR_EQ(test_header(&r, "Tensor-Shape"), "");
    api_response_free(&r);
}

void test_api_binary_errors(void)
{
    static const struct {
        api_route route;
        const char *query;
        size_t len;
        int status;
        const char *code, *words;
    } cases[] = {
        {API_FORWARD, "", 12, 422, "invalid_binary_length", "12 bytes, not a whole number of 8-byte float64"},
        {API_FORWARD, "dtype=float32", 6, 422, "invalid_binary_length", "4-byte float32"},
        {API_GRADIENT, "grad_output=1", 24, 422, "invalid_binary_length", "two equal halves"},
        {API_FORWARD, "shape=2,3", 40, 422, "shape_mismatch", "shape (2, 3) has 6 elements, but the body has 5 float64 numbers (40 bytes)"},
        {API_GRADIENT, "shape=3&grad_output=1", 32, 422, "shape_mismatch", "each half of the body has 2"},
        {API_FORWARD, "shape=4294967296,4294967296,4294967296", 8, 422, "shape_mismatch", "more elements"},
        {API_FORWARD, "shape=2,x", 16, 422, "invalid_shape", "\\\"2,x\\\""},
        {API_FORWARD, "shape=2,", 16, 422, "invalid_shape", NULL},
        {API_FORWARD, "shape=,2", 16, 422, "invalid_shape", NULL},
        {API_FORWARD, "shape=2&shape=2", 16, 422, "invalid_shape", "twice"},
        {API_FORWARD, "grad_output=1", 16, 422, "unknown_parameter", "grad_output is for /gradient"},
        {API_GRADIENT, "grad_output=yes", 16, 422, "unknown_parameter", "grad_output=1"},
        {API_FORWARD, "shpe=2", 16, 422, "unknown_parameter", "\\\"slope\\\", \\\"dtype\\\" or \\\"shape\\\""},
        {API_FORWARD, "slope=0.1,0.2&shape=2,3", 48, 422, "slope_count_mismatch", "3 channels"},
        {API_FORWARD, "slope=1e300&dtype=float32", 16, 422, "invalid_slope", "float32"},
        {API_FORWARD, "dtype=float16", 16, 422, "invalid_dtype", NULL},
    };
    static const char zeros[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_response r;
        run(cases[i].route, cases[i].query, zeros, cases[i].len, 5, 1, &r);
        ASSERT_EQ(r.status, cases[i].status);
        ASSERT(r.body && strstr(r.body, cases[i].code));
        if (cases[i].words && !(r.body && strstr(r.body, cases[i].words)))
            printf("# case %zu: %s\n", i, r.body ? r.body : "(none)");
        ASSERT(!cases[i].words || (r.body && strstr(r.body, cases[i].words)));
        ASSERT_STR_EQ(r.content_type ? r.content_type : "application/json", "application/json");
        api_response_free(&r);
    }
    /* JSON bodies take neither shape nor grad_output */
    int status;
    api_param p = {"shape", 5, "2", 1};
    api_request req = {.route = API_FORWARD, .params = &p, .nparams = 1,
                       .body = test_api_body(API_FORWARD, "[1, 2]", 6, NULL)};
    api_response r;
    api_handle(&req, &r);
    status = r.status;
    ASSERT_EQ(status, 422);
    ASSERT(r.body && strstr(r.body, "unknown query parameter \\\"shape\\\"; expected \\\"slope\\\" or \\\"dtype\\\""));
    api_response_free(&r);
}
