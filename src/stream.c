/* The reply stream: alone, each read formats the next whole elements;
 * with workers, a ring of slots formatted ahead on the pool. */
#include "stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "numfmt.h"
#include "pool.h"

/* A reply written piece by piece as the connection asks for it, owning
 * the result tensor taken over from the request.
 *
 * Alone (no worker pool), each read formats the next whole elements:
 * straight into the caller's buffer when it holds at least
 * STREAM_FILL_MIN bytes, else through `stage`.
 *
 * With workers, the elements are cut into ranges whose text is certain to
 * fit in SLOT_BYTES, and a ring of slots (two per worker, plus two) is
 * formatted ahead on the pool; reads copy out of the slots in order, hand
 * each emptied slot the next range, and, rather than wait, format
 * themselves the next slot no worker has started (so the connection's
 * thread formats its share too).
 * Memory stays at the ring's size however slowly the client reads, and
 * every slot buffer is allocated before the status is chosen, so nothing
 * can fail mid-reply. */
#define STREAM_FILL_MIN (TENSOR_PIECE_MIN + 16)
#define STREAM_STAGE 4096
#define SLOT_BYTES (256 * 1024)

typedef struct stream_slot {
    pool_task task;
    struct stream *st;
    size_t begin, end; /* its range of elements; empty: nothing left */
    size_t len;        /* text bytes, once done */
    int done;          /* formatted (under st->lock) */
    char *buf;         /* SLOT_BYTES */
} stream_slot;

struct stream {
    tensor x;
    char *head;    /* before the elements (its allocation holds the tail too) */
    size_t head_len, head_off;
    char *tail;    /* after the elements */
    size_t tail_len, tail_off;
    int elements_done;
    /* alone */
    tensor_cursor cur;
    size_t staged, staged_off;
    char stage[STREAM_STAGE];
    /* with workers */
    pool *workers;
    pool_group group;     /* the slots queued or being formatted */
    pthread_mutex_t lock; /* over the slots' done and the ring's place */
    pthread_cond_t ready; /* a slot is done */
    size_t per_slot, next_begin;
    unsigned nslots, reading;
    size_t read_off;
    int failed;
    budget *budget;       /* released to when freed */
    size_t charged;       /* bytes: the slots, the struct, x's data */
    stream_slot slots[];
};

/* Elements per range so that a range's text, with its brackets and the
 * writer's scratch, fits in SLOT_BYTES: each number takes at most
 * NUMFMT_F64_MAX + 2 bytes, each start of an innermost array (at most
 * n / L + 2 in a range of n, L its length) at most 2 * ndim + 2. */
static size_t slot_elements(const tensor *x)
{
    size_t brackets = 2 * (size_t)x->ndim + 2, len = x->shape[x->ndim - 1];
    size_t per = NUMFMT_F64_MAX + 2 + (brackets + len - 1) / len;
    return (SLOT_BYTES - TENSOR_PIECE_MIN - 2 * brackets - (size_t)x->ndim) / per;
}

static void slot_format(void *arg)
{
    stream_slot *sl = arg;
    stream *st = sl->st;
    tensor_cursor c;
    tensor_cursor_init(&c, &st->x, sl->begin, sl->end);
    size_t len = tensor_write_piece(&c, sl->buf, SLOT_BYTES);
    int whole = c.next == sl->end && (sl->end < st->x.count || c.closed);
    pthread_mutex_lock(&st->lock);
    sl->len = len;
    sl->done = 1;
    st->failed |= !whole; /* cannot happen (slot_elements); never send a hole */
    pthread_cond_broadcast(&st->ready);
    pthread_mutex_unlock(&st->lock);
}

/* Gives slot sl the next range, if any, and queues it; under st->lock. */
static void slot_assign(stream *st, stream_slot *sl)
{
    sl->begin = sl->end = st->next_begin;
    sl->len = 0;
    sl->done = 0;
    if (st->next_begin == st->x.count)
        return;
    sl->end = st->x.count - st->next_begin > st->per_slot ? st->next_begin + st->per_slot
                                                          : st->x.count;
    st->next_begin = sl->end;
    sl->task = (pool_task){.fn = slot_format, .arg = sl};
    pool_group_submit(&st->group, &sl->task);
}

/* The most slots a stream keeps: its memory, whatever --threads says. */
#define STREAM_SLOTS_MAX 8
_Static_assert(sizeof(stream) + STREAM_SLOTS_MAX * (sizeof(stream_slot) + SLOT_BYTES) <=
                   STREAM_MEMORY_MAX,
               "STREAM_MEMORY_MAX is the most a stream allocates");

