/* Dense float64 and float32 tensors, narrowing, and their JSON writer. */
#include "tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "mem.h"
#include "numfmt.h"

void tensor_init(tensor *t)
{
    memset(t, 0, sizeof *t);
}

static size_t element_size(const tensor *t)
{
    return t->dtype == TENSOR_F32 ? sizeof(float) : sizeof(double);
}

size_t tensor_charge(const tensor *t)
{
    return t->cap * element_size(t) + t->fixes_cap * sizeof(tensor_fix);
}

void tensor_free(tensor *t)
{
    struct budget_account *a = t->account;
    budget_give(a, tensor_charge(t));
    free(t->data);
    free(t->fixes);
    tensor_init(t);
    t->account = a;
}

void *tensor_take_data(tensor *t, size_t *charge)
{
    struct budget_account *a = t->account;
    budget_give(a, t->fixes_cap * sizeof(tensor_fix));
    free(t->fixes);
    void *data = t->data;
    *charge = t->cap * element_size(t);
    tensor_init(t);
    t->account = a;
    return data;
}

const char *tensor_dtype_name(tensor_dtype d) { return d == TENSOR_F32 ? "float32" : "float64"; }

int tensor_fix_f32(tensor *t, size_t index, float value)
{
    if (t->nfixes == t->fixes_cap) {
        size_t cap = t->fixes_cap ? 2 * t->fixes_cap : 16;
        if (cap > SIZE_MAX / sizeof(tensor_fix))
            return -1;
        size_t more = (cap - t->fixes_cap) * sizeof(tensor_fix);
        if (budget_take(t->account, more) != 0)
            return -1;
        tensor_fix *f = realloc(t->fixes, cap * sizeof(tensor_fix));
        if (!f) {
            budget_give(t->account, more);
            return -1;
        }
        t->fixes = f;
        t->fixes_cap = cap;
    }
    t->fixes[t->nfixes++] = (tensor_fix){index, value};
    return 0;
}

size_t tensor_to_f32(tensor *t)
{
    if (t->dtype == TENSOR_F32)
        return t->count;
    const double *d = t->data;
    float *f = t->data32;
    size_t bad = t->count;
    /* Element i moves from byte 8i to byte 4i, never over a double not yet
     * read; through a block on the stack, so that no float store is seen
     * by the compiler as a write into the doubles. */
    for (size_t i = 0; i < t->count; i += 256) {
        float block[256];
        size_t n = t->count - i < 256 ? t->count - i : 256;
        for (size_t j = 0; j < n; j++)
            block[j] = (float)d[i + j];
        memcpy((char *)f + i * sizeof(float), block, n * sizeof(float));
    }
    for (size_t k = 0; k < t->nfixes; k++)
        if (t->fixes[k].index < t->count)
            f[t->fixes[k].index] = t->fixes[k].value;
    for (size_t i = 0; i < t->count && bad == t->count; i++)
        if (f[i] - f[i] != 0) /* finite doubles only reach here: infinite means beyond */
            bad = i;
    t->dtype = TENSOR_F32;
    size_t cap = t->count ? t->count : 1, was = t->cap * sizeof(double);
    float *shrunk = t->data ? realloc(t->data, cap * sizeof(float)) : NULL;
    if (shrunk) {
        t->data32 = shrunk;
        t->cap = cap;
        budget_give(t->account, was - cap * sizeof(float));
    } else {
        t->cap *= 2; /* the same bytes, counted in floats */
    }
    budget_give(t->account, t->fixes_cap * sizeof(tensor_fix));
    free(t->fixes);
    t->fixes = NULL;
    t->nfixes = t->fixes_cap = 0;
    return bad;
}

int tensor_reserve(tensor *t, size_t n)
{
    if (n <= t->cap)
        return 0;
    size_t bytes = n <= SIZE_MAX / sizeof(double)
                       ? mem_grow(t->cap * sizeof(double), n * sizeof(double), 64 * sizeof(double))
                       : 0;
    if (bytes == 0)
        return -1;
    size_t cap = bytes / sizeof(double);
    size_t more = (cap - t->cap) * sizeof(double);
    if (budget_take(t->account, more) != 0)
        return -1;
    double *d = realloc(t->data, cap * sizeof(double));
    if (!d) {
        budget_give(t->account, more);
        return -1;
    }
    t->data = d;
    t->cap = cap;
    mem_hint_large(d, cap * sizeof(double));
    return 0;
}

