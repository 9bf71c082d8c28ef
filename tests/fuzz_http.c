/* libFuzzer target (make fuzz): any bytes as one client connection to the
 * real server, libmicrohttpd and all, and all the server sends back
 * checked by fuzz_http_replies.c. The server starts once, with two
 * connection threads, as deployed; each input is written on a new
 * loopback connection whose server end the daemon adopts (server_adopt),
 * the write side is shut once the server has read it all, and the replies
 * are read until the server closes. The input may hold several requests
 * (pipelined) or an unfinished one. Environment: FUZZ_HTTP_STRICT says
 * how libmicrohttpd's own defects count (0: tolerated; 1, the default:
 * its 5xx are findings; 2: also two defects of 0.9.75, its error head
 * twice for a bad Content-Length, which every run meets, and a last chunk
 * after a reply to HEAD in chunks, which the service now avoids),
 * FUZZ_HTTP_SHOW=1 prints what the server sent. Run with
 * -close_fd_mask=2, as make fuzz does: the server's stderr
 * (libmicrohttpd's warnings) is then discarded. Built only by `make fuzz`
 * (clang). */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sanitizer/allocator_interface.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../src/config.h"
#include "../src/server.h"
#include "fuzz_http_replies.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* How long the server may take to read an input and close after its end:
 * far more than any input needs (milliseconds), less than its timeouts. */
#define CLOSE_WAIT_MS 2000
/* How long its memory may stay taken once it closed: microseconds, but
 * the first use of something may keep a block for good. */
#define FREE_WAIT_MS 100
/* The reply bytes kept for the checks; the rest is read and dropped. */
#define OUT_MAX ((size_t)16 << 20)
#define ORIGIN "https://app.example.com"

static server *srv;
static int listener = -1; /* ours: each input's connection is made to it */
static struct sockaddr_in listen_at;
static FILE *report; /* stderr as it was before -close_fd_mask */
static int show;
static replies_rules rules = {.origin = ORIGIN, .strict = 1};

/* Blocks allocated and not yet freed, by any thread. libFuzzer counts
 * every thread's mallocs and frees during an input and looks for leaks
 * after one that ends with more mallocs, so an input ends once the
 * server has freed what its connection took. */
static atomic_long live;

static void count_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
}

static void count_free(const volatile void *p)
{
    (void)p;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A finding: what was wrong, and what the server sent. */
__attribute__((noreturn)) static void fail(const char *what, const char *out, size_t n)
{
    fprintf(report, "fuzz_http: %s\n--- the server sent %zu bytes:\n%.*s\n---\n", what, n,
            (int)(n < 4096 ? n : 4096), out);
    fflush(report);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *strict = getenv("FUZZ_HTTP_STRICT");
    rules.strict = strict ? atoi(strict) : 1;
    show = getenv("FUZZ_HTTP_SHOW") != NULL;
    int fd = dup(STDERR_FILENO); /* libFuzzer has not closed it yet */
    report = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!report || !__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free))
        abort();
    signal(SIGPIPE, SIG_IGN);
    listen_at = (struct sockaddr_in){.sin_family = AF_INET};
    listen_at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof listen_at;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&listen_at, len) != 0 ||
        listen(listener, 16) != 0 ||
        getsockname(listener, (struct sockaddr *)&listen_at, &len) != 0)
        abort();
    return 0;
}

static void stop(void)
{
    close(listener);
    server_stop(srv);
}

/* Starts the server at the first input, once: by then -close_fd_mask=2
 * has sent stderr to /dev/null, and the access log, which writes
 * libmicrohttpd's warnings (one for every unfinished request), takes it
 * as it finds it (a piped stderr, it would have reopened for itself).
 * The defaults (and any LEAKYRELU_* variables), then no log, one worker
 * (large bodies are read in parallel parts), a body limit and a memory
 * budget that 8 KB of gzip can reach, an origin for CORS, and timeouts
 * that clear whatever a run leaves behind. */
