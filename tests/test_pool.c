/* Tests of the worker pool (src/pool.c): parts run once each, tasks run
 * once, cancelled tasks never, without a pool all on the caller; groups
 * take back their queued tasks and wait for their running ones. */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "../src/pool.h"
#include "tap.h"
#include "tests.h"

typedef struct pool_probe {
    int hits[1000];
    int away[1000]; /* parts run on another thread than `caller` */
    pthread_t caller;
    pool_task tasks[100];
    int ran[100];
} pool_probe;

static void probe_part(void *arg, size_t i)
{
    ((pool_probe *)arg)->hits[i]++;
}

/* probe_part, and whether part i ran on the caller's thread. */
static void probe_part_where(void *arg, size_t i)
{
    pool_probe *probe = arg;
    probe->hits[i]++;
    probe->away[i] += !pthread_equal(pthread_self(), probe->caller);
}

static void probe_task(void *arg)
{
    (*(int *)arg)++;
}

/* Holds workers in tasks until released, so that what is queued behind
 * them is sure to wait. */
typedef struct blocker {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned started;
    int released;
    pool_task tasks[3];
} blocker;

static void block_task(void *arg)
{
    blocker *b = arg;
    pthread_mutex_lock(&b->lock);
    b->started++;
    pthread_cond_broadcast(&b->changed);
    while (!b->released)
        pthread_cond_wait(&b->changed, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

/* Holds `threads` workers of p in block_task until release(). */
static void block_workers(pool *p, blocker *b, unsigned threads)
{
    b->started = 0;
    b->released = 0;
    for (unsigned i = 0; i < threads; i++) {
        b->tasks[i] = (pool_task){.fn = block_task, .arg = b};
        pool_submit(p, &b->tasks[i]);
    }
    pthread_mutex_lock(&b->lock);
    while (b->started < threads)
        pthread_cond_wait(&b->changed, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

static void release(blocker *b)
{
    pthread_mutex_lock(&b->lock);
    b->released = 1;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

static blocker blocked = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* With every worker of p held, 100 tasks are queued and the last ten
 * taken back: each pool_cancel says so, and after pool_free the ten have
 * never run and the others ran exactly once. */
static void check_cancel(pool *p, unsigned threads, pool_probe *probe)
{
    ASSERT(threads <= sizeof blocked.tasks / sizeof blocked.tasks[0]);
    if (threads > sizeof blocked.tasks / sizeof blocked.tasks[0])
        return;
    block_workers(p, &blocked, threads);
    memset(probe->ran, 0, sizeof probe->ran);
    for (int i = 0; i < 100; i++) {
        probe->tasks[i] = (pool_task){.fn = probe_task, .arg = &probe->ran[i]};
        pool_submit(p, &probe->tasks[i]);
    }
    int cancelled = 0;
    for (int i = 99; i >= 90; i--)
        cancelled += pool_cancel(p, &probe->tasks[i]) == 1;
    ASSERT_EQ(cancelled, 10);
    release(&blocked);
    pool_free(p); /* runs what is still queued */
    for (int i = 0; i < 100; i++)
        if (probe->ran[i] != (i < 90))
            tap_fail(__FILE__, __LINE__, "threads %u: task %d ran %d times, want %d", threads, i,
                     probe->ran[i], i < 90);
}

/* pool_run calls every part once, whatever the part count, and with no
 * pool all on the caller; submitted tasks run once each by pool_free at
 * the latest; a queued task taken back with pool_cancel never runs. */
void test_pool(void)
{
    static pool_probe probe, probe_other;
    for (unsigned threads = 1; threads <= 3; threads++) {
        pool *p = pool_new(threads);
        ASSERT(p != NULL);
        if (!p)
            return;
        ASSERT_EQ(pool_threads(p), threads);
        static const size_t counts[] = {0, 1, 2, 3, 7, 1000};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            memset(probe.hits, 0, sizeof probe.hits);
            pool_run(p, counts[c], probe_part, &probe);
            for (size_t i = 0; i < 1000; i++)
                ASSERT_EQ(probe.hits[i], i < counts[c] ? 1 : 0);
            if (counts[c] == 0)
                continue;
            /* the same in two halves, with the workers busy elsewhere or not */
            memset(probe.hits, 0, sizeof probe.hits);
            pool_batch *b = pool_start(p, counts[c], probe_part, &probe);
            ASSERT(b != NULL);
            if (!b)
                continue;
            if (c % 2)
                pool_run(p, 2, probe_part, &probe_other);
            pool_join(b);
            for (size_t i = 0; i < 1000; i++)
                ASSERT_EQ(probe.hits[i], i < counts[c] ? 1 : 0);
        }
        check_cancel(p, threads, &probe); /* frees p */
    }
    /* no pool: every part once, all on the caller */
    memset(probe.hits, 0, sizeof probe.hits);
    memset(probe.away, 0, sizeof probe.away);
    probe.caller = pthread_self();
    pool_run(NULL, 5, probe_part_where, &probe);
    for (size_t i = 0; i < 1000; i++) {
        ASSERT_EQ(probe.hits[i], i < 5 ? 1 : 0);
        ASSERT_EQ(probe.away[i], 0);
    }
}

/* A grouped task that, once pool_group_end is on its way, takes a while
 * (a thousand yields) before it says it has finished. */
typedef struct slow {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started, ending, finished;
} slow;

static void slow_task(void *arg)
{
    slow *s = arg;
    pthread_mutex_lock(&s->lock);
    s->started = 1;
    pthread_cond_broadcast(&s->changed);
    while (!s->ending)
        pthread_cond_wait(&s->changed, &s->lock);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < 1000; i++)
        sched_yield();
    pthread_mutex_lock(&s->lock);
    s->finished = 1;
    pthread_mutex_unlock(&s->lock);
}

/* pool_group_end takes back the group's queued tasks (they never run),
 * leaves other tasks queued, and returns only once its running tasks have
 * returned; a grouped task taken back with pool_cancel no longer counts. */
void test_pool_group(void)
{
    static pool_probe probe;
    pool *p = pool_new(1);
    ASSERT(p != NULL);
    if (!p)
        return;
    pool_group g;
    ASSERT_EQ(pool_group_init(&g, p), 0);
    block_workers(p, &blocked, 1);
    memset(probe.ran, 0, sizeof probe.ran);
    for (int i = 0; i < 6; i++) {
        probe.tasks[i] = (pool_task){.fn = probe_task, .arg = &probe.ran[i]};
        if (i % 2)
            pool_submit(p, &probe.tasks[i]); /* not of the group */
        else
            pool_group_submit(&g, &probe.tasks[i]);
    }
    ASSERT_EQ(pool_cancel(p, &probe.tasks[4]), 1);
    ASSERT_EQ(g.pending, 2);
    if (g.pending == 2) /* else ending the group would wait for ever */
        pool_group_end(&g); /* the worker is held: 0 and 2 are taken back */
    release(&blocked);
    pool_free(p);
    for (int i = 0; i < 6; i++)
        if (probe.ran[i] != i % 2)
            tap_fail(__FILE__, __LINE__, "task %d ran %d times, want %d", i, probe.ran[i], i % 2);

    p = pool_new(2);
    ASSERT(p != NULL);
    if (!p)
        return;
    static slow s = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    pool_task t = {.fn = slow_task, .arg = &s};
    ASSERT_EQ(pool_group_init(&g, p), 0);
    pool_group_submit(&g, &t);
    pthread_mutex_lock(&s.lock);
    while (!s.started)
        pthread_cond_wait(&s.changed, &s.lock);
    s.ending = 1;
    pthread_cond_broadcast(&s.changed);
    pthread_mutex_unlock(&s.lock);
    pool_group_end(&g); /* waits for slow_task to return */
    pthread_mutex_lock(&s.lock);
    ASSERT_EQ(s.finished, 1);
    pthread_mutex_unlock(&s.lock);
    pool_free(p);
}
