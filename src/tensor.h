/* A dense, row-major float64 or float32 array of up to 32 dimensions, and
 * its JSON text form. Knows nothing of HTTP. Tensors are read as float64
 * and narrowed to float32 once the request says so (tensor_to_f32). */
#ifndef LEAKYRELU_TENSOR_H
#define LEAKYRELU_TENSOR_H

#include <stddef.h>

#define TENSOR_MAX_DIMS 32

struct budget_account;

typedef enum tensor_dtype {
    TENSOR_F64, /* data */
    TENSOR_F32  /* data32 */
} tensor_dtype;

/* An element read as a double that lies on a float32 rounding boundary,
 * with the float32 its text rounds to (see numparse_f32_tie). */
typedef struct tensor_fix {
    size_t index;
    float value;
} tensor_fix;

typedef struct tensor {
    union {
        double *data;  /* TENSOR_F64: `count` elements, owned (malloc) */
        float *data32; /* TENSOR_F32: the same storage */
    };
    size_t count;
    size_t cap;   /* elements of the dtype the storage holds */
    tensor_dtype dtype;
    struct budget_account *account; /* charged for data and fixes, or NULL */
    int ndim;     /* 0 for a bare number */
    size_t shape[TENSOR_MAX_DIMS];
    tensor_fix *fixes; /* in increasing index order; for tensor_to_f32 */
    size_t nfixes, fixes_cap;
} tensor;

/* An empty scalar-less tensor: no data, ndim 0, count 0, no account. */
void tensor_init(tensor *t);

/* Frees the data and fixes (giving their charge back to the account) and
 * re-initializes, keeping the account; safe on an initialized tensor. */
void tensor_free(tensor *t);

/* The bytes t holds for its data and fixes: what its account is charged
 * for them. */
size_t tensor_charge(const tensor *t);

/* Gives t's data away (to a reply that frees it): its fixes are freed
 * (their charge given back), the data returned with what it is charged
 * in *charge (still taken from the account: the new owner releases it
 * to the budget), t left empty with its account. */
void *tensor_take_data(tensor *t, size_t *charge);

/* "float64" or "float32". */
const char *tensor_dtype_name(tensor_dtype d);

/* Notes that element `index` (the last one read, or later), read as a
 * double on a float32 rounding boundary, is `value` in float32, for
 * tensor_to_f32. Indices must be noted in increasing order. Returns 0,
 * or -1 when memory runs out or the budget refuses. */
int tensor_fix_f32(tensor *t, size_t index, float value);

/* Narrows a TENSOR_F64 tensor to TENSOR_F32 in place: each element as the
 * float32 its text rounds to (the double's rounding, or its fix), the
 * storage shrunk to fit (the charge given back). Returns the index of
 * the first element beyond float32's range (now infinite), or count when
 * there is none. Never fails: when shrinking does not, the storage stays. */
size_t tensor_to_f32(tensor *t);

/* Makes room for at least `n` elements in all, growing as mem_grow says
 * (so that the room unused stays under 1 MiB and the budget's bound
 * holds). The growth is charged to t->account.
 * Returns 0, or -1 when memory runs out or the budget refuses (the tensor
 * is unchanged). */
int tensor_reserve(tensor *t, size_t n);

/* Appends one element. Returns 0, or -1 when memory runs out. */
int tensor_push(tensor *t, double v);

/* 1 when a and b have the same ndim and shape, else 0. */
int tensor_same_shape(const tensor *a, const tensor *b);

/* The elements a shape of ndim sizes holds, into *count: 0, or -1 when
 * the product does not fit in size_t. */
int tensor_shape_count(const size_t *shape, int ndim, size_t *count);

/* An upper bound of the bytes tensor_write_json writes for t; SIZE_MAX if
 * it does not fit in size_t. */
size_t tensor_json_bound(const tensor *t);

/* Writes t as JSON laid out as Python's json.dumps (", " between elements,
 * numbers as numfmt_f64 or numfmt_f32 writes them): a bare number for ndim 0, nested
 * arrays otherwise. `out` must hold tensor_json_bound(t) bytes. Returns a
 * pointer one past the last byte written; does not allocate. */
char *tensor_write_json(const tensor *t, char *out);

/* Where a piece-by-piece writing of a tensor's JSON text stands. */
typedef struct tensor_cursor {
    const struct tensor *t;
    size_t next;                   /* the next element to write */
    size_t end;                    /* one past the last element to write */
    size_t idx[TENSOR_MAX_DIMS];   /* the multi-index of `next` */
    int closed;                    /* the final brackets are written */
} tensor_cursor;

/* The least `cap` tensor_write_piece accepts. */
#define TENSOR_PIECE_MIN 256

/* Starts writing elements [begin, end) of t, which has ndim >= 1 and
 * count >= 1 (no dimension of size 0), begin <= end <= count. An empty
 * range writes nothing. */
void tensor_cursor_init(tensor_cursor *c, const tensor *t, size_t begin, size_t end);

/* Writes the next whole elements of the cursor's range, each with the
 * brackets and ", " before it, into out (at most cap >= TENSOR_PIECE_MIN
 * bytes; a few more are used as scratch, within cap), and the closing
 * brackets after the tensor's last element. Returns the bytes written, 0
 * when the range is done. The pieces of [0, count), joined, are exactly
 * tensor_write_json's text; ranges [a, b) and [b, c) written separately
 * join into [a, c)'s pieces, so the ranges can be written by different
 * threads. Does not allocate. */
size_t tensor_write_piece(tensor_cursor *c, char *out, size_t cap);

/* Writes the element path of flat index i into buf ("x[1][2]" for name
 * "x"), truncated to len bytes with a NUL. */
void tensor_path(const tensor *t, size_t i, const char *name, char *buf,
                 size_t len);

#endif
