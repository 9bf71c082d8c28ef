/* A strict RFC 8259 reader specialised to request bodies: numeric arrays go
 * straight into tensors (no per-element JSON values), everything else is
 * validated and skipped. Recursion is bounded by DOC_DEPTH_MAX. */
#include "request.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "numparse.h"
#include "pool.h"
#include "utf8.h"

/* Nesting allowed in members we skip; deeper documents are refused as
 * too deep rather than recursed into. */
#define DOC_DEPTH_MAX 64
/* Bytes of a member name kept for error messages. */
#define NAME_MAX_BYTES 64

struct checkpoint;
struct run_ahead;

typedef struct parser {
    const char *start, *p, *end;
    lr_error *err;
    int has_semantic; /* a 422 is recorded in err; keep scanning for 400s */
    pool *workers;    /* for long runs of numbers; may be NULL */
    size_t base;      /* the body offset of start: the text before is gone */
    int partial;      /* more text may follow end */
    int starved;      /* stopped at end for want of text, which is no error */
    struct checkpoint *ckpt; /* where resume points are saved; may be NULL */
    struct object_state *obj; /* the request object being read, if any */
    request *req;
    const char *safe_end; /* partial: where a number cut short may begin */
    struct run_ahead *ahead; /* a reader's, for a run read ahead; may be NULL */
    const char *rows_from;   /* no run of rows is looked for before this */
} parser;

/* Out of text before the value could be decided, while more may come:
 * no error; the reader resumes from its last checkpoint. Returns -1. */
static int starve(parser *ps)
{
    ps->starved = 1;
    return -1;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static const char *skip_ws_to(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

static void skip_ws(parser *ps) { ps->p = skip_ws_to(ps->p, ps->end); }

static int at(parser *ps, char c) { return ps->p < ps->end && *ps->p == c; }

static int starts_number_at(const char *p, const char *end)
{
    return p < end && (*p == '-' || (*p >= '0' && *p <= '9'));
}

static int starts_number(parser *ps) { return starts_number_at(ps->p, ps->end); }

/* A fatal error: stops parsing, replaces any recorded 422. Returns -1. */
__attribute__((format(printf, 4, 5)))
static int fail(parser *ps, lr_err code, const char *where, const char *fmt, ...)
{
    lr_error_clear(ps->err);
    ps->err->code = code;
    if (where)
        ps->err->offset = (size_t)(where - ps->start) + ps->base;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->detail, sizeof ps->err->detail, fmt, ap);
    va_end(ap);
    return -1;
}

/* A request error: the first one is kept, parsing goes on. */
__attribute__((format(printf, 4, 5)))
static void record(parser *ps, lr_err code, const char *path, const char *fmt, ...)
{
    if (ps->has_semantic)
        return;
    ps->has_semantic = 1;
    lr_error_clear(ps->err);
    ps->err->code = code;
    snprintf(ps->err->path, sizeof ps->err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->detail, sizeof ps->err->detail, fmt, ap);
    va_end(ap);
}

/* Reports the unexpected byte at ps->p with the most helpful message;
 * where a value may start (`value`), NaN, Infinity, ".5" and "+1" get
 * their own. */
static int unexpected(parser *ps, const char *what, int value)
{
    const char *p = ps->p;
    if (p == ps->end && ps->partial)
        return starve(ps);
    if (p == ps->end)
        return fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected end of input; expected %s", what);
    unsigned char c = (unsigned char)*p;
    if (value && (c == 'N' || c == 'I'))
        return fail(ps, LR_ERR_JSON_NUMBER, p, "NaN and Infinity are not valid JSON");
    if (value && (c == '.' || c == '+'))
        return fail(ps, LR_ERR_JSON_NUMBER, p,
                    "a JSON number starts with a digit or '-', not '%c'", c);
    if (c >= 0x80 && utf8_seq_len((const unsigned char *)p, (const unsigned char *)ps->end) == 0) {
        if (ps->partial && ps->end - p < 4) /* maybe a character cut short */
            return starve(ps);
        return fail(ps, LR_ERR_JSON_UTF8, p, "invalid UTF-8 byte 0x%02X", c);
    }
    if (c < 0x20 || c >= 0x7F)
        return fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected byte 0x%02X; expected %s", c, what);
    return fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected '%c'; expected %s", c, what);
}

static int hex4(const char *s, const char *end, unsigned *out)
{
    if (end - s < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Appends a code point's bytes to out (cap bytes incl. NUL) unless it no
 * longer fits; from then on nothing more is appended (*trunc set), so the
 * kept prefix ends on a character boundary. */
static void emit(char *out, size_t cap, size_t *n, int *trunc, const char *bytes,
                 size_t k)
{
    if (!out || *trunc)
        return;
    if (*n + k >= cap) {
        *trunc = 1;
        return;
    }
    memcpy(out + *n, bytes, k);
    *n += k;
    out[*n] = '\0';
}

static size_t utf8_encode(unsigned cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads the string at ps->p (which is '"'), validating escapes and UTF-8.
 * When out is not NULL the decoded text goes there (NUL-terminated, at most
 * cap - 1 bytes, *len its length, *trunc set when cut short). */
static int parse_string(parser *ps, char *out, size_t cap, size_t *len, int *trunc)
{
    const char *open = ps->p, *s = ps->p + 1, *end = ps->end;
    size_t n = 0;
    int cut = 0;
    if (out)
        out[0] = '\0';
    for (;;) {
        if (s == end)
            return ps->partial ? starve(ps)
                               : fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            s++;
            break;
        }
        if (c < 0x20)
            return fail(ps, LR_ERR_JSON_SYNTAX, s,
                        "control character 0x%02X in a string (escape it)", c);
        if (c == '\\') {
            const char *esc = s++;
            char b[4];
            size_t k = 1;
            if (s == end)
                return ps->partial ? starve(ps)
                                   : fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
            switch (*s++) {
            case '"': b[0] = '"'; break;
            case '\\': b[0] = '\\'; break;
            case '/': b[0] = '/'; break;
            case 'b': b[0] = '\b'; break;
            case 'f': b[0] = '\f'; break;
            case 'n': b[0] = '\n'; break;
            case 'r': b[0] = '\r'; break;
            case 't': b[0] = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (ps->partial && end - s < 10) /* \uXXXX and maybe \uXXXX */
                    return starve(ps);
                if (hex4(s, end, &cp) != 0)
                    return fail(ps, LR_ERR_JSON_SYNTAX, esc,
                                "\\u must be followed by four hex digits");
                s += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(ps, LR_ERR_JSON_SYNTAX, esc, "unpaired UTF-16 surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
                        hex4(s + 2, end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(ps, LR_ERR_JSON_SYNTAX, esc,
                                    "unpaired UTF-16 surrogate");
                    s += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                k = utf8_encode(cp, b);
                break;
            }
            default: /* the message quotes it; api_error makes it printable */
                return fail(ps, LR_ERR_JSON_SYNTAX, esc, "invalid escape '\\%c'", s[-1]);
            }
            emit(out, cap, &n, &cut, b, k);
        } else if (c < 0x80) {
            emit(out, cap, &n, &cut, (const char *)s, 1);
            s++;
        } else {
            size_t k = utf8_seq_len((const unsigned char *)s, (const unsigned char *)end);
            if (k == 0 && ps->partial && end - s < 4) /* maybe a character cut short */
                return starve(ps);
            if (k == 0)
                return fail(ps, LR_ERR_JSON_UTF8, s, "invalid UTF-8 byte 0x%02X in a string", c);
            emit(out, cap, &n, &cut, s, k);
            s += k;
        }
    }
    ps->p = s;
    if (len)
        *len = n;
    if (trunc)
        *trunc = cut;
    return 0;
}

/* Reports the malformed number that starts at ps->p and goes wrong at stop. */
static int number_syntax(parser *ps, const char *stop)
{
    if (stop == ps->end && ps->partial) /* "-", "1." or "1e" may go on */
        return starve(ps);
    if (stop < ps->end && (*stop == 'I' || *stop == 'N'))
        return fail(ps, LR_ERR_JSON_NUMBER, stop[-1] == '-' ? stop - 1 : stop,
                    "NaN and Infinity are not valid JSON");
    if (stop < ps->end && *stop >= '0' && *stop <= '9')
        return fail(ps, LR_ERR_JSON_NUMBER, stop, "leading zeros are not allowed in JSON numbers");
    return fail(ps, LR_ERR_JSON_NUMBER, stop, "malformed number: expected a digit");
}

/* Reads a member name (decoded into out as parse_string does, when out is
 * not NULL), the ':' and the whitespace around it. */
static int parse_member_name(parser *ps, char *out, size_t cap, size_t *len, int *trunc)
{
    if (!at(ps, '"'))
        return unexpected(ps, "a member name (a string)", 0);
    if (parse_string(ps, out, cap, len, trunc) != 0)
        return -1;
    skip_ws(ps);
    if (!at(ps, ':'))
        return unexpected(ps, "':'", 0);
    ps->p++;
    skip_ws(ps);
    return 0;
}

/* Reads a number at ps->p; *range is set when it overflows a double. */
static int parse_number(parser *ps, double *v, int *range)
{
    const char *stop;
    *range = 0;
    numparse_status st = numparse_f64(ps->p, ps->end, v, &stop);
    if (st == NUMPARSE_SYNTAX)
        return number_syntax(ps, stop);
    if (stop == ps->end && ps->partial) /* more digits may follow */
        return starve(ps);
    *range = st == NUMPARSE_RANGE;
    ps->p = stop;
    return 0;
}

static int parse_literal(parser *ps)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]), have = (size_t)(ps->end - ps->p);
        if (have >= n && memcmp(ps->p, words[i], n) == 0) {
            ps->p += n;
            return 0;
        }
        if (ps->partial && have < n && memcmp(ps->p, words[i], have) == 0)
            return starve(ps);
    }
    return unexpected(ps, "a JSON value", 1);
}

