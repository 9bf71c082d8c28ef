/* Integration tests, through the real binary, of the protocols beside the
 * JSON API: binary bodies on /forward and /gradient, CORS, the Open
 * Inference Protocol, compressed bodies and replies. The harness is
 * harness.c. */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

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

/* Without --cors-origin: OPTIONS answers 204 with Allow, and no reply
 * has a CORS header. With it: the allowed origins get them on every
 * reply, errors included, and a preflight is told the route's methods;
 * other origins get none (and Vary: Origin); with "*", every origin. */
void test_http_cors(void)
{
    static const char *const preflight[] = {
        "Origin: https://app.example", "Access-Control-Request-Method: POST",
        "Access-Control-Request-Headers: content-type, x-request-id", NULL};
    static const char *const from_app[] = {"Origin: https://app.example", NULL};
    static const char *const from_other[] = {"Origin: https://other.example", NULL};
    char v[256];
    reply r;
    unsigned port = shared_port();
    http_bytes(NULL, port, "OPTIONS", "/forward", NULL, 0, 0, preflight, &r);
    ASSERT_EQ(r.status, 204);
    ASSERT_STR_EQ(r.allow, "POST, OPTIONS");
    ASSERT(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v) == NULL);
    ASSERT(reply_header(&r, "Vary", v, sizeof v) == NULL); /* a 204 */
    reply_free(&r);
    http_bytes(NULL, port, "POST", "/forward", "[1]", 3, 0, from_app, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v) == NULL);
    reply_free(&r);

    srv s;
    static const char *const args[] = {"--cors-origin", "https://app.example", "--cors-origin",
                                       "http://localhost:3000", NULL};
    ASSERT_EQ(srv_start(&s, args), 0);
    CURL *h = curl_easy_init(); /* one connection: a preflight keeps it */
    http_bytes(h, s.port, "OPTIONS", "/forward", NULL, 0, 0, preflight, &r);
    ASSERT_EQ(r.status, 204);
    ASSERT_EQ(r.len, 0);
    ASSERT_STR_EQ(r.content_type, "");
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v),
                  "https://app.example");
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Methods", v, sizeof v), "POST, OPTIONS");
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Headers", v, sizeof v),
                  "content-type, x-request-id");
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Max-Age", v, sizeof v), "600");
    ASSERT_STR_EQ(reply_header(&r, "Vary", v, sizeof v), "Origin");
    ASSERT_STR_EQ(r.connection, "");
    reply_free(&r);
    http_bytes(h, s.port, "OPTIONS", "/healthz", NULL, 0, 0, preflight, &r);
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Methods", v, sizeof v),
                  "GET, HEAD, OPTIONS");
    reply_free(&r);
    long reused = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &reused);
    ASSERT_EQ(reused, 0); /* the second request took no new connection */
    curl_easy_cleanup(h);
    static const char *const paths[] = {"/forward", "/nope"};
    for (int i = 0; i < 2; i++) { /* a result and an error alike */
        http_bytes(NULL, s.port, "POST", paths[i], "[1]", 3, 0, from_app, &r);
        ASSERT_EQ(r.status, i ? 404 : 200);
        ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v),
                      "https://app.example");
        ASSERT(reply_header(&r, "Access-Control-Expose-Headers", v, sizeof v) &&
               strstr(v, "X-Request-Id") && strstr(v, "Tensor-Shape"));
        ASSERT(reply_header(&r, "Access-Control-Allow-Methods", v, sizeof v) == NULL);
        reply_free(&r);
    }
    http_bytes(NULL, s.port, "POST", "/forward", "[1]", 3, 0, from_other, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v) == NULL);
    ASSERT_STR_EQ(reply_header(&r, "Vary", v, sizeof v), "Origin, Accept-Encoding");
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0);

    static const char *const any[] = {"--cors-origin", "*", NULL};
    ASSERT_EQ(srv_start(&s, any), 0);
    http_bytes(NULL, s.port, "GET", "/healthz", NULL, 0, 0, from_other, &r);
    ASSERT_STR_EQ(reply_header(&r, "Access-Control-Allow-Origin", v, sizeof v), "*");
    ASSERT_STR_EQ(reply_header(&r, "Vary", v, sizeof v), "Accept-Encoding");
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* The Open Inference Protocol over HTTP: the specification's example; a
 * binary request as the Triton client sends it (no Content-Type) and its
 * binary reply; a million FP64 numbers as JSON, streamed, the very text
 * /forward answers for them. */
