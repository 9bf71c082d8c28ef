/* Integration tests of what operators see, through the real binary:
 * /metrics exact under concurrency, X-Request-Id, the access log, and a
 * stalled log output that must not stall serving. */
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* Kinds of request the metrics test sends, with what each must count. */
enum { K_FORWARD, K_GRADIENT, K_BAD_JSON, K_LIVEZ, K_NOT_FOUND, K_STREAMED, KINDS };
static const struct {
    const char *method, *path, *route;
    long code;
    unsigned elements;
} kinds[KINDS] = {
    [K_FORWARD] = {"POST", "/forward", "forward", 200, 2},
    [K_GRADIENT] = {"POST", "/gradient", "gradient", 200, 4},
    [K_BAD_JSON] = {"POST", "/forward", "forward", 400, 0},
    [K_LIVEZ] = {"GET", "/livez", "livez", 200, 0},
    [K_NOT_FOUND] = {"GET", "/nope", "none", 404, 0},
    [K_STREAMED] = {"POST", "/forward", "forward", 200, 5000}, /* a streamed reply */
};

typedef struct counts {
    unsigned port;
    const char *big; /* the K_STREAMED body */
    unsigned long long sent, received, n[KINDS];
    int failures;
} counts;

static void *metrics_client(void *arg)
{
    counts *c = arg;
    CURL *h = curl_easy_init();
    for (int i = 0; i < 500; i++) {
        int k = i % KINDS;
        char body[64];
        const char *b = NULL;
        if (k == K_FORWARD)
            snprintf(body, sizeof body, "{\"x\": [%d, -%d]}", i, i);
        if (k == K_GRADIENT)
            snprintf(body, sizeof body, "[[1, -1], [2.5, -%d]]", i);
        if (k == K_BAD_JSON)
            snprintf(body, sizeof body, "{\"x\": [1,");
        if (k == K_FORWARD || k == K_GRADIENT || k == K_BAD_JSON)
            b = body;
        if (k == K_STREAMED)
            b = c->big;
        reply r;
        http(h, c->port, kinds[k].method, kinds[k].path, b, NULL, &r);
        if (r.status != kinds[k].code)
            c->failures++;
        c->sent += b ? strlen(b) : 0;
        c->received += r.len;
        c->n[k]++;
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* 8 threads x 500 requests of six kinds: every counter moves by exactly
 * what was sent. */
void test_http_metrics_exact(void)
{
    srv s;
    if (srv_start(&s, NULL) != 0)
        return;
    size_t biglen = 5000 * 8 + 16;
    char *big = malloc(biglen), *p = big;
    p += sprintf(p, "[");
    for (int i = 0; i < 5000; i++)
        p += sprintf(p, "%s%d", i ? "," : "", i % 2 ? i : -i);
    sprintf(p, "]");

    reply before, after;
    http(NULL, s.port, "GET", "/metrics", NULL, NULL, &before);
    ASSERT_EQ(before.status, 200);
    ASSERT_STR_EQ(before.content_type, "text/plain; version=0.0.4; charset=utf-8");
    enum { T = 8 };
    pthread_t t[T];
    counts c[T];
    for (int i = 0; i < T; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].port = s.port;
        c[i].big = big;
        ASSERT_EQ(pthread_create(&t[i], NULL, metrics_client, &c[i]), 0);
    }
    counts all = {0};
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(c[i].failures, 0);
        all.sent += c[i].sent;
        all.received += c[i].received;
        for (int k = 0; k < KINDS; k++)
            all.n[k] += c[i].n[k];
    }
    http(NULL, s.port, "GET", "/metrics", NULL, NULL, &after);
    ASSERT_EQ(after.status, 200);
    const char *b0 = before.body ? before.body : "", *b1 = after.body ? after.body : "";
#define DELTA(name) (test_series(b1, name, 0) - test_series(b0, name, 0))
    /* Per route and code, from what each kind must count. */
    static const char *const routes[] = {"forward", "gradient", "livez", "none"};
    static const long codes[] = {200, 400, 404};
    for (size_t r = 0; r < 4; r++) {
        unsigned long long n = 0, elements = 0;
        for (size_t ci = 0; ci < 3; ci++) {
            unsigned long long want = 0;
            for (int k = 0; k < KINDS; k++)
                if (strcmp(kinds[k].route, routes[r]) == 0 && kinds[k].code == codes[ci])
                    want += all.n[k];
            char name[128];
            snprintf(name, sizeof name, "leakyrelu_requests_total{route=\"%s\",code=\"%ld\"}",
                     routes[r], codes[ci]);
            ASSERT_NEAR(DELTA(name), want, 0);
            n += want;
        }
        for (int k = 0; k < KINDS; k++)
            if (strcmp(kinds[k].route, routes[r]) == 0)
                elements += all.n[k] * kinds[k].elements;
        char name[128];
        snprintf(name, sizeof name, "leakyrelu_request_duration_seconds_count{route=\"%s\"}",
                 routes[r]);
        ASSERT_NEAR(DELTA(name), n, 0);
        snprintf(name, sizeof name,
                 "leakyrelu_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"}", routes[r]);
        ASSERT_NEAR(DELTA(name), n, 0);
        if (r < 2) {
            snprintf(name, sizeof name, "leakyrelu_elements_total{route=\"%s\"}", routes[r]);
            ASSERT_NEAR(DELTA(name), elements, 0);
        }
    }
    ASSERT_NEAR(DELTA("leakyrelu_requests_total{route=\"metrics\",code=\"200\"}"), 1, 0);
    ASSERT_NEAR(DELTA("leakyrelu_request_bytes_total"), all.sent, 0);
    /* The first scrape's own reply was counted once it was sent. */
    ASSERT_NEAR(DELTA("leakyrelu_response_bytes_total"), all.received + before.len, 0);
    ASSERT_NEAR(test_series(b1, "leakyrelu_requests_in_flight", 0), 1, 0); /* this scrape */
    ASSERT_NEAR(DELTA("leakyrelu_requests_aborted_total{route=\"forward\"}"), 0, 0);
    ASSERT(test_series(b1, "leakyrelu_connections_open", 0) >= 1);
    ASSERT(test_series(b1, "process_resident_memory_bytes", 0) > 1e6);
    ASSERT(test_series(b1, "process_cpu_seconds_total", 0) > 0);
#undef DELTA
    reply_free(&before);
    reply_free(&after);
    free(big);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* A request with its own X-Request-Id header (NULL: none). */
static void http_with_id(unsigned port, const char *method, const char *path, const char *id,
                         reply *r)
{
    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Request-Id: %s", id ? id : "");
    http_header(NULL, port, method, path, strcmp(method, "POST") == 0 ? "[1, -1]" : NULL, NULL,
                id ? hdr : NULL, r);
}

static int generated(const char *id)
{
    return strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32;
}

void test_http_request_id(void)
{
    unsigned port = shared_port();
    reply r, r2;
    http_with_id(port, "POST", "/forward", "client-42.a/b", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.request_id, "client-42.a/b");
    reply_free(&r);
    http_with_id(port, "GET", "/nope", "err-1", &r); /* errors too */
    ASSERT_EQ(r.status, 404);
    ASSERT_STR_EQ(r.request_id, "err-1");
    reply_free(&r);
    http_with_id(port, "PUT", "/forward", "err-2", &r);
    ASSERT_EQ(r.status, 501);
    ASSERT_STR_EQ(r.request_id, "err-2");
    reply_free(&r);
    /* Unsafe ids are replaced: a space, too long. */
    http_with_id(port, "GET", "/livez", "a b", &r);
    ASSERT(generated(r.request_id));
    reply_free(&r);
    char longid[200];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    http_with_id(port, "GET", "/livez", longid, &r);
    ASSERT(generated(r.request_id));
    reply_free(&r);
    /* None sent: a new one each time. */
    http_with_id(port, "GET", "/livez", NULL, &r);
    http_with_id(port, "GET", "/livez", NULL, &r2);
    ASSERT(generated(r.request_id) && generated(r2.request_id));
    ASSERT(strcmp(r.request_id, r2.request_id) != 0);
    reply_free(&r);
    reply_free(&r2);
    /* A request refused for its framing gets one as well. */
    static const char bad[] = "POST /forward HTTP/1.1\r\nHost: x\r\nX-Request-Id: frame-1\r\n"
                              "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n";
    char out[2048];
    int closed;
    ASSERT(http_raw(port, bad, sizeof bad - 1, out, sizeof out, 2000, &closed) > 0);
    ASSERT(strstr(out, " 400 ") != NULL);
    ASSERT(strstr(out, "X-Request-Id: frame-1\r\n") != NULL);
}

/* The line of the request with id, parsed, or NULL. */
static json_t *log_line(const char *text, const char *id)
{
    char want[160];
    snprintf(want, sizeof want, "\"request_id\": \"%s\"", id);
    const char *at = strstr(text, want);
    if (!at)
        return NULL;
    while (at > text && at[-1] != '\n')
        at--;
    return json_loadb(at, strcspn(at, "\n"), 0, NULL);
}

void test_http_access_log(void)
{
    static const char *const json_args[] = {"--log", "json", NULL};
    srv s;
    int err_fd = -1;
    if (srv_start_stderr(&s, json_args, &err_fd) != 0)
        return;
    reply r;
    http_with_id(s.port, "POST", "/forward", "log-1", &r);
    ASSERT_EQ(r.status, 200);
    size_t reply_len = r.len;
    reply_free(&r);
    http_with_id(s.port, "GET", "/no%22pe%01", "log-2", &r);
    ASSERT_EQ(r.status, 404);
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0); /* the log is flushed before the exit */
    char *text = test_read_fd(err_fd);
    close(err_fd);
    ASSERT(text != NULL);
    json_t *j = text ? log_line(text, "log-1") : NULL;
    ASSERT(j != NULL);
    if (j) {
        const char *ts = json_string_value(json_object_get(j, "ts"));
        ASSERT(ts && strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z');
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "method")), "POST");
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")), "/forward");
        ASSERT_EQ(json_integer_value(json_object_get(j, "status")), 200);
        ASSERT_EQ(json_integer_value(json_object_get(j, "request_bytes")), 7); /* "[1, -1]" */
        ASSERT_EQ(json_integer_value(json_object_get(j, "response_bytes")), reply_len);
        ASSERT_EQ(json_integer_value(json_object_get(j, "elements")), 2);
        ASSERT(json_real_value(json_object_get(j, "duration_s")) > 0);
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
        json_decref(j);
    }
    j = text ? log_line(text, "log-2") : NULL;
    ASSERT(j != NULL);
    if (j) {
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")), "/no%22pe%01");
        ASSERT_EQ(json_integer_value(json_object_get(j, "status")), 404);
        json_decref(j);
    }
    free(text);

    /* Text lines; and off writes none. */
    static const char *const text_args[] = {"--log", "text", NULL};
    if (srv_start_stderr(&s, text_args, &err_fd) != 0)
        return;
    http_with_id(s.port, "POST", "/forward", "log-3", &r);
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0);
    text = test_read_fd(err_fd);
    close(err_fd);
    ASSERT(text && strstr(text, " 127.0.0.1 \"POST /forward\" 200 7 ") && strstr(text, " log-3\n"));
    free(text);
    if (srv_start_stderr(&s, NULL, &err_fd) != 0) /* the harness passes --log off */
        return;
    http_with_id(s.port, "POST", "/forward", "log-4", &r);
    reply_free(&r);
    ASSERT_EQ(srv_stop(&s), 0);
    text = test_read_fd(err_fd);
    close(err_fd);
    ASSERT(text && !strstr(text, "log-4"));
    free(text);
}

