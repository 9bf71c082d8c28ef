/* A gRPC call's replies over HTTP/2: the response's headers, reply
 * messages queued and sent as DATA where their pieces lie (the frame
 * headers staged, the pieces gathered for writev), the status as
 * trailers, or as trailers only when no message was sent, and the reset
 * that tells a client still sending to stop once the status went. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_internal.h"

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

static ssize_t read_data(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *src, void *user);

/* The response's headers: with the status when there is no message
 * (trailers only), else before the first message. */
/* The replies' coding: the request's (gzip or deflate) when the client
 * says it takes it (grpc-accept-encoding), else identity. */
static coding reply_coding(const grpc__call *k)
{
    return (k->in_coding == CODING_GZIP && k->accept_gzip) ||
                   (k->in_coding == CODING_DEFLATE && k->accept_deflate)
               ? k->in_coding
               : CODING_IDENTITY;
}

static int submit_headers(grpc__call *k, int trailers_only)
{
    char code[12], message[sizeof k->message * 3];
    snprintf(code, sizeof code, "%d", (int)k->code);
    percent_encode(k->message, message, sizeof message);
    nghttp2_nv nv[8] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                        NV("x-request-id", k->request_id)};
    size_t n = 3;
    const char *enc = reply_coding(k) != CODING_IDENTITY ? coding_name(reply_coding(k)) : NULL;
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

void grpc__call_unwait(grpc__call *k)
{
    if (!k->waiting)
        return;
    if (k->waiting == GRPC_WAIT_MEMORY)
        budget_grant(&k->account, 0); /* n = 0: it leaves the queue */
    k->waiting = 0;
    k->c->loop->waiters--;
}

/* The call has something to send: its response's headers (with the
 * status when trailers_only, no message having gone), or its data source,
 * waiting for replies, is resumed. */
static void something_to_send(grpc__call *k, int trailers_only)
{
    if (!k->headers_sent) {
        if (submit_headers(k, trailers_only) != 0)
            nghttp2_submit_rst_stream(k->c->ng, NGHTTP2_FLAG_NONE, k->id,
                                      NGHTTP2_INTERNAL_ERROR);
    } else if (k->deferred) {
        k->deferred = 0;
        nghttp2_session_resume_data(k->c->ng, k->id);
    }
}

/* The call's status is decided: sent now (trailers only), or after the
 * replies queued. */
void grpc__finish(grpc__call *k, rpc_code code, const char *message)
{
    if (k->finished)
        return;
    k->finished = 1;
    grpc__call_unwait(k); /* out of the budget's queue: the account is this loop's alone */
    k->reset_after = !k->half_closed; /* once the status is sent: it need not send more */
    k->code = code;
    snprintf(k->message, sizeof k->message, "%s", code == RPC_OK ? "" : message);
    something_to_send(k, 1);
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
    grpc__finish(k, code, why); /* the status, then a reset if the client still sends */
}

/* A reply message compressed as the request was (gzip or deflate), its
 * pieces fed in turn (no joined copy), into a buffer charged to the call's
 * account and then the reply's, released when it is freed. */
static int compress_out(grpc__call *k, grpc__out *o, coding c)
{
    budget_account *a = &k->account;
    coding_encoder *e = coding_encoder_new(c);
    size_t cap = 0, n = 0, np = o->reply.npieces;
    uint8_t *out = NULL;
    int ended = 0, ok = e != NULL;
    for (size_t i = 0; ok && (i < np || (np == 0 && i == 0)); i++) {
        const uint8_t *in = np ? o->reply.piece[i].data : (const uint8_t *)"";
        size_t len = np ? o->reply.piece[i].len : 0, at = 0;
        int last = i + 1 >= np;
        do {
            if (cap - n < 512) {
                size_t more = cap ? cap : o->reply.len / 2 + 1024;
                uint8_t *grown = NULL;
                if (budget_take(a, more) == 0 && !(grown = realloc(out, cap + more)))
                    budget_give(a, more);
                if (!grown) {
                    ok = 0;
                    break;
                }
                out = grown;
                cap += more;
            }
            size_t taken = 0;
            n += coding_encode(e, (const char *)in + at, len - at, last, &taken, (char *)out + n,
                               cap - n, &ended);
            at += taken;
        } while (at < len || (last && !ended));
    }
    coding_encoder_free(e);
    if (!ok) {
        free(out);
        budget_give(a, cap);
        return 0;
    }
    rpc_reply_free(&o->reply); /* the tensor's memory goes back now */
    budget_disown(a, cap);     /* the coded buffer's charge is the reply's */
    o->coded = out;
    o->coded_len = n;
    o->coded_charge = cap;
    o->coded_budget = a->b;
    return 1;
}

/* Queues a reply message (r's pieces are the queue's now). */
void grpc__queue_reply(grpc__call *k, rpc_reply *r)
{
    grpc__out *o = calloc(1, sizeof *o);
    if (!o) {
        rpc_reply_free(r);
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    o->reply = *r;
    int coded = reply_coding(k) != CODING_IDENTITY;
    if (coded && !compress_out(k, o, reply_coding(k))) {
        rpc_reply_free(&o->reply);
        free(o);
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    size_t len = coded ? o->coded_len : o->reply.len;
    if (len > UINT32_MAX) { /* more than gRPC's length prefix says */
        free(o->coded);
        budget_release(o->coded_budget, o->coded_charge);
        rpc_reply_free(&o->reply);
        free(o);
        grpc__finish(k, RPC_RESOURCE_EXHAUSTED, "the reply is larger than a gRPC message can be "
                     "(4 GiB)");
        return;
    }
    o->prefix[0] = (uint8_t)coded;
    for (int i = 0; i < 4; i++)
        o->prefix[1 + i] = (uint8_t)(len >> (24 - 8 * i));
    o->len = 5 + len;
    k->bytes_out += o->len;
    if (!k->out) { /* the reply rate is measured from here */
        k->out_since = grpc__now();
        k->out_sent = 0;
    }
    k->out_bytes += o->len;
    if (k->out_tail)
        k->out_tail->next = o;
    else
        k->out = o;
    k->out_tail = o;
    something_to_send(k, 0);
}

/* After the status (trailers) went: a client still sending is told to
 * stop (RST_STREAM NO_ERROR, as gRPC's HTTP/2 mapping asks). */
static int on_frame_sent(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
    (void)user;
    grpc__call *k = grpc__call_of(s, frame->hd.stream_id);
    if (k && k->reset_after && !k->half_closed && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
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
    k->out_bytes -= length;
    k->out_sent += length;
    if (o->sent == o->len) { /* all handed over: freed once written */
        k->out = o->next;
        if (!k->out) {
            k->out_tail = NULL;
            k->out_since = 0;
        }
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

void grpc__reply_callbacks(nghttp2_session_callbacks *cb)
{
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_sent);
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_send_data_callback(cb, on_send_data);
    nghttp2_session_callbacks_set_data_source_read_length_callback(cb, read_length);
}
