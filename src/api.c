/* Routes and handlers of the HTTP API. Errors are JSON built with jansson;
 * numeric results are written directly by tensor_write_json. */
#include "api.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lrelu.h"
#include "mem.h"
#include "numfmt.h"
#include "numparse.h"
#include "pool.h"
#include "request.h"
#include "tensor.h"
#include "utf8.h"

#ifndef LEAKYRELU_VERSION
#define LEAKYRELU_VERSION "0.0.0-dev"
#endif

#define DEFAULT_SLOPE 0.01

static const struct {
    const char *path;
    int is_post;
    api_route route;
} routes[] = {
    {"/forward", 1, API_FORWARD}, {"/gradient", 1, API_GRADIENT},
    {"/healthz", 0, API_HEALTHZ}, {"/livez", 0, API_LIVEZ},
    {"/readyz", 0, API_READYZ},   {"/version", 0, API_VERSION},
};

const char *api_version(void) { return LEAKYRELU_VERSION; }

int api_route_has_body(api_route route)
{
    return route == API_FORWARD || route == API_GRADIENT;
}

/* Takes ownership of a malloc'd JSON text. */
static void respond(api_response *resp, int status, char *body)
{
    resp->status = status;
    resp->body = body;
    resp->len = body ? strlen(body) : 0;
    resp->stream = NULL;
}

static void respond_json(api_response *resp, int status, json_t *obj)
{
    /* jansson allocates with malloc by default (json_set_alloc_funcs is
     * never called), so the text can be released with free(). */
    respond(resp, status, obj ? json_dumps(obj, 0) : NULL);
    if (!resp->body)
        resp->status = 503;
    json_decref(obj);
}

void api_error(const lr_error *err, api_response *resp)
{
    char msg[LR_DETAIL_MAX + LR_PATH_MAX + 64], safe[sizeof msg];
    int n = snprintf(msg, sizeof msg, "%s",
                     err->detail[0] ? err->detail : lr_err_message(err->code));
    if (err->path[0] && n >= 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n, " at %s", err->path);
    if (err->offset != LR_NO_OFFSET && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, " at byte %zu", err->offset);
    /* Messages quote client bytes (names, escapes, headers, the path):
     * make them valid, printable UTF-8 or jansson refuses the string. */
    utf8_sanitize(msg, safe, sizeof safe);
    json_t *obj = json_pack("{s:s, s:s}", "error", safe, "code", lr_err_code(err->code));
    if (obj && err->offset != LR_NO_OFFSET &&
        json_object_set_new(obj, "offset", json_integer((json_int_t)err->offset)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    if (obj && err->path[0] &&
        json_object_set_new(obj, "path", json_string(err->path)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    resp->allow = NULL;
    respond_json(resp, lr_err_status(err->code), obj);
}

__attribute__((format(printf, 3, 4)))
static void error_response(api_response *resp, lr_err code, const char *fmt, ...)
{
    lr_error err;
    lr_error_clear(&err);
    err.code = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.detail, sizeof err.detail, fmt, ap);
        va_end(ap);
    }
    api_error(&err, resp);
}

/* application/json or application/x-www-form-urlencoded (what curl -d
 * sends), any parameters after ';', or no Content-Type at all. */
static int media_type_ok(const char *ct)
{
    static const char *const ok[] = {"application/json",
                                     "application/x-www-form-urlencoded"};
    if (!ct)
        return 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (*ct == '\0')
        return 1; /* an empty header is no header */
    size_t n = strcspn(ct, "; \t");
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return 0; /* "application/json garbage" */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (n == strlen(ok[i]) && strncasecmp(ct, ok[i], n) == 0)
            return 1;
    return 0;
}

int api_begin(const char *method, const char *path, const char *content_type,
              api_route *route, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(path, routes[i].path) != 0)
            continue;
        int allowed = routes[i].is_post ? strcmp(method, "POST") == 0
                                        : strcmp(method, "GET") == 0 ||
                                              strcmp(method, "HEAD") == 0;
        if (!allowed) {
            error_response(resp, LR_ERR_METHOD, "%s is not allowed on %s; use %s", method,
                           path, routes[i].is_post ? "POST" : "GET");
            resp->allow = routes[i].is_post ? "POST" : "GET, HEAD";
            return 0;
        }
        if (routes[i].is_post && !media_type_ok(content_type)) {
            error_response(resp, LR_ERR_MEDIA_TYPE,
                           "Content-Type must be application/json, not %.100s", content_type);
            return 0;
        }
        *route = routes[i].route;
        return 1;
    }
    error_response(resp, LR_ERR_NOT_FOUND,
                   "no endpoint %.200s; try POST /forward or POST /gradient", path);
    return 0;
}

