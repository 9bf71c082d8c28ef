/* libmicrohttpd adapter: reads request bodies from upload_data (never the
 * PostProcessor), enforces the body limit, and hands complete requests to
 * api_handle. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "api.h"
#include "budget.h"
#include "cors.h"
#include "drain.h"
#include "framing.h"
#include "metrics.h"
#include "pool.h"
#include "reqid.h"
#include "stream.h"
#include "watch.h"

/* At most this many query parameters are handed to the API; any request
 * with more than one is already invalid (only "slope" exists). */
#define MAX_PARAMS 8

/* Served when even an error body cannot be allocated. */
static char oom_body[] =
    "{\"error\": \"the server is out of memory; retry later\", \"code\": \"out_of_memory\"}";

struct server {
    struct MHD_Daemon *daemon;
    size_t max_body;
    unsigned port;
    cors cors;     /* the origins browsers may call from */
    drain drain;   /* requests in flight, and the shutdown's wait for them */
    pool *workers; /* large requests' parallel parts: --threads - 1, or NULL */
    watch *watch;  /* head and body deadlines */
    budget *budget; /* the memory requests may hold */
    metrics *metrics;
    accesslog *log;
    atomic_int started;   /* MHD_start_daemon has returned */
    char start_log[256];  /* until then, libmicrohttpd's last message */
};

/* A streamed reply, owned by its MHD response; the exchange keeps a
 * reference to read how much was sent, since libmicrohttpd may free the
 * response before or after it reports the request complete. */
typedef struct reply_stream {
    stream *st;            /* NULL once the response is freed */
    _Atomic uint64_t sent; /* body bytes handed to MHD */
    atomic_int refs;       /* the response's and the exchange's */
} reply_stream;

static void reply_stream_release(reply_stream *rs)
{
    if (rs && atomic_fetch_sub(&rs->refs, 1) == 1)
        free(rs);
}

/* One request's state, kept in MHD's per-request pointer. */
typedef struct exchange {
    struct timespec ts;  /* its head's arrival, CLOCK_REALTIME (for the log) */
    struct timespec t0;  /* the same, CLOCK_MONOTONIC (for its duration) */
    int status;          /* the status queued, 0 until one is */
    int head_only;       /* HEAD: no body is sent */
    uint64_t response_bytes; /* of a reply from a buffer */
    uint64_t elements;
    reply_stream *reply; /* of a streamed reply, or NULL */
    char request_id[REQID_MAX + 1];
    char method[16];
    char path[257];
    api_call call;  /* its route, API_NONE until api_begin found one */
    int routed;     /* api_begin accepted the request */
    api_body *body; /* read as it arrives */
    size_t len;     /* bytes received */
    lr_err early;   /* BODY_TOO_LARGE, OVERLOADED or NO_MEMORY found while reading */
    watch_conn *deadlines; /* its connection's, or NULL */
} exchange;

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

/* MHD's content reader over a stream. It may wait for a worker to
 * finish a range, never for the client. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    reply_stream *rs = cls;
    if (max == 0)
        return 0;
    ptrdiff_t n = stream_read(rs->st, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    atomic_fetch_add_explicit(&rs->sent, (uint64_t)n, memory_order_relaxed);
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void free_stream(void *cls)
{
    reply_stream *rs = cls;
    stream_free(rs->st);
    rs->st = NULL;
    reply_stream_release(rs);
}

/* The block size asked of MHD for streamed replies: each read fills at
 * most this much of MHD's buffer for the connection. */
#define STREAM_BLOCK (64 * 1024)

/* The MHD response over a stream: owned by it from here on. */
static struct MHD_Response *stream_response(exchange *ex, stream *st)
{
    reply_stream *rs = malloc(sizeof *rs);
    if (!rs) {
        stream_free(st);
        return NULL;
    }
    rs->st = st;
    atomic_init(&rs->sent, 0);
    atomic_init(&rs->refs, 1);
    /* Unknown length: chunked for HTTP/1.1, closed at the end for 1.0. */
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_reader, rs, free_stream);
    if (!r) {
        free_stream(rs);
        return NULL;
    }
    atomic_fetch_add(&rs->refs, 1);
    ex->reply = rs;
    return r;
}