/* (Reading is in float64 only: the reader stores doubles.) */
int tensor_push(tensor *t, double v)
{
    if (t->count == t->cap && tensor_reserve(t, t->count + 1) != 0)
        return -1;
    t->data[t->count++] = v;
    return 0;
}

int tensor_same_shape(const tensor *a, const tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

int tensor_shape_count(const size_t *shape, int ndim, size_t *count)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && n > SIZE_MAX / shape[i])
            return -1;
        n *= shape[i];
    }
    *count = n;
    return 0;
}

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t mul_sat(size_t a, size_t b)
{
    return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

size_t tensor_json_bound(const tensor *t)
{
    /* Each number takes at most NUMFMT_F64_MAX bytes plus ", "; each array
     * two brackets plus ", ". */
    size_t arrays = 0, outer = 1;
    for (int k = 0; k < t->ndim; k++) {
        arrays = add_sat(arrays, outer);
        outer = mul_sat(outer, t->shape[k]);
    }
    size_t n = t->ndim == 0 ? 1 : t->count;
    return add_sat(add_sat(mul_sat(n, NUMFMT_F64_MAX + 2), mul_sat(arrays, 4)),
                   NUMFMT_F64_BUF - NUMFMT_F64_MAX);
}

/* The last two distinct values written and where their text is. Replies
 * repeat values a lot (a gradient holds only 1 and the slope; zeros are
 * common), and copying a text back costs far less than formatting it. */
typedef struct {
    uint64_t bits[2];
    const char *text[2];
    size_t len[2];
    unsigned next; /* the entry to replace */
} repeat_memo;

/* The text of a value with these bits copied from the memo when it is
 * there (*hit set), p returned otherwise. */
static inline __attribute__((always_inline)) char *memo_copy(repeat_memo *m, uint64_t bits,
                                                             char *p, int *hit)
{
    for (unsigned k = 0; k < 2; k++) {
        if (bits == m->bits[k]) {
            char tmp[NUMFMT_F64_BUF]; /* the texts may overlap */
            memcpy(tmp, m->text[k], sizeof tmp);
            memcpy(p, tmp, sizeof tmp);
            *hit = 1;
            return p + m->len[k];
        }
    }
    *hit = 0;
    return p;
}

/* The text at [p, end) remembered for these bits; returns end. */
static inline __attribute__((always_inline)) char *memo_keep(repeat_memo *m, uint64_t bits,
                                                             char *p, char *end)
{
    m->bits[m->next] = bits;
    m->text[m->next] = p;
    m->len[m->next] = (size_t)(end - p);
    m->next ^= 1;
    return end;
}

/* Writes x at p through the memo; returns one past its text. A copy
 * reads NUMFMT_F64_BUF bytes at an earlier text, which may reach into
 * bytes written after it or not yet written: all are inside the buffer
 * (see tensor_json_bound), and only the value's own bytes are kept. One
 * writer per dtype, out of line, so that the loops calling them stay
 * small. */
static char *write_f64(repeat_memo *m, double x, char *p)
{
    uint64_t bits;
    int hit;
    memcpy(&bits, &x, sizeof bits);
    char *q = memo_copy(m, bits, p, &hit);
    return hit ? q : memo_keep(m, bits, p, numfmt_f64(x, p));
}

static char *write_f32(repeat_memo *m, float x, char *p)
{
    uint32_t b32;
    int hit;
    memcpy(&b32, &x, sizeof b32);
    char *q = memo_copy(m, b32, p, &hit);
    return hit ? q : memo_keep(m, b32, p, numfmt_f32(x, p));
}

/* Element i of data (float32 when f32, a constant at each call). */
static inline __attribute__((always_inline)) char *
write_number(repeat_memo *m, const void *data, int f32, size_t i, char *p)
{
    return f32 ? write_f32(m, ((const float *)data)[i], p)
               : write_f64(m, ((const double *)data)[i], p);
}

/* Elements [at, at + n) of data, each followed by ", ". */
static inline __attribute__((always_inline)) char *
write_row(repeat_memo *memo, const void *data, int f32, size_t at, size_t n, char *p)
{
    for (size_t i = 0; i < n; i++) {
        p = write_number(memo, data, f32, at + i, p);
        memcpy(p, ", ", 2);
        p += 2;
    }
    return p;
}

/* The elements of dimension dim from *at on; *at moves past them. */
static char *write_dim(const tensor *t, int dim, size_t *at, repeat_memo *memo, char *p)
{
    size_t n = t->shape[dim];
    *p++ = '[';
    if (dim + 1 == t->ndim) { /* the innermost arrays: the numbers */
        const void *data = t->data;
        if (t->dtype == TENSOR_F32) /* one loop per dtype: no test per number */
            p = write_row(memo, data, 1, *at, n, p);
        else
            p = write_row(memo, data, 0, *at, n, p);
        if (n) {
            *at += n;
            p -= 2;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i) {
                memcpy(p, ", ", 2);
                p += 2;
            }
            p = write_dim(t, dim + 1, at, memo, p);
        }
    }
    *p++ = ']';
    return p;
}

