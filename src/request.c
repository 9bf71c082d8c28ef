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

typedef struct parser {
    const char *start, *p, *end;
    lr_error *err;
    int has_semantic; /* a 422 is recorded in err; keep scanning for 400s */
    pool *workers;    /* for long runs of numbers; may be NULL */
} parser;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && is_ws(*ps->p))
        ps->p++;
}

static int at(parser *ps, char c) { return ps->p < ps->end && *ps->p == c; }

static int starts_number(parser *ps)
{
    return ps->p < ps->end && (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'));
}

/* A fatal error: stops parsing, replaces any recorded 422. Returns -1. */
__attribute__((format(printf, 4, 5)))
static int fail(parser *ps, lr_err code, const char *where, const char *fmt, ...)
{
    lr_error_clear(ps->err);
    ps->err->code = code;
    if (where)
        ps->err->offset = (size_t)(where - ps->start);
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
    if (p == ps->end)
        return fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected end of input; expected %s", what);
    unsigned char c = (unsigned char)*p;
    if (value && (c == 'N' || c == 'I'))
        return fail(ps, LR_ERR_JSON_NUMBER, p, "NaN and Infinity are not valid JSON");
    if (value && (c == '.' || c == '+'))
        return fail(ps, LR_ERR_JSON_NUMBER, p,
                    "a JSON number starts with a digit or '-', not '%c'", c);
    if (c >= 0x80 && utf8_seq_len((const unsigned char *)p, (const unsigned char *)ps->end) == 0)
        return fail(ps, LR_ERR_JSON_UTF8, p, "invalid UTF-8 byte 0x%02X", c);
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
            return fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
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
                return fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
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
    *range = st == NUMPARSE_RANGE;
    ps->p = stop;
    return 0;
}

static int parse_literal(parser *ps)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i], n) == 0) {
            ps->p += n;
            return 0;
        }
    }
    return unexpected(ps, "a JSON value", 1);
}

/* Validates and skips any JSON value at ps->p, without recursion: the kind
 * of each open container is one bit of a stack (on the heap past 256
 * levels), so any depth is checked to the end. Containers deeper than
 * DOC_DEPTH_MAX in the document (`depth` is the level of this value) are
 * a request error (too_deep, 422), recorded while validation goes on, so
 * that a later syntax error is still reported (400 before 422). */