stream *stream_new(tensor *x, const char *before, size_t before_len, const char *after,
                   size_t after_len, pool *workers)
{
    /* Two slots per worker plus two (so a worker finds one free while the
     * reader copies one out and formats another), no more than the ranges
     * there are. */
    size_t per_slot = slot_elements(x), ranges = (x->count + per_slot - 1) / per_slot;
    unsigned nslots = workers ? 2 * pool_threads(workers) + 2 : 0;
    if (nslots > STREAM_SLOTS_MAX)
        nslots = STREAM_SLOTS_MAX;
    if (nslots > ranges)
        nslots = (unsigned)ranges;
    size_t text_len = before_len + after_len;
    size_t size = sizeof(stream) + nslots * sizeof(stream_slot),
           mem = size + nslots * SLOT_BYTES + text_len;
    if (budget_take(x->account, mem) != 0)
        return NULL;
    stream *st = calloc(1, size);
    char *text = text_len ? malloc(text_len) : NULL;
    if (!st || (text_len && !text)) {
        free(st);
        free(text);
        budget_give(x->account, mem);
        return NULL;
    }
    if (before_len)
        memcpy(text, before, before_len);
    if (after_len)
        memcpy(text + before_len, after, after_len);
    st->head = text;
    st->head_len = before_len;
    st->tail = text ? text + before_len : NULL;
    st->tail_len = after_len;
    for (unsigned i = 0; i < nslots; i++) {
        st->slots[i].st = st;
        st->slots[i].buf = malloc(SLOT_BYTES);
        if (!st->slots[i].buf) {
            while (i-- > 0)
                free(st->slots[i].buf);
            free(st->head);
            free(st);
            budget_give(x->account, mem);
            return NULL;
        }
    }
    /* Without a lock, format alone; the buffers then go unused. */
    if (workers && pthread_mutex_init(&st->lock, NULL) != 0)
        workers = NULL;
    if (workers && pthread_cond_init(&st->ready, NULL) != 0) {
        pthread_mutex_destroy(&st->lock);
        workers = NULL;
    }
    if (workers && pool_group_init(&st->group, workers) != 0) {
        pthread_cond_destroy(&st->ready);
        pthread_mutex_destroy(&st->lock);
        workers = NULL;
    }
    budget_account *account = x->account;
    st->x = *x; /* the data and its charge move to the stream */
    st->x.account = NULL;
    st->budget = account ? account->b : NULL;
    st->charged = st->budget ? mem + tensor_charge(x) : 0;
    tensor_init(x);
    x->account = account;
    st->nslots = nslots;
    tensor_cursor_init(&st->cur, &st->x, 0, st->x.count);
    st->workers = workers;
    if (workers) {
        st->per_slot = per_slot;
        pthread_mutex_lock(&st->lock); /* the first workers start at once */
        for (unsigned i = 0; i < nslots; i++)
            slot_assign(st, &st->slots[i]);
        pthread_mutex_unlock(&st->lock);
    }
    return st;
}

/* Copies what is left of src[*off, len) into buf, at most max bytes
 * (src may be NULL when len is 0). */
static ptrdiff_t copy_out(char *buf, size_t max, const char *src, size_t len, size_t *off)
{
    size_t n = len - *off < max ? len - *off : max;
    if (n)
        memcpy(buf, src + *off, n);
    *off += n;
    return (ptrdiff_t)n;
}

static ptrdiff_t read_alone(stream *st, char *buf, size_t max)
{
    if (st->staged_off == st->staged) {
        if (max >= STREAM_FILL_MIN)
            return (ptrdiff_t)tensor_write_piece(&st->cur, buf, max);
        st->staged = tensor_write_piece(&st->cur, st->stage, sizeof st->stage);
        st->staged_off = 0;
    }
    return copy_out(buf, max, st->stage, st->staged, &st->staged_off);
}

static ptrdiff_t read_slots(stream *st, char *buf, size_t max)
{
    pthread_mutex_lock(&st->lock);
    stream_slot *sl = &st->slots[st->reading];
    /* Rather than wait for the slot to read, format it here if no worker
     * has started it; if one has, format the nearest slot ahead that none
     * has started, and look again. */
    for (unsigned ahead = 0; ahead < st->nslots && !sl->done && sl->begin < sl->end;) {
        stream_slot *o = &st->slots[(st->reading + ahead) % st->nslots];
        if (!o->done && o->begin < o->end && pool_cancel(st->workers, &o->task)) {
            pthread_mutex_unlock(&st->lock);
            slot_format(o);
            pthread_mutex_lock(&st->lock);
            ahead = 0;
        } else {
            ahead++;
        }
    }
    while (!sl->done && sl->begin < sl->end && !st->failed)
        pthread_cond_wait(&st->ready, &st->lock);
    if (st->failed) {
        pthread_mutex_unlock(&st->lock);
        return -1;
    }
    if (sl->begin == sl->end) { /* every range is read */
        pthread_mutex_unlock(&st->lock);
        return 0;
    }
    pthread_mutex_unlock(&st->lock);
    /* Done: the worker no longer writes to the slot. */
    ptrdiff_t n = copy_out(buf, max, sl->buf, sl->len, &st->read_off);
    if (st->read_off == sl->len) { /* emptied: on to the next range */
        st->read_off = 0;
        pthread_mutex_lock(&st->lock);
        slot_assign(st, sl);
        pthread_mutex_unlock(&st->lock);
        st->reading = (st->reading + 1) % st->nslots;
    }
    return n;
}

ptrdiff_t stream_read(stream *st, char *buf, size_t max)
{
    if (st->head_off < st->head_len)
        return copy_out(buf, max, st->head, st->head_len, &st->head_off);
    if (!st->elements_done) {
        ptrdiff_t n = st->workers ? read_slots(st, buf, max) : read_alone(st, buf, max);
        if (n != 0)
            return n;
        st->elements_done = 1;
    }
    return copy_out(buf, max, st->tail, st->tail_len, &st->tail_off);
}

void stream_free(stream *st)
{
    if (!st)
        return;
    if (st->workers) {
        pool_group_end(&st->group); /* the queued ranges taken back */
        pthread_cond_destroy(&st->ready);
        pthread_mutex_destroy(&st->lock);
    }
    for (unsigned i = 0; i < st->nslots; i++)
        free(st->slots[i].buf);
    free(st->head);
    tensor_free(&st->x);
    budget_release(st->budget, st->charged);
    free(st);
}

