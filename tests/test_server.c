/* Integration tests of src/server.c through the real binary: endpoints,
 * results, errors, body limits, the PyTorch cases over HTTP and streamed
 * replies (also to a slow reader). The harness is harness.c. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

void test_http_endpoints(void)
{
    unsigned port = shared_port();
    reply r;
    static const char *const ok[] = {"/healthz", "/livez", "/readyz"};
    for (int i = 0; i < 3; i++) {
        http(NULL, port, "GET", ok[i], NULL, NULL, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, "{\"status\": \"ok\"}");
        reply_free(&r);
    }
    http(NULL, port, "GET", "/version", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && strstr(r.body, "\"version\": \"") != NULL);
    reply_free(&r);
    http(NULL, port, "HEAD", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    reply_free(&r);
}

void test_http_compute(void)
{
    static const struct {
        const char *target, *body, *ctype, *want;
    } cases[] = {
        {"/forward", "{\"x\": [[1, -2], [3, -4]], \"slope\": 0.1}", "application/json",
         "{\"y\": [[1.0, -0.2], [3.0, -0.4]]}"},
        {"/forward?slope=0.1", "[1, -2, 3]", NULL, "[1.0, -0.2, 3.0]"},
        {"/forward", "[1, -2, 3]", "", "[1.0, -0.02, 3.0]"},
        {"/forward", "-0", "application/json; charset=utf-8", "-0.0"},
        {"/forward", "[2, -3]", "text/plain;charset=UTF-8", "[2.0, -0.03]"}, /* fetch's */
        {"/forward", "[]", NULL, "[]"},
        {"/forward?slope=2", "{\"x\": [-3]}", NULL, "{\"y\": [-6.0]}"},
        {"/forward?&slope=2&", "[-3]", NULL, "[-6.0]"},
        {"/gradient", "{\"x\": [1, 0, -0, -1]}", NULL, "{\"grad\": [1.0, 0.01, 0.01, 0.01]}"},
        {"/gradient?slope=0.5", "{\"x\": [1, -1], \"grad_output\": [3, 3]}", NULL,
         "{\"grad\": [3.0, 1.5]}"},
        {"/forward", "[1e-05, 1e16, 1000000000000000000000000000000]", NULL,
         "[1e-05, 1e+16, 1e+30]"},
    };
    unsigned port = shared_port();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r;
        http(NULL, port, "POST", cases[i].target, cases[i].body, cases[i].ctype, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, cases[i].want);
        reply_free(&r);
    }
}

