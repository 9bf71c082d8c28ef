/* The JSON grammar of request bodies (RFC 8259, strict): errors with their
 * byte offsets, strings, numbers, literals, and the syntax-only check of
 * values the request does not read, resumable where partial text ends. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "request_internal.h"
#include "utf8.h"

int request__starve(request__parser *ps)
{
    ps->starved = 1;
    return -1;
}

int request__fail(request__parser *ps, lr_err code, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(ps->err, code, fmt, ap);
    va_end(ap);
    if (where)
        ps->err->offset = (size_t)(where - ps->start) + ps->base;
    return -1;
}

void request__record(request__parser *ps, lr_err code, const char *path, const char *fmt, ...)
{
    if (ps->has_semantic)
        return;
    ps->has_semantic = 1;
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(ps->err, code, fmt, ap);
    va_end(ap);
    snprintf(ps->err->path, sizeof ps->err->path, "%s", path ? path : "");
}

/* 1 when the text at p is NaN or Inf in any case (Python's json writes
 * NaN and Infinity, numpy's repr nan and inf), 0 when not, -1 when it
 * ends too soon to tell and more may come. */
static int nonfinite_at(const request__parser *ps, const char *p)
{
    static const char words[2][4] = {"nan", "inf"};
    size_t left = (size_t)(ps->end - p);
    for (int w = 0; w < 2; w++) {
        size_t i = 0;
        while (i < 3 && i < left && (p[i] | 0x20) == words[w][i])
            i++;
        if (i == 3)
            return 1;
        if (i == left && ps->partial)
            return -1;
    }
    return 0;
}

