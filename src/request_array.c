/* The array machine: a number or a rectangular nested array of numbers
 * read straight into a tensor, runs of numbers in bulk (and long ones in
 * parts on the workers), its whole state in one request__array, so that a
 * checkpoint is one copy of it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "request_internal.h"

/* A run read ahead is cut into this many parts per worker, so that the
 * split follows how busy each side is. */
#define AHEAD_PARTS 8

/* What a request__tensor step does next, besides -1 (an error or the text
 * ran out); none is 0, so that a helper's 0 is never taken for one. */
enum { GO_ON = 1, DONE, RESCAN };

/* A number, or a partial one, the text may end in. */
static int in_number(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The element path of the array at level k: name[i1][i2]...[ik]. */
static const char *element_path(char *buf, size_t len, const char *name, const request__array *a,
                                int k)
{
    int n = snprintf(buf, len, "%s", name);
    for (int i = 1; i <= k && n >= 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "[%zu]", a->count[i]);
    return buf;
}

/* The text ran out inside the machine: saves where it stands (only here,
 * so reading whole costs nothing) and starves. Returns -1. */
static int checkpoint_and_starve(request__parser *ps, const request__array *a)
{
    if (ps->ckpt)
        request__checkpoint_save(ps, ps->ckpt, ps->p, a, NULL);
    return request__starve(ps);
}

/* A run read ahead is pending: its parts may be writing into the tensor,
 * which must not move (grow) until the reader settles it. */
static int ahead_pending(const request__parser *ps) { return ps->ahead && ps->ahead->job; }

/* The n numbers of a run up to close taken as read. Returns n. */
static size_t run_taken(request__parser *ps, tensor *t, size_t n, const char *close)
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
static size_t read_job_now(request__parser *ps, tensor *t, size_t room, request__job *job,
                           const char *close)
{
    int ok = 0;
    size_t total = job->total;
    if (total <= room && tensor_reserve(t, t->count + total) == 0) {
        job->out = t->data + t->count;
        ok = request__job_read(job, ps->workers);
    }
    free(job);
    return ok ? run_taken(ps, t, total, close) : 0;
}

/* As read_job_now for a run up to close, the end of the text so far but
 * `extra` numbers (the one after the last ',', or a row cut short), but
 * only its first part is read before returning; the others are left to
 * the workers in ps->ahead, for the reader to settle, and no number is
 * stored into t until then but the `extra` ones, which have room
 * reserved. ps->ahead->before must hold the machine at the run's start.
 * Frees the job unless it is left pending. */
static size_t read_job_ahead(request__parser *ps, tensor *t, size_t room, request__job *job,
                             const char *close, size_t extra)
{
    request__ahead *ra = ps->ahead;
    pool_batch *batch = NULL;
    if (job->parts >= 2 && job->total <= room &&
        tensor_reserve(t, t->count + job->total + extra) == 0) {
        job->out = t->data + t->count;
        batch = request__job_start(job, ps->workers);
    }
    if (!batch) {
        free(job);
        return 0;
    }
    ra->job = job;
    ra->batch = batch;
    ra->run_end = (size_t)(close - ps->start) + ps->base;
    return run_taken(ps, t, job->total, close);
}

/* Rows of numbers from ps->p, the first number of a row at a->level whose
 * length is known, in parts: read ahead when the rows go on to the end of
 * the text held by a reader, else while this thread waits if the text
 * holds REQUEST__PARALLEL_RUN_BYTES of them. Returns the rows read, with ps->p at
 * the last one's ']'; 0 when none were (and no rows are looked for again
 * before the last ']' looked at). */
static size_t read_rows(request__parser *ps, tensor *t, const request__array *a)
{
    const char *close = NULL;
    int held_all, can_ahead = ps->ahead != NULL, level = a->level;
    size_t workers = pool_threads(ps->workers), n = 0, cols = a->shape[level - 1];
    size_t max_rows =
        a->known[level - 2] ? a->shape[level - 2] - a->count[level - 1] : SIZE_MAX;
    request__job *job = request__rows_cut(
        ps->p, ps->end, cols, max_rows, can_ahead ? 1 + AHEAD_PARTS * workers : workers + 1,
        can_ahead ? REQUEST__AHEAD_RUN_BYTES : REQUEST__PARALLEL_RUN_BYTES, &close, &held_all);
    if (!job) { /* no run of rows starts before the next row looked at */
        ps->rows_from = close ? close + 1 : ps->end;
        return 0;
    }
    if (can_ahead && held_all) {
        request__checkpoint_save(ps, &ps->ahead->before, ps->p, a, NULL);
        n = read_job_ahead(ps, t, SIZE_MAX, job, close, cols);
    } else if (!can_ahead || (size_t)(close - ps->p) >= REQUEST__PARALLEL_RUN_BYTES) {
        n = read_job_now(ps, t, SIZE_MAX, job, close);
    } else {
        free(job);
    }
    if (!n)
        ps->rows_from = close;
    return n / cols;
}

/* A long run of numbers at ps->p, at most `limit` of them: read ahead when
 * it reaches the end of the text so far, else in parts while this thread
 * waits. Returns the count read, 0 when none were. */
static size_t read_run_in_parts(request__parser *ps, tensor *t, const request__array *a,
                                size_t limit, int in_order)
{
    if (!ps->workers)
        return 0;
    size_t least = ps->ahead ? REQUEST__AHEAD_RUN_BYTES : REQUEST__PARALLEL_RUN_BYTES;
    const char *close = request__run_end(ps->p, ps->end, ps->partial, least);
    if (close && *close == ',' && ps->ahead && !ahead_pending(ps) && !in_order) {
        request__checkpoint_save(ps, &ps->ahead->before, ps->p, a, NULL);
        size_t parts = 1 + AHEAD_PARTS * pool_threads(ps->workers);
        request__job *job = request__run_cut(ps->p, close, parts, NULL);
        return job ? read_job_ahead(ps, t, limit, job, close, 1) : 0;
    }
    if (close && (size_t)(close - ps->p) >= REQUEST__PARALLEL_RUN_BYTES && !ahead_pending(ps)) {
        size_t parts = pool_threads(ps->workers) + 1;
        request__job *job = request__run_cut(ps->p, close, parts, ps->workers);
        return job ? read_job_now(ps, t, limit, job, close) : 0;
    }
    return 0;
}

/* The number at ps->p, whose double lies on a float32 tie its text may
 * decide otherwise (NUMPARSE_TIE; rare): stored as a double, with the
 * float32 its text rounds to noted when they differ, for tensor_to_f32
 * (the text is gone by then). Room for it is reserved. Returns 0, or -1
 * when memory runs out. */
static int read_tie(request__parser *ps, tensor *t)
{
    const char *stop;
    double d;
    float f;
    numparse_f64(ps->p, ps->end, &d, &stop);
    if (numparse_f32(ps->p, stop, &f, &stop) == NUMPARSE_RANGE)
        f = d < 0 ? -HUGE_VALF : HUGE_VALF;
    float through = (float)d;
    if (memcmp(&f, &through, sizeof f) != 0 && tensor_fix_f32(t, t->count, f) != 0)
        return -1;
    t->data[t->count++] = d;
    ps->p = stop;
    return 0;
}

/* The hot path: the numbers at ps->p, the start of a number at the leaf
 * level, straight into the tensor; many rows or a long run in parts, else
 * in order, bounded by the room left and, once the shape is known, by the
 * elements this array may still take. */
static int read_numbers(request__parser *ps, tensor *t, const char *name, request__array *a,
                        char *path, size_t path_len)
{
    int level = a->level;
    const char *stop, *run_end = ps->end;
    if (ps->partial) { /* leave out a number the text may cut short */
        if (!ps->safe_end) { /* once per read: the text ends the same */
            ps->safe_end = ps->end;
            while (ps->safe_end > ps->start && in_number(ps->safe_end[-1]))
                ps->safe_end--;
        }
        if (ps->safe_end <= ps->p) /* resume at this number */
            return checkpoint_and_starve(ps, a);
        run_end = ps->safe_end;
    }
    /* not where the reader went back to read in order */
    int in_order = ps->ahead &&
                   (size_t)(ps->p - ps->start) + ps->base < ps->ahead->in_order_until;
    if (ps->workers && a->count[level] == 0 && level >= 2 && a->known[level - 1] &&
        a->shape[level - 1] > 0 && (!ps->rows_from || ps->p >= ps->rows_from) && !in_order &&
        !ahead_pending(ps)) {
        size_t rows = read_rows(ps, t, a);
        if (rows > 0) {
            a->count[level - 1] += rows - 1;
            a->count[level] = a->shape[level - 1];
            a->at = REQUEST__ARRAY_CLOSE; /* at the last row's ']' */
            return GO_ON;
        }
    }
    size_t limit = a->known[level - 1] ? a->shape[level - 1] - a->count[level] : SIZE_MAX;
    size_t n = read_run_in_parts(ps, t, a, limit, in_order);
    if (n > 0) {
        a->count[level] += n;
        a->at = REQUEST__ARRAY_AFTER;
        return GO_ON;
    }
    if (t->count == t->cap) {
        if (ahead_pending(ps)) /* resumed once the reader has settled it */
            return checkpoint_and_starve(ps, a);
        if (tensor_reserve(t, t->count + 1) != 0)
            return request__fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
    }
    size_t room = t->cap - t->count;
    if (limit < room)
        room = limit;
    numparse_status st = numparse_f64_run(ps->p, run_end, t->data + t->count, room, &n, &stop);
    t->count += n;
    a->count[level] += n;
    ps->p = stop;
    if (st == NUMPARSE_TIE) { /* n < room: there is room for it */
        if (read_tie(ps, t) != 0)
            return request__fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
        a->count[level]++;
    }
    if (st == NUMPARSE_SYNTAX)
        return request__number_syntax(ps, stop);
    if (st == NUMPARSE_RANGE) {
        request__record(ps, LR_ERR_NUMBER_RANGE, element_path(path, path_len, name, a, level),
                        "number outside the range of a double");
        return RESCAN;
    }
    a->at = REQUEST__ARRAY_AFTER;
    return GO_ON;
}

/* At the start of an element of the array at a->level. */
static int element(request__parser *ps, tensor *t, const char *name, request__array *a,
                   char *path, size_t path_len)
{
    int level = a->level;
    if (ps->p == ps->end && ps->partial) /* resume right here */
        return checkpoint_and_starve(ps, a);
    if (a->known[level - 1] && a->count[level] >= a->shape[level - 1]) {
        request__record(ps, LR_ERR_RAGGED, element_path(path, path_len, name, a, level - 1),
                        "array has more than %zu element%s, unlike the ones before it",
                        a->shape[level - 1], a->shape[level - 1] == 1 ? "" : "s");
        return RESCAN;
    }
    if (request__at(ps, '[')) {
        a->at = REQUEST__ARRAY_OPEN;
        return GO_ON;
    }
    if (!request__at_value(ps))
        return request__unexpected(ps, "a number or an array", 1);
    if (!request__at_number(ps)) {
        request__record(ps, LR_ERR_NOT_A_NUMBER, element_path(path, path_len, name, a, level),
                        "expected a number, got %s", request__kind_of(ps));
        return RESCAN;
    }
    if (a->ndim < 0) {
        a->ndim = level;
    } else if (level != a->ndim) {
        request__record(ps, LR_ERR_RAGGED, element_path(path, path_len, name, a, level),
                        "expected an array, got a number");
        return RESCAN;
    }
    return read_numbers(ps, t, name, a, path, path_len);
}

/* At the ']' of the array at a->level: its length checked against the
 * ones before it; the tensor's shape set when the outermost closes. */
static int close_array(request__parser *ps, tensor *t, const char *name, request__array *a,
                       char *path, size_t path_len)
{
    int level = a->level;
    size_t n = a->count[level];
    ps->p++;
    a->closed = 1; /* a rescan from here starts after this array */
    if (n == 0) {
        if (a->ndim < 0) {
            a->ndim = level;
        } else if (a->ndim != level) {
            request__record(ps, LR_ERR_RAGGED, element_path(path, path_len, name, a, level - 1),
                            "expected an array, got []");
            return RESCAN;
        }
    }
    if (!a->known[level - 1]) {
        a->known[level - 1] = 1;
        a->shape[level - 1] = n;
    } else if (a->shape[level - 1] != n) {
        request__record(ps, LR_ERR_RAGGED, element_path(path, path_len, name, a, level - 1),
                        "array has %zu element%s, unlike the ones before it (%zu)", n,
                        n == 1 ? "" : "s", a->shape[level - 1]);
        return RESCAN;
    }
    if (--a->level == 0) {
        t->ndim = a->ndim;
        memcpy(t->shape, a->shape, (size_t)a->ndim * sizeof a->shape[0]);
        return DONE;
    }
    a->count[a->level]++;
    a->closed = 0;
    a->at = REQUEST__ARRAY_AFTER;
    return GO_ON;
}

/* One step of the machine from a->at. Returns GO_ON, DONE, RESCAN or -1. */
static int step(request__parser *ps, tensor *t, const char *name, request__array *a, char *path,
                size_t path_len)
{
    switch (a->at) {
    case REQUEST__ARRAY_OPEN:
        if (a->level == TENSOR_MAX_DIMS) {
            request__record(ps, LR_ERR_TOO_DEEP, element_path(path, path_len, name, a, a->level),
                            "arrays are nested deeper than %d levels", TENSOR_MAX_DIMS);
            return RESCAN;
        }
        if (a->ndim >= 0 && a->level + 1 > a->ndim) {
            request__record(ps, LR_ERR_RAGGED, element_path(path, path_len, name, a, a->level),
                            "expected a number, got an array");
            return RESCAN;
        }
        a->count[++a->level] = 0;
        ps->p++;
        request__skip_ws(ps);
        a->at = request__at(ps, ']') ? REQUEST__ARRAY_CLOSE : REQUEST__ARRAY_ELEMENT;
        return GO_ON;
    case REQUEST__ARRAY_ELEMENT:
        return element(ps, t, name, a, path, path_len);
    case REQUEST__ARRAY_AFTER:
        request__skip_ws(ps);
        if (ps->p == ps->end && ps->partial)
            return checkpoint_and_starve(ps, a);
        if (request__at(ps, ',')) {
            ps->p++;
            request__skip_ws(ps);
            a->at = REQUEST__ARRAY_ELEMENT;
        } else if (request__at(ps, ']')) {
            a->at = REQUEST__ARRAY_CLOSE;
        } else {
            return request__unexpected(ps, "',' or ']'", 0);
        }
        return GO_ON;
    case REQUEST__ARRAY_CLOSE:
        return close_array(ps, t, name, a, path, path_len);
    }
    return -1;
}

/* A bare number: the tensor of no dimension. */
static int scalar(request__parser *ps, tensor *t, const char *name)
{
    double v;
    int range;
    const char *text = ps->p;
    if (request__number(ps, &v, &range) != 0)
        return -1;
    if (range) {
        request__record(ps, LR_ERR_NUMBER_RANGE, name, "number outside the range of a double");
        return 0;
    }
    const char *after = ps->p;
    ps->p = text;
    if (tensor_reserve(t, t->count + 1) != 0 ||
        (numparse_f32_tie(v) ? read_tie(ps, t) : tensor_push(t, v)) != 0)
        return request__fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading %s", name);
    ps->p = after;
    t->ndim = 0;
    return 0;
}

int request__tensor(request__parser *ps, tensor *t, const char *name, int depth,
                    const request__array *resume)
{
    request__array a = {.at = REQUEST__ARRAY_OPEN, .ndim = -1};
    char path[LR_PATH_MAX];
    if (resume) { /* where the text ran out, the arrays as they were */
        a = *resume;
        /* A checkpoint at the end of the text may sit before spaces, and
         * just inside an array that turns out empty. */
        request__skip_ws(ps);
        if (a.at == REQUEST__ARRAY_ELEMENT && request__at(ps, ']') && a.count[a.level] == 0)
            a.at = REQUEST__ARRAY_CLOSE;
    } else if (request__at_number(ps)) {
        return scalar(ps, t, name);
    } else if (!request__at(ps, '[')) {
        if (!request__at_value(ps))
            return request__unexpected(ps, "a number or an array", 1);
        request__record(ps, LR_ERR_NOT_A_NUMBER, name,
                        "expected a number or an array of numbers, got %s", request__kind_of(ps));
        return request__skip_value(ps, depth);
    }
    int rc;
    while ((rc = step(ps, t, name, &a, path, sizeof path)) == GO_ON) {
    }
    if (rc != RESCAN)
        return rc == DONE ? 0 : -1;
    /* the text up to here is valid: check the rest for syntax only */
    request__skip_state rest = {.depth = depth,
                          .level = (size_t)(a.closed ? a.level - 1 : a.level),
                          .after = a.closed};
    return request__skip(ps, &rest);
}