/* Reads the query parameters: only "slope" is known. */
static lr_err query_slope(const api_request *req, int *has, double *slope, lr_error *err)
{
    lr_error_clear(err);
    *has = 0;
    for (size_t i = 0; i < req->nparams; i++) {
        const char *k = req->params[i].key, *v = req->params[i].value;
        size_t vlen = req->params[i].value_len;
        if (req->params[i].key_len != 5 || memcmp(k, "slope", 5) != 0) {
            err->code = LR_ERR_UNKNOWN_PARAM;
            snprintf(err->detail, sizeof err->detail,
                     "unknown query parameter \"%.100s\"; expected \"slope\"", k);
            return err->code;
        }
        if (*has) {
            err->code = LR_ERR_SLOPE_TWICE;
            snprintf(err->detail, sizeof err->detail, "slope is given twice in the query");
            return err->code;
        }
        const char *stop = v;
        numparse_status st = v && vlen ? numparse_f64(v, v + vlen, slope, &stop)
                                       : NUMPARSE_SYNTAX;
        if (st != NUMPARSE_OK || stop != v + vlen) {
            err->code = LR_ERR_BAD_SLOPE;
            snprintf(err->detail, sizeof err->detail,
                     st == NUMPARSE_RANGE
                         ? "query parameter slope is outside the range of a double"
                         : "query parameter slope is not a number: \"%.100s\"",
                     v ? v : "");
            return err->code;
        }
        *has = 1;
    }
    return LR_ERR_OK;
}

/* A reply written piece by piece as the connection asks for it, owning
 * the result tensor taken over from the request.
 *
 * Alone (no worker pool), each read formats the next whole elements:
 * straight into the caller's buffer when it holds at least
 * STREAM_FILL_MIN bytes, else through `stage`.
 *
 * With workers, the elements are cut into ranges whose text is certain to
 * fit in SLOT_BYTES, and a ring of slots (two per worker, plus two) is
 * formatted ahead on the pool; reads copy out of the slots in order, hand
 * each emptied slot the next range, and, rather than wait, format
 * themselves the next slot no worker has started (so the connection's
 * thread formats its share too).
 * Memory stays at the ring's size however slowly the client reads, and
 * every slot buffer is allocated before the status is chosen, so nothing
 * can fail mid-reply. */
#define STREAM_FILL_MIN (TENSOR_PIECE_MIN + 16)
#define STREAM_STAGE 4096
#define SLOT_BYTES (256 * 1024)

typedef struct stream_slot {
    pool_task task;
    struct api_stream *st;
    size_t begin, end; /* its range of elements; empty: nothing left */
    size_t len;        /* text bytes, once done */
    int done;          /* formatted (under st->lock) */
    char *buf;         /* SLOT_BYTES */
} stream_slot;

struct api_stream {
    tensor x;
    char head[16]; /* {"y":  or {"grad":  for object bodies */
    size_t head_len, head_off;
    int tail;      /* the closing '}' is still to write */
    /* alone */
    tensor_cursor cur;
    size_t staged, staged_off;
    char stage[STREAM_STAGE];
    /* with workers */
    pool *workers;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    size_t per_slot, next_begin;
    unsigned nslots, reading, busy; /* busy: slots queued or being formatted */
    size_t read_off;
    int failed;
    stream_slot slots[];
};

/* Elements per range so that a range's text, with its brackets and the
 * writer's scratch, fits in SLOT_BYTES: each number takes at most
 * NUMFMT_F64_MAX + 2 bytes, each start of an innermost array (at most
 * n / L + 2 in a range of n, L its length) at most 2 * ndim + 2. */
static size_t slot_elements(const tensor *x)
{
    size_t brackets = 2 * (size_t)x->ndim + 2, len = x->shape[x->ndim - 1];
    size_t per = NUMFMT_F64_MAX + 2 + (brackets + len - 1) / len;
    return (SLOT_BYTES - TENSOR_PIECE_MIN - 2 * brackets - (size_t)x->ndim) / per;
}

static void slot_format(void *arg)
{
    stream_slot *sl = arg;
    api_stream *st = sl->st;
    tensor_cursor c;
    tensor_cursor_init(&c, &st->x, sl->begin, sl->end);
    size_t len = tensor_write_piece(&c, sl->buf, SLOT_BYTES);
    int whole = c.next == sl->end && (sl->end < st->x.count || c.closed);
    pthread_mutex_lock(&st->lock);
    sl->len = len;
    sl->done = 1;
    st->failed |= !whole; /* cannot happen (slot_elements); never send a hole */
    st->busy--;
    pthread_cond_broadcast(&st->ready);
    pthread_mutex_unlock(&st->lock);
}