void test_http_oip(void)
{
    unsigned port = shared_port();
    reply r;
    char v[64];
    static const char *const json[] = {"Content-Type: application/json", NULL};
    const char *example = "{\"id\": \"42\", \"inputs\": [{\"name\": \"x\", \"shape\": [2, 2], "
                          "\"datatype\": \"FP32\", \"data\": [1, -2, 3, -4]}], \"outputs\": "
                          "[{\"name\": \"y\"}]}";
    http_bytes(NULL, port, "POST", "/v2/models/leaky_relu/versions/1/infer", example,
               strlen(example), 0, json, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "application/json");
    ASSERT_STR_EQ(r.body, "{\"model_name\": \"leaky_relu\", \"model_version\": \"1\", \"id\": "
                          "\"42\", \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP32\", "
                          "\"shape\": [2, 2], \"data\": [1.0, -0.02, 3.0, -0.04]}]}");
    reply_free(&r);
    http_bytes(NULL, port, "GET", "/v2/health/ready", NULL, 0, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);

    double x[4] = {-1, 2, -INFINITY, NAN}, y[4];
    lrelu_backward_f64(x, (double[]){3, 3, 3, 3}, y, 4, 0.01);
    const char *head = "{\"inputs\":[{\"name\":\"x\",\"shape\":[4],\"datatype\":\"FP64\","
                       "\"parameters\":{\"binary_data_size\":32}},{\"name\":\"grad_output\","
                       "\"shape\":[4],\"datatype\":\"FP64\",\"parameters\":{\"binary_data_size\":"
                       "32}}],\"parameters\":{\"binary_data_output\":true}}";
    char body[512], length[64];
    size_t hl = strlen(head);
    memcpy(body, head, hl);
    memcpy(body + hl, x, 32);
    memcpy(body + hl + 32, (double[]){3, 3, 3, 3}, 32);
    snprintf(length, sizeof length, "Inference-Header-Content-Length: %zu", hl);
    const char *const binary[] = {length, NULL};
    http_bytes(NULL, port, "POST", "/v2/models/leaky_relu_grad/infer", body, hl + 64, 0, binary,
               &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "application/octet-stream");
    const char *want = "{\"model_name\": \"leaky_relu_grad\", \"model_version\": \"1\", "
                       "\"outputs\": [{\"name\": \"grad\", \"datatype\": \"FP64\", \"shape\": "
                       "[4], \"parameters\": {\"binary_data_size\": 32}}]}";
    snprintf(length, sizeof length, "%zu", strlen(want));
    ASSERT_STR_EQ(reply_header(&r, "Inference-Header-Content-Length", v, sizeof v), length);
    ASSERT(r.body && r.len == strlen(want) + 32 && memcmp(r.body, want, strlen(want)) == 0 &&
           memcmp(r.body + strlen(want), y, 32) == 0);
    reply_free(&r);

    /* a million numbers: the same text as /forward's */
    size_t n = test_instrumented() ? 100000 : 1000000;
    size_t shape[1] = {n};
    char *want_y, *flat = test_big_body(shape, 1, 0, &want_y);
    size_t fl = strlen(flat);
    char *req = malloc(fl + 256);
    int k = sprintf(req, "{\"inputs\": [{\"name\": \"x\", \"shape\": [%zu], \"datatype\": "
                    "\"FP64\", \"data\": ", n);
    memcpy(req + k, flat, fl);
    strcpy(req + k + fl, "}]}");
    http_bytes(NULL, port, "POST", "/v2/models/leaky_relu/infer", req, strlen(req), 0, json, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.transfer_encoding, "chunked");
    char prefix[256];
    int pl = snprintf(prefix, sizeof prefix, "{\"model_name\": \"leaky_relu\", \"model_version\": "
                      "\"1\", \"outputs\": [{\"name\": \"y\", \"datatype\": \"FP64\", \"shape\": "
                      "[%zu], \"data\": ", n);
    size_t wl = strlen(want_y);
    ASSERT(r.body && r.len == (size_t)pl + wl + 3 && memcmp(r.body, prefix, (size_t)pl) == 0 &&
           memcmp(r.body + pl, want_y, wl) == 0 && strcmp(r.body + pl + wl, "}]}") == 0);
    reply_free(&r);
    free(req);
    free(flat);
    free(want_y);
}

