/* libmicrohttpd adapter: reads request bodies from upload_data (never the
 * PostProcessor), enforces the body limit, and hands complete requests to
 * api_handle, each body piece once the memory budget has room for it
 * (the connection paused until then); their replies are server_reply.c's,
 * the head's checks server_head.c's. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coding.h"
#include "framing.h"
#include "server_internal.h"

/* At most this many query parameters are handed to the API; a request
 * with more than four is already invalid (slope, dtype, shape and
 * grad_output, each at most once). */
#define MAX_PARAMS 8

typedef struct params {
    api_param items[MAX_PARAMS];
    size_t n;
} params;

static void in_flight_begin(server *s)
{
    metrics_in_flight(s->metrics, 1);
    drain_begin(&s->drain);
}

static void in_flight_end(server *s)
{
    metrics_in_flight(s->metrics, -1);
    drain_end(&s->drain);
}

/* Collects decoded query parameters with their lengths ("?slope=1%00x"
 * must not read as "1"); empty names ("?&slope=1") are ignored. */
static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    params *p = cls;
    if (key_size == 0 && value_size == 0)
        return MHD_YES;
    if (p->n < MAX_PARAMS) {
        p->items[p->n].key = key;
        p->items[p->n].key_len = key_size;
        p->items[p->n].value = value;
        p->items[p->n].value_len = value ? value_size : 0;
        p->n++;
    }
    return MHD_YES;
}

/* First callback of a request: framing, route, headers, Content-Length. */
static enum MHD_Result begin(server *s, struct MHD_Connection *c, exchange *ex,
                             const char *method, const char *version)
{
    lr_error err;
    if (server__head_verdict(c, ex, version, &err) != LR_ERR_OK)
        return server__refuse(s, c, ex, &err, 1);
    /* A method no endpoint serves is told first (501), whatever its target. */
    if (api_method_known(method) && ex->target_err.code != LR_ERR_OK)
        return server__refuse(s, c, ex, &ex->target_err, 1);
    api_response resp = {0};
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!api_begin(method, ex->target, ct, &ex->head, &resp))
        return server__send(s, c, ex, &resp);
    ex->routed = 1;
    if (!api_route_has_body(ex->head.route) || ex->head.options)
        return MHD_YES;
    if (framing_encoding(&ex->framing, &ex->head.coding, &err) != LR_ERR_OK)
        return server__refuse(s, c, ex, &err, 0);
    ex->head.max_body = s->max_body; /* what a coded body may decode to, too */
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t len = API_LENGTH_UNKNOWN;
    if (cl) {
        char msg[128];
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == 0 && *end == '\0' && n > s->max_body) {
            snprintf(msg, sizeof msg,
                     "the request body (%llu bytes) is larger than the limit of %zu bytes",
                     n, s->max_body);
            return server__send_error(s, c, ex, LR_ERR_BODY_TOO_LARGE, msg);
        }
        if (errno == 0 && *end == '\0')
            len = (size_t)n;
    }
    /* The body is read as it arrives: only the text still needed is held. */
    lr_err why;
    ex->head.json_length =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    ex->body = api_body_new(&ex->head, s->workers, s->budget, len, &why);
    if (!ex->body)
        return server__send_error(s, c, ex, why, NULL);
    return MHD_YES;
}

/* Resumes a request whose wait for memory ended (from any thread). */
static void wake(void *cls)
{
    exchange *ex = cls;
    MHD_resume_connection(ex->conn);
}

/* Room in the budget for the next n bytes of the body, at data (NULL:
 * not come yet; n = 0: room for the reply). Returns 1 to go on
 * (ex->early set when refused), 0 when the request was paused to wait:
 * its connection is not read meanwhile (TCP holds the client's bytes),
 * and the same call comes again once it is resumed. */
static int room(struct MHD_Connection *c, exchange *ex, const char *data, size_t n)
{
    if (ex->paused) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        ex->waited_s += (double)(t.tv_sec - ex->paused_at.tv_sec) +
                        (double)(t.tv_nsec - ex->paused_at.tv_nsec) / 1e9;
        ex->paused = 0;
        watch_resume(ex->deadlines);
    }
    budget_grant_rc rc = api_body_room(ex->body, data, n);
    if (rc == BUDGET_GRANTED)
        return 1;
    if (rc == BUDGET_WAIT) {
        ex->conn = c;
        ex->paused = 1;
        clock_gettime(CLOCK_MONOTONIC, &ex->paused_at);
        watch_pause(ex->deadlines);
        MHD_suspend_connection(c);
        if (api_body_wait(ex->body, wake, ex)) /* granted or expired already */
            MHD_resume_connection(c);
        return 0;
    }
    ex->early = rc == BUDGET_EXPIRED ? LR_ERR_OVERLOADED : api_body_refusal(ex->body);
    ex->waited_out = rc == BUDGET_EXPIRED;
    ex->over_budget = ex->early == LR_ERR_BODY_TOO_LARGE;
    api_body_free(ex->body); /* its memory, for the others */
    ex->body = NULL;
    return 1;
}

