/* The access log: lines are formatted by the request's thread into a ring
 * buffer and written out by one thread, which alone may wait for the
 * output. */
#define _GNU_SOURCE /* F_GETPIPE_SZ (Linux): a pipe's capacity */
#include "accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

/* How long the writer lets lines gather before it writes them: the most
 * a line waits, and at most 1/BATCH_NS wake-ups a second. */
#define BATCH_NS (5 * 1000 * 1000L)

/* The most written at once: few system calls under load. */
#define PIECE (64 * 1024)

struct accesslog {
    int fd;
    accesslog_format format;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char *ring;
    size_t cap;
    size_t head, tail; /* bytes ever added and ever written: tail <= head */
    int sleeping;      /* the writer waits for `wake` */
    int stop;
    enum { OUT_FILE, OUT_PIPE, OUT_SOCKET, OUT_OTHER } kind; /* what fd is */
    int own_fd;        /* fd was opened here (a pipe, non-blocking): close it */
    struct timespec stop_by; /* CLOCK_MONOTONIC: the flush's deadline */
    _Atomic uint64_t dropped;
};

/* A line being formatted: a fixed buffer, cut (never overrun) when full. */
typedef struct line {
    char buf[ACCESSLOG_LINE_MAX];
    size_t n;
} line;

__attribute__((format(printf, 2, 3)))
static void put(line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof l->buf - l->n ? (size_t)k : sizeof l->buf - l->n - 1;
}

/* s, at most max bytes of it, escaped for a JSON string (json) or a quoted
 * text field: '"', '\\' and controls escaped, valid UTF-8 kept, other
 * bytes replaced by U+FFFD (JSON) or \xHH (text). */
static void put_escaped(line *l, const char *s, size_t max, int json)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *end = p + strnlen((const char *)p, max);
    for (; p < end; p++) {
        if (l->n + 16 >= sizeof l->buf)
            return;
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            l->buf[l->n++] = '\\';
            l->buf[l->n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            put(l, json ? "\\u%04x" : "\\x%02x", c);
        } else if (c < 0x80) {
            l->buf[l->n++] = (char)c;
        } else {
            size_t k = utf8_seq_len(p, end);
            if (k == 0) {
                put(l, json ? "\\ufffd" : "\\x%02x", c);
                continue;
            }
            memcpy(l->buf + l->n, p, k);
            l->n += k;
            p += k - 1;
        }
    }
}

/* Plain bytes (no escaping), cut to fit. */
static void put_raw(line *l, const char *s, size_t n)
{
    if (n > sizeof l->buf - 1 - l->n)
        n = sizeof l->buf - 1 - l->n;
    memcpy(l->buf + l->n, s, n);
    l->n += n;
}

#define PUT_LITERAL(l, s) put_raw((l), (s), sizeof(s) - 1)