static int skip_value(parser *ps, int depth)
{
    uint64_t inline_bits[4], *objects = inline_bits; /* bit set: an object */
    size_t level = 0, cap = 256;
    int rc = -1;
    for (;;) {
        /* A value is expected at ps->p. */
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
        /* After a value: close containers, or go on after a ','. */
        for (;;) {
            if (level == 0) {
                rc = 0;
                goto done;
            }
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
    if (objects != inline_bits)
        free(objects);
    return rc;
}

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

/* Runs of numbers at least this long are read in parts on the workers. */
#define PARALLEL_RUN_BYTES (1024 * 1024)
#define RUN_PARTS_MAX 65

typedef struct run_part {
    const char *begin, *end; /* numbers separated by commas, nothing else */
    size_t count;            /* commas + 1 */
    size_t offset;           /* where its numbers go in out */
    int ok;
} run_part;

typedef struct run_job {
    run_part part[RUN_PARTS_MAX];
    double *out;
} run_job;

static void count_part(void *arg, size_t i)
{
    run_part *r = &((run_job *)arg)->part[i];
    size_t commas = 0;
    for (const char *c = r->begin; c < r->end; c++)
        commas += *c == ',';
    r->count = commas + 1;
}

static void parse_part(void *arg, size_t i)
{
    run_job *job = arg;
    run_part *r = &job->part[i];
    const char *p = r->begin, *stop;
    while (p < r->end && is_ws(*p))
        p++;
    size_t n = 0;
    r->ok = p < r->end && (*p == '-' || (*p >= '0' && *p <= '9')) &&
            numparse_f64_run(p, r->end, job->out + r->offset, r->count, &n, &stop) ==
                NUMPARSE_OK &&
            n == r->count;
    if (r->ok) {
        while (stop < r->end && is_ws(*stop))
            stop++;
        r->ok = stop == r->end;
    }
}

/* The run of numbers at ps->p (a number's start) up to the next ']', read
 * in parts on the workers and the calling thread when it is long: the
 * text is cut at commas, each part's commas counted (giving where its
 * numbers go), then each part read by numparse_f64_run, so the values are
 * exactly the sequential reader's. At most `room` numbers are taken.
 * Returns the count read, with ps->p at the ']'; or 0 when the run is
 * short, or anything in it is not plainly "number, number, ...", or it
 * holds more than `room`: then the caller reads it the usual way, which
 * finds and reports whatever is wrong. */
static size_t parse_run_parallel(parser *ps, tensor *t, size_t room)
{
    if (!ps->workers || ps->end - ps->p < PARALLEL_RUN_BYTES)
        return 0;
    const char *close = memchr(ps->p, ']', (size_t)(ps->end - ps->p));
    if (!close || close - ps->p < PARALLEL_RUN_BYTES)
        return 0;
    static run_job zero_job;
    run_job *job = malloc(sizeof *job);
    if (!job)
        return 0;
    *job = zero_job;
    size_t parts = pool_threads(ps->workers) + 1, len = (size_t)(close - ps->p), used = 0;
    if (parts > RUN_PARTS_MAX)
        parts = RUN_PARTS_MAX;
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
        job->part[used].begin = from;
        job->part[used].end = cut;
        used++;
        if (cut == close)
            break;
        from = cut + 1;
    }
    pool_run(ps->workers, used, count_part, job);
    size_t total = 0;
    for (size_t k = 0; k < used; k++) {
        job->part[k].offset = total;
        total += job->part[k].count;
    }
    size_t n = 0;
    if (total <= room && tensor_reserve(t, t->count + total) == 0) {
        job->out = t->data + t->count;
        pool_run(ps->workers, used, parse_part, job);
        n = total;
        for (size_t k = 0; k < used; k++)
            if (!job->part[k].ok)
                n = 0;
    }
    free(job);
    if (n) {
        t->count += n;
        ps->p = close;
    }
    return n;
}

/* Reads a number or a rectangular nested array of numbers into t. On a
 * request error the value is recorded, then re-scanned for syntax only.
 * Arrays are tracked with an explicit stack, not recursion: count[l] is the
 * number of elements read so far in the open array at level l (1-based),
 * shape[l - 1] the length every array at level l must have once the first
 * one closed, ndim the level where numbers live once a number or an empty
 * array showed it. */
static int parse_tensor(parser *ps, tensor *t, const char *name, int depth)
{
    enum { OPEN, ELEMENT, AFTER, CLOSE } state = OPEN;
    const char *begin = ps->p;
    size_t count[TENSOR_MAX_DIMS + 1], shape[TENSOR_MAX_DIMS];
    int known[TENSOR_MAX_DIMS] = {0};
    int level = 0, ndim = -1, range;
    char path[LR_PATH_MAX];
    double v;
/* The path of the element at `level`, written only when an error needs it. */
#define PATH_TO(k) (element_path(path, sizeof path, name, count, (k)), path)

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
                const char *stop;
                size_t limit = known[level - 1] ? shape[level - 1] - count[level] : SIZE_MAX;
                if ((n = parse_run_parallel(ps, t, limit)) > 0) {
                    count[level] += n;
                    state = AFTER;
                    break;
                }
                if (t->count == t->cap && tensor_reserve(t, t->count + 1) != 0)
                    return fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
                room = t->cap - t->count;
                if (known[level - 1] && shape[level - 1] - count[level] < room)
                    room = shape[level - 1] - count[level];
                numparse_status st = numparse_f64_run(ps->p, ps->end, t->data + t->count, room,
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
            state = AFTER;
            break;
        }
        }
    }