/* The refusal of a request's body (ex->early), once it is read. */
static enum MHD_Result refuse_body(server *s, struct MHD_Connection *c, exchange *ex)
{
    char msg[200];
    if (ex->early == LR_ERR_BODY_TOO_LARGE && ex->over_budget)
        snprintf(msg, sizeof msg, "the request needs more memory than the whole memory "
                 "budget (--max-memory) of %zu MiB", budget_limit(s->budget) >> 20);
    else if (ex->early == LR_ERR_BODY_TOO_LARGE)
        snprintf(msg, sizeof msg, "the request body%s is larger than the limit of %zu bytes",
                 ex->head.coding != CODING_IDENTITY ? ", decoded," : "", s->max_body);
    else if (ex->waited_out)
        snprintf(msg, sizeof msg, "the server is busy: this request found no memory in "
                 "%.1f s of waiting (--queue-timeout); retry later", ex->waited_s);
    else
        return server__send_error(s, c, ex, ex->early, NULL);
    return server__send_error(s, c, ex, ex->early, msg);
}

/* Reads a piece of the body, or drops it after an error or on routes
 * without a body. Dropped bodies are read to their end, since
 * libmicrohttpd 0.9.75 can only answer once the upload is complete; a
 * client that stalls is cut off by --timeout. */
static enum MHD_Result receive(server *s, exchange *ex, const char *data, size_t n)
{
    watch_body(ex->deadlines, n); /* read or dropped, it is arriving */
    if (!ex->body || ex->early)
        return MHD_YES;
    if (n > s->max_body - ex->len)
        ex->early = LR_ERR_BODY_TOO_LARGE;
    else
        ex->early = api_body_feed(ex->body, data, n);
    ex->len += n;
    if (ex->early == LR_ERR_BODY_TOO_LARGE && ex->body) /* --max-body's, or the budget's */
        ex->over_budget = api_body_refusal(ex->body) == LR_ERR_BODY_TOO_LARGE;
    if (ex->early) {
        api_body_free(ex->body);
        ex->body = NULL;
    }
    return MHD_YES;
}

/* Room for the body's first piece, before a client waiting for "100
 * Continue" sends it: when there is none yet, the request waits; when it
 * is refused at once, that client is answered at once and does not send
 * the body; any other's body is read and dropped, and the answer keeps
 * the connection. */
static enum MHD_Result admit(server *s, struct MHD_Connection *c, exchange *ex)
{
    size_t first = api_body_declared(ex->body);
    if (first > s->piece)
        first = s->piece;
    ex->admitting = 1;
    if (!room(c, ex, NULL, first))
        return MHD_YES; /* resumed, libmicrohttpd repeats this first call */
    ex->admitting = 0;
    if (!ex->early)
        return MHD_YES;
    /* After a wait, the client may have stopped waiting for "100
     * Continue" (curl sends after 1 s): its body is read and dropped too,
     * since a reply with its bytes unread would be lost to a reset. */
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    if (expect && strcasecmp(expect, "100-continue") == 0 && !ex->waited_out)
        return refuse_body(s, c, ex);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    server *s = cls;
    exchange *ex = *req_cls;
    (void)url; /* decoded by the library, cut at a NUL: ex->target instead */
    if (!ex) /* on_target found no memory */
        return MHD_NO;
    if (!ex->begun) {
        ex->begun = 1;
        ex->head_only = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        if (accesslog_on(s->log)) /* only its line needs it */
            snprintf(ex->method, sizeof ex->method, "%s", method);
        reqid_take(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id"),
                   ex->request_id);
        in_flight_begin(s);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        ex->deadlines = ci ? ci->socket_context : NULL;
        enum MHD_Result rc = begin(s, c, ex, method, version);
        watch_head(ex->deadlines, ex->body != NULL);
        if (rc == MHD_YES && ex->body)
            return admit(s, c, ex);
        return rc;
    }
    if (ex->admitting)
        return admit(s, c, ex);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (ex->body && !ex->early && !room(c, ex, upload_data, n))
            return MHD_YES; /* waiting: the same bytes come again */
        *upload_data_size = 0;
        return receive(s, ex, upload_data, n);
    }
    if (ex->body && !ex->early && !room(c, ex, NULL, 0))
        return MHD_YES;
    watch_body_done(ex->deadlines);
    if (ex->early)
        return refuse_body(s, c, ex);

    params p = {.n = 0};
    if (MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_param, &p) < 0)
        return MHD_NO;
    api_request req = {
        .route = ex->head.route,
        .model = ex->head.model,
        .options = ex->head.options,
        .params = p.items,
        .nparams = p.n,
        .body = ex->body,
        .draining = drain_active(&s->drain),
        /* only GET replies carry validators: /forward never looks */
        .if_none_match = api_route_has_body(ex->head.route)
                             ? NULL
                             : MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_IF_NONE_MATCH),
        .workers = s->workers,
        .budget = s->budget,
    };
    metrics_extra extra;
    if (ex->head.route == API_METRICS) {
        extra.log_lines_dropped = accesslog_dropped(s->log);
        extra.memory_budget_bytes = budget_limit(s->budget);
        extra.memory_used_bytes = budget_used(s->budget);
        extra.queue_length = budget_waiting(s->budget);
        extra.queue_timeouts = budget_expired(s->budget);
        req.metrics = s->metrics;
        req.extra = &extra;
    }
    ex->body = NULL; /* api_handle frees it */
    api_response resp = {0};
    api_handle(&req, &resp);
    return server__send(s, c, ex, &resp);
}

