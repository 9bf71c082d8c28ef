/* A request body as it arrives: charged to the memory budget, decoded
 * when coded (gzip, deflate), and read as it comes: JSON by the request
 * reader, a binary body into one block, an inference request's JSON then
 * its binary inputs straight into their tensors. The handlers reach the
 * body only through the api__body_* functions below; struct api_body is
 * this file's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "mem.h"
#include "numfmt.h"
#include "request.h"
#include "stream.h"

struct api_body {
    api_format format;
    int form;               /* sent as a form: told so when it is not JSON */
    request req;            /* JSON: read by reader as the body comes */
    lr_error err;
    request_reader *reader;
    char *raw;              /* binary: the body as it came, a budget block */
    size_t raw_cap;         /* its size (raw holds `received` bytes) */
    budget_account account; /* the request's memory */
    size_t len, received;   /* bytes declared (or API_LENGTH_UNKNOWN), and come
                               (decoded, for a coded body) */
    coding_decoder *decoder; /* a coded body's, or NULL */
    size_t max_body;         /* the most it may decode to */
    /* An inference request (API_FORMAT_OIP): its JSON, then the binary
     * data of the inputs that said binary_data_size, in their order. */
    size_t json_len;        /* Inference-Header-Content-Length, or API_LENGTH_UNKNOWN */
    int bad_json_length;    /* that header was not a byte count within the body */
    int json_done;          /* the JSON is read: what follows is binary data */
    lr_err json_rc;         /* its outcome, then */
    size_t bin_input;       /* the input (in JSON order) the next bytes go to */
    size_t bin_off;         /* its bytes so far */
    size_t bin_extra;       /* bytes beyond the last input's */
};

static void oip_json_done(api_body *b);
static lr_err oip_feed(api_body *b, const char *data, size_t len);

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* Why memory the body needed could not be had: more than the whole
 * budget, no room now, or none at all. */
static lr_err no_room(const api_body *b)
{
    return b->account.too_large  ? LR_ERR_BODY_TOO_LARGE
           : b->account.refused ? LR_ERR_OVERLOADED
                                : LR_ERR_NO_MEMORY;
}

/* The most a reply to a body of len bytes allocates: a stream, or for
 * fewer than API_STREAM_MIN elements their text (each number with ", ",
 * the brackets and separators at most twice the body's, or 4 bytes per
 * dimension of each element), with a head and '}'. */
static size_t reply_bound(size_t len)
{
    size_t elements = len / 2 + 1;
    if (elements >= API_STREAM_MIN)
        return STREAM_MEMORY_MAX;
    size_t brackets = len < SIZE_MAX / 2 ? 2 * len : SIZE_MAX;
    if (brackets > 4 * TENSOR_MAX_DIMS * elements)
        brackets = 4 * TENSOR_MAX_DIMS * elements;
    return (NUMFMT_F64_MAX + 2) * elements + brackets + 64;
}

/* What a body of unknown length claims at first: as 64 KiB would (its
 * grants raise its claim as it grows). */
#define UNKNOWN_RESERVE (64 * 1024)

/* The claim of what is still to come of b: reading the text still to
 * arrive and the text held, and the reply. */
static size_t still_needed(const api_body *b)
{
    size_t to_come = b->len - b->received;
    return add_sat(request_reader_bound(add_sat(to_come, request_reader_held(b->reader))),
                   reply_bound(b->len));
}

/* The text of a reply too small to stream (fewer than API_STREAM_MIN
 * numbers, each with ", "), with room for its JSON around them. */
#define SMALL_REPLY_MAX ((size_t)API_STREAM_MIN * (NUMFMT_F64_MAX + 2) + 4096)

/* What a binary body holds beside its bytes: the block's head, and the
 * reply's few headers. */
#define BINARY_OVERHEAD 4096

/* The claim (the worst case) of a body of len bytes. */
static size_t worst_case(api_format format, size_t len)
{
    if (len == API_LENGTH_UNKNOWN)
        len = UNKNOWN_RESERVE;
    if (format == API_FORMAT_BINARY)
        return add_sat(len, BINARY_OVERHEAD);
    if (format == API_FORMAT_OIP) /* JSON, binary inputs (read, sent back in place), a stream */
        return add_sat(add_sat(request_reader_bound(len), len),
                       add_sat(reply_bound(len), STREAM_MEMORY_MAX));
    return add_sat(request_reader_bound(len), reply_bound(len));
}