void test_http_errors(void)
{
    static const struct {
        const char *method, *target, *body, *ctype;
        long status;
        const char *code;
        int offset;
        const char *path, *allow;
    } cases[] = {
        {"POST", "/forward", "[1, 2", NULL, 400, "invalid_json", 1, NULL, NULL},
        {"POST", "/forward", "[NaN]", NULL, 400, "invalid_number", 1, NULL, NULL},
        {"POST", "/forward", "[1] [2]", NULL, 400, "trailing_data", 1, NULL, NULL},
        {"POST", "/forward", "[\"\xff\"]", NULL, 400, "invalid_utf8", 1, NULL, NULL},
        {"POST", "/forward", "", NULL, 400, "empty_body", 0, NULL, NULL},
        {"GET", "/nope", NULL, NULL, 404, "not_found", 0, NULL, NULL},
        {"GET", "/forward", NULL, NULL, 405, "method_not_allowed", 0, NULL, "POST, OPTIONS"},
        {"DELETE", "/healthz", NULL, NULL, 501, "method_not_implemented", 0, NULL, "GET, HEAD, OPTIONS"},
        {"POST", "/healthz", "[1]", NULL, 405, "method_not_allowed", 0, NULL, "GET, HEAD, OPTIONS"},
        {"POST", "/forward", "[1]", "text/html", 415, "unsupported_media_type", 0, NULL, NULL},
        {"POST", "/forward", "{\"slope\": 1}", NULL, 422, "missing_x", 0, NULL, NULL},
        {"POST", "/forward", "[[1, 2], [3]]", NULL, 422, "ragged_array", 0, "x[1]", NULL},
        {"POST", "/forward", "[1, true]", NULL, 422, "not_a_number", 0, "x[1]", NULL},
        {"POST", "/forward", "[[[1e400]]]", NULL, 422, "number_out_of_range", 0, "x[0][0][0]", NULL},
        {"POST", "/forward", "{\"x\": [1], \"slope\": \"a\"}", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward?slope=x", "[1]", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward?slope=1", "{\"x\": [1], \"slope\": 1}", NULL, 422, "slope_conflict", 0, NULL, NULL},
        {"POST", "/forward?sloep=1", "[1]", NULL, 422, "unknown_parameter", 0, NULL, NULL},
        {"POST", "/forward?slope=1%00x", "[1]", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward", "[1]", "application/json garbage", 415, "unsupported_media_type", 0, NULL, NULL},
        {"POST", "/forward", "{\"x\": [1], \"slop\": 1}", NULL, 422, "unknown_member", 0, NULL, NULL},
        {"POST", "/gradient", "{\"x\": [1], \"grad_output\": [1, 2]}", NULL, 422, "shape_mismatch", 0, NULL, NULL},
        {"POST", "/forward", "{\"x\": [1], \"x\": [1]}", NULL, 422, "duplicate_member", 0, NULL, NULL},
        {"POST", "/forward", "true", NULL, 422, "invalid_body", 0, NULL, NULL},
        {"POST", "/forward?slope=-10", "[-1e308]", NULL, 422, "result_not_finite", 0, "x[0]", NULL},
    };
    unsigned port = shared_port();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r;
        http(NULL, port, cases[i].method, cases[i].target, cases[i].body, cases[i].ctype, &r);
        if (r.status != cases[i].status)
            tap_fail(__FILE__, __LINE__, "case %zu: status %ld, want %ld: %s", i, r.status,
                     cases[i].status, r.body ? r.body : "");
        check_error_body(&r, cases[i].code, cases[i].offset, cases[i].path);
        if (cases[i].allow)
            ASSERT_STR_EQ(r.allow, cases[i].allow);
        reply_free(&r);
    }
    /* A deep document is refused without harming the server. */
    size_t n = 200000;
    char *deep = malloc(2 * n + 1);
    ASSERT(deep != NULL);
    if (!deep)
        return;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    reply r;
    http(NULL, port, "POST", "/forward", deep, NULL, &r);
    ASSERT_EQ(r.status, 422);
    check_error_body(&r, "too_deep", 0, NULL);
    reply_free(&r);
    free(deep);
}

/* A chunked upload of `total` bytes of "[1, 1, ...]"-like filler. */
typedef struct upload {
    size_t sent, total;
} upload;

static size_t on_read_filler(char *buf, size_t size, size_t n, void *cls)
{
    upload *u = cls;
    size_t k = size * n < 100 ? size * n : 100; /* many small chunks */
    if (k > u->total - u->sent)
        k = u->total - u->sent;
    for (size_t i = 0; i < k; i++)
        buf[i] = u->sent + i == 0 ? '[' : ' ';
    u->sent += k;
    return k;
}

void test_http_body_limit(void)
{
    static const char *const args[] = {"--max-body", "1000", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    char body[1200];
    reply r;
    /* Exactly at the limit: read and answered. */
    memset(body, ' ', sizeof body);
    memcpy(body, "[1]", 3);
    body[1000] = '\0';
    http(NULL, s.port, "POST", "/forward", body, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body, "[1.0]");
    reply_free(&r);
    /* One byte over, by Content-Length. */
    body[1000] = ' ';
    body[1001] = '\0';
    http(NULL, s.port, "POST", "/forward", body, NULL, &r);
    ASSERT_EQ(r.status, 413);
    check_error_body(&r, "body_too_large", 0, NULL);
    reply_free(&r);
    /* Chunked, over the limit: decided while reading, answered at the end,
     * however far past the limit the body goes (in many pieces). */
    static const size_t totals[] = {999, 5000, 300000};
    for (size_t t = 0; t < 3; t++) {
        size_t total = totals[t];
        CURL *h = curl_easy_init();
        struct curl_slist *hd = curl_slist_append(NULL, "Transfer-Encoding: chunked");
        char url[128];
        upload u = {0, total};
        memset(&r, 0, sizeof r);
        snprintf(url, sizeof url, "http://127.0.0.1:%u/forward", s.port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_filler);
        curl_easy_setopt(h, CURLOPT_READDATA, &u);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        /* 999 bytes of "[   ..." is unterminated JSON: 400, not 413. */
        ASSERT_EQ(r.status, total <= 1000 ? 400 : 413);
        reply_free(&r);
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);
    }
    /* A GET with a body over the limit is still answered. */
    char *big = malloc(300001);
    ASSERT(big != NULL);
    if (big) {
        memset(big, ' ', 300000);
        big[300000] = '\0';
        http(NULL, s.port, "GET", "/healthz", big, NULL, &r);
        ASSERT_EQ(r.status, 200);
        reply_free(&r);
        free(big);
    }
    ASSERT_EQ(srv_stop(&s), 0);
}