static void start(void)
{
    config cfg;
    char *args[] = {"fuzz_http", NULL};
    if (config_load(&cfg, 1, args, stdout, stderr) >= 0)
        abort();
    strcpy(cfg.bind, "127.0.0.1");
    cfg.port = 0;
    cfg.threads = 2;
    cfg.log = ACCESSLOG_OFF;
    cfg.max_body = (size_t)1 << 20;
    cfg.max_memory = (size_t)16 << 20;
    cfg.max_connections = 64;
    cfg.timeout_s = 3;
    cfg.header_timeout_s = 3;
    char err[256] = "";
    if (cors_add(&cfg.cors, ORIGIN) != 0 || !(srv = server_start(&cfg, err, sizeof err))) {
        fprintf(report, "fuzz_http: cannot start the server: %s\n", err);
        abort();
    }
    atexit(stop); /* before LeakSanitizer's look at exit: nothing left running */
    /* what a first request keeps for good is then no input's */
    static const char warm[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
    LLVMFuzzerTestOneInput((const uint8_t *)warm, sizeof warm - 1);
}

/* Writes in[0..n) to fd, then shuts its write side, but only once the
 * server has read every byte (none unacknowledged, none waiting at peer,
 * the server's end): under epoll, libmicrohttpd 0.9.75 stops reading a
 * socket when a read returns less than it asked for, so an end that came
 * with the last bytes would go unseen until a timeout (an unfinished
 * request then held its connection 3 s). Reads into out until the server
 * closes; returns the bytes read (the first OUT_MAX kept). */
static size_t converse(int fd, int peer, const uint8_t *in, size_t n, char *out)
{
    size_t sent = 0, got = 0;
    int shut = 0, spins = 0;
    long long deadline = now_ms() + CLOSE_WAIT_MS;
    for (;;) {
        int unacked = 0, unread = 0;
        if (!shut && sent == n && ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked == 0 &&
            ioctl(peer, SIOCINQ, &unread) == 0 && unread == 0) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            fail(shut ? "the server kept the connection open after the client's end"
                      : "the server stopped reading the request, and did not close",
                 out, got < OUT_MAX ? got : OUT_MAX);
        /* The server is about to read, on another CPU: look again at
         * once a few times before sleeping a millisecond. */
        int wait = shut || sent < n ? (int)left : spins++ < 64 ? 0 : 1;
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < n ? POLLOUT : 0))};
        if (poll(&p, 1, wait) < 0 && errno != EINTR)
            abort();
        if (sent < n && (p.revents & POLLOUT)) {
            ssize_t k = send(fd, in + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (k > 0)
                sent += (size_t)k;
            else if (k < 0 && errno != EAGAIN && errno != EINTR)
                sent = n; /* the server closed first: it read enough */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            static char sink[65536];
            char *to = got < OUT_MAX ? out + got : sink;
            size_t room = got < OUT_MAX ? OUT_MAX - got : sizeof sink;
            ssize_t k = recv(fd, to, room, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                return got;
            got += k > 0 ? (size_t)k : 0;
        } else if (wait == 0) {
            sched_yield();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *out;
    if (!out && !(out = malloc(OUT_MAX)))
        abort();
    if (!srv)
        start();
    long before = atomic_load(&live);
    /* A loopback TCP connection: on a socketpair, libmicrohttpd 0.9.75
     * logs three warnings a reply as TCP options fail. Its server end is
     * adopted, and kept open here too to see what the server has read. */
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&listen_at, sizeof listen_at) != 0)
        abort();
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int end = accept(listener, NULL, NULL);
    int peer = end < 0 ? -1 : fcntl(end, F_DUPFD_CLOEXEC, 0);
    if (peer < 0 || server_adopt(srv, end) != 0)
        abort();
    size_t n = converse(fd, peer, data, size, out);
    /* closed with a reset: no TIME_WAIT for each of thousands a second */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger));
    close(fd);
    for (long long until = now_ms() + FREE_WAIT_MS; atomic_load(&live) > before && now_ms() < until;)
        sched_yield();
    close(peer);
    if (show)
        fprintf(report, "fuzz_http: the server sent %zu bytes:\n%.*s\n", n,
                (int)(n < OUT_MAX ? n : OUT_MAX), out);
    /* without these bytes no request is HEAD, and no reply may lack its body */
    rules.may_head = 0;
    for (size_t i = 0; i + 4 <= size && !rules.may_head; i++)
        rules.may_head = memcmp(data + i, "HEAD", 4) == 0;
    rules.cut = n > OUT_MAX;
    const char *why = replies_check(out, n < OUT_MAX ? n : OUT_MAX, &rules);
    if (why)
        fail(why, out, n < OUT_MAX ? n : OUT_MAX);
    return 0;
}