/* The client's address as text, "" when unknown. */
static void remote_address(struct MHD_Connection *c, char *out, size_t cap)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* Counts and logs the finished request. */
static void account(server *s, struct MHD_Connection *c, exchange *ex, int aborted)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_sample m = {
        .route = ex->head.route,
        .status = ex->status,
        .aborted = aborted,
        .duration_s = (double)(t1.tv_sec - ex->t0.tv_sec) +
                      (double)(t1.tv_nsec - ex->t0.tv_nsec) / 1e9,
        .request_bytes = ex->len,
        .response_bytes = ex->reply ? server__reply_sent(ex->reply) : ex->response_bytes,
        .elements = ex->elements,
        .queue_wait_s = ex->waited_s,
    };
    metrics_count(s->metrics, &m);
    if (!accesslog_on(s->log))
        return;
    char remote[INET6_ADDRSTRLEN] = "";
    remote_address(c, remote, sizeof remote);
    accesslog_entry e = {
        .ts = ex->ts,
        .method = ex->method,
        .path = ex->path,
        .status = m.status,
        .aborted = aborted,
        .request_bytes = m.request_bytes,
        .response_bytes = m.response_bytes,
        .elements = m.elements,
        .duration_s = m.duration_s,
        .request_id = ex->request_id,
        .remote = remote,
    };
    accesslog_write(s->log, &e);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    exchange *ex = *req_cls;
    if (!ex)
        return;
    int begun = ex->begun; /* else the library refused the head itself */
    watch_reply_done(ex->deadlines);
    account(s, c, ex, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || ex->status == 0);
    server__reply_release(ex->reply);
    api_body_free(ex->body);
    free(ex);
    *req_cls = NULL;
    if (begun)
        in_flight_end(s);
}

/* Each connection is watched for its deadlines from its start to just
 * before its socket is closed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? watch_add(s->watch, ci->connect_fd) : NULL;
        metrics_connections(s->metrics, 1);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        metrics_connections(s->metrics, -1);
        watch_remove(s->watch, *socket_context);
        *socket_context = NULL;
    }
}

/* libmicrohttpd's messages: while starting, the last one is kept for
 * server_start's error (so a port in use is said once); later, each goes
 * to stderr as a line of ours. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    server *s = cls;
    char line[256];
    int k = snprintf(line, sizeof line, "libmicrohttpd: ");
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    if (atomic_load(&s->started))
        accesslog_message(s->log, "warning", line);
    else
        memcpy(s->start_log, line + k, sizeof line - (size_t)k);
}

/* Once a second, on the watch's thread: waits for memory past
 * --queue-timeout end. */
static void tick(void *cls) { budget_expire(cls, 0); }