/* One PyTorch case over a keep-alive connection: the reply is exactly
 * PyTorch's. */
typedef struct torch_conn {
    CURL *h;
    unsigned port;
} torch_conn;

static void torch_over_http(void *arg, int line, int which, const char *req, const char *want)
{
    torch_conn *c = arg;
    reply r;
    http(c->h, c->port, "POST", which ? "/gradient" : "/forward", req, "application/json", &r);
    if (r.status != 200 || !r.body || strcmp(r.body, want) != 0)
        tap_fail(__FILE__, __LINE__, "case %d/%d: status %ld\n#   want %.200s\n#   got  %.200s",
                 line, which, r.status, want, r.body ? r.body : "(null)");
    reply_free(&r);
}

void test_http_torch_cases(void)
{
    torch_conn c = {curl_easy_init(), shared_port()}; /* one connection for all */
    ASSERT_EQ(test_torch_cases(torch_over_http, &c), 200);
    curl_easy_cleanup(c.h);
}

static void prelu_over_http(void *arg, int line, const char *req, int backward, const char *want,
                            const double *gs, size_t n)
{
    torch_conn *c = arg;
    reply r;
    http(c->h, c->port, "POST", backward ? "/gradient" : "/forward", req, "application/json", &r);
    int ok = r.status == 200 && r.body &&
             (backward ? test_check_grad_slope(r.body, want, gs, n) : strcmp(r.body, want) == 0);
    if (!ok)
        tap_fail(__FILE__, __LINE__, "prelu case %d/%d: status %ld\n#   want %.300s\n#   got  %.300s",
                 line, backward, r.status, want, r.body ? r.body : "(null)");
    reply_free(&r);
}

void test_http_torch_prelu(void)
{
    torch_conn c = {curl_easy_init(), shared_port()};
    ASSERT_EQ(test_torch_prelu_cases(prelu_over_http, &c), 40);
    curl_easy_cleanup(c.h);
}

void test_http_torch_f32(void)
{
    torch_conn c = {curl_easy_init(), shared_port()};
    ASSERT_EQ(test_torch_f32_cases(torch_over_http, &c), 60);
    curl_easy_cleanup(c.h);
}

/* A float32 body of 5 MB with ties, streamed in and out through the real
 * server: each number rounded once, the reply in float32 text. */
void test_http_f32_streamed(void)
{
    char *want, *body = test_f32_body(2000, 100, &want);
    CURL *h = curl_easy_init();
    reply r;
    http(h, shared_port(), "POST", "/forward", body, "application/json", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.transfer_encoding, "chunked");
    if (!r.body || strcmp(r.body, want) != 0)
        tap_fail(__FILE__, __LINE__, "the float32 reply differs");
    reply_free(&r);
    curl_easy_cleanup(h);
    free(want);
    free(body);
}

/* PReLU over 10M elements (250 x 4 x 10000; 1M when instrumented),
 * streamed in with the slopes after x, and out: every gradient, and the 4
 * slope gradients exactly (sums of small multiples of 1/2 are exact). */