int request__unexpected(request__parser *ps, const char *what, int value)
{
    const char *p = ps->p;
    if (p == ps->end && ps->partial)
        return request__starve(ps);
    if (p == ps->end)
        return request__fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected end of input; expected %s",
                             what);
    unsigned char c = (unsigned char)*p;
    int nonfinite = value ? nonfinite_at(ps, p) : 0;
    if (nonfinite < 0)
        return request__starve(ps);
    if (nonfinite)
        return request__fail(ps, LR_ERR_JSON_NUMBER, p, REQUEST__NONFINITE);
    if (value && (c == '.' || c == '+'))
        return request__fail(ps, LR_ERR_JSON_NUMBER, p,
                             "a JSON number starts with a digit or '-', not '%c'", c);
    if (c >= 0x80 && utf8_seq_len((const unsigned char *)p, (const unsigned char *)ps->end) == 0) {
        if (ps->partial && ps->end - p < 4) /* maybe a character cut short */
            return request__starve(ps);
        return request__fail(ps, LR_ERR_JSON_UTF8, p, "invalid UTF-8 byte 0x%02X", c);
    }
    if (c < 0x20 || c >= 0x7F)
        return request__fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected byte 0x%02X; expected %s", c,
                             what);
    return request__fail(ps, LR_ERR_JSON_SYNTAX, p, "unexpected '%c'; expected %s", c, what);
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
static int parse_string(request__parser *ps, char *out, size_t cap, size_t *len, int *trunc)
{
    const char *open = ps->p, *s = ps->p + 1, *end = ps->end;
    size_t n = 0;
    int cut = 0;
    if (out)
        out[0] = '\0';
    for (;;) {
        if (s == end && ps->partial)
            return request__starve(ps);
        if (s == end)
            return request__fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            s++;
            break;
        }
        if (c < 0x20)
            return request__fail(ps, LR_ERR_JSON_SYNTAX, s,
                                 "control character 0x%02X in a string (escape it)", c);
        if (c == '\\') {
            const char *esc = s++;
            char b[4];
            size_t k = 1;
            if (s == end && ps->partial)
                return request__starve(ps);
            if (s == end)
                return request__fail(ps, LR_ERR_JSON_SYNTAX, open, "unterminated string");
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
                    return request__starve(ps);
                if (hex4(s, end, &cp) != 0)
                    return request__fail(ps, LR_ERR_JSON_SYNTAX, esc,
                                         "\\u must be followed by four hex digits");
                s += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return request__fail(ps, LR_ERR_JSON_SYNTAX, esc, "unpaired UTF-16 surrogate");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - s < 6 || s[0] != '\\' || s[1] != 'u' ||
                        hex4(s + 2, end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return request__fail(ps, LR_ERR_JSON_SYNTAX, esc,
                                             "unpaired UTF-16 surrogate");
                    s += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                k = utf8_encode(cp, b);
                break;
            }
            default: /* the message quotes it; api_error makes it printable */
                return request__fail(ps, LR_ERR_JSON_SYNTAX, esc, "invalid escape '\\%c'", s[-1]);
            }
            emit(out, cap, &n, &cut, b, k);
        } else if (c < 0x80) {
            emit(out, cap, &n, &cut, (const char *)s, 1);
            s++;
        } else {
            size_t k = utf8_seq_len((const unsigned char *)s, (const unsigned char *)end);
            if (k == 0 && ps->partial && end - s < 4) /* maybe a character cut short */
                return request__starve(ps);
            if (k == 0)
                return request__fail(ps, LR_ERR_JSON_UTF8, s,
                                     "invalid UTF-8 byte 0x%02X in a string", c);
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

int request__number_syntax(request__parser *ps, const char *stop)
{
    if (stop == ps->end && ps->partial) /* "-", "1." or "1e" may go on */
        return request__starve(ps);
    int nonfinite = nonfinite_at(ps, stop);
    if (nonfinite < 0)
        return request__starve(ps);
    if (nonfinite)
        return request__fail(ps, LR_ERR_JSON_NUMBER, stop[-1] == '-' ? stop - 1 : stop,
                             REQUEST__NONFINITE);
    if (stop < ps->end && *stop >= '0' && *stop <= '9')
        return request__fail(ps, LR_ERR_JSON_NUMBER, stop,
                             "leading zeros are not allowed in JSON numbers");
    return request__fail(ps, LR_ERR_JSON_NUMBER, stop, "malformed number: expected a digit");
}

int request__member_name(request__parser *ps, char *out, size_t cap, size_t *len, int *trunc)
{
    if (!request__at(ps, '"'))
        return request__unexpected(ps, "a member name (a string)", 0);
    if (parse_string(ps, out, cap, len, trunc) != 0)
        return -1;
    request__skip_ws(ps);
    if (!request__at(ps, ':'))
        return request__unexpected(ps, "':'", 0);
    ps->p++;
    request__skip_ws(ps);
    return 0;
}

int request__string(request__parser *ps, char *out, size_t cap, size_t *len, int *trunc)
{
    return parse_string(ps, out, cap, len, trunc);
}

int request__number(request__parser *ps, double *v, int *range)
{
    const char *stop;
    *range = 0;
    numparse_status st = numparse_f64(ps->p, ps->end, v, &stop);
    if (st == NUMPARSE_SYNTAX)
        return request__number_syntax(ps, stop);
    if (stop == ps->end && ps->partial) /* more digits may follow */
        return request__starve(ps);
    *range = st == NUMPARSE_RANGE;
    ps->p = stop;
    return 0;
}

static int parse_literal(request__parser *ps)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]), have = (size_t)(ps->end - ps->p);
        if (have >= n && memcmp(ps->p, words[i], n) == 0) {
            ps->p += n;
            return 0;
        }
        if (ps->partial && have < n && memcmp(ps->p, words[i], have) == 0)
            return request__starve(ps);
    }
    return request__unexpected(ps, "a JSON value", 1);
}

/* The kinds of the containers open in a syntax check, one bit each (set:
 * an object), inline up to REQUEST__SKIP_LEVELS, then on the heap. */
typedef struct kinds {
    uint64_t inline_bits[REQUEST__SKIP_BITS_WORDS];
    uint64_t *bits;
    size_t cap; /* bits */
} kinds;

/* Sets the kind of the container at `level`, growing the bits as needed.
 * Returns 0, or -1 when memory runs out. */
static int kinds_set(request__parser *ps, kinds *k, size_t level, int object)
{
    if (level == k->cap) {
        uint64_t *grown = malloc(k->cap / 32 * sizeof *grown); /* twice the bits */
        if (!grown)
            return request__fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory checking nesting");
        memcpy(grown, k->bits, k->cap / 8);
        if (k->bits != k->inline_bits)
            free(k->bits);
        k->bits = grown;
        k->cap *= 2;
    }
    if (object)
        k->bits[level / 64] |= (uint64_t)1 << (level % 64);
    else
        k->bits[level / 64] &= ~((uint64_t)1 << (level % 64));
    return 0;
}

/* The syntax check of request__skip: the kind of each open container is
 * one bit of a stack (on the heap past REQUEST__SKIP_LEVELS), so any depth
 * is checked to the end, and too_deep is only recorded, so that a later
 * syntax error is still reported (400 before 422). When partial text runs
 * out, the last value or after-value it reached inside a container
 * (within REQUEST__SKIP_LEVELS) is saved as a checkpoint, so that a body
 * checked for syntax only (after a 422, or a member skipped) is not held
 * whole. */
