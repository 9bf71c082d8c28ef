/* A gRPC call over HTTP/2 (grpc/grpc, doc/PROTOCOL-HTTP2.md), as it
 * arrives: the request's headers (:path the method, content-type
 * application/grpc, grpc-encoding, grpc-accept-encoding, grpc-timeout,
 * x-request-id), its length-prefixed messages read as DATA comes (room
 * granted by the memory budget piece by piece, decoded when compressed,
 * into rpc_msg), each message answered by rpc_handle, and the call's end:
 * counted, logged, freed. Its replies and status: grpc_reply.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "drain.h"
#include "grpc_internal.h"
#include "metrics.h"

/* grpc-timeout: 1 to 8 digits and a unit (H, M, S, m, u, n). */
static double parse_timeout(const uint8_t *v, size_t len)
{
    if (len < 2 || len > 9)
        return -1;
    double x = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    switch (v[len - 1]) {
    case 'H': return x * 3600;
    case 'M': return x * 60;
    case 'S': return x;
    case 'm': return x * 1e-3;
    case 'u': return x * 1e-6;
    case 'n': return x * 1e-9;
    default: return -1;
    }
}

/* Answers the message read (then dropped). */
static void handle(grpc__call *k)
{
    grpc_server *g = k->c->loop->g;
    if (k->deadline > 0 && grpc__now() >= k->deadline) {
        grpc__finish(k, RPC_DEADLINE_EXCEEDED, "the deadline (grpc-timeout) passed before the call "
               "was computed");
        return;
    }
    rpc_call call = {k->method, k->msg, &k->account, g->sh.workers,
                     atomic_load(&g->draining)};
    rpc_reply r;
    rpc_handle(&call, &r);
    k->elements += r.elements;
    rpc_msg_free(k->msg);
    k->msg = NULL;
    if (r.code != RPC_OK) {
        grpc__finish(k, r.code, r.message); /* (copied) */
        rpc_reply_free(&r);
        return;
    }
    grpc__queue_reply(k, &r);
    if (!rpc_method_streaming(k->method))
        grpc__finish(k, RPC_OK, "");
}

static void fail_error(grpc__call *k, const lr_error *err)
{
    rpc_reply r = {0};
    rpc_fail_error(&r, err);
    grpc__finish(k, r.code, r.message);
}

/* A message is complete: a unary call's waits for the end of the
 * request; a stream's is answered now. */
static void message_done(grpc__call *k)
{
    lr_error err;
    lr_error_clear(&err);
    if (k->dec && coding_decode_end(k->dec) != 0) {
        lr_error_set(&err, LR_ERR_BAD_ENCODING, "the message is not valid %s data",
                     coding_name(k->in_coding));
        fail_error(k, &err);
        return;
    }
    coding_decoder_free(k->dec);
    k->dec = NULL;
    if (rpc_msg_end(k->msg, &err) != LR_ERR_OK) {
        fail_error(k, &err);
        return;
    }
    k->msgs++;
    k->prefix_have = 0;
    if (k->msg_len + 5 > GRPC_WINDOW) /* the next message starts small again */
        nghttp2_session_set_local_window_size(k->c->ng, NGHTTP2_FLAG_NONE, k->id, GRPC_WINDOW);
    if (rpc_method_streaming(k->method))
        handle(k);
}

static int decoded(void *cls, const char *data, size_t len)
{
    void **a = cls;
    return rpc_msg_feed(a[0], (const uint8_t *)data, len, a[1]) != LR_ERR_OK;
}

