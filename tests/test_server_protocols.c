/* Integration tests, through the real binary, of the protocols beside the
 * JSON API: binary bodies on /forward and /gradient. The harness is
 * harness.c. */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lrelu.h"
#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

static const char *const octets[] = {"Content-Type: application/octet-stream", NULL};

/* A million float64 in and out, with a Content-Length and chunked, bit
 * for bit the kernel's, NaN and infinities as IEEE values; float32; a
 * body over --max-body is a 413, as any other. */
void test_http_binary(void)
{
    size_t n = test_instrumented() ? 100000 : 1000000;
    double *x = malloc(n * 8), *want = malloc(n * 8);
    float *x32 = malloc(n * 4), *want32 = malloc(n * 4);
    ASSERT(x && want && x32 && want32);
    if (!x || !want || !x32 || !want32)
        goto done;
    uint64_t st = 11;
    for (size_t i = 0; i < n; i++)
        x32[i] = (float)(x[i] = (test_rand_unit(&st) - 0.5) * 1e6);
    x[1] = NAN;
    x[2] = -INFINITY;
    x32[1] = INFINITY;
    lrelu_forward_f64(x, want, n, 0.2);
    lrelu_gradient_f32(x32, want32, n, 0.2f);
    unsigned port = shared_port();
    char target[96], v[64];
    snprintf(target, sizeof target, "/forward?slope=0.2&shape=%zu,10", n / 10);
    for (int chunked = 0; chunked < 2; chunked++) {
        reply r;
        http_bytes(NULL, port, "POST", target, x, n * 8, chunked ? 65000 : 0, octets, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.content_type, "application/octet-stream");
        ASSERT_EQ(r.len, n * 8);
        ASSERT(r.body && r.len == n * 8 && memcmp(r.body, want, n * 8) == 0);
        char shape[64];
        snprintf(shape, sizeof shape, "%zu,10", n / 10);
        ASSERT_STR_EQ(reply_header(&r, "Tensor-Shape", v, sizeof v), shape);
        ASSERT_STR_EQ(reply_header(&r, "Tensor-Dtype", v, sizeof v), "float64");
        reply_free(&r);
    }
    reply r;
    http_bytes(NULL, port, "POST", "/gradient?slope=0.2&dtype=float32", x32, n * 4, 0, octets,
               &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && r.len == n * 4 && memcmp(r.body, want32, n * 4) == 0);
    reply_free(&r);
    /* an error is JSON, as everywhere */
    http_bytes(NULL, port, "POST", "/forward?dtype=float32", x, 7, 0, octets, &r);
    ASSERT_EQ(r.status, 422);
    check_error_body(&r, "invalid_binary_length", 0, NULL);
    reply_free(&r);
    srv s;
    static const char *const small[] = {"--max-body", "1000", NULL};
    ASSERT_EQ(srv_start(&s, small), 0);
    for (int chunked = 0; chunked < 2; chunked++) {
        http_bytes(NULL, s.port, "POST", "/forward", x, 1008, chunked ? 100 : 0, octets, &r);
        ASSERT_EQ(r.status, 413);
        check_error_body(&r, "body_too_large", 0, NULL);
        reply_free(&r);
    }
    http_bytes(NULL, s.port, "POST", "/forward", x, 1000, 0, octets, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0);
done:
    free(x);
    free(want);
    free(x32);
    free(want32);
}