/* The CORS headers of a reply, when the request's Origin is allowed; for
 * a preflight (OPTIONS with Access-Control-Request-Method), the methods
 * (allow: the route's) and headers it may use. */
static enum MHD_Result cors_headers(server *s, struct MHD_Connection *c, struct MHD_Response *r,
                                    const char *allow)
{
    if (!cors_on(&s->cors))
        return MHD_YES;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *value = cors_allow(&s->cors, origin);
    enum MHD_Result ok = MHD_YES;
    if (!s->cors.any) /* the reply depends on the Origin: caches must know */
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
    if (!value || ok != MHD_YES)
        return ok;
    ok = MHD_add_response_header(r, "Access-Control-Allow-Origin", value);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "Access-Control-Expose-Headers", CORS_EXPOSE);
    const char *method =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (!method || !allow)
        return ok;
    const char *asked =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Headers");
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "Access-Control-Allow-Methods", allow);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                     asked && cors_header_list_ok(asked) ? asked
                                                                         : CORS_ALLOW_HEADERS);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "Access-Control-Max-Age", CORS_MAX_AGE);
    return ok;
}

/* A reply of several pieces (a JSON head, then binary data): what the
 * MHD response frees once sent. */
typedef struct pieces {
    char *head;
    int head_charged;
    api_part parts[API_PARTS_MAX];
    size_t nparts;
} pieces;

static void free_pieces(void *cls)
{
    pieces *p = cls;
    if (p->head_charged)
        budget_block_free(p->head);
    else
        free(p->head);
    for (size_t i = 0; i < p->nparts; i++) {
        free(p->parts[i].data);
        budget_release(p->parts[i].budget, p->parts[i].charged);
    }
    free(p);
}

/* The MHD response over resp's body and parts, sent from where they are;
 * owned by it from here on (freed here when it cannot be made). */
static struct MHD_Response *pieces_response(api_response *resp, size_t *len)
{
    pieces *p = malloc(sizeof *p);
    struct MHD_IoVec iov[1 + API_PARTS_MAX];
    if (p) {
        p->head = resp->body;
        p->head_charged = resp->charged;
        p->nparts = resp->nparts;
        memcpy(p->parts, resp->parts, sizeof p->parts);
        resp->body = NULL;
        resp->nparts = 0;
        iov[0] = (struct MHD_IoVec){p->head, resp->len};
        *len = resp->len;
        for (size_t i = 0; i < p->nparts; i++) {
            iov[1 + i] = (struct MHD_IoVec){p->parts[i].data, p->parts[i].len};
            *len += p->parts[i].len;
        }
    }
    struct MHD_Response *r =
        p ? MHD_create_response_from_iovec(iov, (unsigned)(1 + p->nparts), free_pieces, p) : NULL;
    if (!r && p)
        free_pieces(p);
    return r;
}

