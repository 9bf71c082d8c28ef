/* The gRPC server's event loops: one thread per --threads, each with an
 * epoll set, accepting from the one listening socket and serving its
 * connections' HTTP/2 with nghttp2. Bytes read go to the session; frames
 * it sends are gathered (small ones copied, reply data where it lies)
 * and written with writev. A connection whose writes block stops being
 * read until they drain. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "drain.h"
#include "metrics.h"
#include "grpc_internal.h"

#define READ_BUF (256 * 1024)

/* epoll's tags for the two descriptors that are not connections. */
static int listen_tag, wake_tag;

/* Watches c's descriptor for reading (unless its writes wait) and for
 * writing (when they do). */
static void watch(grpc__conn *c)
{
    int out = c->niov > c->iov_at;
    if (out == c->out_armed && out == c->in_paused)
        return;
    /* Paused, not even the peer's end is watched: level-triggered, it
     * would wake the loop at once, again and again, until the writes move. */
    struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    if (epoll_ctl(c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
        c->out_armed = out;
        c->in_paused = out;
    }
}

static void free_retired(grpc__conn *c)
{
    while (c->retired) {
        grpc__out *o = c->retired;
        c->retired = o->next;
        rpc_reply_free(&o->reply);
        free(o->coded);
        budget_release(o->coded_budget, o->coded_charge);
        free(o);
    }
}

static void conn_close(grpc__conn *c)
{
    grpc__loop *l = c->loop;
    while (c->calls) /* nghttp2_session_del frees its streams without closing them */
        grpc__call_end(c->calls, NGHTTP2_CANCEL);
    nghttp2_session_del(c->ng);
    free_retired(c);
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&l->g->connections, 1);
    metrics_connections(l->g->sh.metrics, -1);
    free(c);
}

/* Writes what is gathered, then lets the session send more, until it has
 * nothing or the socket is full. Returns 0, or -1 when c must close. */
static int flush(grpc__conn *c)
{
    for (;;) {
        while (c->iov_at < c->niov) {
            size_t n = c->niov - c->iov_at;
            ssize_t w = writev(c->fd, c->iov + c->iov_at, (int)(n > 1024 ? 1024 : n));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                watch(c);
                return 0;
            }
            if (w <= 0)
                return -1;
            c->wrote = grpc__now();
            size_t left = (size_t)w;
            while (left && left >= c->iov[c->iov_at].iov_len)
                left -= c->iov[c->iov_at++].iov_len;
            if (left) {
                c->iov[c->iov_at].iov_base = (char *)c->iov[c->iov_at].iov_base + left;
                c->iov[c->iov_at].iov_len -= left;
            }
        }
        c->niov = c->iov_at = c->stage_len = 0;
        free_retired(c);
        if (!nghttp2_session_want_write(c->ng))
            break;
        if (nghttp2_session_send(c->ng) != 0)
            return -1;
        if (c->niov == 0)
            break;
    }
    watch(c);
    return nghttp2_session_want_read(c->ng) || nghttp2_session_want_write(c->ng) ? 0 : -1;
}

static int conn_read(grpc__conn *c)
{
    for (int rounds = 0; rounds < 16 && !c->in_paused; rounds++) {
        ssize_t n = read(c->fd, c->loop->rbuf, READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return -1;
        if (nghttp2_session_mem_recv(c->ng, c->loop->rbuf, (size_t)n) != n)
            return -1;
        if (flush(c) != 0)
            return -1;
    }
    return flush(c);
}

static void remote_of(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "";
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    }
    snprintf(out, cap, "%s", host);
}

/* A new connection's session: the callbacks, HTTP/2's bounds, and our
 * SETTINGS (streams, header list, windows, frame size). */
static int conn_session(grpc__conn *c)
{
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0)
        return -1;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return -1;
    }
    grpc__callbacks(cb);
    nghttp2_option_set_max_outbound_ack(opt, 1000);      /* SETTINGS and PING floods */
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33); /* rapid reset */
    nghttp2_option_set_max_continuations(opt, 8);        /* CONTINUATION floods */
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
    nghttp2_option_set_no_auto_window_update(opt, 1); /* a call's window: its memory (grpc_call.c) */
    int rv = nghttp2_session_server_new2(&c->ng, cb, c, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    if (rv != 0)
        return -1;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, GRPC_MAX_HEADER_LIST},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_WINDOW},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, GRPC_FRAME_MAX},
    };
    if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0,
                                              GRPC_CONN_WINDOW) != 0)
        return -1;
    return 0;
}