/* Gives slot sl the next range, if any, and queues it; under st->lock. */
static void slot_assign(api_stream *st, stream_slot *sl)
{
    sl->begin = sl->end = st->next_begin;
    sl->len = 0;
    sl->done = 0;
    if (st->next_begin == st->x.count)
        return;
    sl->end = st->x.count - st->next_begin > st->per_slot ? st->next_begin + st->per_slot
                                                          : st->x.count;
    st->next_begin = sl->end;
    st->busy++;
    sl->task = (pool_task){.fn = slot_format, .arg = sl};
    pool_submit(st->workers, &sl->task);
}

/* The most slots a stream keeps: its memory, whatever --threads says. */
#define STREAM_SLOTS_MAX 8

static api_stream *stream_new(tensor *x, const char *key, pool *workers)
{
    /* Two slots per worker plus two (so a worker finds one free while the
     * reader copies one out and formats another), no more than the ranges
     * there are. */
    size_t per_slot = slot_elements(x), ranges = (x->count + per_slot - 1) / per_slot;
    unsigned nslots = workers ? 2 * pool_threads(workers) + 2 : 0;
    if (nslots > STREAM_SLOTS_MAX)
        nslots = STREAM_SLOTS_MAX;
    if (nslots > ranges)
        nslots = (unsigned)ranges;
    api_stream *st = calloc(1, sizeof *st + nslots * sizeof(stream_slot));
    if (!st)
        return NULL;
    for (unsigned i = 0; i < nslots; i++) {
        st->slots[i].st = st;
        st->slots[i].buf = malloc(SLOT_BYTES);
        if (!st->slots[i].buf) {
            while (i-- > 0)
                free(st->slots[i].buf);
            free(st);
            return NULL;
        }
    }
    if (workers && pthread_mutex_init(&st->lock, NULL) != 0)
        workers = NULL; /* then format alone; the buffers go unused */
    if (workers && pthread_cond_init(&st->ready, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        workers = NULL;
    }
    st->x = *x; /* the data moves to the stream */
    tensor_init(x);
    st->head_len = key ? (size_t)snprintf(st->head, sizeof st->head, "{\"%s\": ", key) : 0;
    st->tail = key != NULL;
    st->nslots = nslots;
    tensor_cursor_init(&st->cur, &st->x, 0, st->x.count);
    st->workers = workers;
    if (workers) {
        st->per_slot = per_slot;
        pthread_mutex_lock(&st->lock); /* the first workers start at once */
        for (unsigned i = 0; i < nslots; i++)
            slot_assign(st, &st->slots[i]);
        pthread_mutex_unlock(&st->lock);
    }
    return st;
}

/* Alone: the next bytes of the elements and the tail into out (cap >=
 * STREAM_FILL_MIN); 0 at the end. */
static size_t stream_fill(api_stream *st, char *out, size_t cap)
{
    size_t n = tensor_write_piece(&st->cur, out, cap);
    if (st->cur.closed && st->tail && n < cap) {
        out[n++] = '}';
        st->tail = 0;
    }
    return n;
}

/* Copies what is left of src[*off, len) into buf, at most max bytes. */
static ptrdiff_t copy_out(char *buf, size_t max, const char *src, size_t len, size_t *off)
{
    size_t n = len - *off < max ? len - *off : max;
    memcpy(buf, src + *off, n);
    *off += n;
    return (ptrdiff_t)n;
}

static ptrdiff_t read_alone(api_stream *st, char *buf, size_t max)
{
    if (st->staged_off == st->staged) {
        if (max >= STREAM_FILL_MIN)
            return (ptrdiff_t)stream_fill(st, buf, max);
        st->staged = stream_fill(st, st->stage, sizeof st->stage);
        st->staged_off = 0;
    }
    return copy_out(buf, max, st->stage, st->staged, &st->staged_off);
}

static ptrdiff_t read_slots(api_stream *st, char *buf, size_t max)
{
    pthread_mutex_lock(&st->lock);
    stream_slot *sl = &st->slots[st->reading];
    /* Rather than wait for the slot to read, format it here if no worker
     * has started it; if one has, format the nearest slot ahead that none
     * has started, and look again. */
    for (unsigned ahead = 0; ahead < st->nslots && !sl->done && sl->begin < sl->end;) {
        stream_slot *o = &st->slots[(st->reading + ahead) % st->nslots];
        if (!o->done && o->begin < o->end && pool_cancel(st->workers, &o->task)) {
            pthread_mutex_unlock(&st->lock);
            slot_format(o);
            pthread_mutex_lock(&st->lock);
            ahead = 0;
        } else {
            ahead++;
        }
    }
    while (!sl->done && sl->begin < sl->end && !st->failed)
        pthread_cond_wait(&st->ready, &st->lock);
    if (st->failed) {
        pthread_mutex_unlock(&st->lock);
        return -1;
    }
    if (sl->begin == sl->end) { /* every range is read: the tail */
        pthread_mutex_unlock(&st->lock);
        if (!st->tail)
            return 0;
        st->tail = 0;
        buf[0] = '}';
        return 1;
    }
    pthread_mutex_unlock(&st->lock);
    /* Done: the worker no longer writes to the slot. */
    ptrdiff_t n = copy_out(buf, max, sl->buf, sl->len, &st->read_off);
    if (st->read_off == sl->len) { /* emptied: on to the next range */
        st->read_off = 0;
        pthread_mutex_lock(&st->lock);
        slot_assign(st, sl);
        pthread_mutex_unlock(&st->lock);
        st->reading = (st->reading + 1) % st->nslots;
    }
    return n;
}

ptrdiff_t api_stream_read(api_stream *st, char *buf, size_t max)
{
    if (st->head_off < st->head_len)
        return copy_out(buf, max, st->head, st->head_len, &st->head_off);
    return st->workers ? read_slots(st, buf, max) : read_alone(st, buf, max);
}

void api_stream_free(api_stream *st)
{
    if (!st)
        return;
    if (st->workers) {
        /* Take back the queued ranges, wait for those being formatted. */
        for (unsigned i = 0; i < st->nslots; i++) {
            if (pool_cancel(st->workers, &st->slots[i].task)) {
                pthread_mutex_lock(&st->lock);
                st->busy--;
                pthread_mutex_unlock(&st->lock);
            }
        }
        pthread_mutex_lock(&st->lock);
        while (st->busy > 0)
            pthread_cond_wait(&st->ready, &st->lock);
        pthread_mutex_unlock(&st->lock);
        pthread_cond_destroy(&st->ready);
        pthread_mutex_destroy(&st->lock);
    }
    for (unsigned i = 0; i < st->nslots; i++)
        free(st->slots[i].buf);
    tensor_free(&st->x);
    free(st);
}

/* The kernel over a range of a request's array, for pool_run, and the
 * first non-finite result in it (read while still in cache). */
#define KERNEL_PART (256 * 1024)
#define KERNEL_PARTS_MAX 64

typedef struct kernel_job {
    int op; /* 0 forward, 1 gradient, 2 backward */
    double *x;
    const double *grad_output;
    size_t count;
    double slope;
    size_t per_part;
    size_t bad[KERNEL_PARTS_MAX]; /* per part: the first non-finite, or count */
} kernel_job;

static void kernel_part(void *arg, size_t i)
{
    kernel_job *k = arg;
    size_t begin = i * k->per_part;
    k->bad[i] = k->count;
    if (begin >= k->count)
        return;
    size_t n = k->count - begin < k->per_part ? k->count - begin : k->per_part;
    double *x = k->x + begin;
    if (k->op == 0)
        lrelu_forward_f64(x, x, n, k->slope);
    else if (k->op == 1)
        lrelu_gradient_f64(x, x, n, k->slope);
    else
        lrelu_backward_f64(x, k->grad_output + begin, x, n, k->slope);
    size_t bad = lrelu_find_nonfinite_f64(x, n);
    if (bad < n)
        k->bad[i] = begin + bad;
}

/* Runs the kernel in place on x and writes {"y": ...} / {"grad": ...}, or
 * the bare result for bare bodies. */
static void compute(const api_request *hr, request *req, double slope, api_response *resp)
{
    tensor *x = &req->x;
    const char *key = hr->route == API_FORWARD ? "y" : "grad";
    kernel_job job = {.op = hr->route == API_FORWARD ? 0 : req->has_grad_output ? 2 : 1,
                      .x = x->data,
                      .grad_output = req->grad_output.data,
                      .count = x->count,
                      .slope = slope};
    /* Large arrays are cut in parts of at least KERNEL_PART elements (a
     * multiple of 8: whole cache lines), run on the workers too. */
    size_t parts = x->count / KERNEL_PART;
    if (hr->workers && parts > pool_threads(hr->workers) + 1)
        parts = pool_threads(hr->workers) + 1;
    if (parts > KERNEL_PARTS_MAX)
        parts = KERNEL_PARTS_MAX;
    if (!hr->workers || parts < 2)
        parts = 1;
    job.per_part = ((x->count + parts - 1) / parts + 7) & ~(size_t)7; /* covers count */
    pool_run(parts > 1 ? hr->workers : NULL, parts, kernel_part, &job);
    size_t bad = x->count;
    for (size_t i = 0; i < parts; i++)
        bad = job.bad[i] < bad ? job.bad[i] : bad;
    if (bad < x->count) {
        lr_error err;
        lr_error_clear(&err);
        err.code = LR_ERR_NOT_FINITE;
        tensor_path(x, bad, "x", err.path, sizeof err.path);
        snprintf(err.detail, sizeof err.detail, "the result overflows to infinity (%s)",
                 req->has_grad_output ? "grad_output * slope" : "slope * x");
        api_error(&err, resp);
        return;
    }
    if (x->count >= API_STREAM_MIN && x->ndim > 0) {
        api_stream *st = stream_new(x, req->is_object ? key : NULL, hr->workers);
        if (!st) {
            error_response(resp, LR_ERR_NO_MEMORY, NULL);
            return;
        }
        resp->status = 200;
        resp->stream = st;
        return;
    }
    size_t bound = tensor_json_bound(x);
    if (bound > SIZE_MAX - 32) {
        error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    char *out = malloc(bound + 32);
    if (!out) {
        error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    mem_hint_large(out, bound + 32);
    char *p = out;
    if (req->is_object)
        p += sprintf(p, "{\"%s\": ", key);
    p = tensor_write_json(x, p);
    if (req->is_object)
        *p++ = '}';
    *p = '\0';
    resp->status = 200;
    resp->body = out;
    resp->len = (size_t)(p - out);
}

struct api_body {
    request req;
    lr_error err;
    request_reader *reader;
};

api_body *api_body_new(api_route route, pool *workers)
{
    api_body *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    request_init(&b->req);
    b->reader = request_reader_new(route == API_FORWARD ? REQUEST_FORWARD : REQUEST_GRADIENT,
                                   workers, &b->req, &b->err);
    if (!b->reader) {
        free(b);
        return NULL;
    }
    return b;
}

int api_body_feed(api_body *b, const char *data, size_t len)
{
    return request_reader_feed(b->reader, data, len);
}

void api_body_free(api_body *b)
{
    if (!b)
        return;
    request_reader_free(b->reader);
    request_free(&b->req);
    free(b);
}

static void handle_compute(const api_request *hr, api_response *resp)
{
    request whole, *req = &whole;
    lr_error whole_err, *err = &whole_err, qerr;
    lr_err rc;
    if (hr->parsed) { /* read as it arrived */
        req = &hr->parsed->req;
        err = &hr->parsed->err;
        rc = request_reader_finish(hr->parsed->reader);
    } else {
        request_init(&whole);
        rc = request_parse_on(hr->body, hr->body_len,
                              hr->route == API_FORWARD ? REQUEST_FORWARD : REQUEST_GRADIENT,
                              hr->workers, &whole, &whole_err);
        /* The text is no longer needed: a large body's memory is returned
         * before the reply's is taken. */
        free(hr->body_owned);
    }
    int has_query_slope;
    double slope = DEFAULT_SLOPE, qslope = 0;
    if (rc != LR_ERR_OK && lr_err_status(rc) != 422) {
        api_error(err, resp); /* malformed JSON wins over request errors */
    } else if (query_slope(hr, &has_query_slope, &qslope, &qerr) != LR_ERR_OK) {
        api_error(&qerr, resp);
    } else if (rc != LR_ERR_OK) {
        api_error(err, resp);
    } else if (has_query_slope && req->has_slope) {
        error_response(resp, LR_ERR_SLOPE_TWICE, NULL);
    } else {
        if (req->has_slope)
            slope = req->slope;
        else if (has_query_slope)
            slope = qslope;
        compute(hr, req, slope, resp);
    }
    if (hr->parsed)
        api_body_free(hr->parsed);
    else
        request_free(&whole);
}

void api_handle(const api_request *req, api_response *resp)
{
    memset(resp, 0, sizeof *resp);
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        handle_compute(req, resp);
        return;
    default:
        free(req->body_owned);
        api_body_free(req->parsed);
        break;
    }
    switch (req->route) {
    case API_FORWARD:
    case API_GRADIENT:
        return;
    case API_READYZ:
        if (req->draining) {
            error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
            return;
        }
        /* fall through */
    case API_HEALTHZ:
    case API_LIVEZ:
        respond_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    case API_VERSION:
        respond_json(resp, 200,
                     json_pack("{s:s, s:s, s:s}", "name", "leakyrelu", "version",
                               LEAKYRELU_VERSION, "kernel", lrelu_variant()));
        return;
    }
}