static enum MHD_Result send_response(server *s, struct MHD_Connection *c, exchange *ex,
                                     api_response *resp)
{
    struct MHD_Response *r;
    int status = resp->status;
    size_t len = 0;
    if (resp->nparts && resp->body) {
        r = pieces_response(resp, &len);
    } else if (resp->stream) {
        r = stream_response(ex, resp->stream);
        resp->stream = NULL;
    } else if (resp->body) {
        void (*release)(void *) = resp->charged ? budget_block_free : free;
        r = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, release);
        if (!r)
            release(resp->body);
        resp->body = NULL;
        len = resp->len;
    } else {
        r = NULL;
    }
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    if (!r) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        ctype = "application/json";
        len = sizeof oom_body - 1;
        r = MHD_create_response_from_buffer(len, oom_body, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
    }
    ex->status = status;
    ex->response_bytes = ex->head_only ? 0 : len;
    ex->elements = resp->elements;
    enum MHD_Result ok = MHD_YES;
    if (*ctype)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(r, "X-Request-Id", ex->request_id);
    if (ok == MHD_YES && resp->allow)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    for (size_t i = 0; i < resp->nheaders && ok == MHD_YES; i++)
        ok = MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    api_response_free(resp); /* the headers; the body is the MHD response's */
    if (ok == MHD_YES)
        ok = cors_headers(s, c, r, resp->allow);
    if (ok == MHD_YES && resp->retry_after) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", resp->retry_after);
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (ok == MHD_YES && (resp->close || drain_active(&s->drain)))
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The JSON reply for err; close: the connection is closed after it (when
 * the body's end cannot be trusted). */
static enum MHD_Result refuse(server *s, struct MHD_Connection *c, exchange *ex,
                              const lr_error *err, int close)
{
    api_response resp = {0};
    api_error(err, &resp);
    resp.close = close;
    return send_response(s, c, ex, &resp);
}

static enum MHD_Result send_error(server *s, struct MHD_Connection *c, exchange *ex, lr_err code,
                                  const char *detail)
{
    lr_error err;
    if (detail)
        lr_error_set(&err, code, "%s", detail);
    else
        lr_error_set(&err, code, NULL);
    return refuse(s, c, ex, &err, 0);
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

static enum MHD_Result framing_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    framing_header(cls, key, key_size, value, value_size);
    return MHD_YES;
}

/* First callback of a request: framing, route, headers, Content-Length. */
static enum MHD_Result begin(server *s, struct MHD_Connection *c, exchange *ex,
                             const char *url, const char *method, const char *version)
{
    framing f;
    lr_error err;
    framing_init(&f);
    if (MHD_get_connection_values_n(c, MHD_HEADER_KIND, framing_each, &f) < 0)
        return MHD_NO;
    if (framing_verdict(&f, strcmp(version, MHD_HTTP_VERSION_1_0) != 0, &err) != LR_ERR_OK)
        return refuse(s, c, ex, &err, 1);
    api_response resp = {0};
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!api_begin(method, url, ct, &ex->call, &resp))
        return send_response(s, c, ex, &resp);
    ex->routed = 1;
    if (!api_route_has_body(ex->call.route) || ex->call.options)
        return MHD_YES;
    if (framing_encoding(&f, &err) != LR_ERR_OK)
        return refuse(s, c, ex, &err, 0);
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
            return send_error(s, c, ex, LR_ERR_BODY_TOO_LARGE, msg);
        }
        if (errno == 0 && *end == '\0')
            len = (size_t)n;
    }
    /* The body is read as it arrives: only the text still needed is held. */
    lr_err why;
    ex->call.json_length =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Inference-Header-Content-Length");
    ex->body = api_body_new(&ex->call, s->workers, s->budget, len, &why);
    if (ex->body)
        return MHD_YES;
    if (why == LR_ERR_BODY_TOO_LARGE) {
        char msg[200], size[40] = "of unknown length";
        if (len != API_LENGTH_UNKNOWN)
            snprintf(size, sizeof size, "(%zu bytes)", len);
        snprintf(msg, sizeof msg,
                 "the request body %s could take up to %zu MiB, more than the whole "
                 "memory budget (--max-memory) of %zu MiB",
                 size, api_body_reserve(ex->call.format, len) >> 20, budget_limit(s->budget) >> 20);
        return send_error(s, c, ex, why, msg);
    }
    /* No room now: a client waiting for "100 Continue" is answered at
     * once, and does not send the body; any other's body is read and
     * dropped, and the answer keeps the connection. */
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    if (why == LR_ERR_OVERLOADED && (!expect || strcasecmp(expect, "100-continue") != 0)) {
        ex->early = why;
        return MHD_YES;
    }
    return send_error(s, c, ex, why, NULL);
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
    if (ex->early) {
        api_body_free(ex->body);
        ex->body = NULL;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    server *s = cls;
    exchange *ex = *req_cls;
    if (!ex) {
        ex = calloc(1, sizeof *ex);
        if (!ex)
            return MHD_NO;
        *req_cls = ex;
        clock_gettime(CLOCK_REALTIME, &ex->ts);
        clock_gettime(CLOCK_MONOTONIC, &ex->t0);
        ex->call.route = API_NONE;
        ex->head_only = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        if (accesslog_on(s->log)) { /* only its line needs them */
            snprintf(ex->method, sizeof ex->method, "%s", method);
            snprintf(ex->path, sizeof ex->path, "%s", url);
        }
        reqid_take(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id"),
                   ex->request_id);
        in_flight_begin(s);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        ex->deadlines = ci ? ci->socket_context : NULL;
        enum MHD_Result rc = begin(s, c, ex, url, method, version);
        watch_head(ex->deadlines, ex->body != NULL || ex->early);
        return rc;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return receive(s, ex, upload_data, n);
    }
    watch_body_done(ex->deadlines);
    if (ex->early == LR_ERR_BODY_TOO_LARGE) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body is larger than the limit of %zu bytes",
                 s->max_body);
        return send_error(s, c, ex, ex->early, msg);
    }
    if (ex->early)
        return send_error(s, c, ex, ex->early, NULL);

    params p = {.n = 0};
    if (MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_param, &p) < 0)
        return MHD_NO;
    api_request req = {
        .route = ex->call.route,
        .model = ex->call.model,
        .options = ex->call.options,
        .params = p.items,
        .nparams = p.n,
        .body = ex->body,
        .draining = drain_active(&s->drain),
        .workers = s->workers,
    };
    metrics_extra extra;
    if (ex->call.route == API_METRICS) {
        extra.log_lines_dropped = accesslog_dropped(s->log);
        extra.memory_budget_bytes = budget_limit(s->budget);
        extra.memory_used_bytes = budget_used(s->budget);
        req.metrics = s->metrics;
        req.extra = &extra;
    }
    ex->body = NULL; /* api_handle frees it */
    api_response resp = {0};
    api_handle(&req, &resp);
    return send_response(s, c, ex, &resp);
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
        .route = ex->call.route,
        .status = ex->status,
        .aborted = aborted,
        .duration_s = (double)(t1.tv_sec - ex->t0.tv_sec) +
                      (double)(t1.tv_nsec - ex->t0.tv_nsec) / 1e9,
        .request_bytes = ex->len,
        .response_bytes = ex->reply ? atomic_load(&ex->reply->sent) : ex->response_bytes,
        .elements = ex->elements,
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
    watch_reply_done(ex->deadlines);
    account(s, c, ex, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK || ex->status == 0);
    reply_stream_release(ex->reply);
    api_body_free(ex->body);
    free(ex);
    *req_cls = NULL;
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