/* Validates and skips any JSON value at ps->p, without recursion: the kind
 * of each open container is one bit of a stack (on the heap past 256
 * levels), so any depth is checked to the end. Containers deeper than
 * DOC_DEPTH_MAX in the document (`depth` is the level of this value) are
 * a request error (too_deep, 422), recorded while validation goes on, so
 * that a later syntax error is still reported (400 before 422). It may
 * also start inside `level` containers already open (their kinds in bits,
 * NULL: all arrays), at a value or, with after_value, just after one.
 * When partial text runs out, it saves a checkpoint at the last value or
 * after-value it reached inside a container (within 256 levels), so that a
 * body checked for syntax only (after a 422, or a member skipped) is not
 * held whole. */
#define SKIP_BITS_WORDS 4
static void checkpoint_skip(parser *ps, const char *at, int depth, size_t level,
                            const uint64_t *bits, int after);

static int skip_run(parser *ps, int depth, size_t level, const uint64_t *bits, int after_value)
{
    uint64_t inline_bits[SKIP_BITS_WORDS] = {0}, *objects = inline_bits; /* set: an object */
    size_t cap = 64 * SKIP_BITS_WORDS;
    int rc = -1;
    /* The last place reading could resume from, should the text run out:
     * at a value (safe_after 0) or after one, with safe_level open. */
    const char *safe = NULL, *opened = NULL;
    size_t safe_level = 0;
    int safe_after = 0;
    if (bits)
        memcpy(inline_bits, bits, sizeof inline_bits);
    if (after_value)
        goto after;
    for (;;) {
        /* A value is expected at ps->p (after spaces, when resuming); or,
         * just inside '[', a value or the ']': the safe place is then the
         * '[' itself. */
        skip_ws(ps);
        if (!opened) {
            safe = ps->p;
            safe_level = level;
            safe_after = 0;
        }
        opened = NULL;
        if (ps->p == ps->end) {
            unexpected(ps, "a JSON value", 1);
            goto done;
        }
        char c = *ps->p;
        if (c == '{' || c == '[') {
            if ((size_t)depth + level >= DOC_DEPTH_MAX)
                record(ps, LR_ERR_TOO_DEEP, NULL,
                       "the JSON document is nested deeper than %d levels", DOC_DEPTH_MAX);
            if (level == cap) {
                uint64_t *grown = malloc(cap / 32 * sizeof *grown); /* twice the bits */
                if (!grown) {
                    fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory checking nesting");
                    goto done;
                }
                memcpy(grown, objects, cap / 8);
                if (objects != inline_bits)
                    free(objects);
                objects = grown;
                cap *= 2;
            }
            if (c == '{')
                objects[level / 64] |= (uint64_t)1 << (level % 64);
            else
                objects[level / 64] &= ~((uint64_t)1 << (level % 64));
            level++;
            ps->p++;
            skip_ws(ps);
            if (at(ps, c == '{' ? '}' : ']')) {
                ps->p++;
                level--;
            } else {
                if (c == '{' && parse_member_name(ps, NULL, 0, NULL, NULL) != 0)
                    goto done;
                if (c == '[')
                    opened = safe; /* the '[': its value start, saved above */
                continue;
            }
        } else if (c == '"') {
            if (parse_string(ps, NULL, 0, NULL, NULL) != 0)
                goto done;
        } else if (starts_number(ps)) {
            double v;
            int range;
            if (parse_number(ps, &v, &range) != 0)
                goto done;
        } else if (parse_literal(ps) != 0) {
            goto done;
        }
    after:
        /* After a value: close containers, or go on after a ','. */
        for (;;) {
            if (level == 0) {
                rc = 0;
                goto done;
            }
            safe = ps->p;
            safe_level = level;
            safe_after = 1;
            int object = (objects[(level - 1) / 64] >> ((level - 1) % 64)) & 1;
            skip_ws(ps);
            if (at(ps, object ? '}' : ']')) {
                ps->p++;
                level--;
                continue;
            }
            if (!at(ps, ',')) {
                unexpected(ps, object ? "',' or '}'" : "',' or ']'", 0);
                goto done;
            }
            ps->p++;
            skip_ws(ps);
            if (object && parse_member_name(ps, NULL, 0, NULL, NULL) != 0)
                goto done;
            break;
        }
    }
done:
    /* Not at the skipped value itself (level 0): its caller may have
     * looked at what it is (a slope that is not a number). */
    if (rc != 0 && ps->starved && safe_level > 0 && safe_level <= 64 * SKIP_BITS_WORDS)
        checkpoint_skip(ps, safe, depth, safe_level, objects, safe_after);
    if (objects != inline_bits)
        free(objects);
    return rc;
}