/* A byte count of at most len (when known): digits only. */
static int parse_length(const char *s, size_t len, size_t *out)
{
    size_t n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || n > (SIZE_MAX - 9) / 10)
            return -1;
        n = n * 10 + (size_t)(*s - '0');
    }
    if (len != API_LENGTH_UNKNOWN && n > len)
        return -1;
    *out = n;
    return 0;
}

api_body *api_body_new(const api_head *head, struct pool *workers, budget *bg, size_t len,
                       lr_err *why)
{
    if (head->coding != CODING_IDENTITY) /* what it decodes to is unknown */
        len = API_LENGTH_UNKNOWN;
    size_t claim = worst_case(head->format, len), json_len = API_LENGTH_UNKNOWN;
    int bad_json_length = head->format == API_FORMAT_OIP && head->json_length &&
                          parse_length(head->json_length, len, &json_len) != 0;
    if (json_len != API_LENGTH_UNKNOWN && len != API_LENGTH_UNKNOWN)
        /* JSON of json_len bytes, then binary inputs received and sent back in place */
        claim = add_sat(add_sat(request_reader_bound(json_len), reply_bound(json_len)),
                        add_sat(len - json_len, STREAM_MEMORY_MAX + SMALL_REPLY_MAX));
    if (head->coding != CODING_IDENTITY)
        claim = add_sat(claim, CODING_MEMORY);
    *why = LR_ERR_NO_MEMORY;
    api_body *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    /* The worst case is claimed, nothing charged: room is granted a
     * piece at a time (api_body_room), as the body comes. */
    budget_open(bg, &b->account, claim);
    b->format = head->format;
    b->form = head->form;
    b->len = len;
    b->received = 0;
    b->raw = NULL;
    b->raw_cap = 0;
    b->reader = NULL;
    request_init(&b->req);
    request_set_account(&b->req, &b->account);
    lr_error_clear(&b->err);
    b->json_len = json_len;
    b->bad_json_length = bad_json_length;
    b->json_done = 0;
    b->json_rc = LR_ERR_OK;
    b->bin_input = b->bin_off = b->bin_extra = 0;
    b->max_body = head->max_body ? head->max_body : SIZE_MAX;
    b->decoder = NULL;
    if (head->coding != CODING_IDENTITY && !(b->decoder = coding_decoder_new(head->coding))) {
        budget_close(&b->account);
        free(b);
        return NULL;
    }
    if (b->format == API_FORMAT_BINARY)
        return b;
    request_kind kind = b->format == API_FORMAT_OIP ? REQUEST_OIP
                        : head->route == API_FORWARD ? REQUEST_FORWARD
                                                     : REQUEST_GRADIENT;
    b->reader = request_reader_new(kind, workers, &b->req, &b->err);
    if (!b->reader) {
        coding_decoder_free(b->decoder);
        budget_close(&b->account);
        free(b);
        return NULL;
    }
    return b;
}

/* The size a binary body's block grows to for `want` bytes: the size
 * declared, or as mem_grow says when none was (or it is passed). */
static size_t raw_cap_for(const api_body *b, size_t want)
{
    return b->len != API_LENGTH_UNKNOWN && want <= b->len ? b->len
                                                          : mem_grow(b->raw_cap, want, 64 * 1024);
}

/* A binary body's bytes: straight into one block, the size declared (or
 * growing as mem_grow says when none was), the one copy they get. */
static lr_err raw_feed(api_body *b, const char *data, size_t len)
{
    if (len > b->raw_cap - b->received) {
        size_t cap = raw_cap_for(b, b->received + len);
        char *grown = cap ? budget_realloc(&b->account, b->raw, cap) : NULL;
        if (!grown)
            return no_room(b);
        if (!b->raw)
            mem_hint_large(grown, cap);
        b->raw = grown;
        b->raw_cap = cap;
    }
    memcpy(b->raw + b->received, data, len);
    b->received += len;
    return LR_ERR_OK;
}

/* The body's bytes as they are (decoded, for a coded body). */
static lr_err plain_feed(api_body *b, const char *data, size_t len)
{
    if (b->format == API_FORMAT_BINARY)
        return len ? raw_feed(b, data, len) : LR_ERR_OK;
    if (b->format == API_FORMAT_OIP) {
        lr_err rc = oip_feed(b, data, len);
        if (rc == LR_ERR_OK && !b->json_done && b->len != API_LENGTH_UNKNOWN &&
            b->received <= b->len)
            budget_expect(&b->account, add_sat(still_needed(b), b->len - b->received));
        return rc;
    }
    if (request_reader_feed(b->reader, data, len) != 0)
        return no_room(b);
    b->received += len;
    /* What is read needs no claim any more: the requests that come next
     * may be let in sooner. */
    if (b->len != API_LENGTH_UNKNOWN && b->received <= b->len)
        budget_expect(&b->account, still_needed(b));
    return LR_ERR_OK;
}