void test_http_prelu_10m(void)
{
    enum { C = 4, L = 10000 };
    size_t N = test_instrumented() ? 25 : 250;
    static const char *const xs[] = {"-1", "2", "-0.5", "3", "-2"};
    static const double xv[] = {-1, 2, -0.5, 3, -2};
    static const char *const slope_text[C] = {"0.5", "0.25", "0.125", "2.0"};
    size_t n = N * C * L;
    printf("#   %zu elements\n", n);
    char *body = malloc(n * 6 + 256), *want = malloc(n * 8 + 256), *p = body, *w = want;
    ASSERT(body && want);
    if (!body || !want)
        return;
    double sums[C] = {0};
    p += sprintf(p, "{\"x\": [");
    w += sprintf(w, "{\"grad\": [");
    for (size_t i = 0; i < n; i++) {
        size_t c = i / L % C, k = (i * 7 + i / 3) % 5;
        const char *open = i % ((size_t)C * L) == 0 ? (i ? "]], [[" : "[[") : i % L == 0 ? "], [" : ", ";
        size_t ol = strlen(open);
        memcpy(p, open, ol);
        p += ol;
        memcpy(w, open, ol);
        w += ol;
        size_t xl = strlen(xs[k]);
        memcpy(p, xs[k], xl);
        p += xl;
        const char *g = xv[k] > 0 ? "1.0" : slope_text[c];
        memcpy(w, g, strlen(g));
        w += strlen(g);
        if (xv[k] <= 0)
            sums[c] += xv[k];
    }
    sprintf(p, "]]], \"slope\": [0.5, 0.25, 0.125, 2]}");
    w += sprintf(w, "]]], \"grad_slope\": [");
    for (int c = 0; c < C; c++)
        w += sprintf(w, "%s%.1f", c ? ", " : "", sums[c]);
    sprintf(w, "]}");
    CURL *h = curl_easy_init();
    reply r;
    http(h, shared_port(), "POST", "/gradient", body, "application/json", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.transfer_encoding, "chunked");
    ASSERT_EQ(r.len, strlen(want));
    if (!r.body || strcmp(r.body, want) != 0)
        tap_fail(__FILE__, __LINE__, "the 10M-element PReLU gradient differs");
    reply_free(&r);
    curl_easy_cleanup(h);
    free(body);
    free(want);
}

/* Large replies are streamed: chunked on HTTP/1.1 (and the connection
 * stays usable), until the close on HTTP/1.0; exact either way. */
void test_http_stream(void)
{
    static const size_t shape[] = {400, 250};
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    for (int round = 0; round < 3; round++) {
        char *want, *body = test_big_body(shape, 2, round != 1, &want);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         round == 2 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1);
        reply r;
        http(h, port, "POST", "/forward", body, "application/json", &r);
        ASSERT_EQ(r.rc, CURLE_OK);
        ASSERT_EQ(r.status, 200);
        if (round < 2)
            ASSERT_STR_EQ(r.transfer_encoding, "chunked");
        else
            ASSERT_STR_EQ(r.transfer_encoding, "");
        ASSERT_EQ(r.len, strlen(want));
        ASSERT(r.body && strcmp(r.body, want) == 0);
        reply_free(&r);
        free(want);
        free(body);
    }
    curl_easy_cleanup(h);
    /* --threads 1: no workers, the connection's thread formats alone. */
    static const char *const one[] = {"--threads", "1", NULL};
    srv s;
    if (srv_start(&s, one) != 0)
        return;
    char *want, *body = test_big_body(shape, 2, 1, &want);
    reply r;
    http(NULL, s.port, "POST", "/forward", body, "application/json", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.transfer_encoding, "chunked");
    ASSERT(r.body && strcmp(r.body, want) == 0);
    reply_free(&r);
    free(want);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* A client that reads a large reply slowly does not make the server hold
 * the reply's text: once the first bytes arrive (so the result is
 * computed and, were it written whole, would be written by now), the
 * server holds the 8 MB of doubles but not the 21 MB of text. The body
 * is short numbers ("-3, ") whose results print long. */