server *server_start(const config *cfg, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
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
    s->watch = watch_new(cfg->header_timeout_s, cfg->timeout_s, cfg->min_body_rate);
    if (!s->watch) {
        snprintf(err, errlen, "cannot start the deadline thread");
        goto fail_watch;
    }
    s->budget = budget_new(cfg->max_memory ? cfg->max_memory : SIZE_MAX);
    if (!s->budget) {
        snprintf(err, errlen, "out of memory");
        goto fail_budget;
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
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
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
    return s;

fail_daemon:
    accesslog_free(s->log, 0);
fail_log:
    metrics_free(s->metrics);
fail_metrics:
    budget_free(s->budget);
fail_budget:
    watch_free(s->watch);
fail_watch:
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

/* Not MHD_quiesce_daemon: with epoll worker threads it races with their
 * own removal of the listening socket, and the loser aborts the process
 * (libmicrohttpd 0.9.75: "Failed to remove listen FD from epoll set", seen
 * at SIGTERM under load). The socket is closed under MHD instead. */
void server_drain(server *s)
{
    drain_start(&s->drain);
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
    MHD_stop_daemon(s->daemon); /* frees the streams, which use the workers */
    pool_free(s->workers);
    watch_free(s->watch);
    budget_free(s->budget);
    accesslog_free(s->log, 1000); /* the last lines, unless stderr is stalled */
    metrics_free(s->metrics);
    drain_destroy(&s->drain);
    free(s);
}
