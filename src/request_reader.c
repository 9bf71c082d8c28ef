/* Reading a body as it arrives (request_reader): the text held in one
 * buffer, read in passes from the last checkpoint, the text before the
 * checkpoint dropped, and the run read ahead on the workers settled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "mem.h"
#include "numparse.h"
#include "request_internal.h"

/* The body's text from `base` on: what the last checkpoint still needs,
 * plus what came since. */
struct request_reader {
    request_kind kind;
    pool *workers;
    request *req;
    lr_error *err;
    char *buf;
    size_t len, cap, base;
    size_t retry_at; /* read again once this much text is held */
    size_t batch;    /* the least text worth a pass */
    request__checkpoint ck; /* where the next pass starts (RESUME_NONE: the beginning) */
    int done;        /* the outcome is known (a 400, or out of memory) */
    request__ahead ahead; /* with workers: the run being read ahead, if any */
};

static int has_checkpoint(const request__checkpoint *c) { return c->kind != REQUEST__RESUME_NONE; }

/* Text held below this is not worth a pass; more is received first. */
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
    r->batch = r->retry_at = workers ? 2 * REQUEST__AHEAD_RUN_BYTES + READER_BATCH : READER_BATCH;
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
    request__ahead *ra = &r->ahead;
    if (!ra->job)
        return 0;
    pool_join(ra->batch);
    int ok = request__job_ok(ra->job);
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
    if (r->ahead.job || !has_checkpoint(&r->ck) || r->ck.offset <= r->base)
        return;
    size_t drop = r->ck.offset - r->base;
    memmove(r->buf, r->buf + drop, r->len - drop);
    r->len -= drop;
    r->base = r->ck.offset;
    r->retry_at = r->retry_at > drop ? r->retry_at - drop : 0;
}

/* A pass over the text held, from the checkpoint; partial: more may follow. */
static void reader_pass(request_reader *r, int partial)
{
    for (;;) {
        reader_settle(r);
        reader_drop(r);
        request__checkpoint next = r->ck;
        const char *text = r->buf ? r->buf : ""; /* nothing came: an empty body */
        request__parser ps = {
            .start = text,
            .p = text + (has_checkpoint(&r->ck) ? r->ck.offset - r->base : 0),
            .end = text + r->len,
            .err = r->err,
            .workers = r->workers,
            .base = r->base,
            .partial = partial,
            .ckpt = &next,
            .req = r->req,
            .ahead = partial && r->workers ? &r->ahead : NULL,
        };
        if (request__body(&ps, r->kind, has_checkpoint(&r->ck) ? &r->ck : NULL) == 0) {
            if (reader_settle(r) == 0) {
                r->done = 1;
                return;
            }
            continue; /* a flaw in the run read ahead comes first */
        }
        /* Starved: on from the newest checkpoint; if there is none newer,
         * wait for half as much again before trying. */
        if (has_checkpoint(&next) && (!has_checkpoint(&r->ck) || next.offset > r->ck.offset)) {
            r->ck = next;
            r->retry_at = r->len + r->batch;
        } else {
            r->retry_at = r->len + (r->len / 2 > r->batch ? r->len / 2 : r->batch);
        }
        reader_drop(r);
        return;
    }
}

/* Room for len more bytes, growing as mem_grow says; charged to the
 * request's account. */
static int reader_grow(request_reader *r, size_t len)
{
    size_t cap = len <= SIZE_MAX - r->len ? mem_grow(r->cap, r->len + len, READER_FIRST_BYTES) : 0;
    if (cap == 0)
        return -1;
    if (budget_take(r->req->account, cap - r->cap) != 0)
        return -1;
    char *grown = realloc(r->buf, cap);
    if (!grown) {
        budget_give(r->req->account, cap - r->cap);
        return -1;
    }
    r->buf = grown;
    r->cap = cap;
    return 0;
}

/* Frees the text buffer, giving its charge back. */
static void reader_release(request_reader *r)
{
    budget_give(r->req->account, r->cap);
    free(r->buf);
    r->buf = NULL;
    r->len = r->cap = 0;
}

