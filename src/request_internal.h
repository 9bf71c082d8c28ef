/* Internals shared by the request module's files (request__ prefix): the
 * parser, the array machine's state, checkpoints, and the parts of a run of
 * numbers read side by side. Not for use outside src/request*.c. */
#ifndef LEAKYRELU_REQUEST_INTERNAL_H
#define LEAKYRELU_REQUEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "pool.h"
#include "request.h"
#include "tensor.h"

/* What a NaN or an infinity in a JSON body is told: where they can go. */
#define REQUEST__NONFINITE "NaN and Infinity are not valid JSON; a binary body " \
                           "(Content-Type: application/octet-stream) carries them"

/* Nesting allowed in values checked for syntax only (members skipped, the
 * rest of a body after a request error); deeper is too_deep (422). */
#define REQUEST__DOC_DEPTH_MAX 64
/* Containers a syntax check tracks inline (one bit each); deeper ones go
 * on the heap, and are not resumed from a checkpoint. */
#define REQUEST__SKIP_BITS_WORDS 4
#define REQUEST__SKIP_LEVELS (64 * REQUEST__SKIP_BITS_WORDS)

/* Runs of numbers at least this long are read in parts on the workers:
 * when the whole run is held, while the caller waits; when more text is
 * coming (a request_reader), while the caller goes back to receiving. The
 * fuzz build makes these and the reader's sizes tiny (see the Makefile),
 * so that short inputs reach every path. */
#ifndef REQUEST__PARALLEL_RUN_BYTES
#define REQUEST__PARALLEL_RUN_BYTES (1024 * 1024)
#endif
#ifndef REQUEST__AHEAD_RUN_BYTES
#define REQUEST__AHEAD_RUN_BYTES (256 * 1024)
#endif
/* Where a syntax-only check (request__skip) stands. */
typedef struct request__skip_state {
    int depth;    /* the document level of the value being checked */
    size_t level; /* containers open inside it */
    uint64_t objects[REQUEST__SKIP_BITS_WORDS]; /* bit set: that one is an object */
    int after;    /* just after a value, else at one */
} request__skip_state;

/* The array machine (request__tensor) over one explicit state. */
typedef enum request__array_at {
    REQUEST__ARRAY_OPEN,    /* at '[' */
    REQUEST__ARRAY_ELEMENT, /* at the start of an element */
    REQUEST__ARRAY_AFTER,   /* after an element: ',' or ']' */
    REQUEST__ARRAY_CLOSE    /* at ']' */
} request__array_at;

typedef struct request__array {
    request__array_at at;
    int level;  /* arrays open; count[l] elements read in the one at level l */
    int ndim;   /* the level where numbers live, once known; else -1 */
    int closed; /* an array just closed: a rescan starts after it */
    size_t count[TENSOR_MAX_DIMS + 1];
    size_t shape[TENSOR_MAX_DIMS]; /* shape[l - 1]: the length at level l, */
    int known[TENSOR_MAX_DIMS];    /* once known[l - 1] (the first one closed) */
} request__array;

/* The members of the request object read so far. */
typedef struct request__object {
    unsigned seen;                   /* a bit per row of the member table */
    int n_unknown;
    char unknown[LR_DETAIL_MAX / 2]; /* the unknown members' names, listed */
    int member;                      /* the row whose value is being read, or -1 */
} request__object;

/* Everything known of the request, but the numbers themselves: a
 * checkpoint saves it and restores it in one piece. */
typedef struct request__snapshot {
    request req;     /* the tensors' storage (data, cap) is never restored */
    lr_error err;
    request__object obj;
    int has_semantic; /* a 422 is recorded in err; scanning goes on for 400s */
} request__snapshot;

typedef enum request__resume {
    REQUEST__RESUME_NONE,  /* no checkpoint: from the beginning */
    REQUEST__RESUME_ARRAY, /* in the array machine, at ELEMENT or AFTER */
    REQUEST__RESUME_SKIP   /* in a syntax-only check */
} request__resume;

/* Everything needed to go on reading where the text ran out, when the
 * text before it is gone. */
typedef struct request__checkpoint {
    request__resume kind;
    size_t offset; /* in the body */
    request__snapshot snap;
    request__array array; /* kind ARRAY */
    request__skip_state skip;   /* kind SKIP */
} request__checkpoint;