static int decoded(void *cls, const char *data, size_t len)
{
    api_body *b = cls;
    if (len > b->max_body - b->received)
        return LR_ERR_BODY_TOO_LARGE; /* a zip bomb stops here */
    return (int)plain_feed(b, data, len);
}

/* The most of a grant kept between pieces; the rest goes back for the
 * other requests (a pass over the text held may need many times this,
 * granted just before it). */
#define GRANT_KEPT MEM_GROW_STEP

lr_err api_body_feed(api_body *b, const char *data, size_t len)
{
    lr_err rc;
    if (!b->decoder) {
        rc = plain_feed(b, data, len);
    } else {
        int d = coding_decode(b->decoder, data, len, decoded, b);
        rc = d < 0 ? LR_ERR_BAD_ENCODING : (lr_err)d;
    }
    budget_trim(&b->account, GRANT_KEPT);
    return rc;
}

/* What feeding the n bytes at data (0: none; the body is complete) can
 * take, with the reply. A coded body's n bytes decode to an unknown
 * size: it is reckoned as n, and what more it takes is granted as it
 * comes, when there is room (budget_take). */
static size_t need(const api_body *b, const char *data, size_t n)
{
    size_t coded = b->decoder ? CODING_MEMORY : 0;
    size_t got = add_sat(b->received, n), len = b->len != API_LENGTH_UNKNOWN ? b->len : got;
    if (b->format == API_FORMAT_BINARY) {
        size_t cap = got > b->raw_cap ? raw_cap_for(b, got) : b->raw_cap; /* raw_feed's */
        return add_sat(add_sat(cap - b->raw_cap, sizeof(void *) * 4 + BINARY_OVERHEAD), coded);
    }
    size_t read = b->json_done ? 0 : request_reader_need(b->reader, b->decoder ? NULL : data, n);
    size_t reply = reply_bound(len);
    if (b->format == API_FORMAT_OIP) /* binary inputs after the JSON, a stream, a small reply */
        reply = add_sat(add_sat(reply, len - (b->received < len ? b->received : len)),
                        STREAM_MEMORY_MAX + SMALL_REPLY_MAX);
    return add_sat(add_sat(read, reply), coded);
}

size_t api_body_declared(const api_body *b) { return b->len; }

budget_grant_rc api_body_room(api_body *b, const char *data, size_t n)
{
    return budget_grant(&b->account, need(b, data, n));
}

int api_body_wait(api_body *b, budget_wake_fn *wake, void *cls)
{
    return budget_wait(&b->account, wake, cls);
}

lr_err api_body_refusal(const api_body *b)
{
    return b->account.too_large ? LR_ERR_BODY_TOO_LARGE : LR_ERR_OVERLOADED;
}

void api_body_free(api_body *b)
{
    if (!b)
        return;
    request_reader_free(b->reader);
    coding_decoder_free(b->decoder);
    request_free(&b->req);
    budget_block_free(b->raw);
    budget_close(&b->account);
    free(b);
}


/* The inputs with binary data, in the JSON's order: their count, and
 * which (0: x, 1: grad_output) into order[]. */
static size_t binary_inputs(const request *req, size_t order[REQUEST_OIP_INPUTS])
{
    const request_oip *o = &req->oip;
    size_t n = 0;
    for (size_t k = 0; k < o->ninputs && k < REQUEST_OIP_INPUTS; k++) {
        size_t i = o->swapped ? o->ninputs - 1 - k : k;
        if (o->in[i].binary)
            order[n++] = i;
    }
    return n;
}

static void oip_json_done(api_body *b)
{
    if (b->json_done)
        return;
    b->json_done = 1;
    b->json_rc = request_reader_finish(b->reader);
    if (b->json_rc != LR_ERR_OK)
        return;
    /* Room for each binary input: its bytes go straight there. */
    size_t order[REQUEST_OIP_INPUTS], n = binary_inputs(&b->req, order);
    for (size_t k = 0; k < n; k++) {
        request_oip_input *in = &b->req.oip.in[order[k]];
        tensor *t = order[k] == 0 ? &b->req.x : &b->req.grad_output;
        if (tensor_reserve(t, (in->binary_size + 7) / 8) != 0) {
            b->json_rc = lr_error_set(&b->err, no_room(b), NULL);
            return;
        }
        t->dtype = in->dtype;
        if (in->dtype == TENSOR_F32)
            t->cap *= 2; /* the same bytes, counted in floats */
    }
}