/* stderr is a pipe nobody reads: requests are served as fast as ever,
 * lines beyond the buffer are dropped and counted, and SIGTERM still
 * stops the server. */
void test_http_log_stalled(void)
{
    static const char *const args[] = {"--log", "json", NULL};
    srv s;
    int err_fd = -1;
    if (srv_start_stderr(&s, args, &err_fd) != 0)
        return;
    CURL *h = curl_easy_init();
    int failures = 0;
    enum { N = 20000 }; /* about 4.6 MB of lines: past the pipe (up to 1 MiB) and the 1 MiB buffer */
    for (int i = 0; i < N; i++) {
        reply r;
        http(h, s.port, "POST", "/forward", "[1, -1]", NULL, &r);
        failures += r.status != 200 || r.rc != CURLE_OK;
        reply_free(&r);
    }
    ASSERT_EQ(failures, 0);
    reply m;
    http(h, s.port, "GET", "/metrics", NULL, NULL, &m);
    double dropped = test_series(m.body ? m.body : "", "leakyrelu_log_lines_dropped_total", 0);
    ASSERT(dropped > 0);
    ASSERT(dropped < N);
    reply_free(&m);
    curl_easy_cleanup(h);
    ASSERT_EQ(srv_stop(&s), 0);
    close(err_fd);
}
