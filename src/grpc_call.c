/* A gRPC call over HTTP/2 (grpc/grpc, doc/PROTOCOL-HTTP2.md): the
 * request's headers (:path the method, content-type application/grpc,
 * grpc-encoding, grpc-accept-encoding, grpc-timeout, x-request-id), its
 * length-prefixed messages read as DATA arrives (decoded when
 * compressed, into rpc_msg), the replies queued as messages and sent
 * where they lie, and the status as trailers (or, when no message was
 * sent, trailers only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accesslog.h"
#include "drain.h"
#include "grpc_internal.h"
#include "metrics.h"

/* A header for nghttp2 (which copies it): a literal name, a string value. */
#define NV(name, value)                                                                    \
    {(uint8_t *)(uintptr_t)(name), (uint8_t *)(uintptr_t)(value), sizeof(name) - 1,        \
     strlen(value), NGHTTP2_NV_FLAG_NONE}

static grpc__call *call_of(nghttp2_session *s, int32_t id)
{
    return nghttp2_session_get_stream_user_data(s, id);
}

/* grpc-message: percent-encoded outside printable ASCII and '%'. */
static void percent_encode(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < cap; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
}

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

static ssize_t read_data(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user);

/* The response's headers: with the status when there is no message
 * (trailers only), else before the first message. */
static int submit_headers(grpc__call *k, int trailers_only)
{
    char code[12], message[sizeof k->message * 3];
    snprintf(code, sizeof code, "%d", (int)k->code);
    percent_encode(k->message, message, sizeof message);
    nghttp2_nv nv[8] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                        NV("x-request-id", k->request_id)};
    size_t n = 3;
    const char *enc = k->in_coding != CODING_IDENTITY ? coding_name(k->in_coding) : NULL;
    if (enc && !trailers_only)
        nv[n++] = (nghttp2_nv)NV("grpc-encoding", enc);
    nv[n++] = (nghttp2_nv)NV("grpc-accept-encoding", "identity,deflate,gzip");
    if (trailers_only) {
        nv[n++] = (nghttp2_nv)NV("grpc-status", code);
        if (message[0])
            nv[n++] = (nghttp2_nv)NV("grpc-message", message);
    }
    nghttp2_data_provider prd = {.source.ptr = k, .read_callback = read_data};
    k->headers_sent = 1;
    k->trailers_sent = trailers_only;
    return nghttp2_submit_response(k->c->ng, k->id, nv, n, trailers_only ? NULL : &prd);
}

/* The call's status is decided: sent now (trailers only), or after the
 * replies queued. */
static void finish(grpc__call *k, rpc_code code, const char *message)
{
    if (k->finished)
        return;
    k->finished = 1;
    k->reset_after = !k->half_closed; /* once the status is sent: it need not send more */
    k->code = code;
    snprintf(k->message, sizeof k->message, "%s", code == RPC_OK ? "" : message);
    if (!k->headers_sent) {
        if (submit_headers(k, 1) != 0)
            nghttp2_submit_rst_stream(k->c->ng, NGHTTP2_FLAG_NONE, k->id,
                                      NGHTTP2_INTERNAL_ERROR);
    } else if (k->deferred) {
        k->deferred = 0;
        nghttp2_session_resume_data(k->c->ng, k->id);
    }
    rpc_msg_free(k->msg); /* what is still read is dropped */
    k->msg = NULL;
    coding_decoder_free(k->dec);
    k->dec = NULL;
}

void grpc__call_expire(grpc__call *k, rpc_code code, const char *why)
{
    if (k->out) { /* its replies do not go (the window is shut): no status can follow */
        k->code = code;
        snprintf(k->message, sizeof k->message, "%s", why);
        nghttp2_submit_rst_stream(k->c->ng, NGHTTP2_FLAG_NONE, k->id, NGHTTP2_CANCEL);
        return;
    }
    finish(k, code, why); /* the status, then a reset if the client still sends */
}

