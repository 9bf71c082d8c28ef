/* A fixed pool of worker threads for the parts of one large request that
 * can run side by side (formatting a reply, the kernel over a big array).
 * Tasks are intrusive: the caller owns their memory, so submitting never
 * allocates and never fails. Knows nothing of HTTP. */
#ifndef LEAKYRELU_POOL_H
#define LEAKYRELU_POOL_H

#include <pthread.h>
#include <stddef.h>

typedef struct pool pool;
struct pool_group;

typedef struct pool_task {
    void (*fn)(void *arg);
    void *arg;
    struct pool_task *next;   /* the queue's link; the pool's business */
    struct pool_group *group; /* set by pool_submit (NULL) and pool_group_submit;
                                 the pool's business */
} pool_task;

/* Starts `threads` workers (>= 1). Returns NULL when a thread or the
 * memory cannot be had (nothing is left running). */
pool *pool_new(unsigned threads);

/* Runs the tasks still queued, then stops and joins the workers. NULL is
 * ignored. The tasks must not submit more. */
void pool_free(pool *p);

/* The number of workers. */
unsigned pool_threads(const pool *p);

/* Queues t (fn and arg set) to run once on some worker, in FIFO order. t
 * must stay valid until fn has returned. Thread-safe. */
void pool_submit(pool *p, pool_task *t);

/* Takes t back if no worker has started it yet: returns 1 (t will not
 * run; a task of a group no longer counts in it), else 0 (it is running
 * or has run). Thread-safe. */
int pool_cancel(pool *p, pool_task *t);

/* A group of tasks whose owner must not free their memory while any of
 * them is queued or running: the reply's slots, a batch's helpers. The
 * struct lives in the owner's memory; its fields are the pool's business. */
typedef struct pool_group {
    pool *p;
    pthread_mutex_t lock;
    pthread_cond_t done;
    unsigned pending; /* tasks queued or running */
} pool_group;

/* Starts an empty group on p. Returns 0, or -1 when its lock cannot be
 * had (then the group is not to be used or ended). */
int pool_group_init(pool_group *g, pool *p);

/* pool_submit, t counted in g until it has run or is taken back.
 * Thread-safe, but not once pool_group_end has begun. */
void pool_group_submit(pool_group *g, pool_task *t);

/* Takes back every task of g still queued, waits for those running to
 * return, and releases g: its tasks' memory is then the owner's again.
 * Called once, by the owner, after the last submit; never from one of g's
 * tasks (it would wait for itself) nor while holding a lock they take. */
void pool_group_end(pool_group *g);

/* Calls fn(arg, i) for every i in [0, parts), on the workers and the
 * calling thread together, and returns when all calls have returned.
 * With p NULL, or parts 1, everything runs on the caller. */
void pool_run(pool *p, size_t parts, void (*fn)(void *arg, size_t i), void *arg);

/* pool_run in two halves, for a caller with other work meanwhile:
 * pool_start queues fn(arg, i) for every i in [0, parts) (parts >= 1) on
 * the workers and returns at once; pool_join runs on the caller the parts
 * no worker has started, waits for the others, and frees the batch. NULL
 * when memory or a lock cannot be had (nothing is queued). */
typedef struct pool_batch pool_batch;
pool_batch *pool_start(pool *p, size_t parts, void (*fn)(void *arg, size_t i), void *arg);
void pool_join(pool_batch *b);

#endif