/* A message's prefix is read: its flag and length. */
static int message_begin(grpc__call *k, lr_error *err)
{
    grpc_server *g = k->c->loop->g;
    int flag = k->prefix[0];
    k->msg_len = (size_t)k->prefix[1] << 24 | (size_t)k->prefix[2] << 16 |
                 (size_t)k->prefix[3] << 8 | k->prefix[4];
    k->msg_have = 0;
    if (flag > 1) {
        grpc__finish(k, RPC_INTERNAL, "a message's compressed flag must be 0 or 1");
        return -1;
    }
    if (flag && k->in_coding == CODING_IDENTITY) {
        grpc__finish(k, RPC_INTERNAL, "a compressed message, but no grpc-encoding");
        return -1;
    }
    if (k->msgs && !rpc_method_streaming(k->method)) {
        grpc__finish(k, RPC_UNIMPLEMENTED, "a unary call takes one request message");
        return -1;
    }
    if (k->msg_len > g->max_body) {
        lr_error_set(err, LR_ERR_BODY_TOO_LARGE, "the message is %zu bytes, more than "
                     "--max-body (%zu)", k->msg_len, g->max_body);
        fail_error(k, err);
        return -1;
    }
    /* It claims its message (the banker's algorithm keeps room for the
     * older calls to finish), and the message holds at most its length. */
    budget_claim(&k->account, k->msg_len + GRPC_MSG_SLACK);
    k->msg = rpc_msg_new(k->method, &k->account, flag ? g->max_body : k->msg_len);
    k->dec = flag ? coding_decoder_new(k->in_coding) : NULL;
    if (!k->msg || (flag && !k->dec)) {
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return -1;
    }
    return 0;
}

/* A large message's window: GRPC_BIG_WINDOW, so that the client sends
 * it at full speed; the bytes it lets through are granted memory piece
 * by piece as they come (grant()), never the length a message declares. */
static void open_window(grpc__call *k)
{
    if (k->msg_len + 5 > GRPC_WINDOW)
        nghttp2_session_set_local_window_size(k->c->ng, NGHTTP2_FLAG_NONE, k->id,
                                              GRPC_BIG_WINDOW);
}

/* Room for n bytes that came (and what they may decode to beyond, taken
 * as they are): granted; or the call waits for it, its bytes held and not
 * consumed, so that flow control stops the client at its window; or
 * refused. Returns 0 (go on), 1 (it waits) or -1 (it ended). */
static int grant(grpc__call *k, size_t n)
{
    budget_grant_rc rc = budget_grant(&k->account, n + GRPC_MSG_SLACK);
    if (rc == BUDGET_GRANTED)
        return 0;
    if (rc == BUDGET_WAIT) {
        k->waiting = GRPC_WAIT_MEMORY;
        k->wait_t0 = grpc__now();
        k->c->loop->waiters++;
        return 1;
    }
    lr_error err;
    if (k->account.too_large)
        lr_error_set(&err, LR_ERR_BODY_TOO_LARGE, "the call needs more memory than the whole "
                     "budget (--max-memory, %zu bytes)", budget_limit(k->account.b));
    else
        lr_error_set(&err, LR_ERR_OVERLOADED, NULL);
    fail_error(k, &err);
    return -1;
}

