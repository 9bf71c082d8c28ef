/* A reply handed to libmicrohttpd: from a buffer, from pieces sent where
 * they lie (a binary reply's JSON head and tensors), or through a
 * callback (a stream formatted as it is sent, or anything compressed as
 * the request's Accept-Encoding asks); with the headers every reply
 * carries (request id, Allow, Retry-After, CORS, Vary). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coding.h"
#include "server_internal.h"
#include "stream.h"

/* Served when even an error body cannot be allocated. */
static char oom_body[] =
    "{\"error\": \"the server is out of memory; retry later\", \"code\": \"out_of_memory\"}";

/* Successes shorter than this are sent as they are: compressing them
 * saves next to nothing. */
#define COMPRESS_MIN 256

/* Buffers of at least this many bytes are sent as an iovec response:
 * libmicrohttpd 0.9.75 sends those straight from the buffer, while it
 * copies a buffer response through the connection's write buffer (an 8 MB
 * binary reply: 160 requests/s against 125). */
#define IOVEC_MIN (64 * 1024)

/* A reply's bytes from where they lie: a head (a buffer, maybe charged
 * to the budget) and parts, in order. */
typedef struct pieces {
    char *head;
    size_t head_len;
    int head_in_budget;
    api_part parts[API_PARTS_MAX];
    size_t nparts;
} pieces;

static void pieces_free(pieces *p)
{
    if (!p)
        return;
    if (p->head_in_budget)
        budget_block_free(p->head);
    else
        free(p->head);
    for (size_t i = 0; i < p->nparts; i++) {
        free(p->parts[i].data);
        budget_release(p->parts[i].budget, p->parts[i].charged);
    }
    free(p);
}

/* resp's body and parts, taken from it; NULL (they are then freed) when
 * memory runs out. */
static pieces *pieces_take(api_response *resp)
{
    pieces *p = malloc(sizeof *p);
    if (p) {
        *p = (pieces){resp->body, resp->len, resp->body_in_budget, {{0}}, resp->nparts};
        memcpy(p->parts, resp->parts, sizeof p->parts);
        resp->body = NULL;
        resp->nparts = 0;
    } else {
        api_response_free(resp);
    }
    return p;
}

static void free_pieces(void *cls) { pieces_free(cls); }

/* The MHD response over pieces, sent from where they are. */
static struct MHD_Response *pieces_response(pieces *p, size_t *len)
{
    struct MHD_IoVec iov[1 + API_PARTS_MAX];
    iov[0] = (struct MHD_IoVec){p->head, p->head_len};
    *len = p->head_len;
    for (size_t i = 0; i < p->nparts; i++) {
        iov[1 + i] = (struct MHD_IoVec){p->parts[i].data, p->parts[i].len};
        *len += p->parts[i].len;
    }
    struct MHD_Response *r =
        MHD_create_response_from_iovec(iov, (unsigned)(1 + p->nparts), free_pieces, p);
    if (!r)
        pieces_free(p);
    return r;
}

/* The block asked of MHD for replies through a callback: each read fills
 * at most this much of MHD's buffer for the connection. */
#define REPLY_BLOCK (64 * 1024)

struct server__reply {
    stream *st;            /* the plain bytes: a stream, */
    pieces *pc;            /* or pieces */
    size_t at, off;        /* the piece being read (0: the head), and its bytes read */
    coding_encoder *enc;   /* compressed, or NULL */
    char *plain;           /* REPLY_BLOCK bytes read ahead for the encoder */
    size_t plain_len, plain_off;
    int plain_last;        /* nothing more follows what plain holds */
    int ended;             /* all of it handed to MHD */
    _Atomic uint64_t sent; /* body bytes handed to MHD */
    atomic_int refs;       /* the response's and the exchange's */
};

uint64_t server__reply_sent(server__reply *rp) { return atomic_load(&rp->sent); }