/* A decimal, at least `width` digits (zero-padded). */
static void put_u64(line *l, uint64_t v, int width)
{
    char d[24];
    int k = 0;
    do {
        d[sizeof d - 1 - k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || k < width);
    put_raw(l, d + sizeof d - k, (size_t)k);
}

/* Seconds with 6 decimals ("0.000123"), from the nearest microsecond. */
static void put_seconds(line *l, double s)
{
    uint64_t us = s > 0 ? (uint64_t)(s * 1e6 + 0.5) : 0;
    put_u64(l, us / 1000000, 1);
    PUT_LITERAL(l, ".");
    put_u64(l, us % 1000000, 6);
}

/* RFC 3339 in UTC with milliseconds: "2026-12-01T12:00:00.123Z". The
 * text up to the seconds is kept per thread: it changes once a second. */
static void put_time(line *l, const struct timespec *ts)
{
    static _Thread_local time_t last = -1;
    static _Thread_local char text[64];
    if (ts->tv_sec != last) {
        struct tm tm;
        time_t secs = ts->tv_sec;
        if (!gmtime_r(&secs, &tm))
            memset(&tm, 0, sizeof tm);
        snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        last = ts->tv_sec;
    }
    put_raw(l, text, 19);
    PUT_LITERAL(l, ".");
    put_u64(l, (uint64_t)ts->tv_nsec / 1000000, 3);
    PUT_LITERAL(l, "Z");
}

/* Copies the finished line into the ring, or counts it dropped. */
static void push(accesslog *log, line *l)
{
    l->buf[l->n++] = '\n'; /* put() always leaves one byte for it */
    pthread_mutex_lock(&log->lock);
    size_t used = log->head - log->tail;
    if (log->stop || l->n > log->cap - used) {
        pthread_mutex_unlock(&log->lock);
        atomic_fetch_add_explicit(&log->dropped, 1, memory_order_relaxed);
        return;
    }
    size_t at = log->head % log->cap, first = log->cap - at;
    if (first > l->n)
        first = l->n;
    memcpy(log->ring + at, l->buf, first);
    memcpy(log->ring, l->buf + first, l->n - first);
    log->head += l->n;
    if (log->sleeping)
        pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
}

static int past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* How many of n bytes (whole lines, ending in '\n') to write at once so
 * that no write blocks: all of them to a regular file (it never blocks for
 * long), a pipe opened non-blocking, or a socket (MSG_DONTWAIT), which
 * take what fits; else PIPE_BUF, which once poll() reported room a pipe
 * or terminal takes whole. Cuts at a line's end when it can. */
static size_t piece_size(accesslog *log, const char *p, size_t n)
{
    if (log->kind != OUT_OTHER || n <= PIPE_BUF)
        return n;
    size_t cut = PIPE_BUF;
    while (cut > 0 && p[cut - 1] != '\n')
        cut--;
    return cut > 0 ? cut : PIPE_BUF;
}

/* Writes a piece, waiting for room with poll() as long as it takes until
 * a stop is asked, then only until the stop's deadline; no write blocks
 * (piece_size). Returns 0, or -1 when the output failed or the deadline
 * passed. */
static int write_piece(accesslog *log, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        struct pollfd pfd = {.fd = log->fd, .events = POLLOUT};
        int r = log->kind == OUT_FILE ? 1 : poll(&pfd, 1, 100);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r <= 0) {
            pthread_mutex_lock(&log->lock);
            int give_up = log->stop && past(&log->stop_by);
            pthread_mutex_unlock(&log->lock);
            if (give_up)
                return -1;
            continue;
        }
        if (pfd.revents & (POLLERR | POLLNVAL))
            return -1;
        size_t k = piece_size(log, p + done, n - done);
        ssize_t w = log->kind == OUT_SOCKET
                        ? send(log->fd, p + done, k, MSG_DONTWAIT | MSG_NOSIGNAL)
                        : write(log->fd, p + done, k);
        if (w < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (w > 0)
            done += (size_t)w;
        if (w < (ssize_t)k) {
            /* The output is full: give its reader a moment, rather than
             * write a page at a time as it frees them. */
            struct timespec nap = {0, 1000000L};
            nanosleep(&nap, NULL);
        }
    }
    return 0;
}

/* The writer: takes up to PIECE bytes of whole lines at a time (the bytes
 * between tail and head are its alone, so it copies them without the
 * lock), so that what reaches the output is whole lines (but for the
 * last one of an output given up while stalled at the stop). */