/* The parts a run of numbers is cut into, read side by side. */
#define REQUEST__PARTS_MAX 65

typedef struct request__part {
    const char *begin, *end; /* numbers separated by commas, nothing else; or
                              * rows: "n, n], [n, n]", from a number to
                              * just after the last ']' */
    size_t count;            /* the numbers: commas + 1, or rows * cols */
    size_t offset;           /* where its numbers go in out */
    int ok;                  /* read, and exactly what it should be */
} request__part;

typedef struct request__job {
    request__part part[REQUEST__PARTS_MAX];
    size_t parts;
    size_t cols;  /* parts of rows of this many numbers, or 0 */
    size_t total; /* the numbers in all parts */
    double *out;
} request__job;

/* A run read ahead on the workers while the reader receives more: the
 * reader has taken its numbers as read and gone on; if any part turns out
 * flawed, it goes back to `before` and reads the run in order. */
typedef struct request__ahead {
    request__job *job;  /* NULL: none pending */
    pool_batch *batch;  /* the parts after the first, on the workers */
    request__checkpoint before; /* the machine at the run's start */
    size_t run_end;     /* a body offset */
    size_t in_order_until; /* runs starting before this offset are not read ahead */
} request__ahead;

typedef struct request__parser {
    const char *start, *p, *end;
    size_t base;      /* the body offset of start: the text before is gone */
    int partial;      /* more text may follow end */
    int starved;      /* stopped at end for want of text, which is no error */
    request *req;
    lr_error *err;
    request__object obj;  /* with req, err and has_semantic: the snapshot */
    int has_semantic;
    pool *workers;        /* for long runs of numbers; may be NULL */
    request__checkpoint *ckpt; /* where resume points are saved; may be NULL */
    request__ahead *ahead;     /* a reader's, for a run read ahead; may be NULL */
    const char *safe_end;  /* partial: where a number cut short may begin */
    const char *rows_from; /* no run of rows is looked for before this */
} request__parser;

/* --- request_scan.c: the JSON grammar, strings, literals, skipping --- */

static inline int request__is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline const char *request__ws_end(const char *p, const char *end)
{
    while (p < end && request__is_ws(*p))
        p++;
    return p;
}

static inline void request__skip_ws(request__parser *ps)
{
    ps->p = request__ws_end(ps->p, ps->end);
}

static inline int request__at(const request__parser *ps, char c)
{
    return ps->p < ps->end && *ps->p == c;
}

/* After a member or an element: a ',' (taken, with the whitespace around
 * it: another follows) gives 1; anything else (left there) 0. */
static inline int request__comma(request__parser *ps)
{
    request__skip_ws(ps);
    if (!request__at(ps, ','))
        return 0;
    ps->p++;
    request__skip_ws(ps);
    return 1;
}

static inline int request__number_at(const char *p, const char *end)
{
    return p < end && (*p == '-' || (*p >= '0' && *p <= '9'));
}

static inline int request__at_number(const request__parser *ps)
{
    return request__number_at(ps->p, ps->end);
}

/* Out of text before the value could be decided, while more may come:
 * no error; the reader resumes from its last checkpoint. Returns -1. */
int request__starve(request__parser *ps);

/* A syntax error (or out of memory) at `where` (NULL: no offset): stops
 * reading, replaces any request error recorded. Returns -1. */