/* Bytes that came while the call waits: kept (at most its window). */
static void hold(grpc__call *k, const uint8_t *data, size_t len)
{
    uint8_t *grown = realloc(k->held, k->held_len + len);
    if (!grown) {
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    memcpy(grown + k->held_len, data, len);
    k->held = grown;
    k->held_len += len;
}

/* Reads the call's bytes until they end, the call ends, or it waits for
 * memory: how many it took (all, once it ended). */
static size_t feed(grpc__call *k, const uint8_t *data, size_t len)
{
    size_t all = len;
    while (len && !k->finished && !k->waiting) {
        lr_error err;
        lr_error_clear(&err);
        if (k->prefix_have < 5) {
            if (k->prefix_have == 0) {
                k->msg_t0 = grpc__now();
                k->msg_mark = 0;
            }
            size_t n = 5 - k->prefix_have < len ? 5 - k->prefix_have : len;
            memcpy(k->prefix + k->prefix_have, data, n);
            k->prefix_have += n;
            data += n;
            len -= n;
            if (k->prefix_have == 5 && message_begin(k, &err) == 0) {
                open_window(k);
                if (k->msg_len == 0)
                    message_done(k);
            }
            continue;
        }
        size_t n = k->msg_len - k->msg_have < len ? k->msg_len - k->msg_have : len;
        lr_err rc = LR_ERR_OK;
        if (k->dec) {
            void *cls[2] = {k->msg, &err};
            int d = coding_decode(k->dec, (const char *)data, n, decoded, cls);
            if (d < 0)
                rc = lr_error_set(&err, LR_ERR_BAD_ENCODING, "the message is not valid %s "
                                  "data", coding_name(k->in_coding));
            else if (d > 0)
                rc = err.code;
        } else {
            rc = rpc_msg_feed(k->msg, data, n, &err);
        }
        if (rc != LR_ERR_OK) {
            fail_error(k, &err);
            break;
        }
        k->msg_have += n;
        data += n;
        len -= n;
        if (k->msg_have == k->msg_len)
            message_done(k);
    }
    return k->finished ? all : all - len;
}

/* DATA: the connection's window is given back at once (a call that waits
 * must not hold up the others), the call's as its bytes are read. */
static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
    (void)flags;
    (void)user;
    nghttp2_session_consume_connection(s, len);
    grpc__call *k = grpc__call_of(s, id);
    if (!k)
        return 0;
    k->bytes_in += len;
    k->progress = k->c->active = grpc__now();
    if (!k->waiting && !k->finished && k->out_bytes > GRPC_OUT_MAX) {
        k->waiting = GRPC_WAIT_OUTPUT; /* its replies are not read: read no more of it */
        k->wait_t0 = k->progress;
        k->c->loop->waiters++;
    }
    if (!k->waiting && !k->finished && grant(k, len) < 0)
        return 0;
    size_t used = k->waiting ? 0 : feed(k, data, len);
    nghttp2_session_consume_stream(s, id, used);
    if (!k->waiting)
        budget_trim(&k->account, GRPC_GRANT_KEPT);
    if (used < len)
        hold(k, data + used, len - used);
    return 0;
}

static void input_done(grpc__call *k);

void grpc__call_poll(grpc__call *k)
{
    grpc_server *g = k->c->loop->g;
    budget_grant_rc rc = BUDGET_GRANTED;
    if (k->waiting == GRPC_WAIT_OUTPUT && k->out_bytes > GRPC_OUT_MAX / 2)
        return;
    if (k->waiting == GRPC_WAIT_MEMORY && (rc = budget_poll(&k->account)) == BUDGET_WAIT)
        return;
    if (k->waiting == GRPC_WAIT_MEMORY)
        metrics_queue_wait(g->sh.metrics, grpc__now() - k->wait_t0);
    k->waiting = 0;
    k->c->loop->waiters--;
    k->progress = k->msg_t0 = grpc__now(); /* a wait is neither a stall nor slowness */
    k->msg_mark = k->msg_have;
    uint8_t *held = k->held;
    size_t n = k->held_len;
    k->held = NULL;
    k->held_len = 0;
    if (rc == BUDGET_EXPIRED) {
        char why[200];
        snprintf(why, sizeof why, "waited --queue-timeout (%u s) for memory: %s",
                 g->queue_timeout_s, lr_err_message(LR_ERR_OVERLOADED));
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, why);
        nghttp2_session_consume_stream(k->c->ng, k->id, n);
        free(held);
        return;
    }
    size_t used = 0; /* what came while it waited, if all of it has room now */
    if (n && grant(k, n) == 0)
        used = feed(k, held, n);
    nghttp2_session_consume_stream(k->c->ng, k->id, k->finished ? n : used);
    budget_trim(&k->account, GRPC_GRANT_KEPT);
    if (used < n && !k->finished)
        hold(k, held + used, n - used); /* it waits again */
    free(held);
    if (!k->waiting && k->end_held)
        input_done(k);
}