static void *writer(void *arg)
{
    accesslog *log = arg;
    char piece[PIECE];
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->head == log->tail && !log->stop) {
            log->sleeping = 1;
            pthread_cond_wait(&log->wake, &log->lock);
            log->sleeping = 0;
        }
        if (log->head == log->tail || (log->stop && past(&log->stop_by)))
            break;
        if (log->head - log->tail < PIECE && !log->stop) {
            /* Let lines gather for a moment, unwoken (appenders signal
             * only a sleeping writer): under load, one wake-up and a few
             * writes per BATCH_NS rather than one of each per line. */
            pthread_mutex_unlock(&log->lock);
            struct timespec nap = {0, BATCH_NS};
            nanosleep(&nap, NULL);
            pthread_mutex_lock(&log->lock);
        }
        size_t at = log->tail % log->cap, n = log->head - log->tail;
        pthread_mutex_unlock(&log->lock);
        if (n > sizeof piece)
            n = sizeof piece;
        size_t first = log->cap - at < n ? log->cap - at : n;
        memcpy(piece, log->ring + at, first);
        memcpy(piece + first, log->ring, n - first);
        size_t cut = n;
        while (cut > 0 && piece[cut - 1] != '\n')
            cut--;
        if (cut == 0)
            cut = n; /* cannot happen: lines are shorter than a piece */
        int failed = write_piece(log, piece, cut);
        pthread_mutex_lock(&log->lock);
        if (failed) {
            log->tail = log->head;
            break;
        }
        log->tail += cut;
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

accesslog *accesslog_new(int fd, accesslog_format format, size_t buffer_bytes)
{
    accesslog *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->fd = fd;
    log->format = format;
    struct stat st;
    log->kind = fstat(fd, &st) != 0 ? OUT_OTHER
                : S_ISREG(st.st_mode) ? OUT_FILE
                : S_ISFIFO(st.st_mode) ? OUT_PIPE
                : S_ISSOCK(st.st_mode) ? OUT_SOCKET
                                        : OUT_OTHER;
    if (log->kind == OUT_PIPE) {
        /* A pipe of its own opening, non-blocking (a new open file
         * description: the flag does not reach whoever shares fd), as
         * large as an unprivileged process may make it (pipe-max-size,
         * 1 MiB by default), so that writes stay large and few when the
         * reader falls behind. Without /proc: PIPE_BUF pieces on fd. */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int nb = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (nb >= 0) {
            log->fd = nb;
            log->own_fd = 1;
            (void)fcntl(nb, F_SETPIPE_SZ, 1 << 20);
        } else {
            log->kind = OUT_OTHER;
        }
    }
    log->cap = buffer_bytes < ACCESSLOG_LINE_MAX ? ACCESSLOG_LINE_MAX : buffer_bytes;
    log->ring = malloc(log->cap);
    atomic_init(&log->dropped, 0);
    if (!log->ring)
        goto fail_ring;
    if (pthread_mutex_init(&log->lock, NULL) != 0)
        goto fail_mutex;
    if (pthread_cond_init(&log->wake, NULL) != 0)
        goto fail_cond;
    if (pthread_create(&log->thread, NULL, writer, log) != 0)
        goto fail_thread;
    return log;

fail_thread:
    pthread_cond_destroy(&log->wake);
fail_cond:
    pthread_mutex_destroy(&log->lock);
fail_mutex:
    free(log->ring);
fail_ring:
    if (log->own_fd)
        close(log->fd);
    free(log);
    return NULL;
}