int request__skip(request__parser *ps, const request__skip_state *from)
{
    int depth = from->depth;
    size_t level = from->level;
    kinds k = {.bits = k.inline_bits, .cap = REQUEST__SKIP_LEVELS};
    int rc = -1;
    /* The last place reading could resume from, should the text run out:
     * at a value (safe_after 0) or after one, with safe_level open. */
    const char *safe = NULL, *opened = NULL;
    size_t safe_level = 0;
    int safe_after = 0;
    memcpy(k.inline_bits, from->objects, sizeof k.inline_bits);
    if (from->after)
        goto after;
    for (;;) {
        /* A value is expected at ps->p (after spaces, when resuming); or,
         * just inside '[', a value or the ']': the safe place is then the
         * '[' itself. */
        request__skip_ws(ps);
        if (!opened) {
            safe = ps->p;
            safe_level = level;
            safe_after = 0;
        }
        opened = NULL;
        if (ps->p == ps->end) {
            request__unexpected(ps, "a JSON value", 1);
            goto done;
        }
        char c = *ps->p;
        if (c == '{' || c == '[') {
            if ((size_t)depth + level >= REQUEST__DOC_DEPTH_MAX)
                request__record(ps, LR_ERR_TOO_DEEP, NULL,
                                "the JSON document is nested deeper than %d levels",
                                REQUEST__DOC_DEPTH_MAX);
            if (kinds_set(ps, &k, level, c == '{') != 0)
                goto done;
            level++;
            ps->p++;
            request__skip_ws(ps);
            if (request__at(ps, c == '{' ? '}' : ']')) {
                ps->p++;
                level--;
            } else {
                if (c == '{' && request__member_name(ps, NULL, 0, NULL, NULL) != 0)
                    goto done;
                if (c == '[')
                    opened = safe; /* the '[': its value start, saved above */
                continue;
            }
        } else if (c == '"') {
            if (parse_string(ps, NULL, 0, NULL, NULL) != 0)
                goto done;
        } else if (request__at_number(ps)) {
            double v;
            int range;
            if (request__number(ps, &v, &range) != 0)
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
            int object = (k.bits[(level - 1) / 64] >> ((level - 1) % 64)) & 1;
            request__skip_ws(ps);
            if (request__at(ps, object ? '}' : ']')) {
                ps->p++;
                level--;
                continue;
            }
            if (!request__at(ps, ',')) {
                request__unexpected(ps, object ? "',' or '}'" : "',' or ']'", 0);
                goto done;
            }
            ps->p++;
            request__skip_ws(ps);
            if (object && request__member_name(ps, NULL, 0, NULL, NULL) != 0)
                goto done;
            break;
        }
    }
done:
    /* Not at the skipped value itself (level 0): its caller may have
     * looked at what it is (a slope that is not a number). */
    if (rc != 0 && ps->starved && ps->ckpt && safe_level > 0 &&
        safe_level <= REQUEST__SKIP_LEVELS) {
        request__skip_state here = {.depth = depth, .level = safe_level, .after = safe_after};
        memcpy(here.objects, k.bits, sizeof here.objects);
        request__checkpoint_save(ps, ps->ckpt, safe, NULL, &here);
    }
    if (k.bits != k.inline_bits)
        free(k.bits);
    return rc;
}

int request__skip_value(request__parser *ps, int depth)
{
    request__skip_state value = {.depth = depth};
    return request__skip(ps, &value);
}

const char *request__kind_of(const request__parser *ps)
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

int request__at_value(const request__parser *ps)
{
    return ps->p < ps->end && *ps->p != '\0' && strchr("\"{[tfn-0123456789", *ps->p) != NULL;
}

/* The checkpoint the readers resume from (request_internal.h): saved here,
 * beside the scanner that stops at it, restored by request.c. */
void request__checkpoint_save(request__parser *ps, request__checkpoint *c, const char *at,
                              const request__array *array, const request__skip_state *skip)
{
    c->kind = array ? REQUEST__RESUME_ARRAY : REQUEST__RESUME_SKIP;
    c->offset = (size_t)(at - ps->start) + ps->base;
    c->snap.req = *ps->req;
    c->snap.err = *ps->err;
    c->snap.obj = ps->obj;
    c->snap.has_semantic = ps->has_semantic;
    if (array)
        c->array = *array;
    if (skip)
        c->skip = *skip;
}