size_t request_reader_bound(size_t len)
{
    /* Elements come to at most (len + 1) / 2, in two tensors of at most
     * 8 bytes each plus under 1 MiB unused (their first 64 elements
     * aside); the text buffer holds at most the whole body, plus what its
     * growth leaves unused (mem_grow: under MEM_GROW_STEP, or under the
     * size held while it doubles). */
    const size_t step = MEM_GROW_STEP;
    if (len > SIZE_MAX / 8)
        return SIZE_MAX;
    size_t elements = len / 2 + 1, tensors = 8 * elements, text = len;
    size_t tensors_unused = tensors < 2 * step ? tensors : 2 * step;
    size_t text_unused = text + READER_FIRST_BYTES < step ? text + READER_FIRST_BYTES : step;
    return tensors + tensors_unused + 2 * 64 * 8 + text + text_unused;
}

/* What one buffer of cap bytes growing by more can take beyond more:
 * mem_grow's overshoot, at most its size while it doubles, then a step. */
static size_t overshoot(size_t cap, size_t more)
{
    size_t to = cap + more;
    return to < MEM_GROW_STEP ? to : MEM_GROW_STEP;
}

size_t request_reader_need(const request_reader *r, const char *data, size_t len)
{
    /* The text buffer grows by len and at most a step beyond. Elements
     * are read only by a pass (the batch is made up, the buffer is full
     * while the workers read a run ahead, or the body ends), from the
     * text after the checkpoint and the len bytes: in JSON any two
     * numbers have a comma between them (array elements, rows, members),
     * so there are at most one more than its commas; 8 bytes each in the
     * tensors, and a float32 tie's note (16 bytes) at worst; each tensor
     * and the notes may also grow a step beyond. */
    size_t text = r ? r->len : 0, cap = r ? r->cap : 0;
    if (len > SIZE_MAX / 32 - text)
        return SIZE_MAX;
    size_t grow = len + overshoot(cap, len) + READER_FIRST_BYTES;
    if (r && len && !(r->ahead.job && len > cap - text) && text + len < r->retry_at)
        return grow; /* no pass */
    size_t elements = (text + len) / 2 + 1, tensors = 0, noted = 0;
    if (r) {
        size_t from = has_checkpoint(&r->ck) ? r->ck.offset - r->base : 0;
        elements = (r->buf ? numparse_count_commas(r->buf + from, r->buf + text) : 0) + 2 +
                   (data ? numparse_count_commas(data, data + len) : len / 2);
        tensors = (r->req->x.cap + r->req->grad_output.cap) * sizeof(double);
        noted = (r->req->x.fixes_cap + r->req->grad_output.fixes_cap) * sizeof(tensor_fix);
    }
    size_t notes = sizeof(tensor_fix) * elements;
    return grow + 8 * elements + 2 * overshoot(tensors, 8 * elements) + 2 * 64 * 8 + notes +
           overshoot(noted, notes) + 2 * 16 * sizeof(tensor_fix);
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
        if (len <= r->cap - r->len && has_checkpoint(&r->ck) &&
            r->len - (r->ck.offset - r->base) >= REQUEST__AHEAD_RUN_BYTES) {
            reader_pass(r, 1);
            if (r->done)
                return 0;
        }
    }
    if (len > r->cap - r->len && reader_grow(r, len) != 0) {
        lr_error_set(r->err, LR_ERR_NO_MEMORY, "out of memory reading the body");
        r->done = 1;
        return -1;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    if (r->len >= r->retry_at)
        reader_pass(r, 1);
    return 0;
}

lr_err request_reader_finish(request_reader *r)
{
    if (!r->done) {
        reader_pass(r, 0);
        r->done = 1;
    }
    reader_settle(r); /* after running out of memory, one may be reading still */
    reader_release(r); /* the text is done with, before the reply takes memory */
    return r->err->code;
}

size_t request_reader_held(const request_reader *r) { return r->cap; }

void request_reader_free(request_reader *r)
{
    if (!r)
        return;
    reader_settle(r); /* the workers may be reading its text */
    reader_release(r);
    free(r);
}