/* The client ended its side: a unary call is answered. */
static void input_done(grpc__call *k)
{
    k->half_closed = 1;
    k->reset_after = 0; /* the stream is closed once our side ends: no reset */
    k->end_held = k->waiting; /* its last bytes are still held */
    if (k->finished || k->waiting)
        return;
    if (k->prefix_have) {
        grpc__finish(k, RPC_INTERNAL, "the request ends inside a message");
    } else if (rpc_method_streaming(k->method)) {
        grpc__finish(k, RPC_OK, "");
    } else if (k->msgs == 0) {
        grpc__finish(k, RPC_UNIMPLEMENTED, "a unary call takes one request message; none came");
    } else {
        handle(k);
    }
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    grpc__conn *c = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    grpc__call *k = calloc(1, sizeof *k);
    if (!k)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    grpc_server *g = c->loop->g;
    k->c = c;
    k->id = frame->hd.stream_id;
    k->method = RPC_NONE;
    clock_gettime(CLOCK_REALTIME, &k->ts);
    k->t0 = k->progress = c->active = grpc__now();
    budget_open(g->sh.budget, &k->account, 0);
    drain_begin(g->sh.drain);
    metrics_in_flight(g->sh.metrics, 1);
    k->next = c->calls;
    if (c->calls)
        c->calls->prev = k;
    c->calls = k;
    c->streams++;
    nghttp2_session_set_stream_user_data(s, k->id, k);
    return 0;
}