/* Both entries start as +0.0 (all bits zero in either dtype), whose text
 * is ready. */
static const char zero_text[NUMFMT_F64_BUF] = "0.0";

static void memo_init(repeat_memo *m)
{
    *m = (repeat_memo){{0, 0}, {zero_text, zero_text}, {3, 3}, 0};
}

char *tensor_write_json(const tensor *t, char *out)
{
    size_t at = 0;
    repeat_memo memo;
    memo_init(&memo);
    if (t->ndim == 0)
        return t->dtype == TENSOR_F32 ? numfmt_f32(t->data32[0], out) : numfmt_f64(t->data[0], out);
    return write_dim(t, 0, &at, &memo, out);
}

/* The most one element adds: closing and opening brackets of every
 * dimension, ", ", and the number with numfmt's scratch (or a memo copy). */
#define PIECE_STEP (2 * TENSOR_MAX_DIMS + 2 + NUMFMT_F64_BUF)

void tensor_cursor_init(tensor_cursor *c, const tensor *t, size_t begin, size_t end)
{
    memset(c, 0, sizeof *c);
    c->t = t;
    c->next = begin;
    c->end = end;
    c->closed = begin == end; /* an empty range writes nothing */
    for (int k = t->ndim - 1; k >= 0; k--) { /* the multi-index of `begin` */
        c->idx[k] = begin % t->shape[k];
        begin /= t->shape[k];
    }
}

/* tensor_write_piece for one dtype (a constant in each call). */
static inline __attribute__((always_inline)) size_t
write_piece(tensor_cursor *c, char *out, size_t cap, int f32)
{
    const tensor *t = c->t;
    const int nd = t->ndim, last = nd - 1;
    char *p = out, *stop = out + cap - PIECE_STEP;
    const void *data = t->data;
    repeat_memo memo; /* its texts must lie in this piece */
    memo_init(&memo);
    while (c->next < c->end && p <= stop) {
        if (c->idx[last] != 0) { /* inside the innermost array */
            memcpy(p, ", ", 2);
            p += 2;
        } else { /* the first of an innermost array: brackets */
            int open = 1; /* dimensions that start here */
            while (open < nd && c->idx[last - open] == 0)
                open++;
            if (c->next == 0) {
                open = nd;
            } else {
                memset(p, ']', (size_t)open);
                p += open;
                memcpy(p, ", ", 2);
                p += 2;
            }
            memset(p, '[', (size_t)open);
            p += open;
        }
        p = write_number(&memo, data, f32, c->next, p);
        c->next++;
        for (int k = last; k >= 0 && ++c->idx[k] == t->shape[k] && k > 0; k--)
            c->idx[k] = 0;
    }
    if (c->next == t->count && !c->closed && p + nd <= out + cap) {
        memset(p, ']', (size_t)nd);
        p += nd;
        c->closed = 1;
    }
    return (size_t)(p - out);
}

size_t tensor_write_piece(tensor_cursor *c, char *out, size_t cap)
{
    return c->t->dtype == TENSOR_F32 ? write_piece(c, out, cap, 1) : write_piece(c, out, cap, 0);
}

void tensor_path(const tensor *t, size_t i, const char *name, char *buf,
                 size_t len)
{
    size_t idx[TENSOR_MAX_DIMS];
    for (int k = t->ndim - 1; k >= 0; k--) {
        size_t s = t->shape[k] ? t->shape[k] : 1;
        idx[k] = i % s;
        i /= s;
    }
    int n = snprintf(buf, len, "%s", name);
    for (int k = 0; k < t->ndim && n >= 0 && (size_t)n < len; k++)
        n += snprintf(buf + n, len - (size_t)n, "[%zu]", idx[k]);
}