/* Bytes after the JSON: into the binary inputs, in order. */
static void binary_feed(api_body *b, const char *data, size_t len)
{
    size_t order[REQUEST_OIP_INPUTS], n = binary_inputs(&b->req, order);
    if (b->json_rc != LR_ERR_OK)
        n = 0; /* the error is the answer: the bytes are dropped */
    while (len && b->bin_input < n) {
        request_oip_input *in = &b->req.oip.in[order[b->bin_input]];
        tensor *t = order[b->bin_input] == 0 ? &b->req.x : &b->req.grad_output;
        size_t k = in->binary_size - b->bin_off < len ? in->binary_size - b->bin_off : len;
        if (k)
            memcpy((char *)t->data + b->bin_off, data, k);
        b->bin_off += k;
        data += k;
        len -= k;
        if (b->bin_off == in->binary_size) {
            t->count = in->binary_size / (in->dtype == TENSOR_F32 ? 4 : 8);
            b->bin_input++;
            b->bin_off = 0;
        }
    }
    b->bin_extra += len;
}

static lr_err oip_feed(api_body *b, const char *data, size_t len)
{
    if (b->bad_json_length) {
        b->received += len;
        return LR_ERR_OK;
    }
    if (!b->json_done) {
        size_t n = b->json_len == API_LENGTH_UNKNOWN || b->json_len - b->received > len
                       ? len
                       : b->json_len - b->received;
        if (n && request_reader_feed(b->reader, data, n) != 0)
            return no_room(b);
        b->received += n;
        data += n;
        len -= n;
        if (b->received == b->json_len)
            oip_json_done(b);
    }
    if (len)
        binary_feed(b, data, len);
    b->received += len;
    return LR_ERR_OK;
}

int api__body_complete(api_body *b)
{
    return !b->decoder || coding_decode_end(b->decoder) == 0;
}

api_format api__body_format(const api_body *b) { return b->format; }

budget_account *api__body_account(api_body *b) { return &b->account; }

lr_err api__body_json(api_body *b, request **req, const lr_error **err)
{
    *req = &b->req;
    *err = &b->err;
    lr_err rc = request_reader_finish(b->reader);
    if (rc == LR_ERR_JSON_SYNTAX && b->form && b->err.offset == 0) { /* name=value&... */
        lr_error_set(&b->err, rc, "the body is a form (name=value, as Python's "
                     "requests.post(url, data=...) sends), not JSON: send JSON "
                     "(requests.post(url, json={\"x\": [1, -2]}), or curl with "
                     "-H 'Content-Type: application/json')");
        b->err.offset = 0;
    }
    return rc;
}

lr_err api__body_infer_json(api_body *b, request **req, const lr_error **err)
{
    oip_json_done(b);
    *req = &b->req;
    *err = &b->err;
    return b->json_rc;
}

int api__body_json_length_ok(const api_body *b) { return !b->bad_json_length; }

lr_err api__body_binary_complete(const api_body *b, lr_error *err)
{
    const request_oip *o = &b->req.oip;
    size_t want = 0;
    for (size_t i = 0; i < o->ninputs; i++)
        want += o->in[i].binary ? o->in[i].binary_size : 0;
    size_t got = b->received - (b->json_len == API_LENGTH_UNKNOWN ? b->received : b->json_len);
    if (got == want)
        return LR_ERR_OK;
    if (b->json_len == API_LENGTH_UNKNOWN)
        return lr_error_set(err, LR_ERR_BINARY_LENGTH, "the inputs have binary_data_size (%zu "
                            "bytes in all), but no Inference-Header-Content-Length header "
                            "says where the JSON ends and they begin", want);
    return lr_error_set(err, LR_ERR_BINARY_LENGTH, "the body has %zu bytes after its JSON "
                        "(Inference-Header-Content-Length: %zu), but the inputs' "
                        "binary_data_size add up to %zu", got, b->json_len, want);
}

char *api__body_bytes(api_body *b, size_t *len)
{
    if (!b->raw) /* an empty body: an empty block, so that it can be the reply */
        b->raw = budget_malloc(&b->account, 0);
    *len = b->received;
    return b->raw;
}

char *api__body_take_bytes(api_body *b)
{
    char *raw = b->raw;
    b->raw = NULL;
    return raw;
}