/* grpc-accept-encoding: a list of codings. */
static void accepted(grpc__call *k, const uint8_t *v, size_t len)
{
    for (size_t i = 0; i < len;) {
        while (i < len && (v[i] == ' ' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < len && v[j] != ',' && v[j] != ' ')
            j++;
        k->accept_gzip |= j - i == 4 && memcmp(v + i, "gzip", 4) == 0;
        k->accept_deflate |= j - i == 7 && memcmp(v + i, "deflate", 7) == 0;
        i = j;
    }
}

static int is(const uint8_t *name, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(name, s, len) == 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    (void)flags;
    (void)user;
    grpc__call *k = grpc__call_of(s, frame->hd.stream_id);
    if (!k)
        return 0;
    k->header_bytes += namelen + valuelen + 32; /* trailers count too */
    if (k->header_bytes > GRPC_MAX_HEADER_LIST)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* reset: headers too large */
    if (frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers from the client change nothing */
    if (is(name, namelen, ":method")) {
        k->not_post = !is(value, valuelen, "POST");
    } else if (is(name, namelen, ":path")) {
        k->method = rpc_method_find((const char *)value, valuelen);
        snprintf(k->path, sizeof k->path, "%.*s", (int)(valuelen < 127 ? valuelen : 127),
                 (const char *)value);
    } else if (is(name, namelen, "content-type")) {
        size_t n = sizeof "application/grpc" - 1;
        k->bad_type = valuelen < n || memcmp(value, "application/grpc", n) != 0 ||
                      (valuelen > n && value[n] != '+' && value[n] != ';');
        if (!k->bad_type && valuelen > n && value[n] == '+')
            k->bad_type = !(valuelen - n - 1 >= 5 && memcmp(value + n + 1, "proto", 5) == 0);
    } else if (is(name, namelen, "grpc-encoding")) {
        char v[32];
        snprintf(v, sizeof v, "%.*s", (int)(valuelen < 31 ? valuelen : 31),
                 (const char *)value);
        snprintf(k->coding_name, sizeof k->coding_name, "%s", v);
        k->bad_coding = valuelen > 31 || coding_parse(v, &k->in_coding) != 0 ||
                        strcmp(v, "x-gzip") == 0;
    } else if (is(name, namelen, "grpc-accept-encoding")) {
        accepted(k, value, valuelen);
    } else if (is(name, namelen, "grpc-timeout")) {
        double t = parse_timeout(value, valuelen);
        if (t >= 0)
            k->deadline = k->t0 + t;
    } else if (is(name, namelen, "x-request-id") && valuelen <= REQID_MAX) {
        char v[REQID_MAX + 1];
        memcpy(v, value, valuelen);
        v[valuelen] = '\0';
        k->has_request_id = reqid_take(v, k->request_id);
    }
    return 0;
}

/* The request's headers are complete: what they ask for is served, or
 * answered with the reason it is not. */
static void headers_done(grpc__call *k)
{
    if (!k->has_request_id)
        reqid_take(NULL, k->request_id);
    if (k->not_post || k->bad_type) {
        /* not gRPC: an HTTP status (PROTOCOL-HTTP2.md: 415 for the type) */
        nghttp2_nv nv[] = {NV(":status", k->not_post ? "405" : "415"),
                           NV("x-request-id", k->request_id)};
        k->finished = k->headers_sent = k->trailers_sent = 1;
        k->code = RPC_UNIMPLEMENTED;
        nghttp2_submit_response(k->c->ng, k->id, nv, 2, NULL);
    } else if (k->method == RPC_NONE) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown method %s", k->path);
        grpc__finish(k, RPC_UNIMPLEMENTED, msg);
    } else if (k->bad_coding) {
        char msg[200];
        snprintf(msg, sizeof msg, "grpc-encoding \"%s\" is not supported; the codings are "
                 "identity, deflate and gzip", k->coding_name);
        k->in_coding = CODING_IDENTITY;
        grpc__finish(k, RPC_UNIMPLEMENTED, msg);
    } else if (k->deadline > 0 && grpc__now() >= k->deadline) {
        grpc__finish(k, RPC_DEADLINE_EXCEEDED, "the deadline (grpc-timeout) passed before the call "
               "began");
    }
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    (void)user;
    grpc__call *k = grpc__call_of(s, frame->hd.stream_id);
    if (!k)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        headers_done(k);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        input_done(k);
    return 0;
}

/* The call is over (its stream closed, or its connection): counted,
 * logged and freed; its replies still being written are freed once they
 * are. */
void grpc__call_end(grpc__call *k, uint32_t error_code)
{
    grpc__conn *c = k->c;
    grpc_server *g = c->loop->g;
    int aborted = !k->trailers_sent || error_code != NGHTTP2_NO_ERROR;
    rpc_code code = aborted && k->code == RPC_OK ? RPC_CANCELLED : k->code;
    double duration = grpc__now() - k->t0;
    metrics_count_rpc(g->sh.metrics, k->method, code, duration, k->bytes_in, k->bytes_out,
                      k->elements);
    metrics_in_flight(g->sh.metrics, -1);
    if (accesslog_on(g->sh.log)) {
        accesslog_entry e = {.ts = k->ts, .method = "POST", .path = k->path,
                             .status = k->not_post ? 405 : k->bad_type ? 415 : 200,
                             .grpc_status = rpc_code_name(code), .aborted = aborted,
                             .request_bytes = k->bytes_in, .response_bytes = k->bytes_out,
                             .elements = k->elements, .duration_s = duration,
                             .request_id = k->request_id, .remote = c->remote};
        accesslog_write(g->sh.log, &e);
    }
    while (k->out) { /* the writes may point into them */
        grpc__out *o = k->out;
        k->out = o->next;
        o->next = c->retired;
        c->retired = o;
    }
    grpc__call_unwait(k); /* out of the queue first: the account is the loop's alone then */
    rpc_msg_free(k->msg);
    coding_decoder_free(k->dec);
    free(k->held);
    budget_close(&k->account);
    drain_end(g->sh.drain);
    if (k->prev)
        k->prev->next = k->next;
    else
        c->calls = k->next;
    if (k->next)
        k->next->prev = k->prev;
    c->streams--;
    c->active = grpc__now();
    nghttp2_session_set_stream_user_data(c->ng, k->id, NULL);
    free(k);
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user)
{
    (void)user;
    grpc__call *k = grpc__call_of(s, id);
    if (k)
        grpc__call_end(k, error_code);
    return 0;
}

void grpc__callbacks(nghttp2_session_callbacks *cb)
{
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    grpc__reply_callbacks(cb);
}