void server__reply_release(server__reply *rp)
{
    if (rp && atomic_fetch_sub(&rp->refs, 1) == 1)
        free(rp);
}

/* The next plain bytes of the reply, at most max; 0 at its end, -1 when
 * the stream broke. */
static ptrdiff_t plain_read(server__reply *rp, char *buf, size_t max)
{
    if (rp->st)
        return stream_read(rp->st, buf, max);
    size_t n = 0;
    while (n < max && rp->at <= rp->pc->nparts) {
        const char *src = rp->at == 0 ? rp->pc->head : rp->pc->parts[rp->at - 1].data;
        size_t len = rp->at == 0 ? rp->pc->head_len : rp->pc->parts[rp->at - 1].len;
        size_t k = len - rp->off < max - n ? len - rp->off : max - n;
        if (k)
            memcpy(buf + n, src + rp->off, k);
        n += k;
        rp->off += k;
        if (rp->off == len) {
            rp->at++;
            rp->off = 0;
        }
    }
    return (ptrdiff_t)n;
}

/* Compressed bytes into buf: as many as the encoder gives for what is
 * read ahead, reading more until it gives some (it may take a lot of
 * input before its first output). */
static ptrdiff_t encoded_read(server__reply *rp, char *buf, size_t max)
{
    for (;;) {
        if (rp->plain_off == rp->plain_len && !rp->plain_last) {
            ptrdiff_t n = plain_read(rp, rp->plain, REPLY_BLOCK);
            if (n < 0)
                return -1;
            rp->plain_len = (size_t)n;
            rp->plain_off = 0;
            rp->plain_last = n == 0;
        }
        size_t taken;
        int ended = 0;
        size_t n = coding_encode(rp->enc, rp->plain + rp->plain_off, rp->plain_len - rp->plain_off,
                                 rp->plain_last, &taken, buf, max, &ended);
        rp->plain_off += taken;
        rp->ended = ended;
        if (n || ended)
            return (ptrdiff_t)n;
    }
}

/* MHD's content reader. It may wait for a worker to finish a range of a
 * stream, never for the client. */