static int skip_value(parser *ps, int depth) { return skip_run(ps, depth, 0, NULL, 0); }

/* "a string", "an object", ... for the value at ps->p (a valid start). */
static const char *kind_of(parser *ps)
{
    switch (*ps->p) {
    case '"': return "a string";
    case '{': return "an object";
    case '[': return "an array";
    case 't': case 'f': return "a boolean";
    case 'n': return "null";
    default: return "a number";
    }
}

static int starts_value(parser *ps)
{
    return ps->p < ps->end && *ps->p != '\0' && strchr("\"{[tfn-0123456789", *ps->p) != NULL;
}

/* name[i1][i2]...[ik] */
static void element_path(char *buf, size_t len, const char *name, const size_t *idx, int k)
{
    int n = snprintf(buf, len, "%s", name);
    for (int i = 1; i <= k && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "[%zu]", idx[i]);
}

/* The members of the request object read so far. */
typedef struct object_state {
    int seen_x, n_unknown;
    char unknown[LR_DETAIL_MAX / 2]; /* the unknown members' names, listed */
    int member;                      /* whose value is being read: 1 x, 2 grad_output */
} object_state;

typedef struct tensor_meta {
    size_t count;
    int ndim;
    size_t shape[TENSOR_MAX_DIMS];
} tensor_meta;

/* Everything needed to go on reading the arrays of numbers where the text
 * ran out (the array machine at ELEMENT or AFTER), when the text before
 * is gone. */
typedef struct checkpoint {
    int valid;
    size_t offset; /* in the body */
    int in_object;
    object_state obj;
    int has_grad_output, has_slope;
    double slope;
    tensor_meta x, go;
    int has_semantic;
    lr_error err;
    size_t in_parts; /* the request's numbers_in_parts */
    int after; /* at AFTER (after an element), else at ELEMENT */
    /* checking syntax only (skip_run): 1 at a value, 2 after one; 0 in the
     * array machine */
    int skip, skip_depth;
    size_t skip_level;
    uint64_t skip_bits[SKIP_BITS_WORDS];
    int level, ndim;
    size_t count[TENSOR_MAX_DIMS + 1], shape[TENSOR_MAX_DIMS];
    int known[TENSOR_MAX_DIMS];
} checkpoint;

static void meta_save(tensor_meta *m, const tensor *t)
{
    m->count = t->count;
    m->ndim = t->ndim;
    memcpy(m->shape, t->shape, sizeof m->shape);
}

static void meta_restore(tensor *t, const tensor_meta *m)
{
    t->count = m->count;
    t->ndim = m->ndim;
    memcpy(t->shape, m->shape, sizeof m->shape);
}

/* Saves into c where the array machine stands, so reading can go on from
 * here once the text before is gone. */
static void checkpoint_save(parser *ps, checkpoint *c, int after, int level, int ndim,
                            const size_t *count, const size_t *shape, const int *known)
{
    c->valid = 1;
    c->after = after;
    c->skip = 0;
    c->offset = (size_t)(ps->p - ps->start) + ps->base;
    c->in_object = ps->obj != NULL;
    if (ps->obj)
        c->obj = *ps->obj;
    c->has_grad_output = ps->req->has_grad_output;
    c->has_slope = ps->req->has_slope;
    c->slope = ps->req->slope;
    meta_save(&c->x, &ps->req->x);
    meta_save(&c->go, &ps->req->grad_output);
    c->has_semantic = ps->has_semantic;
    c->err = *ps->err;
    c->in_parts = ps->req->numbers_in_parts;
    c->level = level;
    c->ndim = ndim;
    memcpy(c->count, count, sizeof c->count);
    memcpy(c->shape, shape, sizeof c->shape);
    memcpy(c->known, known, sizeof c->known);
}

/* The text ran out while checking syntax only: saves the place `at` it
 * can go on from (see skip_run). */
static void checkpoint_skip(parser *ps, const char *at, int depth, size_t level,
                            const uint64_t *bits, int after)
{
    static const size_t zero[TENSOR_MAX_DIMS + 1];
    static const int none[TENSOR_MAX_DIMS];
    if (!ps->ckpt)
        return;
    const char *p = ps->p;
    ps->p = at;
    checkpoint_save(ps, ps->ckpt, 0, 0, -1, zero, zero, none);
    ps->p = p;
    ps->ckpt->skip = after ? 2 : 1;
    ps->ckpt->skip_depth = depth;
    ps->ckpt->skip_level = level;
    memcpy(ps->ckpt->skip_bits, bits, sizeof ps->ckpt->skip_bits);
}

/* The text ran out inside the array machine: saves where it stands (only
 * here, so reading whole costs nothing) and starves. Returns -1. */
static int checkpoint_and_starve(parser *ps, int after, int level, int ndim,
                                 const size_t *count, const size_t *shape, const int *known)
{
    if (ps->ckpt)
        checkpoint_save(ps, ps->ckpt, after, level, ndim, count, shape, known);
    return starve(ps);
}