int request__fail(request__parser *ps, lr_err code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A request error (422) at `path` (NULL: none): the first one is kept,
 * reading goes on to find syntax errors. */
void request__record(request__parser *ps, lr_err code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reports the unexpected byte at ps->p, `what` naming what was expected;
 * `value`: a value may start here (NaN, Infinity, ".5", "+1" get their own
 * messages). Starves at the end of partial text. Returns -1. */
int request__unexpected(request__parser *ps, const char *what, int value);

/* Reports the malformed number that starts at ps->p and goes wrong at
 * stop. Returns -1. */
int request__number_syntax(request__parser *ps, const char *stop);

/* Reads a member name, decoded into out (cap bytes with the NUL, *len its
 * length, *trunc set when cut short) unless out is NULL, then the ':' and
 * the whitespace around it. Returns 0 or -1. */
int request__member_name(request__parser *ps, char *out, size_t cap, size_t *len, int *trunc);

/* Reads the string value at ps->p ('"'), decoded into out as
 * request__member_name does. Returns 0 or -1. */
int request__string(request__parser *ps, char *out, size_t cap, size_t *len, int *trunc);

/* Reads the number at ps->p into *v; *range set when beyond a double.
 * Returns 0 or -1. */
int request__number(request__parser *ps, double *v, int *range);

/* Checks the value described by s for syntax only, from s's place on (a
 * value at level 0: skips one value), without recursion and to any depth.
 * Values deeper than REQUEST__DOC_DEPTH_MAX in the document are recorded
 * as too_deep. When partial text runs out inside a container, saves a
 * checkpoint there so that the text behind need not be held. Returns 0
 * with ps->p after the value, or -1. */
int request__skip(request__parser *ps, const request__skip_state *s);

/* Skips the one value at ps->p, at document level `depth`. */
int request__skip_value(request__parser *ps, int depth);

/* 1 when a JSON value may start at ps->p; "a string", "an object", ...
 * for the value starting there. */
int request__at_value(const request__parser *ps);
const char *request__kind_of(const request__parser *ps);

/* --- request_array.c: numbers and nested arrays into a tensor --- */

/* Reads a number or a rectangular nested array of numbers at ps->p (or,
 * resuming, from the machine `resume`) into t; the element paths of
 * errors start with `name`. A request error is recorded and the rest of
 * the value checked for syntax only. Returns 0 or -1. */
int request__tensor(request__parser *ps, tensor *t, const char *name, int depth,
                    const request__array *resume);

/* --- request_parts.c: runs of numbers cut into parts, read side by side --- */

/* Where the run of numbers at p (a number's start) ends: at the next ']',
 * or, in partial text, at the last ',' there is; NULL when it is shorter
 * than `least` bytes. */
const char *request__run_end(const char *p, const char *end, int partial, size_t least);

/* A job for the run [p, close) cut at commas into at most `parts` parts of
 * about equal length, their commas counted (on count_on's workers when not
 * NULL), which gives where each part's numbers go. NULL when memory runs
 * out. Free it with free(). */
request__job *request__run_cut(const char *p, const char *close, size_t parts, pool *count_on);

/* A job for the rows from p, the first number of a row of `cols` numbers
 * in an array of rows: "n, n], [n, n], [n, n]", at most max_rows of them,
 * cut after rows into at most `parts` parts. *close is the last row's ']';
 * *held_all is set when the rows go on to the end of the text. NULL when
 * the rows take fewer than `least` bytes or memory runs out, with *close
 * the last ']' looked at (NULL: none; p: at most one row may follow).
 * Rows are not checked here but when read. */
request__job *request__rows_cut(const char *p, const char *end, size_t cols, size_t max_rows,
                                size_t parts, size_t least, const char **close, int *held_all);

/* Reads every part of job into job->out on the workers (may be NULL) and
 * the caller. Returns 1 when every part was exactly what it should be. */
int request__job_read(request__job *job, pool *workers);

/* For a job of two parts or more: reads the first part here and leaves
 * the others to the workers: returns their batch (pool_join it, then
 * request__job_ok), or NULL, with nothing left running, when the first
 * part is flawed or the batch cannot start. */
pool_batch *request__job_start(request__job *job, pool *workers);

/* 1 when every part of a job read is exactly what it should be. */
int request__job_ok(const request__job *job);

/* --- request_oip.c: Open Inference Protocol inference requests --- */

/* Reads an inference request from ps->p (its '{'), or from the
 * checkpoint `resume`, to the end of its object. Returns 0 or -1. */
int request__oip_body(request__parser *ps, const request__checkpoint *resume);

/* The checks once the whole body is read without a request error. */
void request__oip_end(request__parser *ps);

/* --- request.c: the body, its members, checkpoints --- */

/* Saves into c the reading at `at` (a place in the text), with the array
 * machine or the syntax check there (the other NULL). */
void request__checkpoint_save(request__parser *ps, request__checkpoint *c, const char *at,
                              const request__array *array, const request__skip_state *skip);

/* Restores the snapshot s into the parser's request, error and object
 * state; the tensors keep their storage (data, cap). */
void request__snapshot_restore(request__parser *ps, const request__snapshot *s);

/* Reads the body from ps->p, or from the checkpoint `resume`, to its end.
 * Returns -1 when starved (partial text ran out), else 0 with the outcome
 * in *ps->err. */
int request__body(request__parser *ps, request_kind kind, const request__checkpoint *resume);

#endif