/* A reply message compressed as the request was (gzip or deflate). */
static int compress_out(grpc__out *o, coding c)
{
    uint8_t *in = rpc_reply_join(&o->reply);
    coding_encoder *e = in ? coding_encoder_new(c) : NULL;
    size_t cap = o->reply.len / 2 + 1024, n = 0, at = 0;
    uint8_t *out = e ? malloc(cap) : NULL;
    int ended = 0;
    while (out && !ended) {
        if (cap - n < 512) {
            uint8_t *grown = realloc(out, cap * 2);
            if (!grown) {
                free(out);
                out = NULL;
                break;
            }
            out = grown;
            cap *= 2;
        }
        size_t taken = 0;
        n += coding_encode(e, (const char *)in + at, o->reply.len - at, 1, &taken,
                           (char *)out + n, cap - n, &ended);
        at += taken;
    }
    coding_encoder_free(e);
    free(in);
    if (!out)
        return 0;
    rpc_reply_free(&o->reply); /* the tensor's memory goes back now */
    o->coded = out;
    o->coded_len = n;
    return 1;
}

/* Queues a reply message (r's pieces are the queue's now). */
static void queue_reply(grpc__call *k, rpc_reply *r)
{
    grpc__out *o = calloc(1, sizeof *o);
    if (!o) {
        rpc_reply_free(r);
        finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    o->reply = *r;
    int coded = k->in_coding != CODING_IDENTITY;
    if (coded && !compress_out(o, k->in_coding)) {
        rpc_reply_free(&o->reply);
        free(o);
        finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    size_t len = coded ? o->coded_len : o->reply.len;
    o->prefix[0] = (uint8_t)coded;
    for (int i = 0; i < 4; i++)
        o->prefix[1 + i] = (uint8_t)(len >> (24 - 8 * i));
    o->len = 5 + len;
    k->bytes_out += o->len;
    if (k->out_tail)
        k->out_tail->next = o;
    else
        k->out = o;
    k->out_tail = o;
    if (!k->headers_sent) {
        if (submit_headers(k, 0) != 0)
            nghttp2_submit_rst_stream(k->c->ng, NGHTTP2_FLAG_NONE, k->id,
                                      NGHTTP2_INTERNAL_ERROR);
    } else if (k->deferred) {
        k->deferred = 0;
        nghttp2_session_resume_data(k->c->ng, k->id);
    }
}

/* Answers the message read (then dropped). */
static void handle(grpc__call *k)
{
    grpc_server *g = k->c->loop->g;
    if (k->deadline > 0 && grpc__now() >= k->deadline) {
        finish(k, RPC_DEADLINE_EXCEEDED, "the deadline (grpc-timeout) passed before the call "
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
        char message[sizeof r.message];
        memcpy(message, r.message, sizeof message);
        rpc_code code = r.code;
        rpc_reply_free(&r);
        finish(k, code, message);
        return;
    }
    queue_reply(k, &r);
    if (!rpc_method_streaming(k->method))
        finish(k, RPC_OK, "");
}

static void fail_error(grpc__call *k, const lr_error *err)
{
    rpc_reply r = {0};
    rpc_fail_error(&r, err);
    finish(k, r.code, r.message);
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
        finish(k, RPC_INTERNAL, "a message's compressed flag must be 0 or 1");
        return -1;
    }
    if (flag && k->in_coding == CODING_IDENTITY) {
        finish(k, RPC_INTERNAL, "a compressed message, but no grpc-encoding");
        return -1;
    }
    if (k->msgs && !rpc_method_streaming(k->method)) {
        finish(k, RPC_UNIMPLEMENTED, "a unary call takes one request message");
        return -1;
    }
    if (k->msg_len > g->max_body) {
        lr_error_set(err, LR_ERR_BODY_TOO_LARGE, "the message is %zu bytes, more than "
                     "--max-body (%zu)", k->msg_len, g->max_body);
        fail_error(k, err);
        return -1;
    }
    if (k->msgs == 0 && k->account.held == 0) { /* nothing held yet: it claims its message */
        budget_close(&k->account);               /* (the banker's algorithm keeps the */
        budget_open(g->sh.budget, &k->account,   /* older calls able to finish) */
                    k->msg_len > SIZE_MAX - GRPC_MSG_SLACK ? SIZE_MAX
                                                           : k->msg_len + GRPC_MSG_SLACK);
    }
    k->msg_compressed = flag;
    k->msg = rpc_msg_new(k->method, &k->account, g->max_body);
    k->dec = flag ? coding_decoder_new(k->in_coding) : NULL;
    if (!k->msg || (flag && !k->dec)) {
        finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
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
        k->waiting = 1;
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
        finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
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
            if (k->prefix_have == 0)
                k->msg_t0 = grpc__now();
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
    grpc__call *k = call_of(s, id);
    if (!k)
        return 0;
    k->bytes_in += len;
    k->progress = k->c->active = grpc__now();
    if (!k->waiting && !k->finished && grant(k, len) < 0)
        return 0;
    size_t used = k->waiting ? 0 : feed(k, data, len);
    nghttp2_session_consume_stream(s, id, used);
    budget_trim(&k->account, GRPC_GRANT_KEPT);
    if (used < len)
        hold(k, data + used, len - used);
    return 0;
}

static void input_done(grpc__call *k);

void grpc__call_poll(grpc__call *k)
{
    budget_grant_rc rc = budget_poll(&k->account);
    if (rc == BUDGET_WAIT)
        return;
    grpc_server *g = k->c->loop->g;
    k->waiting = 0;
    k->c->loop->waiters--;
    metrics_queue_wait(g->sh.metrics, grpc__now() - k->wait_t0);
    uint8_t *held = k->held;
    size_t n = k->held_len;
    k->held = NULL;
    k->held_len = 0;
    if (rc == BUDGET_EXPIRED) {
        char why[200];
        snprintf(why, sizeof why, "waited --queue-timeout (%u s) for memory: %s",
                 g->queue_timeout_s, lr_err_message(LR_ERR_OVERLOADED));
        finish(k, RPC_RESOURCE_EXHAUSTED, why);
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
    k->end_held = k->waiting; /* its last bytes are still held */
    if (k->finished || k->waiting)
        return;
    if (k->prefix_have) {
        finish(k, RPC_INTERNAL, "the request ends inside a message");
    } else if (rpc_method_streaming(k->method)) {
        finish(k, RPC_OK, "");
    } else if (k->msgs == 0) {
        finish(k, RPC_UNIMPLEMENTED, "a unary call takes one request message; none came");
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
    grpc__call *k = call_of(s, frame->hd.stream_id);
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
        finish(k, RPC_UNIMPLEMENTED, msg);
    } else if (k->bad_coding) {
        char msg[200];
        snprintf(msg, sizeof msg, "grpc-encoding \"%s\" is not supported; the codings are "
                 "identity, deflate and gzip", k->coding_name);
        k->in_coding = CODING_IDENTITY;
        finish(k, RPC_UNIMPLEMENTED, msg);
    } else if (k->deadline > 0 && grpc__now() >= k->deadline) {
        finish(k, RPC_DEADLINE_EXCEEDED, "the deadline (grpc-timeout) passed before the call "
               "began");
    }
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    (void)user;
    grpc__call *k = call_of(s, frame->hd.stream_id);
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
    rpc_msg_free(k->msg);
    coding_decoder_free(k->dec);
    free(k->held);
    if (k->waiting)
        c->loop->waiters--;
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
    grpc__call *k = call_of(s, id);
    if (k)
        grpc__call_end(k, error_code);
    return 0;
}

/* After the status (trailers) went: a client still sending is told to
 * stop (RST_STREAM NO_ERROR, as gRPC's HTTP/2 mapping asks). */
static int on_frame_sent(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    (void)user;
    grpc__call *k = call_of(s, frame->hd.stream_id);
    if (k && k->reset_after && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
        (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
        k->reset_after = 0;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, k->id, NGHTTP2_NO_ERROR);
    }
    return 0;
}

static ssize_t on_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)s;
    (void)flags;
    size_t n = grpc__stage(user, data, len);
    return n ? (ssize_t)n : NGHTTP2_ERR_WOULDBLOCK;
}

/* The pieces of o's bytes [at, at + len): the prefix, then the coded
 * buffer or the reply's pieces. Calls add(c, data, n) for each; returns
 * how many there are. */
static size_t out_pieces(const grpc__out *o, size_t at, size_t len, grpc__conn *c)
{
    size_t count = 0, pos = 0;
    rpc_piece all[RPC_PIECES + 2];
    size_t n = 0;
    all[n++] = (rpc_piece){o->prefix, 5};
    if (o->coded)
        all[n++] = (rpc_piece){o->coded, o->coded_len};
    else
        for (size_t i = 0; i < o->reply.npieces; i++)
            all[n++] = o->reply.piece[i];
    for (size_t i = 0; i < n && len; i++) {
        size_t end = pos + all[i].len;
        if (at < end) {
            size_t off = at - pos, k = all[i].len - off < len ? all[i].len - off : len;
            if (c)
                grpc__iov_add(c, all[i].data + off, k);
            count++;
            at += k;
            len -= k;
        }
        pos = end;
    }
    return count;
}

static int on_send_data(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *src, void *user)
{
    (void)s;
    grpc__conn *c = user;
    grpc__call *k = src->ptr;
    grpc__out *o = k->out;
    if (!grpc__iov_room(c, 1 + out_pieces(o, o->sent, length, NULL), 9))
        return NGHTTP2_ERR_WOULDBLOCK;
    grpc__stage(c, framehd, 9);
    out_pieces(o, o->sent, length, c);
    (void)frame;
    k->progress = c->active = grpc__now();
    o->sent += length;
    if (o->sent == o->len) { /* all handed over: freed once written */
        k->out = o->next;
        if (!k->out)
            k->out_tail = NULL;
        o->next = c->retired;
        c->retired = o;
    }
    return 0;
}

static ssize_t read_data(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user)
{
    (void)buf;
    (void)user;
    grpc__call *k = src->ptr;
    if (k->out) {
        size_t left = k->out->len - k->out->sent;
        *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
        return (ssize_t)(left < length ? left : length);
    }
    if (!k->finished) {
        k->deferred = 1;
        return NGHTTP2_ERR_DEFERRED;
    }
    char code[12], message[sizeof k->message * 3];
    snprintf(code, sizeof code, "%d", (int)k->code);
    percent_encode(k->message, message, sizeof message);
    nghttp2_nv nv[] = {NV("grpc-status", code), NV("grpc-message", message)};
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    if (nghttp2_submit_trailer(s, id, nv, message[0] ? 2 : 1) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    k->trailers_sent = 1;
    return 0;
}

static ssize_t read_length(nghttp2_session *s, uint8_t type, int32_t id, int32_t conn_window,
                           int32_t stream_window, uint32_t max_frame, void *user)
{
    (void)s;
    (void)type;
    (void)id;
    (void)user;
    int32_t n = conn_window < stream_window ? conn_window : stream_window;
    if ((uint32_t)n > max_frame)
        n = (int32_t)max_frame;
    return n > 0 ? n : 1;
}

void grpc__callbacks(nghttp2_session_callbacks *cb)
{
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_sent);
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_send_data_callback(cb, on_send_data);
    nghttp2_session_callbacks_set_data_source_read_length_callback(cb, read_length);
}
