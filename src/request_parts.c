/* Runs of numbers cut into parts and read side by side on a pool: a pure
 * function of the text, the pool and the destination. A part must be
 * exactly numbers (or rows of numbers) and hold no float32 tie the run
 * stops at (NUMPARSE_TIE); anything else makes it not ok, and the caller
 * reads the run in order to find and report what is wrong, or note the
 * ties. */
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "request_internal.h"

static void count_part(void *arg, size_t i)
{
    request__part *r = &((request__job *)arg)->part[i];
    r->count = numparse_count_commas(r->begin, r->end) + 1;
}

/* A part of rows: each exactly job->cols numbers, then ']', and between
 * two rows ", [" (with any whitespace). */
static void read_rows_part(request__job *job, request__part *r)
{
    const char *p = r->begin, *stop;
    size_t rows = r->count / job->cols;
    double *out = job->out + r->offset;
    r->ok = 0;
    for (size_t k = 0; k < rows; k++) {
        p = request__ws_end(p, r->end);
        size_t n = 0;
        if (!request__number_at(p, r->end) ||
            numparse_f64_run(p, r->end, out + k * job->cols, job->cols, &n, &stop) !=
                NUMPARSE_OK ||
            n != job->cols)
            return;
        p = request__ws_end(stop, r->end);
        if (p == r->end || *p++ != ']')
            return;
        if (k + 1 < rows) {
            p = request__ws_end(p, r->end);
            if (p == r->end || *p++ != ',')
                return;
            p = request__ws_end(p, r->end);
            if (p == r->end || *p++ != '[')
                return;
        }
    }
    r->ok = p == r->end;
}

static void read_part(void *arg, size_t i)
{
    request__job *job = arg;
    request__part *r = &job->part[i];
    if (job->cols) {
        read_rows_part(job, r);
        return;
    }
    const char *p = request__ws_end(r->begin, r->end), *stop;
    size_t n = 0;
    r->ok = request__number_at(p, r->end) &&
            numparse_f64_run(p, r->end, job->out + r->offset, r->count, &n, &stop) ==
                NUMPARSE_OK &&
            n == r->count && request__ws_end(stop, r->end) == r->end;
}

static void read_later_part(void *arg, size_t i) { read_part(arg, i + 1); }

const char *request__run_end(const char *p, const char *end, int partial, size_t least)
{
    if ((size_t)(end - p) < least)
        return NULL;
    const char *close = memchr(p, ']', (size_t)(end - p));
    if (!close && partial) {
        for (close = end; close > p && close[-1] != ','; close--) {
        }
        close = close > p ? close - 1 : NULL;
    }
    return close && (size_t)(close - p) >= least ? close : NULL;
}

/* Where a run's numbers go: each part's after the ones before. */
static void job_offsets(request__job *job)
{
    job->total = 0;
    for (size_t k = 0; k < job->parts; k++) {
        job->part[k].offset = job->total;
        job->total += job->part[k].count;
    }
}

static request__job *job_new(size_t cols)
{
    static const request__job zero;
    request__job *job = malloc(sizeof *job);
    if (job) {
        *job = zero;
        job->cols = cols;
    }
    return job;
}

request__job *request__run_cut(const char *p, const char *close, size_t parts, pool *count_on)
{
    request__job *job = job_new(0);
    if (!job)
        return NULL;
    if (parts > REQUEST__PARTS_MAX)
        parts = REQUEST__PARTS_MAX;
    size_t len = (size_t)(close - p);
    const char *from = p;
    for (size_t k = 1; k <= parts; k++) {
        const char *cut = close;
        if (k < parts) { /* the first comma at or after the k-th share */
            const char *target = p + len / parts * k;
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

/* How many rows follow each other from p, followed with memchr from ']'
 * to ']' until the text ends, max_rows are counted, or what follows a row
 * is not ", [" (its array closes, or something is wrong, for the caller
 * to find). *last is the last row's ']' (NULL: none); *held_all set when
 * the rows went on to the end of the text. */
static size_t rows_follow(const char *p, const char *end, size_t max_rows, const char **last,
                          int *held_all)
{
    size_t rows = 0;
    *last = NULL;
    for (const char *q = p;;) {
        const char *rb = memchr(q, ']', (size_t)(end - q));
        if (!rb) {
            *held_all = 1;
            return rows;
        }
        rows++;
        *last = rb;
        /* what follows: ", [" and the next row's first byte, or the end */
        const char *next = request__ws_end(rb + 1, end);
        if (next < end && *next == ',' && rows < max_rows) {
            next = request__ws_end(next + 1, end);
            if (next < end && *next == '[')
                next = request__ws_end(next + 1, end);
            else if (next < end)
                return rows; /* not a row: for the caller */
        } else if (next < end) {
            return rows; /* the array of rows closes (or something is wrong) */
        }
        if (next == end) {
            *held_all = 1;
            return rows;
        }
        q = next;
    }
}

request__job *request__rows_cut(const char *p, const char *end, size_t cols, size_t max_rows,
                                size_t parts, size_t least, const char **close, int *held_all)
{
    const char *last;
    *close = max_rows < 2 ? p : NULL;
    *held_all = 0;
    if ((size_t)(end - p) < least || max_rows < 2)
        return NULL;
    size_t rows = rows_follow(p, end, max_rows, &last, held_all);
    *close = last;
    /* Rows of cols numbers take at least 2 * cols bytes each ("0,0]"): no
     * room is reserved for more than the text can hold. */
    if (!last || (size_t)(last - p) < least || rows > (size_t)(last + 1 - p) / 2 / cols)
        return NULL;
    request__job *job = job_new(cols);
    if (!job)
        return NULL;
    if (parts > REQUEST__PARTS_MAX)
        parts = REQUEST__PARTS_MAX;
    /* cut after the first row to end past each share of the bytes */
    size_t share = (size_t)(last + 1 - p) / parts, part_rows = 0;
    const char *from = p, *q = p;
    for (size_t r = 0; r < rows; r++) {
        const char *rb = memchr(q, ']', (size_t)(last + 1 - q));
        part_rows++;
        if (r + 1 == rows)
            break;
        q = request__ws_end(rb + 1, end);                          /* at the ',' */
        q = request__ws_end(request__ws_end(q + 1, end) + 1, end); /* past the '[' */
        if ((size_t)(rb + 1 - from) >= share && job->parts + 1 < parts) {
            job->part[job->parts++] =
                (request__part){.begin = from, .end = rb + 1, .count = part_rows * cols};
            from = q;
            part_rows = 0;
        }
    }
    job->part[job->parts++] =
        (request__part){.begin = from, .end = last + 1, .count = part_rows * cols};
    job_offsets(job);
    return job;
}

int request__job_ok(const request__job *job)
{
    for (size_t k = 0; k < job->parts; k++)
        if (!job->part[k].ok)
            return 0;
    return 1;
}

int request__job_read(request__job *job, pool *workers)
{
    pool_run(workers, job->parts, read_part, job);
    return request__job_ok(job);
}

pool_batch *request__job_start(request__job *job, pool *workers)
{
    pool_batch *batch = pool_start(workers, job->parts - 1, read_later_part, job);
    if (!batch)
        return NULL;
    read_part(job, 0);
    if (!job->part[0].ok) {
        pool_join(batch);
        return NULL;
    }
    return batch;
}