/* A number, or a partial one, the text may end in. */
static int in_number(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Runs of numbers at least this long are read in parts on the workers:
 * when the whole run is held, while the caller waits; when more text is
 * coming (a request_reader), while the caller goes back to receiving. The
 * fuzz build makes these and the reader's sizes tiny (see the Makefile),
 * so that short inputs reach every path. */
#ifndef PARALLEL_RUN_BYTES
#define PARALLEL_RUN_BYTES (1024 * 1024)
#endif
#ifndef AHEAD_RUN_BYTES
#define AHEAD_RUN_BYTES (256 * 1024)
#endif
#define RUN_PARTS_MAX 65

typedef struct run_part {
    const char *begin, *end; /* numbers separated by commas, nothing else; or
                              * rows: "n, n], [n, n]", from a number to
                              * just after the last ']' */
    size_t count;            /* the numbers: commas + 1, or rows * cols */
    size_t offset;           /* where its numbers go in out */
    int ok;
} run_part;

typedef struct run_job {
    run_part part[RUN_PARTS_MAX];
    size_t parts;
    size_t cols;  /* parts of rows of this many numbers, or 0 */
    size_t total; /* the numbers in all parts */
    double *out;
} run_job;

/* A run read ahead on the workers, while the reader receives more: the
 * reader has taken its numbers as read and gone on; if any part turns out
 * flawed, it goes back to `before` and reads the run in order. */
typedef struct run_ahead {
    run_job *job;      /* NULL: none pending */
    pool_batch *batch; /* the parts after the first, on the workers */
    checkpoint before; /* the machine at the run's start */
    size_t run_end;    /* a body offset */
    size_t in_order_until; /* runs starting before this offset are not read ahead */
} run_ahead;

static void count_part(void *arg, size_t i)
{
    run_part *r = &((run_job *)arg)->part[i];
    r->count = numparse_count_commas(r->begin, r->end) + 1;
}

/* A part of rows: each exactly job->cols numbers, then ']', and between
 * two rows ", [" (with any whitespace). */
static void parse_rows_part(run_job *job, run_part *r)
{
    const char *p = r->begin, *stop;
    size_t rows = r->count / job->cols;
    double *out = job->out + r->offset;
    r->ok = 0;
    for (size_t k = 0; k < rows; k++) {
        p = skip_ws_to(p, r->end);
        size_t n = 0;
        if (!starts_number_at(p, r->end) ||
            numparse_f64_run(p, r->end, out + k * job->cols, job->cols, &n, &stop) !=
                NUMPARSE_OK ||
            n != job->cols)
            return;
        p = skip_ws_to(stop, r->end);
        if (p == r->end || *p++ != ']')
            return;
        if (k + 1 < rows) {
            p = skip_ws_to(p, r->end);
            if (p == r->end || *p++ != ',')
                return;
            p = skip_ws_to(p, r->end);
            if (p == r->end || *p++ != '[')
                return;
        }
    }
    r->ok = p == r->end;
}

static void parse_part(void *arg, size_t i)
{
    run_job *job = arg;
    run_part *r = &job->part[i];
    if (job->cols) {
        parse_rows_part(job, r);
        return;
    }
    const char *p = skip_ws_to(r->begin, r->end), *stop;
    size_t n = 0;
    r->ok = starts_number_at(p, r->end) &&
            numparse_f64_run(p, r->end, job->out + r->offset, r->count, &n, &stop) ==
                NUMPARSE_OK &&
            n == r->count && skip_ws_to(stop, r->end) == r->end;
}

static void parse_later_part(void *arg, size_t i) { parse_part(arg, i + 1); }

/* Where the run of numbers at ps->p (a number's start) ends: at the next
 * ']', or, when more text may follow, at the last ',' there is; NULL when
 * it is shorter than `least` bytes. */
static const char *run_close(parser *ps, size_t least)
{
    if ((size_t)(ps->end - ps->p) < least)
        return NULL;
    const char *close = memchr(ps->p, ']', (size_t)(ps->end - ps->p));
    if (!close && ps->partial) {
        for (close = ps->end; close > ps->p && close[-1] != ','; close--) {
        }
        close = close > ps->p ? close - 1 : NULL;
    }
    return close && (size_t)(close - ps->p) >= least ? close : NULL;
}

/* Where a run's numbers go: each part's after the ones before. */
static void job_offsets(run_job *job)
{
    job->total = 0;
    for (size_t k = 0; k < job->parts; k++) {
        job->part[k].offset = job->total;
        job->total += job->part[k].count;
    }
}

/* A job for [ps->p, close) cut at commas into at most `parts` parts of
 * about equal length, each part's commas counted, on the workers when
 * `count_on` is not NULL, giving where its numbers go. NULL when memory
 * runs out. */
static run_job *run_cut(parser *ps, const char *close, size_t parts, pool *count_on)
{
    static run_job zero_job;
    run_job *job = malloc(sizeof *job);
    if (!job)
        return NULL;
    *job = zero_job;
    if (parts > RUN_PARTS_MAX)
        parts = RUN_PARTS_MAX;
    size_t len = (size_t)(close - ps->p);
    const char *from = ps->p;
    for (size_t k = 1; k <= parts; k++) {
        const char *cut = close;
        if (k < parts) { /* the first comma at or after the k-th share */
            const char *target = ps->p + len / parts * k;
            if (target < from)
                target = from;
            cut = memchr(target, ',', (size_t)(close - target));
            if (!cut)
                cut = close;
        }
        job->part[job->parts].begin = from;
        job->part[job->parts].end = cut;
        job->parts++;
        if (cut == close)
            break;
        from = cut + 1;
    }
    pool_run(count_on, job->parts, count_part, job);
    job_offsets(job);
    return job;
}

static int run_ok(const run_job *job)
{
    for (size_t k = 0; k < job->parts; k++)
        if (!job->part[k].ok)
            return 0;
    return 1;
}

/* A job for the rows that start at ps->p, the first number of a row whose
 * array (at `level`) is the first of a run of rows of `cols` numbers:
 * "n, n], [n, n], [n, n]". The rows are followed with memchr from ']' to
 * ']' until the text ends, at most max_rows are taken, or what follows a
 * row is not ", [" (its array closes, or something is wrong, for the
 * caller to find); the run is cut after the row nearest each share of
 * the text, at most `parts` parts. *close is the last row's ']';
 * *held_all is set when the rows went on to the end of the text (so at
 * most one row, cut short, follows). NULL when the run is shorter than
 * `least` bytes or memory runs out, with *close the last ']' looked at
 * (NULL: none; ps->p: at most one row may follow). Rows are not checked
 * here: a part that is not exactly rows of numbers fails when read, and
 * the caller reads the run the usual way. */
static run_job *rows_cut(parser *ps, size_t cols, size_t max_rows, size_t parts, size_t least,
                         const char **close, int *held_all)
{
    static run_job zero_job;
    const char *end = ps->end, *q = ps->p, *last = NULL;
    size_t rows = 0;
    *close = max_rows < 2 ? ps->p : NULL;
    *held_all = 0;
    if ((size_t)(end - ps->p) < least || max_rows < 2)
        return NULL;
    for (;;) { /* how far the rows go */
        const char *rb = memchr(q, ']', (size_t)(end - q));
        if (!rb) {
            *held_all = 1;
            break;
        }
        rows++;
        last = rb;
        /* what follows: ", [" and the next row's first byte, or the end */
        const char *next = skip_ws_to(rb + 1, end);
        if (next < end && *next == ',' && rows < max_rows) {
            next = skip_ws_to(next + 1, end);
            if (next < end && *next == '[')
                next = skip_ws_to(next + 1, end);
            else if (next < end)
                break; /* not a row: for the caller */
        } else if (next < end) {
            break; /* the array of rows closes (or something is wrong) */
        }
        if (next == end) {
            *held_all = 1;
            break;
        }
        q = next;
    }
    *close = last;
    /* Rows of cols numbers take at least 2 * cols bytes each ("0,0]"): no
     * room is reserved for more than the text can hold. */
    if (!last || (size_t)(last - ps->p) < least ||
        rows > (size_t)(last + 1 - ps->p) / 2 / cols)
        return NULL;
    run_job *job = malloc(sizeof *job);
    if (!job)
        return NULL;
    *job = zero_job;
    job->cols = cols;
    if (parts > RUN_PARTS_MAX)
        parts = RUN_PARTS_MAX;
    /* cut after the first row to end past each share of the bytes */
    size_t share = (size_t)(last + 1 - ps->p) / parts, part_rows = 0;
    const char *from = ps->p;
    q = ps->p;
    for (size_t r = 0; r < rows; r++) {
        const char *rb = memchr(q, ']', (size_t)(last + 1 - q));
        part_rows++;
        if (r + 1 == rows)
            break;
        q = skip_ws_to(rb + 1, end);                     /* at the ',' */
        q = skip_ws_to(skip_ws_to(q + 1, end) + 1, end); /* past the '[' */
        if ((size_t)(rb + 1 - from) >= share && job->parts + 1 < parts) {
            job->part[job->parts++] =
                (run_part){.begin = from, .end = rb + 1, .count = part_rows * cols};
            from = q;
            part_rows = 0;
        }
    }
    job->part[job->parts++] = (run_part){.begin = from, .end = last + 1, .count = part_rows * cols};
    job_offsets(job);
    return job;
}

/* The n numbers of a run up to close taken as read. Returns n. */
static size_t run_taken(parser *ps, tensor *t, size_t n, const char *close)
{
    t->count += n;
    ps->req->numbers_in_parts += n;
    ps->p = close;
    return n;
}

/* A job's parts read on the workers and the calling thread, so the values
 * are exactly the sequential reader's. At most `room` numbers are taken.
 * Returns the count read, with ps->p at close; or 0 when anything in the
 * run is not plainly numbers (and rows), or it holds more than `room`:
 * then the caller reads it the usual way, which finds and reports
 * whatever is wrong. Frees the job. */
static size_t parse_job_parallel(parser *ps, tensor *t, size_t room, run_job *job,
                                 const char *close)
{
    int ok = 0;
    size_t total = job->total;
    if (total <= room && tensor_reserve(t, t->count + total) == 0) {
        job->out = t->data + t->count;
        pool_run(ps->workers, job->parts, parse_part, job);
        ok = run_ok(job);
    }
    free(job);
    return ok ? run_taken(ps, t, total, close) : 0;
}

/* The run of numbers at ps->p up to close, cut at commas into parts,
 * their commas counted (giving where their numbers go), each read by
 * numparse_f64_run. */
static size_t parse_run_parallel(parser *ps, tensor *t, size_t room, const char *close)
{
    run_job *job = run_cut(ps, close, pool_threads(ps->workers) + 1, ps->workers);
    return job ? parse_job_parallel(ps, t, room, job, close) : 0;
}

/* As parse_job_parallel for a run up to close, the end of the text so far
 * but `extra` numbers (the one after the last ',', or a row cut short),
 * but only its first part is read before returning; the others are left
 * to the workers in ps->ahead, for the reader to settle (see
 * reader_settle), which reads itself the parts no worker has started by
 * then: small parts, AHEAD_PARTS per worker, so the split follows how
 * busy each side is. ps->ahead->before must hold the machine at the run's
 * start. No number is stored into t until then but the `extra` ones,
 * which have room reserved. Frees the job unless it is left pending. */
#define AHEAD_PARTS 8

static size_t parse_job_ahead(parser *ps, tensor *t, size_t room, run_job *job,
                              const char *close, size_t extra)
{
    run_ahead *ra = ps->ahead;
    if (job->parts < 2 || job->total > room ||
        tensor_reserve(t, t->count + job->total + extra) != 0) {
        free(job);
        return 0;
    }
    job->out = t->data + t->count;
    pool_batch *batch = pool_start(ps->workers, job->parts - 1, parse_later_part, job);
    if (!batch) {
        free(job);
        return 0;
    }
    parse_part(job, 0);
    if (!job->part[0].ok) {
        pool_join(batch);
        free(job);
        return 0;
    }
    ra->job = job;
    ra->batch = batch;
    ra->run_end = (size_t)(close - ps->start) + ps->base;
    return run_taken(ps, t, job->total, close);
}

static size_t parse_run_ahead(parser *ps, tensor *t, size_t room, const char *close)
{
    run_job *job = run_cut(ps, close, 1 + AHEAD_PARTS * pool_threads(ps->workers), NULL);
    return job ? parse_job_ahead(ps, t, room, job, close, 1) : 0;
}

/* Rows of numbers from ps->p, the first number of a row at `level` whose
 * length is known, in parts (the machine as in parse_tensor): read ahead
 * when the rows go on to the end of the text held by a reader, else while
 * this thread waits if the text holds PARALLEL_RUN_BYTES of them. Returns
 * the rows read, with ps->p at the last one's ']'; 0 when none were (and
 * no rows are looked for again before the last ']' looked at). */
static size_t parse_rows(parser *ps, tensor *t, int level, int ndim, const size_t *count,
                         const size_t *shape, const int *known)
{
    const char *close = NULL;
    int held_all, can_ahead = ps->ahead != NULL;
    size_t workers = pool_threads(ps->workers), n = 0, cols = shape[level - 1];
    size_t max_rows = known[level - 2] ? shape[level - 2] - count[level - 1] : SIZE_MAX;
    run_job *job = rows_cut(ps, cols, max_rows,
                            can_ahead ? 1 + AHEAD_PARTS * workers : workers + 1,
                            can_ahead ? AHEAD_RUN_BYTES : PARALLEL_RUN_BYTES, &close, &held_all);
    if (!job) { /* no run of rows starts before the next row looked at */
        ps->rows_from = close ? close + 1 : ps->end;
        return 0;
    }
    if (can_ahead && held_all) {
        checkpoint_save(ps, &ps->ahead->before, 0, level, ndim, count, shape, known);
        n = parse_job_ahead(ps, t, SIZE_MAX, job, close, cols);
    } else if (!can_ahead || (size_t)(close - ps->p) >= PARALLEL_RUN_BYTES) {
        n = parse_job_parallel(ps, t, SIZE_MAX, job, close);
    } else {
        free(job);
    }
    if (!n)
        ps->rows_from = close;
    return n / cols;
}

/* A run read ahead is pending: its parts may be writing into the tensor,
 * which must not move (grow) until the reader settles it. */
static int ahead_pending(const parser *ps) { return ps->ahead && ps->ahead->job; }

/* Reads a number or a rectangular nested array of numbers into t. On a
 * request error the value is recorded, then re-scanned for syntax only.
 * Arrays are tracked with an explicit stack, not recursion: count[l] is the
 * number of elements read so far in the open array at level l (1-based),
 * shape[l - 1] the length every array at level l must have once the first
 * one closed, ndim the level where numbers live once a number or an empty
 * array showed it. */
static int parse_tensor(parser *ps, tensor *t, const char *name, int depth,
                        const checkpoint *resume)
{
    enum { OPEN, ELEMENT, AFTER, CLOSE } state = OPEN;
    size_t count[TENSOR_MAX_DIMS + 1], shape[TENSOR_MAX_DIMS];
    int known[TENSOR_MAX_DIMS] = {0};
    int level = 0, ndim = -1, range, after = 0; /* after: a rescan starts after ']' */
    char path[LR_PATH_MAX];
    double v;
/* The path of the element at `level`, written only when an error needs it. */
#define PATH_TO(k) (element_path(path, sizeof path, name, count, (k)), path)

    if (resume) { /* where the text ran out, the arrays as they were */
        level = resume->level;
        ndim = resume->ndim;
        memcpy(count, resume->count, sizeof count);
        memcpy(shape, resume->shape, sizeof shape);
        memcpy(known, resume->known, sizeof known);
        /* A checkpoint at the end of the text may sit before spaces, and
         * just inside an array that turns out empty. */
        skip_ws(ps);
        state = resume->after ? AFTER : at(ps, ']') && count[level] == 0 ? CLOSE : ELEMENT;
        goto machine;
    }

    if (starts_number(ps)) {
        if (parse_number(ps, &v, &range) != 0)
            return -1;
        if (range) {
            record(ps, LR_ERR_NUMBER_RANGE, name, "number outside the range of a double");
            return 0;
        }
        if (tensor_push(t, v) != 0)
            return fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
        t->ndim = 0;
        return 0;
    }
    if (!at(ps, '[')) {
        if (!starts_value(ps))
            return unexpected(ps, "a number or an array", 1);
        record(ps, LR_ERR_NOT_A_NUMBER, name,
               "expected a number or an array of numbers, got %s", kind_of(ps));
        goto rescan;
    }
machine:
    for (;;) {
        switch (state) {
        case OPEN: /* at '[' */
            if (level == TENSOR_MAX_DIMS) {
                record(ps, LR_ERR_TOO_DEEP, PATH_TO(level), "arrays are nested deeper than %d levels",
                       TENSOR_MAX_DIMS);
                goto rescan;
            }
            if (ndim >= 0 && level + 1 > ndim) {
                record(ps, LR_ERR_RAGGED, PATH_TO(level), "expected a number, got an array");
                goto rescan;
            }
            count[++level] = 0;
            ps->p++;
            skip_ws(ps);
            state = at(ps, ']') ? CLOSE : ELEMENT;
            break;
        case ELEMENT: /* at the start of an element of the array at `level` */
            if (ps->p == ps->end && ps->partial) /* resume right here */
                return checkpoint_and_starve(ps, 0, level, ndim, count, shape, known);
            if (known[level - 1] && count[level] >= shape[level - 1]) {
                record(ps, LR_ERR_RAGGED, PATH_TO(level - 1),
                       "array has more than %zu elements, unlike the ones before it",
                       shape[level - 1]);
                goto rescan;
            }
            if (at(ps, '[')) {
                state = OPEN;
                break;
            }
            if (!starts_value(ps))
                return unexpected(ps, "a number or an array", 1);
            if (!starts_number(ps)) {
                record(ps, LR_ERR_NOT_A_NUMBER, PATH_TO(level), "expected a number, got %s",
                       kind_of(ps));
                goto rescan;
            }
            if (ndim < 0) {
                ndim = level;
            } else if (level != ndim) {
                record(ps, LR_ERR_RAGGED, PATH_TO(level), "expected an array, got a number");
                goto rescan;
            }
            /* The hot path: a run of numbers at the leaf level, straight
             * into the tensor, bounded by the room left and, once the
             * shape is known, by the elements this array may still take. */
            {
                size_t room, n;
                const char *stop, *run_end = ps->end;
                if (ps->partial) { /* leave out a number the text may cut short */
                    if (!ps->safe_end) { /* once per read: the text ends the same */
                        ps->safe_end = ps->end;
                        while (ps->safe_end > ps->start && in_number(ps->safe_end[-1]))
                            ps->safe_end--;
                    }
                    if (ps->safe_end <= ps->p) /* resume at this number */
                        return checkpoint_and_starve(ps, 0, level, ndim, count, shape, known);
                    run_end = ps->safe_end;
                }
                /* Many rows of numbers, once their length is known: in
                 * parts, as for a long run below (not where the reader
                 * went back to read in order). */
                int in_order = ps->ahead && (size_t)(ps->p - ps->start) + ps->base <
                                                ps->ahead->in_order_until;
                if (ps->workers && count[level] == 0 && level >= 2 && known[level - 1] &&
                    shape[level - 1] > 0 && (!ps->rows_from || ps->p >= ps->rows_from) &&
                    !in_order && !ahead_pending(ps)) {
                    size_t rows = parse_rows(ps, t, level, ndim, count, shape, known);
                    if (rows > 0) {
                        count[level - 1] += rows - 1;
                        count[level] = shape[level - 1];
                        state = CLOSE; /* at the last row's ']' */
                        break;
                    }
                }
                size_t limit = known[level - 1] ? shape[level - 1] - count[level] : SIZE_MAX;
                /* A long run: read ahead when it reaches the end of the
                 * text so far, else in parts while this thread waits. */
                const char *close =
                    ps->workers
                        ? run_close(ps, ps->ahead ? AHEAD_RUN_BYTES : PARALLEL_RUN_BYTES)
                        : NULL;
                n = 0;
                if (close && *close == ',' && ps->ahead && !ahead_pending(ps) && !in_order) {
                    checkpoint_save(ps, &ps->ahead->before, 0, level, ndim, count, shape, known);
                    n = parse_run_ahead(ps, t, limit, close);
                } else if (close && (size_t)(close - ps->p) >= PARALLEL_RUN_BYTES &&
                           !ahead_pending(ps)) {
                    n = parse_run_parallel(ps, t, limit, close);
                }
                if (n > 0) {
                    count[level] += n;
                    state = AFTER;
                    break;
                }
                if (t->count == t->cap) {
                    if (ahead_pending(ps)) /* resumed once the reader has settled it */
                        return checkpoint_and_starve(ps, 0, level, ndim, count, shape, known);
                    if (tensor_reserve(t, t->count + 1) != 0)
                        return fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
                }
                room = t->cap - t->count;
                if (known[level - 1] && shape[level - 1] - count[level] < room)
                    room = shape[level - 1] - count[level];
                numparse_status st = numparse_f64_run(ps->p, run_end, t->data + t->count, room,
                                                      &n, &stop);
                t->count += n;
                count[level] += n;
                if (st == NUMPARSE_SYNTAX) {
                    ps->p = stop;
                    return number_syntax(ps, stop);
                }
                ps->p = stop;
                if (st == NUMPARSE_RANGE) {
                    record(ps, LR_ERR_NUMBER_RANGE, PATH_TO(level),
                           "number outside the range of a double");
                    goto rescan;
                }
            }
            state = AFTER;
            break;
        case AFTER: /* after an element: ',' or ']' */
            skip_ws(ps);
            if (ps->p == ps->end && ps->partial)
                return checkpoint_and_starve(ps, 1, level, ndim, count, shape, known);
            if (at(ps, ',')) {
                ps->p++;
                skip_ws(ps);
                state = ELEMENT;
            } else if (at(ps, ']')) {
                state = CLOSE;
            } else {
                return unexpected(ps, "',' or ']'", 0);
            }
            break;
        case CLOSE: { /* at ']' */
            size_t n = count[level];
            ps->p++;
            after = 1; /* a rescan from here starts after this array */
            if (n == 0) {
                if (ndim < 0) {
                    ndim = level;
                } else if (ndim != level) {
                    record(ps, LR_ERR_RAGGED, PATH_TO(level - 1), "expected an array, got []");
                    goto rescan;
                }
            }
            if (!known[level - 1]) {
                known[level - 1] = 1;
                shape[level - 1] = n;
            } else if (shape[level - 1] != n) {
                record(ps, LR_ERR_RAGGED, PATH_TO(level - 1),
                       "array has %zu elements, unlike the ones before it (%zu)", n,
                       shape[level - 1]);
                goto rescan;
            }
            if (--level == 0) {
                t->ndim = ndim;
                memcpy(t->shape, shape, (size_t)ndim * sizeof shape[0]);
                return 0;
            }
            count[level]++;
            after = 0;
            state = AFTER;
            break;
        }
        }
    }
rescan: /* the text up to here is valid: check the rest for syntax only */
    return skip_run(ps, depth, (size_t)(after ? level - 1 : level), NULL, after);
#undef PATH_TO
}

/* Goes on checking syntax from a checkpoint saved by skip_run. */
static int skip_resume(parser *ps, const checkpoint *c)
{
    return skip_run(ps, c->skip_depth, c->skip_level, c->skip_bits, c->skip == 2);
}

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

/* Appends `"name"` to the unknown-member list in buf (kept short). */
static void list_unknown(char *buf, size_t cap, int *count, const char *name, int trunc)
{
    size_t n = strlen(buf);
    if (++*count > 8) {
        if (*count == 9 && n + 6 < cap)
            memcpy(buf + n, ", ...", 6);
        return;
    }
    snprintf(buf + n, cap - n, "%s\"%s%s\"", *count > 1 ? ", " : "", name,
             trunc ? "..." : "");
}

/* The request object at ps->p ('{'), or, resuming, from a checkpoint
 * inside the value of x or grad_output. */
static int parse_object(parser *ps, request_kind kind, request *req, const checkpoint *resume)
{
    char name[NAME_MAX_BYTES + 1];
    object_state os = {0, 0, "", 0};
    int more = 1, rc;
    ps->obj = &os;
    if (resume) {
        os = resume->obj;
        if (resume->skip)
            rc = skip_resume(ps, resume);
        else
            rc = os.member == 2
                     ? parse_tensor(ps, &req->grad_output, "grad_output", 1, resume)
                     : parse_tensor(ps, &req->x, "x", 1, resume);
        goto value_read;
    }
    ps->p++; /* '{' */
    skip_ws(ps);
    more = !at(ps, '}');
    if (!more)
        ps->p++; /* {} */
    while (more) {
        size_t len;
        int trunc;
        if (parse_member_name(ps, name, sizeof name, &len, &trunc) != 0)
            return -1;
        int is_x = !trunc && name_is(name, len, "x");
        int is_go = !trunc && kind == REQUEST_GRADIENT && name_is(name, len, "grad_output");
        int is_slope = !trunc && name_is(name, len, "slope");
        os.member = 0;
        if ((is_x && os.seen_x) || (is_go && req->has_grad_output) ||
            (is_slope && req->has_slope)) {
            record(ps, LR_ERR_DUPLICATE_MEMBER, NULL, "member \"%s\" appears twice", name);
            rc = skip_value(ps, 1);
        } else if (is_x) {
            os.seen_x = 1;
            os.member = 1;
            rc = parse_tensor(ps, &req->x, "x", 1, NULL);
        } else if (is_go) {
            req->has_grad_output = 1;
            os.member = 2;
            rc = parse_tensor(ps, &req->grad_output, "grad_output", 1, NULL);
        } else if (is_slope) {
            req->has_slope = 1;
            if (starts_number(ps)) {
                int range;
                rc = parse_number(ps, &req->slope, &range);
                if (rc == 0 && range)
                    record(ps, LR_ERR_BAD_SLOPE, NULL,
                           "slope is outside the range of a double");
            } else {
                if (starts_value(ps))
                    record(ps, LR_ERR_BAD_SLOPE, NULL, "slope must be a number, got %s",
                           kind_of(ps));
                rc = skip_value(ps, 1);
            }
        } else {
            list_unknown(os.unknown, sizeof os.unknown, &os.n_unknown, name, trunc);
            rc = skip_value(ps, 1);
        }
    value_read: /* a resumed read joins here, inside the loop */
        if (rc != 0)
            return -1;
        skip_ws(ps);
        if (at(ps, ',')) {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (!at(ps, '}'))
            return unexpected(ps, "',' or '}'", 0);
        ps->p++;
        more = 0;
    }
    ps->obj = NULL;
    if (os.n_unknown) {
        ps->has_semantic = 0; /* unknown members are reported first */
        record(ps, LR_ERR_UNKNOWN_MEMBER, NULL, "unknown member%s %s; expected %s",
               os.n_unknown > 1 ? "s" : "", os.unknown,
               kind == REQUEST_GRADIENT ? "\"x\", \"slope\", \"grad_output\""
                                        : "\"x\", \"slope\"");
    }
    if (!os.seen_x)
        record(ps, LR_ERR_MISSING_X, NULL, "the request object has no \"x\" member");
    return 0;
}

static void shape_text(const tensor *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "[");
    for (int i = 0; i < t->ndim && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%zu", i ? ", " : "", t->shape[i]);
    if (n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "]");
}

void request_init(request *req)
{
    memset(req, 0, sizeof *req);
    tensor_init(&req->x);
    tensor_init(&req->grad_output);
}

void request_free(request *req)
{
    tensor_free(&req->x);
    tensor_free(&req->grad_output);
    request_init(req);
}

/* Reads the body from ps->p, or from the checkpoint `resume`, to its end.
 * Returns -1 when starved (partial text ran out), else 0 with err set. */
static int parse_body(parser *ps, request_kind kind, request *req, const checkpoint *resume)
{
    lr_error *err = ps->err;
    int rc;
    if (resume) {
        req->is_object = resume->in_object;
        req->has_grad_output = resume->has_grad_output;
        req->has_slope = resume->has_slope;
        req->slope = resume->slope;
        meta_restore(&req->x, &resume->x);
        meta_restore(&req->grad_output, &resume->go);
        ps->has_semantic = resume->has_semantic;
        *err = resume->err;
        req->numbers_in_parts = resume->in_parts;
        rc = resume->in_object ? parse_object(ps, kind, req, resume)
             : resume->skip    ? skip_resume(ps, resume)
                               : parse_tensor(ps, &req->x, "x", 0, resume);
    } else { /* from the start (again, after a starved partial read) */
        static const tensor_meta empty;
        req->is_object = req->has_grad_output = req->has_slope = 0;
        req->slope = 0;
        meta_restore(&req->x, &empty);
        meta_restore(&req->grad_output, &empty);
        ps->has_semantic = 0;
        req->numbers_in_parts = 0;
        lr_error_clear(err);
        skip_ws(ps);
        if (ps->p == ps->end) {
            if (ps->partial)
                return starve(ps);
            lr_error_clear(err);
            err->code = LR_ERR_EMPTY_BODY;
            return 0;
        }
        if (at(ps, '{')) {
            req->is_object = 1;
            rc = parse_object(ps, kind, req, NULL);
        } else if (at(ps, '[') || starts_number(ps)) {
            rc = parse_tensor(ps, &req->x, "x", 0, NULL);
        } else if (starts_value(ps)) {
            record(ps, LR_ERR_BODY_TYPE, NULL,
                   "the body must be an object, an array or a number, not %s", kind_of(ps));
            rc = skip_value(ps, 0);
        } else {
            rc = unexpected(ps, "a JSON value", 1);
        }
    }
    if (rc != 0)
        return ps->starved ? -1 : 0;
    skip_ws(ps);
    if (ps->p == ps->end && ps->partial) /* whatever follows decides */
        return starve(ps);
    if (ps->p != ps->end) {
        fail(ps, LR_ERR_JSON_TRAILING, ps->p, "unexpected data after the JSON value");
        return 0;
    }
    if (ps->has_semantic)
        return 0;
    if (req->has_grad_output && !tensor_same_shape(&req->x, &req->grad_output)) {
        char xs[128], gs[128];
        shape_text(&req->x, xs, sizeof xs);
        shape_text(&req->grad_output, gs, sizeof gs);
        record(ps, LR_ERR_SHAPE_MISMATCH, NULL,
               "grad_output has shape %s but x has shape %s", gs, xs);
    }
    return 0;
}

lr_err request_parse(const char *body, size_t len, request_kind kind,
                     request *req, lr_error *err)
{
    return request_parse_on(body, len, kind, NULL, req, err);
}

lr_err request_parse_on(const char *body, size_t len, request_kind kind, pool *workers,
                        request *req, lr_error *err)
{
    parser ps = {.start = body, .p = body, .end = body + len, .err = err,
                 .workers = workers, .req = req};
    parse_body(&ps, kind, req, NULL);
    return err->code;
}

/* The body's text from `base` on: what the last checkpoint still needs,
 * plus what came since. */
struct request_reader {
    request_kind kind;
    pool *workers;
    request *req;
    lr_error *err;
    char *buf;
    size_t len, cap, base;
    size_t retry_at; /* run again once this much text is held */
    size_t batch;    /* the least text worth a run */
    checkpoint ck;   /* where the next run starts; not valid: the beginning */
    int done;        /* the outcome is known (a 400, or out of memory) */
    run_ahead ahead; /* with workers: the run being read ahead, if any */
};

/* Text held below this is not worth a run; more is read first. */
#ifndef READER_BATCH
#define READER_BATCH (64 * 1024)
#endif
/* The text buffer's first size; it doubles as needed. */
#ifndef READER_FIRST_BYTES
#define READER_FIRST_BYTES 4096
#endif

request_reader *request_reader_new(request_kind kind, pool *workers, request *req,
                                   lr_error *err)
{
    request_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->workers = workers;
    r->req = req;
    r->err = err;
    /* With workers, read in batches long enough for runs of numbers to be
     * read ahead in parts on them, while the next batch comes in. */
    r->batch = r->retry_at = workers ? 2 * AHEAD_RUN_BYTES + READER_BATCH : READER_BATCH;
    lr_error_clear(err);
    return r;
}

void request_reader_set_batch(request_reader *r, size_t bytes)
{
    r->batch = r->retry_at = bytes;
}

/* Waits for the run read ahead, if any. When a part of it was flawed, the
 * reader goes back to the machine at its start, to read it in order (and
 * find what is wrong where the sequential reader would): returns -1. */
static int reader_settle(request_reader *r)
{
    run_ahead *ra = &r->ahead;
    if (!ra->job)
        return 0;
    pool_join(ra->batch);
    int ok = run_ok(ra->job);
    free(ra->job);
    ra->job = NULL;
    ra->batch = NULL;
    if (ok)
        return 0;
    r->ck = ra->before;
    ra->in_order_until = ra->run_end;
    return -1;
}

/* Drops the text before the checkpoint, unless a run read ahead (whose
 * text the workers are reading) may still send the reader back. */
static void reader_drop(request_reader *r)
{
    if (r->ahead.job || !r->ck.valid || r->ck.offset <= r->base)
        return;
    size_t drop = r->ck.offset - r->base;
    memmove(r->buf, r->buf + drop, r->len - drop);
    r->len -= drop;
    r->base = r->ck.offset;
    r->retry_at = r->retry_at > drop ? r->retry_at - drop : 0;
}

/* Reads what is held, from the checkpoint; partial: more may follow. */
static void reader_run(request_reader *r, int partial)
{
    for (;;) {
        reader_settle(r);
        reader_drop(r);
        checkpoint next = r->ck;
        const char *text = r->buf ? r->buf : ""; /* nothing came: an empty body */
        parser ps = {.start = text,
                     .p = text + (r->ck.valid ? r->ck.offset - r->base : 0),
                     .end = text + r->len,
                     .err = r->err,
                     .workers = r->workers,
                     .base = r->base,
                     .partial = partial,
                     .ckpt = &next,
                     .req = r->req,
                     .ahead = partial && r->workers ? &r->ahead : NULL};
        if (parse_body(&ps, r->kind, r->req, r->ck.valid ? &r->ck : NULL) == 0) {
            if (reader_settle(r) == 0) {
                r->done = 1;
                return;
            }
            continue; /* a flaw in the run read ahead comes first */
        }
        /* Starved: on from the newest checkpoint; if there is none newer,
         * wait for half as much again before trying. */
        if (next.valid && (!r->ck.valid || next.offset > r->ck.offset)) {
            r->ck = next;
            r->retry_at = r->len + r->batch;
        } else {
            r->retry_at = r->len + (r->len / 2 > r->batch ? r->len / 2 : r->batch);
        }
        reader_drop(r);
        return;
    }
}

int request_reader_feed(request_reader *r, const char *data, size_t len)
{
    if (r->done || len == 0)
        return 0;
    if (len > r->cap - r->len && r->ahead.job) { /* room first, not more memory */
        reader_settle(r);
        reader_drop(r);
        /* What came while the workers read is read now, rather than
         * after the batch is made up, so they are not left waiting. */
        if (len <= r->cap - r->len && r->ck.valid &&
            r->len - (r->ck.offset - r->base) >= AHEAD_RUN_BYTES) {
            reader_run(r, 1);
            if (r->done)
                return 0;
        }
    }
    if (len > r->cap - r->len) {
        size_t cap = r->cap ? r->cap : READER_FIRST_BYTES;
        while (cap - r->len < len) {
            if (cap > SIZE_MAX / 2) {
                cap = 0;
                break;
            }
            cap *= 2;
        }
        char *grown = cap ? realloc(r->buf, cap) : NULL;
        if (!grown) {
            lr_error_clear(r->err);
            r->err->code = LR_ERR_NO_MEMORY;
            snprintf(r->err->detail, sizeof r->err->detail, "out of memory reading the body");
            r->done = 1;
            return -1;
        }
        r->buf = grown;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    if (r->len >= r->retry_at)
        reader_run(r, 1);
    return 0;
}

lr_err request_reader_finish(request_reader *r)
{
    if (!r->done) {
        reader_run(r, 0);
        r->done = 1;
    }
    reader_settle(r); /* after running out of memory, one may be reading still */
    free(r->buf); /* the text is done with, before the reply takes memory */
    r->buf = NULL;
    r->len = r->cap = 0;
    return r->err->code;
}

size_t request_reader_held(const request_reader *r) { return r->cap; }

void request_reader_free(request_reader *r)
{
    if (!r)
        return;
    reader_settle(r); /* the workers may be reading its text */
    free(r->buf);
    free(r);
}