server *server_start(const config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        /* "::" also serves IPv4 clients, as users of "0.0.0.0" expect. */
        flags |= IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "invalid bind address \"%s\"", cfg->bind);
        return NULL;
    }

    server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->max_body = cfg->max_body;
    s->piece = cfg->connection_memory;
    s->cors = cfg->cors;
    atomic_init(&s->started, 0);
    if (drain_init(&s->drain) != 0)
        goto fail_drain;
    /* The connection's own thread is one of the --threads that work on a
     * large request; with --threads 1 it works alone. */
    s->workers = cfg->threads > 1 ? pool_new(cfg->threads - 1) : NULL;
    if (cfg->threads > 1 && !s->workers) {
        snprintf(err, errlen, "cannot start %u worker threads", cfg->threads - 1);
        goto fail_pool;
    }
    s->budget = budget_new(cfg->max_memory ? cfg->max_memory : SIZE_MAX);
    if (!s->budget) {
        snprintf(err, errlen, "out of memory");
        goto fail_budget;
    }
    budget_set_queue(s->budget, cfg->max_queue, cfg->queue_timeout_s);
    s->watch = watch_new(cfg->header_timeout_s, cfg->timeout_s, cfg->min_body_rate, tick,
                         s->budget);
    if (!s->watch) {
        snprintf(err, errlen, "cannot start the deadline thread");
        goto fail_watch;
    }
    s->metrics = metrics_new();
    if (!s->metrics) {
        snprintf(err, errlen, "out of memory");
        goto fail_metrics;
    }
    s->log = accesslog_new(STDERR_FILENO, cfg->log, ACCESSLOG_BUFFER);
    if (!s->log) {
        snprintf(err, errlen, "cannot start the access log's thread");
        goto fail_log;
    }
    /* With one thread, no pool option at all: MHD warns about a pool of
     * one (or zero) threads, and its single polling thread is the same. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, /* first: it hears about the options too */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_URI_LOG_CALLBACK, server__on_target, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
        (unsigned)cfg->threads, MHD_OPTION_END);
    atomic_store(&s->started, 1);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s port %u (%s)", cfg->bind, cfg->port,
                 s->start_log[0] ? s->start_log : "in use, or not permitted?");
        goto fail_daemon;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    if (cfg->grpc_port != CONFIG_GRPC_OFF) {
        grpc_shared sh = {s->budget, s->workers, s->metrics, s->log, &s->drain};
        s->grpc = grpc_start(cfg, &sh, err, errlen);
        if (!s->grpc) {
            MHD_stop_daemon(s->daemon);
            goto fail_daemon;
        }
    }
    return s;

fail_daemon:
    accesslog_free(s->log, 0);
fail_log:
    metrics_free(s->metrics);
fail_metrics:
    watch_free(s->watch);
fail_watch:
    budget_free(s->budget);
fail_budget:
    pool_free(s->workers);
fail_pool:
    drain_destroy(&s->drain);
fail_drain:
    free(s);
    if (!err[0])
        snprintf(err, errlen, "cannot initialise the server");
    return NULL;
}

unsigned server_port(const server *s) { return s->port; }

int server_grpc_port(const server *s) { return s->grpc ? (int)grpc_port(s->grpc) : -1; }

/* Not MHD_quiesce_daemon: with epoll worker threads it races with their
 * own removal of the listening socket, and the loser aborts the process
 * (libmicrohttpd 0.9.75: "Failed to remove listen FD from epoll set", seen
 * at SIGTERM under load). The socket is closed under MHD instead. */
void server_drain(server *s)
{
    drain_start(&s->drain);
    grpc_drain(s->grpc);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info || drain_stop_listening(info->listen_fd) != 0) {
        char line[160];
        snprintf(line, sizeof line, "cannot close the listening socket (%s): new "
                 "connections are still taken while draining", strerror(errno));
        accesslog_message(s->log, "error", line);
    }
}

unsigned server_wait_idle(server *s, unsigned seconds)
{
    return drain_wait_idle(&s->drain, seconds);
}

void server_stop(server *s)
{
    grpc_stop(s->grpc); /* its calls' memory is the budget's */
    budget_expire(s->budget, 1); /* requests still waiting are resumed, to be closed */
    MHD_stop_daemon(s->daemon); /* frees the streams, which use the workers */
    pool_free(s->workers);
    watch_free(s->watch);
    budget_free(s->budget);
    accesslog_free(s->log, 1000); /* the last lines, unless stderr is stalled */
    metrics_free(s->metrics);
    drain_destroy(&s->drain);
    free(s);
}

/* For tests/fuzz_http.c, which makes each connection itself and keeps
 * the server's end in sight (to see what the server has read). The
 * address is made up: the service only logs it. */
int server_adopt(server *s, int fd)
{
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(1)};
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_add_connection(s->daemon, fd, (const struct sockaddr *)&peer, sizeof peer) ==
                   MHD_YES
               ? 0
               : -1;
}