/* A coded reply decoded (gzip or zlib: windowBits 47 takes both). */
static char *zdecode(const char *src, size_t len, size_t *out_len)
{
    z_stream z = {0};
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    inflateInit2(&z, 47);
    z.next_in = (unsigned char *)(uintptr_t)src;
    z.avail_in = (uInt)len;
    int rc = Z_OK;
    while (out && rc == Z_OK) {
        if (n == cap) {
            char *grown = realloc(out, cap *= 2);
            if (!grown)
                free(out);
            out = grown;
            if (!out)
                break;
        }
        z.next_out = (unsigned char *)out + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = z.total_out;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = n;
    return out;
}

/* Bodies in gzip and deflate, decoded as they arrive, on every route
 * with a body; a zip bomb is a 413; replies in the coding the request
 * accepts (streamed, binary pieces, a buffer), errors never. */
void test_http_compression(void)
{
    unsigned port = shared_port();
    reply r;
    char v[64];
    static const char *const gz[] = {"Content-Encoding: gzip", NULL};
    static const char *const df[] = {"Content-Encoding: deflate", NULL};
    const char *body = "{\"x\": [[1, -2], [3, -4]], \"slope\": 0.1}";
    size_t len;
    char *coded = test_zcode(body, strlen(body), 31, &len);
    http_bytes(NULL, port, "POST", "/forward", coded, len, 0, gz, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body, "{\"y\": [[1.0, -0.2], [3.0, -0.4]]}");
    reply_free(&r);
    free(coded);
    const char *infer = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", "
                        "\"data\": [-1, 1]}]}";
    coded = test_zcode(infer, strlen(infer), 15, &len);
    http_bytes(NULL, port, "POST", "/v2/models/leaky_relu/infer", coded, len, 7, df, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && strstr(r.body, "\"data\": [-0.01, 1.0]"));
    reply_free(&r);
    free(coded);
    double x[3] = {-2, 0, 2};
    coded = test_zcode(x, sizeof x, 31, &len);
    static const char *const gz_binary[] = {"Content-Encoding: gzip",
                                            "Content-Type: application/octet-stream", NULL};
    http_bytes(NULL, port, "POST", "/forward", coded, len, 0, gz_binary, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && r.len == 24 && ((double *)(void *)r.body)[0] == -0.02);
    reply_free(&r);
    /* broken, cut short */
    coded[len / 2] ^= 0x5a;
    http_bytes(NULL, port, "POST", "/forward", coded, len, 0, gz_binary, &r);
    ASSERT(r.status == 400 || r.status == 422); /* a broken block, or its checksum */
    reply_free(&r);
    http_bytes(NULL, port, "POST", "/forward", body, strlen(body), 0, gz, &r);
    ASSERT_EQ(r.status, 400);
    check_error_body(&r, "invalid_content_encoding", 0, NULL);
    reply_free(&r);
    free(coded);
    coded = test_zcode(body, strlen(body), 31, &len);
    http_bytes(NULL, port, "POST", "/forward", coded, len - 4, 0, gz, &r);
    ASSERT_EQ(r.status, 400);
    ASSERT(r.body && strstr(r.body, "cut short"));
    reply_free(&r);
    free(coded);

    /* a bomb: 10 MB of "0, " in 10 kB, against --max-body 1M */
    srv s;
    static const char *const small[] = {"--max-body", "1M", NULL};
    ASSERT_EQ(srv_start(&s, small), 0);
    size_t big = 10000000;
    char *zeros = malloc(big);
    for (size_t i = 0; i < big; i++)
        zeros[i] = "0, "[i % 3];
    zeros[0] = '[';
    coded = test_zcode(zeros, big, 31, &len);
    ASSERT(len < 100000);
    http_bytes(NULL, s.port, "POST", "/forward", coded, len, 0, gz, &r);
    ASSERT_EQ(r.status, 413);
    ASSERT(r.body && strstr(r.body, "decoded"));
    reply_free(&r);
    free(coded);
    free(zeros);
    ASSERT_EQ(srv_stop(&s), 0);

    /* replies: a streamed one, binary pieces, a buffer; an error plain */
    size_t n = test_instrumented() ? 20000 : 200000;
    size_t shape[1] = {n};
    char *want, *big_body = test_big_body(shape, 1, 0, &want);
    static const char *const accept_gzip[] = {"Accept-Encoding: gzip", NULL};
    static const char *const accept_deflate[] = {"Accept-Encoding: deflate;q=1, gzip;q=0", NULL};
    for (int k = 0; k < 2; k++) {
        http_bytes(NULL, port, "POST", "/forward", big_body, strlen(big_body), 0,
                   k ? accept_deflate : accept_gzip, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(reply_header(&r, "Content-Encoding", v, sizeof v), k ? "deflate" : "gzip");
        ASSERT_STR_EQ(reply_header(&r, "Vary", v, sizeof v), "Accept-Encoding");
        size_t plain_len = 0;
        char *plain = r.body ? zdecode(r.body, r.len, &plain_len) : NULL;
        ASSERT(plain && plain_len == strlen(want) && memcmp(plain, want, plain_len) == 0);
        ASSERT(r.len < plain_len * 3 / 4); /* 17-digit random numbers: about 0.45 */
        free(plain);
        reply_free(&r);
    }
    double y[4] = {1, -1, 0.5, -0.5}, yw[4];
    lrelu_forward_f64(y, yw, 4, 0.01);
    char req[512];
    int hl = snprintf(req, sizeof req, "{\"inputs\":[{\"name\":\"x\",\"shape\":[4],\"datatype\":"
                      "\"FP64\",\"parameters\":{\"binary_data_size\":32}}],\"parameters\":"
                      "{\"binary_data_output\":true}}");
    memcpy(req + hl, y, 32);
    char length[64];
    snprintf(length, sizeof length, "Inference-Header-Content-Length: %d", hl);
    const char *const binary_gz[] = {length, "Accept-Encoding: gzip", NULL};
    http_bytes(NULL, port, "POST", "/v2/models/leaky_relu/infer", req, (size_t)hl + 32, 0,
               binary_gz, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(reply_header(&r, "Content-Encoding", v, sizeof v), "gzip");
    size_t plain_len = 0, json_len = (size_t)atol(reply_header(&r, "Inference-Header-Content-Length",
                                                               v, sizeof v) ? v : "0");
    char *plain = r.body ? zdecode(r.body, r.len, &plain_len) : NULL;
    ASSERT(plain && plain_len == json_len + 32 && memcmp(plain + json_len, yw, 32) == 0);
    free(plain);
    reply_free(&r);
    http_bytes(NULL, port, "GET", "/v2/models/leaky_relu_grad", NULL, 0, 0, accept_gzip, &r);
    ASSERT_EQ(r.status, 200); /* about 300 bytes: worth it */
    ASSERT_STR_EQ(reply_header(&r, "Content-Encoding", v, sizeof v), "gzip");
    reply_free(&r);
    http_bytes(NULL, port, "GET", "/healthz", NULL, 0, 0, accept_gzip, &r);
    ASSERT(reply_header(&r, "Content-Encoding", v, sizeof v) == NULL); /* 16 bytes: not */
    reply_free(&r);
    http_bytes(NULL, port, "POST", "/forward", "[1, \"a\"]", 8, 0, accept_gzip, &r);
    ASSERT_EQ(r.status, 422);
    ASSERT(reply_header(&r, "Content-Encoding", v, sizeof v) == NULL);
    check_error_body(&r, "not_a_number", 0, "x[1]");
    reply_free(&r);
    free(big_body);
    free(want);
}

/* The strict edge, one row per class of malformed request, each answered
 * by the service (its JSON error, or 204), never by the library, and the
 * server goes on: a NUL in the target decoded or raw, a malformed escape,
 * a space in the target, a NUL, CR or folded line in a header (in the
 * middle of the head and at its end), a name with a space before its
 * colon; a method no endpoint serves (501, with Allow when the path is an
 * endpoint); the absolute form and OPTIONS * served; HEAD's head alone. */
void test_http_strict_edge(void)
{
#define RAW(text) text, sizeof text - 1
    static const struct {
        const char *request;
        size_t len;
        int status;
        const char *code; /* NULL: no error body */
        int closed;
        const char *allow; /* the Allow header, or NULL when none is asked */
    } cases[] = {
        {RAW("POST /forward%00.png HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n[]"), 400,
         "invalid_target", 1, NULL},
        {RAW("GET /healthz\0.png HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "invalid_target", 1, NULL},
        {RAW("GET /heal%zzthz HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "invalid_target", 1, NULL},
        {RAW("GET /heal thz HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "invalid_target", 1, NULL},
        {RAW("GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\nX-B: 1\r\n\r\n"), 400,
         "invalid_header", 1, NULL},
        {RAW("GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"), 400, "invalid_header", 1,
         NULL},
        {RAW("GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n"), 400, "invalid_header", 1,
         NULL},
        {RAW("GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\nX-B: 1\r\n\r\n"), 400,
         "invalid_header", 1, NULL},
        {RAW("POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length : 2\r\n\r\n[]"), 400,
         "invalid_header", 1, NULL},
        {RAW("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 501,
         "method_not_implemented", 0, NULL},
        {RAW("PUT /forward HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n[]"), 501,
         "method_not_implemented", 0, "POST, OPTIONS"},
        {RAW("get /healthz HTTP/1.1\r\nHost: a\r\n\r\n"), 501, "method_not_implemented", 0, NULL},
        {RAW("POST http://a/forward HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n[1]"), 200,
         NULL, 0, NULL},
        {RAW("GET HTTP://a HTTP/1.1\r\nHost: a\r\n\r\n"), 200, NULL, 0, NULL},
        {RAW("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 204, NULL, 0, "GET, HEAD, POST, OPTIONS"},
        /* bare LF line ends are still read (RFC 9112 section 2.2) */
        {RAW("GET /healthz HTTP/1.1\nHost: a\nX-A: 1\n\n"), 200, NULL, 0, NULL},
    };
#undef RAW
    unsigned port = shared_port();
    char out[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int closed, status = 0;
        long n = http_raw(port, cases[i].request, cases[i].len, out, sizeof out, 1000, &closed);
        if (n > 12)
            status = atoi(out + 9);
        char want[96], allow[64];
        snprintf(want, sizeof want, "\"code\": \"%s\"", cases[i].code ? cases[i].code : "");
        snprintf(allow, sizeof allow, "\r\nAllow: %s\r\n", cases[i].allow ? cases[i].allow : "");
        if (status != cases[i].status || (cases[i].closed && !closed) ||
            (cases[i].code && (!strstr(out, want) || !strstr(out, "application/json"))) ||
            (cases[i].allow && !strstr(out, allow)))
            tap_fail(__FILE__, __LINE__, "case %zu: want %d %s%s, got %s (%.300s)", i,
                     cases[i].status, cases[i].code ? cases[i].code : "",
                     cases[i].closed ? " and closed" : "", closed ? "closed" : "open", out);
    }
    /* A large head (100 headers of 200 bytes) is not mistaken for a
     * malformed one where the library's buffer grows. */
    char big[32768];
    size_t len = (size_t)snprintf(big, sizeof big, "GET /healthz HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 100; i++) {
        len += (size_t)snprintf(big + len, sizeof big - len, "X-H%d: ", i);
        memset(big + len, 'v', 200);
        len += 200;
        len += (size_t)snprintf(big + len, sizeof big - len, "\r\n");
    }
    len += (size_t)snprintf(big + len, sizeof big - len, "\r\n");
    int closed;
    ASSERT(http_raw(port, big, len, out, sizeof out, 1000, &closed) > 12);
    ASSERT_EQ(atoi(out + 9), 200);
    /* HEAD is answered with its head alone, even where GET's reply would
     * be compressed (in chunks): the next reply on the connection follows
     * at once (libmicrohttpd would write a last chunk after the head). */
    static const char pair[] = "HEAD /openapi.json HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip"
                               "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close"
                               "\r\n\r\n";
    ASSERT(http_raw(port, pair, sizeof pair - 1, out, sizeof out, 1000, &closed) > 12);
    const char *second = strstr(out, "\r\n\r\n");
    ASSERT(second && strncmp(second + 4, "HTTP/1.1 200", 12) == 0);
    reply r;
    http(NULL, port, "GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);
}