void accesslog_write(accesslog *log, const accesslog_entry *e)
{
    if (log->format == ACCESSLOG_OFF)
        return;
    line l; /* not zeroed: only l.buf[0, l.n) is ever read */
    l.n = 0;
    uint64_t status = e->status > 0 ? (uint64_t)e->status : 0;
    if (log->format == ACCESSLOG_JSON) {
        PUT_LITERAL(&l, "{\"ts\": \"");
        put_time(&l, &e->ts);
        PUT_LITERAL(&l, "\", \"method\": \"");
        put_escaped(&l, e->method, 32, 1);
        PUT_LITERAL(&l, "\", \"path\": \"");
        put_escaped(&l, e->path, 256, 1);
        PUT_LITERAL(&l, "\", \"status\": ");
        put_u64(&l, status, 1);
        if (e->grpc_status) {
            PUT_LITERAL(&l, ", \"grpc_status\": \"");
            put_escaped(&l, e->grpc_status, 32, 1);
            PUT_LITERAL(&l, "\"");
        }
        PUT_LITERAL(&l, ", \"request_bytes\": ");
        put_u64(&l, e->request_bytes, 1);
        PUT_LITERAL(&l, ", \"response_bytes\": ");
        put_u64(&l, e->response_bytes, 1);
        PUT_LITERAL(&l, ", \"elements\": ");
        put_u64(&l, e->elements, 1);
        PUT_LITERAL(&l, ", \"duration_s\": ");
        put_seconds(&l, e->duration_s);
        PUT_LITERAL(&l, ", \"request_id\": \"");
        put_escaped(&l, e->request_id, 256, 1);
        PUT_LITERAL(&l, "\", \"remote\": \"");
        put_escaped(&l, e->remote, 64, 1);
        if (e->aborted)
            PUT_LITERAL(&l, "\", \"aborted\": true}");
        else
            PUT_LITERAL(&l, "\"}");
    } else {
        put_time(&l, &e->ts);
        PUT_LITERAL(&l, " ");
        put_escaped(&l, e->remote, 64, 0);
        PUT_LITERAL(&l, " \"");
        put_escaped(&l, e->method, 32, 0);
        PUT_LITERAL(&l, " ");
        put_escaped(&l, e->path, 256, 0);
        PUT_LITERAL(&l, "\" ");
        put_u64(&l, status, 1);
        PUT_LITERAL(&l, " ");
        put_u64(&l, e->request_bytes, 1);
        PUT_LITERAL(&l, " ");
        put_u64(&l, e->response_bytes, 1);
        PUT_LITERAL(&l, " ");
        put_u64(&l, e->elements, 1);
        PUT_LITERAL(&l, " ");
        put_seconds(&l, e->duration_s);
        PUT_LITERAL(&l, " ");
        put_escaped(&l, e->request_id, 256, 0);
        if (e->grpc_status) {
            PUT_LITERAL(&l, " grpc-status=");
            put_escaped(&l, e->grpc_status, 32, 0);
        }
        if (e->aborted)
            PUT_LITERAL(&l, " aborted");
    }
    push(log, &l);
}

void accesslog_message(accesslog *log, const char *level, const char *text)
{
    line l;
    l.n = 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (log->format == ACCESSLOG_JSON) {
        put(&l, "{\"ts\": \"");
        put_time(&l, &now);
        put(&l, "\", \"level\": \"%s\", \"message\": \"", level);
        put_escaped(&l, text, 512, 1);
        put(&l, "\"}");
    } else {
        put_time(&l, &now);
        put(&l, " %s ", level);
        put_escaped(&l, text, 512, 0);
    }
    push(log, &l);
}

int accesslog_on(const accesslog *log) { return log->format != ACCESSLOG_OFF; }

uint64_t accesslog_dropped(const accesslog *log)
{
    return atomic_load_explicit(&((accesslog *)(uintptr_t)log)->dropped, memory_order_relaxed);
}

void accesslog_free(accesslog *log, unsigned flush_ms)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->lock);
    clock_gettime(CLOCK_MONOTONIC, &log->stop_by);
    log->stop_by.tv_sec += flush_ms / 1000;
    log->stop_by.tv_nsec += (long)(flush_ms % 1000) * 1000000L;
    if (log->stop_by.tv_nsec >= 1000000000L) {
        log->stop_by.tv_sec++;
        log->stop_by.tv_nsec -= 1000000000L;
    }
    log->stop = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->thread, NULL); /* within flush_ms and a poll's 100 ms */
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->lock);
    if (log->own_fd)
        close(log->fd);
    free(log->ring);
    free(log);
}

int accesslog_parse_format(const char *s, accesslog_format *out)
{
    static const char *const names[] = {[ACCESSLOG_JSON] = "json", [ACCESSLOG_TEXT] = "text",
                                        [ACCESSLOG_OFF] = "off"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (accesslog_format)i;
            return 0;
        }
    return -1;
}