void test_http_stream_slow_reader(void)
{
    enum { N = 1000000 };
    static const char want[] = "-0.3703703670370368"; /* -3 * slope, as Python prints it */
    const size_t reply_len = 2 + (size_t)N * (sizeof want - 1) + (size_t)(N - 1) * 2;
    /* Under AddressSanitizer freed memory stays resident in quarantine:
     * turned off for this one server (other options kept). */
    char asan[512];
    const char *user = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=0", user ? user : "",
             user && *user ? ":" : "");
    srv s;
    if (srv_start_env(&s, NULL, asan) != 0)
        return;
    char *body = malloc((size_t)N * 4 + 2), *p = body;
    ASSERT(body != NULL);
    *p++ = '[';
    for (int i = 0; i < N; i++) {
        memcpy(p, i ? ", -3" : "-3", i ? 4 : 2);
        p += i ? 4 : 2;
    }
    *p++ = ']';
    size_t body_len = (size_t)(p - body);
    long before = rss_kb(s.pid);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {60, 0}; /* a safety net, not the measurement */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int small = 16384; /* a small receive window: the text stays at the server */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST /forward?slope=0.1234567890123456 HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      body_len);
    ASSERT_EQ(write(fd, head, (size_t)hn), hn);
    for (size_t off = 0; off < body_len;) {
        ssize_t w = write(fd, body + off, body_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char *text = malloc(reply_len + 65536);
    ASSERT(text != NULL);
    ssize_t got = read(fd, text, 1024);
    ASSERT(got > 0);
    long during = rss_kb(s.pid);
    const char *wrapper = getenv("LEAKYRELU_WRAPPER");
    if (wrapper && *wrapper) { /* valgrind's own memory would blur the figure */
        printf("#   slow reader: RSS not compared under %s\n", wrapper);
    } else if (before > 0 && during > 0 &&
               (size_t)(during - before) * 1024 > 8 * (size_t)N + reply_len / 2) {
        tap_fail(__FILE__, __LINE__, "server RSS grew by %ld kB while the client paused",
                 during - before);
    }
    /* Then the whole text arrives (to the close), and it is right. */
    size_t total = got > 0 ? (size_t)got : 0;
    while (total < reply_len + 65536 &&
           (got = read(fd, text + total, reply_len + 65536 - total)) > 0)
        total += (size_t)got;
    close(fd);
    size_t want_len = sizeof want - 1, numbers = 0, body_at = 0;
    for (size_t i = 0; i + 4 <= total && !body_at; i++)
        if (memcmp(text + i, "\r\n\r\n", 4) == 0)
            body_at = i + 4;
    /* chunked: count the numbers wherever the chunk framing falls */
    for (size_t i = body_at; body_at && i + want_len <= total; i++) {
        if (memcmp(text + i, want, want_len) == 0) {
            numbers++;
            i += want_len - 1;
        }
    }
    ASSERT(body_at != 0);
    ASSERT(total > reply_len);
    ASSERT(numbers >= (size_t)N - 4000); /* a few are split by chunk framing */
    free(text);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* A client that stops reading a streamed reply is cut off by --timeout:
 * what it reads afterwards ends (EOF) well before the reply would, and the
 * server goes on answering. */
void test_http_stalled_reader(void)
{
    static const char *const args[] = {"--timeout", "2", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    size_t shape[] = {1000000}; /* a 20 MB reply: far more than socket buffers hold */
    char *want, *body = test_big_body(shape, 1, 0, &want);
    size_t want_len = strlen(want);
    char head[128];
    int n = snprintf(head, sizeof head,
                     "POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
                     strlen(body));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096; /* the reply waits at the server, not in this socket */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    for (size_t off = 0, len = strlen(body); off < len;) {
        ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char buf[65536];
    ASSERT(recv(fd, buf, 100, 0) > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0);
    struct pollfd p = {.fd = fd, .events = 0}; /* stalled: nothing read for 4.5 s */
    poll(&p, 1, 4500);
    size_t got = 0;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t r;
    while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
        got += (size_t)r;
    ASSERT_EQ(r, 0); /* closed by the server, not a timeout here */
    if (got >= want_len / 2)
        tap_fail(__FILE__, __LINE__, "read %zu of %zu bytes after stalling", got, want_len);
    close(fd);
    reply rr;
    http(NULL, s.port, "GET", "/healthz", NULL, NULL, &rr);
    ASSERT_EQ(rr.status, 200);
    reply_free(&rr);
    free(want);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}
