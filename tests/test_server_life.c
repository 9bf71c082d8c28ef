/* Integration tests of src/server.c through the real binary, over a
 * connection's and the process's life: keep-alive, concurrent clients,
 * garbage, timeouts, graceful shutdown, flags and exit statuses. */
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
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

void test_http_keepalive(void)
{
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    for (int i = 0; i < 5; i++) {
        reply r;
        long connects = -1;
        http(h, port, "POST", "/forward", "[-1]", NULL, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, "[-0.01]");
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        ASSERT_EQ(connects, i == 0 ? 1 : 0); /* reused after the first */
        reply_free(&r);
    }
    /* An error reply that read the whole body keeps the connection too. */
    reply r;
    long connects = -1;
    http(h, port, "POST", "/forward", "[1,", NULL, &r);
    ASSERT_EQ(r.status, 400);
    reply_free(&r);
    http(h, port, "GET", "/healthz", NULL, NULL, &r);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    ASSERT_EQ(connects, 0);
    reply_free(&r);
    curl_easy_cleanup(h);
}

typedef struct worker {
    unsigned port;
    int id, failures;
} worker;

static void *concurrent_client(void *arg)
{
    worker *w = arg;
    CURL *h = curl_easy_init();
    for (int i = 0; i < 40; i++) {
        char body[64], want[64];
        int v = w->id * 1000 + i;
        snprintf(body, sizeof body, "[%d, -%d]", v, v);
        snprintf(want, sizeof want, "[%d.0, -%d.0]", v, v * 2);
        reply r;
        http(h, w->port, "POST", "/forward?slope=2", body, NULL, &r);
        if (r.status != 200 || !r.body || strcmp(r.body, want) != 0)
            w->failures++;
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

void test_http_concurrent(void)
{
    enum { N = 8 };
    pthread_t t[N];
    worker w[N];
    unsigned port = shared_port();
    for (int i = 0; i < N; i++) {
        w[i] = (worker){port, i + 1, 0};
        ASSERT_EQ(pthread_create(&t[i], NULL, concurrent_client, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(w[i].failures, 0);
    }
}

/* Random bytes and mutated requests: every reply is a JSON error or a
 * result, and the server stays up. */
void test_http_garbage(void)
{
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    uint64_t state = 12345;
    static const char seed[] = "{\"x\": [[1.5, -2e-3], [3, -4]], \"slope\": 0.1, \"grad_output\": [[1, 2], [3, 4]]}";
    for (int i = 0; i < 300; i++) {
        char body[sizeof seed];
        memcpy(body, seed, sizeof seed);
        for (int k = 0; k < 1 + i % 4; k++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body[state % (sizeof seed - 1)] = (char)(1 + (state >> 20) % 255);
        }
        reply r;
        http(h, port, "POST", i % 2 ? "/gradient" : "/forward", body, NULL, &r);
        ASSERT(r.status == 200 || r.status == 400 || r.status == 422);
        json_t *j = r.body ? json_loads(r.body, JSON_DECODE_ANY, NULL) : NULL;
        if (!j)
            tap_fail(__FILE__, __LINE__, "reply is not JSON: %s", r.body ? r.body : "(none)");
        json_decref(j);
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    reply r;
    http(NULL, port, "GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);
}

/* A connection that stalls mid-request is closed after --timeout: not
 * at once, not never. */
void test_http_timeout(void)
{
    static const char *const args[] = {"--timeout", "1", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0}; /* a safety net, not the measurement */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char partial[] = "POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n[1";
    ASSERT_EQ(write(fd, partial, sizeof partial - 1), (long)(sizeof partial - 1));
    char buf[256];
    long long t0 = test_now_ms();
    ssize_t n = read(fd, buf, sizeof buf);
    long long ms = test_now_ms() - t0;
    ASSERT(n >= 0); /* closed (0) or an error reply, not the 10 s safety timeout */
    if (ms < 900 || ms > 5000) /* --timeout 1: a second after the last byte */
        tap_fail(__FILE__, __LINE__, "the stalled connection ended after %lld ms, not 1 s", ms);
    close(fd);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* Graceful shutdown: SIGTERM while a request is in flight. */
typedef struct slow_upload {
    sem_t started, go;
    int first;
    const char *body;
    size_t off, len;
} slow_upload;

static size_t on_read_slow(char *buf, size_t size, size_t n, void *cls)
{
    slow_upload *u = cls;
    if (u->first) { /* the server answered 100-continue: it has the request */
        u->first = 0;
        sem_post(&u->started);
        while (sem_wait(&u->go) != 0) {
        }
    }
    size_t k = size * n < u->len - u->off ? size * n : u->len - u->off;
    memcpy(buf, u->body + u->off, k);
    u->off += k;
    return k;
}

typedef struct inflight {
    unsigned port;
    slow_upload up;
    reply r;
} inflight;

static void *inflight_client(void *arg)
{
    inflight *f = arg;
    char url[128];
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Expect: 100-continue");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/forward", f->port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->up.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_slow);
    curl_easy_setopt(h, CURLOPT_READDATA, &f->up);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->r);
    f->r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->r.status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

void test_http_shutdown(void)
{
    static const char *const args[] = {"--grace", "30", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    CURL *idle = curl_easy_init();
    reply r;
    http(idle, s.port, "GET", "/readyz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);

    inflight f;
    memset(&f, 0, sizeof f);
    f.port = s.port;
    f.up.first = 1;
    f.up.body = "{\"x\": [2, -2]}";
    f.up.len = strlen(f.up.body);
    sem_init(&f.up.started, 0, 0);
    sem_init(&f.up.go, 0, 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, inflight_client, &f), 0);
    while (sem_wait(&f.up.started) != 0) {
    }
    kill(s.pid, SIGTERM);
    ASSERT_EQ(srv_expect_line(&s, "draining"), 0);

    /* Draining: an open connection sees /readyz 503 and Connection: close;
     * new connections are refused. */
    http(idle, s.port, "GET", "/readyz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(r.connection, "close");
    check_error_body(&r, "shutting_down", 0, NULL);
    reply_free(&r);
    http(NULL, s.port, "GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.rc, CURLE_COULDNT_CONNECT);
    reply_free(&r);

    /* The request in flight completes, then the server exits 0. */
    sem_post(&f.up.go);
    pthread_join(t, NULL);
    ASSERT_EQ(f.r.rc, CURLE_OK);
    ASSERT_EQ(f.r.status, 200);
    ASSERT_STR_EQ(f.r.body, "{\"y\": [2.0, -0.02]}");
    reply_free(&f.r);
    curl_easy_cleanup(idle);
    ASSERT_EQ(srv_wait(&s), 0);
    sem_destroy(&f.up.started);
    sem_destroy(&f.up.go);
}

void test_http_flags(void)
{
    static const char *const help[] = {"--help", NULL};
    static const char *const version[] = {"--version", NULL};
    static const char *const bad_port[] = {"--port", "http", NULL};
    static const char *const bad_body[] = {"--max-body", "lots", NULL};
    static const char *const bad_flag[] = {"--verbose", NULL};
    static const char *const extra[] = {"serve", NULL};
    ASSERT_EQ(run_status(help, NULL), 0);
    ASSERT_EQ(run_status(version, NULL), 0);
    ASSERT_EQ(run_status(bad_port, NULL), 2);
    ASSERT_EQ(run_status(bad_body, NULL), 2);
    ASSERT_EQ(run_status(bad_flag, NULL), 2);
    ASSERT_EQ(run_status(extra, NULL), 2);
    ASSERT_EQ(run_status(help, "LEAKYRELU_THREADS=many"), 2);
    /* The port is taken: a clear failure, status 1. */
    char port[16];
    snprintf(port, sizeof port, "%u", shared_port());
    const char *const taken[] = {"--port", port, NULL};
    ASSERT_EQ(run_status(taken, NULL), 1);
    /* --check: the container HEALTHCHECK. */
    const char *const check[] = {"--check", "--port", port, NULL};
    ASSERT_EQ(run_status(check, NULL), 0);
    const char *const check_none[] = {"--check", "--port", "1", NULL};
    ASSERT_EQ(run_status(check_none, NULL), 1);
}

/* Framing the library lets through is refused from the head alone, with
 * the service's JSON error, and the connection closed (RFC 9112 sections
 * 3.2, 6.1, 6.3): the server then still answers. */
void test_http_framing(void)
{
    static const struct {
        const char *request;
        int status;
        const char *code; /* NULL: a 200 */
        int closed;
    } cases[] = {
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
         400, "invalid_framing", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[1]",
         400, "invalid_framing", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n[]",
         400, "invalid_framing", 1},
        {"POST /forward HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]", 400, "invalid_host", 1},
        {"GET /healthz HTTP/1.1\r\n\r\n", 400, "invalid_host", 1},
        {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "invalid_host", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n[]", 501,
         "unsupported_transfer_encoding", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
         "2\r\n[]\r\n0\r\n\r\n",
         501, "unsupported_transfer_encoding", 1},
        {"POST /forward HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
         400, "invalid_framing", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Encoding: br\r\nContent-Length: 2\r\n"
         "\r\n[]",
         415, "unsupported_content_encoding", 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n"
         "Connection: close\r\n\r\n[]",
         400, "invalid_content_encoding", 1},
        /* allowed: HTTP/1.0 without Host, chunked alone, identity */
        {"POST /forward HTTP/1.0\r\nContent-Length: 2\r\n\r\n[]", 200, NULL, 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close"
         "\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
         200, NULL, 1},
        {"POST /forward HTTP/1.1\r\nHost: a\r\nContent-Encoding: identity\r\nContent-Length: 2"
         "\r\nConnection: close\r\n\r\n[]",
         200, NULL, 1},
    };
    unsigned port = shared_port();
    char out[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int closed, status = 0;
        long n = http_raw(port, cases[i].request, strlen(cases[i].request), out, sizeof out,
                          5000, &closed);
        if (n > 12)
            status = atoi(out + 9);
        char want[96];
        snprintf(want, sizeof want, "\"code\": \"%s\"", cases[i].code ? cases[i].code : "");
        if (status != cases[i].status || closed != cases[i].closed ||
            (cases[i].code && !strstr(out, want)) || !strstr(out, "application/json"))
            tap_fail(__FILE__, __LINE__, "case %zu: want %d %s%s, got %s (%.300s)", i,
                     cases[i].status, cases[i].code ? cases[i].code : "",
                     cases[i].closed ? " and closed" : "", closed ? "closed" : "open", out);
        reply r; /* and the server goes on */
        http(NULL, port, "GET", "/healthz", NULL, NULL, &r);
        ASSERT_EQ(r.status, 200);
        reply_free(&r);
    }
}

/* A connection to 127.0.0.1:port that sent `text` (and is kept open). */
static int connect_sending(unsigned port, const char *text)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
                    send(fd, text, strlen(text), MSG_NOSIGNAL) != (ssize_t)strlen(text))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* More connections than the old fixed limit of 1,024, each stuck half way
 * through its head, do not lock out a new client: the connection limit
 * follows the open-file limit, which the server raises at start. (Before,
 * the new request waited for --timeout to free a slot: 29.9 s.) */
void test_http_many_connections(void)
{
    enum { WANT = 1100 };
    struct rlimit lim;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
    size_t n = lim.rlim_cur > WANT + 100 ? WANT : (size_t)lim.rlim_cur - 100;
    if (n <= 1024) { /* not past the old limit: nothing to show */
        tap_skip("only %zu connections: the open-file limit is %llu", n,
                 (unsigned long long)lim.rlim_cur);
        return;
    }
    if (n < WANT)
        printf("#   only %zu connections: the open-file limit is %llu\n", n,
               (unsigned long long)lim.rlim_cur);
    srv s;
    if (srv_start(&s, NULL) != 0)
        return;
    int *fds = malloc(n * sizeof *fds);
    ASSERT(fds != NULL);
    size_t open_ = 0;
    for (; fds && open_ < n; open_++)
        if ((fds[open_] = connect_sending(s.port, "POST /forward HTTP/1.1\r\nHost: a\r\nConte")) < 0)
            break;
    ASSERT_EQ(open_, n);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    char out[1024];
    int closed;
    http_raw(s.port, req, sizeof req - 1, out, sizeof out, 10000, &closed);
    if (strncmp(out, "HTTP/1.1 200", 12) != 0)
        tap_fail(__FILE__, __LINE__, "with %zu connections half way: \"%.60s\"", open_, out);
    for (size_t i = 0; i < open_; i++)
        close(fds[i]);
    free(fds);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* --max-connections-per-ip: a client address past its share is closed at
 * once, and served again when one of its connections ends. */
void test_http_per_ip_limit(void)
{
    static const char *const args[] = {"--max-connections-per-ip", "3", NULL};
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    int fds[3];
    char out[1024];
    for (int i = 0; i < 3; i++) { /* held open, each with a request answered */
        fds[i] = connect_sending(s.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
        ASSERT(fds[i] >= 0);
        ssize_t got = fds[i] >= 0 ? recv(fds[i], out, sizeof out, 0) : -1;
        ASSERT(got > 12 && strncmp(out, "HTTP/1.1 200", 12) == 0);
    }
    int closed;
    long n = http_raw(s.port, req, sizeof req - 1, out, sizeof out, 5000, &closed);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(closed, 1);
    close(fds[0]);
    /* once the server has seen the close, a fourth is served */
    int served = 0;
    for (int tries = 0; tries < 100 && !served; tries++) {
        http_raw(s.port, req, sizeof req - 1, out, sizeof out, 5000, &closed);
        served = strncmp(out, "HTTP/1.1 200", 12) == 0;
    }
    ASSERT(served);
    close(fds[1]);
    close(fds[2]);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* Sends `piece` on fd every interval_ms until the server closes the
 * connection; returns the milliseconds that took, or -1 when it was still
 * open after max_ms. Anything the server sends before closing is read and
 * kept in out (cap bytes). */
static long trickle_until_closed(int fd, const char *piece, int interval_ms, int max_ms,
                                 char *out, size_t cap)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t got = 0;
    out[0] = '\0';
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > max_ms)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, interval_ms) == 1) {
            ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
            if (n <= 0)
                return ms;
            got += (size_t)n;
            out[got] = '\0';
            continue;
        }
        if (send(fd, piece, strlen(piece), MSG_NOSIGNAL) < 0)
            return ms;
    }
}

/* Slow clients: a head trickled a line at a time is cut off after
 * --header-timeout (the idle --timeout alone never fires, as bytes keep
 * coming); so is a body trickled below --min-body-rate; a kept-alive
 * connection idle between requests is left to --timeout. */
void test_http_slow_clients(void)
{
    static const char *const args[] = {"--header-timeout", "1", "--timeout", "20",
                                       "--min-body-rate", "1000", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    char out[1024];
    int fd = connect_sending(s.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n");
    ASSERT(fd >= 0);
    long ms = fd >= 0 ? trickle_until_closed(fd, "X-A: b\r\n", 200, 10000, out, sizeof out) : -1;
    if (ms < 0)
        tap_fail(__FILE__, __LINE__, "a trickled head was not cut off in 10 s");
    else if (ms < 900) /* --header-timeout 1 */
        tap_fail(__FILE__, __LINE__, "a trickled head was cut off after %ld ms, before 1 s", ms);
    else
        printf("#   a trickled head was cut off after %ld ms\n", ms);
    close(fd);

    fd = connect_sending(s.port, "POST /forward HTTP/1.1\r\nHost: a\r\n"
                                 "Content-Length: 100000\r\n\r\n[1");
    ASSERT(fd >= 0);
    ms = fd >= 0 ? trickle_until_closed(fd, ", 1, 1, 1", 300, 15000, out, sizeof out) : -1;
    if (ms < 0)
        tap_fail(__FILE__, __LINE__, "a body at 30 bytes/s was not cut off in 15 s");
    else if (ms < 4500) /* the rate is measured over 5 s */
        tap_fail(__FILE__, __LINE__, "a body at 30 bytes/s was cut off after %ld ms, before 5 s",
                 ms);
    else
        printf("#   a body at 30 bytes/s was cut off after %ld ms\n", ms);
    close(fd);

    /* kept alive and idle past the header timeout: still served */
    fd = connect_sending(s.port, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT(fd >= 0);
    ASSERT(fd >= 0 && recv(fd, out, sizeof out, 0) > 12 && strncmp(out, "HTTP/1.1 200", 12) == 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ASSERT_EQ(poll(&p, 1, 2500), 0); /* 2.5 s: past the header timeout, nothing comes */
    static const char again[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    ASSERT(send(fd, again, sizeof again - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof again - 1));
    ASSERT(recv(fd, out, sizeof out, 0) > 12 && strncmp(out, "HTTP/1.1 200", 12) == 0);
    close(fd);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* Large requests answered on another thread while clients vanish. */
typedef struct busy {
    unsigned port;
    const char *body, *want;
    int rounds, failures;
} busy;

static void *busy_client(void *arg)
{
    busy *b = arg;
    for (int i = 0; i < b->rounds; i++) {
        reply r;
        http(NULL, b->port, "POST", "/forward", b->body, "application/json", &r);
        if (r.status != 200 || !r.body || strcmp(r.body, b->want) != 0)
            b->failures++;
        reply_free(&r);
    }
    return NULL;
}

/* Closes fd at once with a reset (no orderly shutdown). */
static void vanish(int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* Clients that vanish mid-head, mid-body and mid-streamed-reply, while
 * the workers are busy with large requests: the large requests are
 * answered in full, the next request is served, and the server exits 0
 * (under valgrind, `make valgrind`: with no leak). */
void test_http_vanishing_clients(void)
{
    srv s;
    if (srv_start(&s, NULL) != 0)
        return;
    size_t shape[] = {300000};
    char *want, *body = test_big_body(shape, 1, 0, &want);
    busy b = {.port = s.port, .body = body, .want = want, .rounds = 10};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, busy_client, &b), 0);
    char head[160], buf[65536];
    snprintf(head, sizeof head,
             "POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n", strlen(body));
    for (int round = 0; round < 5; round++) {
        int fd = connect_sending(s.port, "POST /forward HTTP/1.1\r\nHost: a\r\nConte");
        ASSERT(fd >= 0);
        vanish(fd); /* mid-head */
        fd = connect_sending(s.port, head);
        ASSERT(fd >= 0);
        if (fd >= 0) /* mid-body: half of it */
            ASSERT(send(fd, body, strlen(body) / 2, MSG_NOSIGNAL) > 0);
        vanish(fd);
        fd = connect_sending(s.port, head);
        ASSERT(fd >= 0);
        for (size_t off = 0, len = strlen(body); fd >= 0 && off < len;) {
            ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        size_t got = 0; /* mid-reply: after its first 64 KB */
        while (fd >= 0 && got < 65536) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        ASSERT(got >= 65536);
        vanish(fd);
    }
    pthread_join(t, NULL);
    ASSERT_EQ(b.failures, 0);
    reply r;
    http(NULL, s.port, "POST", "/forward", "[1, -1]", NULL, &r);
    ASSERT_STR_EQ(r.body, "[1.0, -0.01]");
    reply_free(&r);
    free(want);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}
