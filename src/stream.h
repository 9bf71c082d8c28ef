/* A reply body written in pieces as the connection takes them, so that a
 * large result's text is never held whole: formatted ahead on the worker
 * pool into a ring of slots, or alone, piece by piece. Knows nothing of
 * HTTP. */
#ifndef LEAKYRELU_STREAM_H
#define LEAKYRELU_STREAM_H

#include <stddef.h>

#include "tensor.h"

struct pool;
struct budget_account;

typedef struct stream stream;

/* Starts the reply for x (ndim >= 1, count >= 1), whose data the stream
 * takes over (x is left empty, its account kept): the before_len bytes
 * of `before` (say {"y": ), X laid out as tensor_write_json, then the
 * after_len bytes of `after` (say , "grad_slope": [...]} ); both are
 * copied, and either may be empty. With workers, the first ranges start
 * formatting at once. Every buffer is allocated here, so reading never
 * fails; they are charged to x's account (at most STREAM_MEMORY_MAX
 * bytes beside the text around X), and the stream keeps those charges
 * and x's data's until stream_free releases them to the budget. NULL
 * when memory runs out or the budget refuses (x unchanged). */
stream *stream_new(tensor *x, const char *before, size_t before_len, const char *after,
                   size_t after_len, struct pool *workers);

/* The most memory stream_new allocates, the tensor's data aside. */
#define STREAM_MEMORY_MAX ((size_t)8 * (256 * 1024 + 128) + 8192)

/* Copies the next bytes of the reply into buf (at most max > 0); returns
 * how many, 0 at its end. -1 (then close the connection) would mean a
 * broken invariant, never a client's doing. One reader at a time. */
ptrdiff_t stream_read(stream *st, char *buf, size_t max);

/* Frees a stream, read to its end or not: the ranges still queued on the
 * workers are taken back and those being formatted waited for. NULL is
 * ignored. */
void stream_free(stream *st);

#endif