static ssize_t reply_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    server__reply *rp = cls;
    if (max == 0)
        return 0;
    if (rp->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    ptrdiff_t n = rp->enc ? encoded_read(rp, buf, max) : plain_read(rp, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    atomic_fetch_add_explicit(&rp->sent, (uint64_t)n, memory_order_relaxed);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void free_reply(void *cls)
{
    server__reply *rp = cls;
    stream_free(rp->st);
    pieces_free(rp->pc);
    coding_encoder_free(rp->enc);
    free(rp->plain);
    rp->st = NULL;
    rp->pc = NULL;
    server__reply_release(rp);
}

/* The MHD response through a callback over a stream or pieces (one of
 * them NULL), compressed when c is not identity: owned by it from here
 * on, and referenced by the exchange. */
static struct MHD_Response *callback_response(exchange *ex, stream *st, pieces *pc, coding c)
{
    server__reply *rp = calloc(1, sizeof *rp);
    if (rp && c != CODING_IDENTITY) {
        rp->enc = coding_encoder_new(c);
        rp->plain = malloc(REPLY_BLOCK);
    }
    if (!rp || (c != CODING_IDENTITY && (!rp->enc || !rp->plain))) {
        if (rp) {
            coding_encoder_free(rp->enc);
            free(rp->plain);
            free(rp);
        }
        stream_free(st);
        pieces_free(pc);
        return NULL;
    }
    rp->st = st;
    rp->pc = pc;
    atomic_init(&rp->sent, 0);
    atomic_init(&rp->refs, 1);
    /* Unknown length: chunked for HTTP/1.1, closed at the end for 1.0. */
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, REPLY_BLOCK,
                                                               reply_reader, rp, free_reply);
    if (!r) {
        free_reply(rp);
        return NULL;
    }
    atomic_fetch_add(&rp->refs, 1);
    ex->reply = rp;
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
    if (!value)
        return MHD_YES;
    enum MHD_Result ok = MHD_add_response_header(r, "Access-Control-Allow-Origin", value);
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

/* The coding to send resp in: what the request accepts, for a success
 * worth compressing (errors stay plain: clients read them undecoded).
 * Not for HEAD: a compressed reply goes in chunks, and libmicrohttpd
 * 0.9.75 writes the last chunk ("0" CRLF CRLF) after a HEAD's head, which
 * a kept-alive client reads as the start of its next reply. */
static coding reply_coding(struct MHD_Connection *c, const exchange *ex,
                           const api_response *resp)
{
    if (ex->head_only || resp->status < 200 || resp->status >= 300 || resp->status == 204 ||
        (!resp->stream && !resp->nparts && resp->len < COMPRESS_MIN))
        return CODING_IDENTITY;
    return coding_accepted(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

enum MHD_Result server__send(server *s, struct MHD_Connection *c, exchange *ex,
                             api_response *resp)
{
    struct MHD_Response *r = NULL;
    int status = resp->status;
    size_t len = 0;
    coding cd = reply_coding(c, ex, resp);
    if (resp->out_of_memory) {
        api_response_free(resp); /* r stays NULL: the static 503 below */
    } else if (resp->stream) {
        r = callback_response(ex, resp->stream, NULL, cd);
        resp->stream = NULL;
    } else if (resp->body && (resp->nparts || cd != CODING_IDENTITY || resp->len >= IOVEC_MIN)) {
        pieces *p = pieces_take(resp);
        r = !p ? NULL : cd != CODING_IDENTITY ? callback_response(ex, NULL, p, cd)
                                               : pieces_response(p, &len);
    } else if (resp->body) {
        void (*release)(void *) = resp->body_in_budget ? budget_block_free : free;
        r = MHD_create_response_from_buffer_with_free_callback(resp->len, resp->body, release);
        if (!r)
            release(resp->body);
        resp->body = NULL;
        len = resp->len;
    } else { /* an empty body */
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    const char *ctype = resp->content_type ? resp->content_type : "application/json";
    if (!r) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        ctype = "application/json";
        cd = CODING_IDENTITY;
        len = sizeof oom_body - 1;
        r = MHD_create_response_from_buffer(len, oom_body, MHD_RESPMEM_PERSISTENT);
        if (!r) {
            api_response_free(resp);
            return MHD_NO;
        }
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
    if (ok == MHD_YES && cd != CODING_IDENTITY)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, coding_name(cd));
    /* What caches must key the reply on: the Origin when it decides the
     * CORS headers, the Accept-Encoding when it may decide the coding. */
    int by_origin = cors_on(&s->cors) && !s->cors.any,
        by_coding = (status >= 200 && status < 300 && status != 204) || status == 304;
    if (ok == MHD_YES && (by_origin || by_coding))
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_VARY,
                                     by_origin && by_coding ? "Origin, Accept-Encoding"
                                     : by_origin            ? "Origin"
                                                            : "Accept-Encoding");
    if (ok == MHD_YES)
        ok = cors_headers(s, c, r, resp->allow);
    if (ok == MHD_YES && resp->retry_after) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", resp->retry_after);
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    if (ok == MHD_YES && (resp->close || drain_active(&s->drain)))
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    api_response_free(resp); /* the headers; the body is the MHD response's */
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result server__refuse(server *s, struct MHD_Connection *c, exchange *ex,
                               const lr_error *err, int close)
{
    api_response resp = {0};
    api_error(err, &resp);
    resp.close = close;
    return server__send(s, c, ex, &resp);
}

enum MHD_Result server__send_error(server *s, struct MHD_Connection *c, exchange *ex,
                                   lr_err code, const char *detail)
{
    lr_error err;
    if (detail)
        lr_error_set(&err, code, "%s", detail);
    else
        lr_error_set(&err, code, NULL);
    return server__refuse(s, c, ex, &err, 0);
}