static void conn_accept(grpc__loop *l)
{
    grpc_server *g = l->g;
    for (;;) {
        int fd = accept4(g->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or another loop took it, or out of descriptors */
        if (atomic_load(&g->draining)) {
            close(fd);
            continue;
        }
        if (atomic_fetch_add(&g->connections, 1) >= g->max_connections) {
            atomic_fetch_sub(&g->connections, 1);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        grpc__conn *c = calloc(1, sizeof *c);
        if (!c) {
            atomic_fetch_sub(&g->connections, 1);
            close(fd);
            continue;
        }
        metrics_connections(g->sh.metrics, 1); /* with REST's, in leakyrelu_connections_open */
        c->loop = l;
        c->fd = fd;
        c->active = c->wrote = grpc__now();
        remote_of(fd, c->remote, sizeof c->remote);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        c->next = l->conns;
        if (l->conns)
            l->conns->prev = c;
        l->conns = c;
        if (conn_session(c) != 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 ||
            flush(c) != 0)
            conn_close(c);
    }
}

/* Ends c gracefully, as RFC 9113 section 6.8 advises: a first GOAWAY
 * naming the largest stream id (no call begins after it, but one the
 * client sent meanwhile is still served), then, a tick later (longer
 * than a round trip), the GOAWAY naming the last call taken. A single
 * GOAWAY races with a call the client is starting: that call fails
 * UNAVAILABLE where a client does not retry it. */
static void goaway(grpc__conn *c, double now)
{
    if (c->goaway)
        return;
    c->goaway = 1;
    c->goaway_at = now;
    nghttp2_submit_shutdown_notice(c->ng);
}

static void goaway_final(grpc__conn *c, double now)
{
    if (c->goaway != 1 || now - c->goaway_at < 0.2)
        return;
    c->goaway = 2;
    c->goaway_at = now;
    nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

/* A call past its deadline, stalled or trickling ends (with a status, or
 * reset when its replies cannot go). Stalled: it waits on the client
 * (its reply unsent, or a message half received, or a unary request not
 * ended) and no byte of it moved for --timeout; trickling: a message
 * arriving, or a reply read, slower than --min-body-rate over a window of
 * GRPC_RATE_WINDOW (each window anew, as REST's bodies are measured: a
 * first burst does not pay for a trickle after it). */
static void watch_call(grpc_server *g, grpc__call *k, double now)
{
    char why[160];
    int mid_message = k->prefix_have > 0;
    if (k->deadline > 0 && now >= k->deadline && !k->finished) {
        grpc__call_expire(k, RPC_DEADLINE_EXCEEDED, "the deadline (grpc-timeout) passed before "
                          "the call finished");
    } else if (k->waiting == GRPC_WAIT_MEMORY) {
        /* the queue's wait: --queue-timeout, not these */
    } else if (g->timeout_s && !k->finished && !k->half_closed && !rpc_method_streaming(k->method) &&
               now - k->progress > g->timeout_s) {
        snprintf(why, sizeof why, "the request did not end within --timeout (%u s)",
                 g->timeout_s); /* a unary call holds its message until its end */
        grpc__call_expire(k, RPC_CANCELLED, why);
    } else if (g->timeout_s && (k->out || (mid_message && !k->finished)) &&
               now - k->progress > g->timeout_s) {
        snprintf(why, sizeof why, "no byte of the call moved for --timeout (%u s)", g->timeout_s);
        grpc__call_expire(k, RPC_CANCELLED, why);
    } else if (g->min_rate && mid_message && !k->finished && now - k->msg_t0 >= GRPC_RATE_WINDOW) {
        if ((double)(k->msg_have - k->msg_mark) < (double)g->min_rate * (now - k->msg_t0)) {
            snprintf(why, sizeof why, "the message came slower than --min-body-rate (%zu "
                     "bytes/s)", g->min_rate);
            grpc__call_expire(k, RPC_CANCELLED, why);
        } else { /* the next window */
            k->msg_t0 = now;
            k->msg_mark = k->msg_have;
        }
    } else if (g->min_rate && k->out_since > 0 && now - k->out_since >= GRPC_RATE_WINDOW) {
        if ((double)k->out_sent < (double)g->min_rate * (now - k->out_since)) {
            snprintf(why, sizeof why, "the reply was read slower than --min-body-rate (%zu "
                     "bytes/s)", g->min_rate); /* its memory is not held for so slow a reader */
            grpc__call_expire(k, RPC_CANCELLED, why);
        } else {
            k->out_since = now;
            k->out_sent = 0;
        }
    }
}

/* Four times a second: the calls' deadlines, stalls and rates; a
 * connection whose writes have not moved for --timeout closes at once (a
 * client that does not read); one with no call for --timeout is sent
 * GOAWAY (and closes once it is written and its calls are done); after
 * the drain began, each connection gets GOAWAY. */
static void tick(grpc__loop *l, double now)
{
    grpc_server *g = l->g;
    int draining = atomic_load(&g->draining) && !l->drained;
    l->drained |= draining;
    for (grpc__conn *c = l->conns, *next; c; c = next) {
        next = c->next;
        for (grpc__call *k = c->calls, *kn; k; k = kn) {
            kn = k->next;
            watch_call(g, k, now);
        }
        goaway_final(c, now);
        if (draining)
            goaway(c, now);
        int blocked = c->niov > c->iov_at;
        if (g->timeout_s && c->streams == 0 && now - c->active > g->timeout_s)
            goaway(c, now);
        if ((g->timeout_s && blocked && now - c->wrote > g->timeout_s) || flush(c) != 0 ||
            (c->goaway == 2 && g->timeout_s && now - c->goaway_at > g->timeout_s))
            conn_close(c);
    }
}

/* The calls waiting for memory look at their waits (every 10 ms while
 * there are some: the budget grants as memory is freed, in any thread). */
static void poll_waits(grpc__loop *l)
{
    for (grpc__conn *c = l->conns, *next; c && l->waiters; c = next) {
        next = c->next;
        for (grpc__call *k = c->calls, *kn; k; k = kn) {
            kn = k->next;
            if (k->waiting)
                grpc__call_poll(k);
        }
        if (flush(c) != 0)
            conn_close(c);
    }
}

static void *loop_main(void *arg)
{
    grpc__loop *l = arg;
    grpc_server *g = l->g;
    double next_tick = grpc__now() + 0.25;
    while (!atomic_load(&g->stopping)) {
        struct epoll_event evs[64];
        int n = epoll_wait(l->epfd, evs, 64, l->waiters ? 10 : 250);
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &listen_tag) {
                conn_accept(l);
            } else if (tag == &wake_tag) {
                uint64_t v;
                if (read(l->wakefd, &v, sizeof v) < 0)
                    continue;
                next_tick = 0; /* the drain: at once */
            } else {
                grpc__conn *c = tag;
                int rc = 0;
                if (evs[i].events & EPOLLOUT)
                    rc = flush(c);
                if (rc == 0 && evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                    rc = conn_read(c);
                if (rc != 0)
                    conn_close(c);
            }
        }
        if (l->waiters)
            poll_waits(l);
        double now = grpc__now();
        if (now >= next_tick) {
            tick(l, now);
            next_tick = now + 0.25;
        }
    }
    while (l->conns) /* the calls still open end as CANCELLED */
        conn_close(l->conns);
    return NULL;
}

/* The listening socket, non-blocking, on addr:port. */
static int listen_on(const char *addr, unsigned port, unsigned *bound, char *err,
                     size_t errlen)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int v6 = strchr(addr, ':') != NULL;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &s6->sin6_addr);
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &s4->sin_addr);
        len = sizeof *s4;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen for gRPC on %s%s%s:%u: %s", v6 ? "[" : "", addr,
                 v6 ? "]" : "", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

grpc_server *grpc_start(const config *cfg, const grpc_shared *sh, char *err, size_t errlen)
{
    grpc_server *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->sh = *sh;
    g->max_body = cfg->max_body;
    g->timeout_s = cfg->timeout_s;
    g->min_rate = cfg->min_body_rate;
    g->queue_timeout_s = cfg->queue_timeout_s;
    g->max_connections = cfg->max_connections ? cfg->max_connections : 1024;
    g->listen_fd = listen_on(cfg->grpc_bind, cfg->grpc_port, &g->port, err, errlen);
    g->nloops = cfg->threads ? cfg->threads : 1;
    g->loops = g->listen_fd >= 0 ? calloc(g->nloops, sizeof *g->loops) : NULL;
    if (!g->loops) {
        if (g->listen_fd >= 0)
            snprintf(err, errlen, "out of memory");
        g->nloops = 0;
        grpc_stop(g);
        return NULL;
    }
    for (unsigned i = 0; i < g->nloops; i++)
        g->loops[i].epfd = g->loops[i].wakefd = -1;
    for (unsigned i = 0; i < g->nloops; i++) {
        grpc__loop *l = &g->loops[i];
        l->g = g;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        l->rbuf = malloc(READ_BUF);
        struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &listen_tag};
        struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &wake_tag};
        if (l->epfd < 0 || l->wakefd < 0 || !l->rbuf ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, g->listen_fd, &lev) != 0 ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &wev) != 0 ||
            pthread_create(&l->thread, NULL, loop_main, l) != 0) {
            snprintf(err, errlen, "cannot start the gRPC event loops: %s", strerror(errno));
            grpc_stop(g);
            return NULL;
        }
        l->started = 1;
    }
    return g;
}

unsigned grpc_port(const grpc_server *g) { return g->port; }

static void wake_all(grpc_server *g)
{
    for (unsigned i = 0; i < g->nloops; i++) {
        uint64_t one = 1;
        if (g->loops[i].wakefd >= 0 && write(g->loops[i].wakefd, &one, sizeof one) < 0)
            continue; /* the counter is full: a wake is pending anyway */
    }
}

void grpc_drain(grpc_server *g)
{
    if (!g || atomic_exchange(&g->draining, 1))
        return;
    drain_stop_listening(g->listen_fd);
    wake_all(g);
}

void grpc_stop(grpc_server *g)
{
    if (!g)
        return;
    atomic_store(&g->stopping, 1);
    wake_all(g);
    for (unsigned i = 0; i < g->nloops; i++) {
        grpc__loop *l = &g->loops[i];
        if (l->started)
            pthread_join(l->thread, NULL);
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        free(l->rbuf);
    }
    if (g->listen_fd >= 0)
        close(g->listen_fd);
    free(g->loops);
    free(g);
}