rescan:
    ps->p = begin;
    return skip_value(ps, depth);
#undef PATH_TO
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

static int parse_object(parser *ps, request_kind kind, request *req)
{
    char name[NAME_MAX_BYTES + 1], unknown[LR_DETAIL_MAX / 2] = "";
    int seen_x = 0, n_unknown = 0;
    ps->p++; /* '{' */
    skip_ws(ps);
    int more = !at(ps, '}');
    if (!more)
        ps->p++; /* {} */
    while (more) {
        size_t len;
        int trunc, rc;
        if (parse_member_name(ps, name, sizeof name, &len, &trunc) != 0)
            return -1;
        int is_x = !trunc && name_is(name, len, "x");
        int is_go = !trunc && kind == REQUEST_GRADIENT && name_is(name, len, "grad_output");
        int is_slope = !trunc && name_is(name, len, "slope");
        if ((is_x && seen_x) || (is_go && req->has_grad_output) || (is_slope && req->has_slope)) {
            record(ps, LR_ERR_DUPLICATE_MEMBER, NULL, "member \"%s\" appears twice", name);
            rc = skip_value(ps, 1);
        } else if (is_x) {
            seen_x = 1;
            rc = parse_tensor(ps, &req->x, "x", 1);
        } else if (is_go) {
            req->has_grad_output = 1;
            rc = parse_tensor(ps, &req->grad_output, "grad_output", 1);
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
            list_unknown(unknown, sizeof unknown, &n_unknown, name, trunc);
            rc = skip_value(ps, 1);
        }
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
    if (n_unknown) {
        ps->has_semantic = 0; /* unknown members are reported first */
        record(ps, LR_ERR_UNKNOWN_MEMBER, NULL, "unknown member%s %s; expected %s",
               n_unknown > 1 ? "s" : "", unknown,
               kind == REQUEST_GRADIENT ? "\"x\", \"slope\", \"grad_output\""
                                        : "\"x\", \"slope\"");
    }
    if (!seen_x)
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

lr_err request_parse(const char *body, size_t len, request_kind kind,
                     request *req, lr_error *err)
{
    return request_parse_on(body, len, kind, NULL, req, err);
}

lr_err request_parse_on(const char *body, size_t len, request_kind kind, pool *workers,
                        request *req, lr_error *err)
{
    parser ps = {body, body, body + len, err, 0, workers};
    int rc;
    lr_error_clear(err);
    skip_ws(&ps);
    if (ps.p == ps.end) {
        lr_error_clear(err);
        err->code = LR_ERR_EMPTY_BODY;
        return err->code;
    }
    if (at(&ps, '{')) {
        req->is_object = 1;
        rc = parse_object(&ps, kind, req);
    } else if (at(&ps, '[') || starts_number(&ps)) {
        rc = parse_tensor(&ps, &req->x, "x", 0);
    } else if (starts_value(&ps)) {
        record(&ps, LR_ERR_BODY_TYPE, NULL,
               "the body must be an object, an array or a number, not %s", kind_of(&ps));
        rc = skip_value(&ps, 0);
    } else {
        rc = unexpected(&ps, "a JSON value", 1);
    }
    if (rc != 0)
        return err->code;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        fail(&ps, LR_ERR_JSON_TRAILING, ps.p, "unexpected data after the JSON value");
        return err->code;
    }
    if (ps.has_semantic)
        return err->code;
    if (req->has_grad_output && !tensor_same_shape(&req->x, &req->grad_output)) {
        char xs[128], gs[128];
        shape_text(&req->x, xs, sizeof xs);
        shape_text(&req->grad_output, gs, sizeof gs);
        record(&ps, LR_ERR_SHAPE_MISMATCH, NULL,
               "grad_output has shape %s but x has shape %s", gs, xs);
    }
    return err->code;
}
