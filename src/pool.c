/* Worker threads around one FIFO queue, a mutex and a condition variable
 * (the shape of libuv's threadpool, without its dynamic sizing). */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work;   /* signalled when a task is queued or on stop */
    pool_task *head, *tail;
    int stopping;
    unsigned threads;
    pthread_t tid[];
};

/* One task of g has run or was taken back. The owner may free g as soon
 * as the lock is released with pending at 0. */
static void group_done(pool_group *g)
{
    pthread_mutex_lock(&g->lock);
    if (--g->pending == 0)
        pthread_cond_broadcast(&g->done);
    pthread_mutex_unlock(&g->lock);
}

static void *worker(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        pool_task *t = p->head;
        if (!t) /* stopping, and the queue is empty */
            break;
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        pool_group *g = t->group;
        t->fn(t->arg); /* t may be freed from here on, unless it is g's */
        if (g)
            group_done(g);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pool *pool_new(unsigned threads)
{
    if (threads == 0)
        return NULL;
    pool *p = calloc(1, sizeof *p + threads * sizeof(pthread_t));
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->work, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    for (; p->threads < threads; p->threads++) {
        if (pthread_create(&p->tid[p->threads], NULL, worker, p) != 0) {
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

void pool_free(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->threads; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

unsigned pool_threads(const pool *p) { return p->threads; }

static void submit(pool *p, pool_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = t;
    else
        p->head = t;
    p->tail = t;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void pool_submit(pool *p, pool_task *t)
{
    t->group = NULL;
    submit(p, t);
}

/* Takes out of p's queue the task t, or, when t is NULL, every task of g;
 * under p->lock. Returns how many. */
static unsigned unqueue(pool *p, const pool_task *t, const pool_group *g)
{
    unsigned n = 0;
    for (pool_task **link = &p->head, *prev = NULL; *link;) {
        pool_task *q = *link;
        if (t ? q != t : q->group != g) {
            prev = q;
            link = &q->next;
            continue;
        }
        *link = q->next;
        if (p->tail == q)
            p->tail = prev;
        n++;
        if (t)
            break;
    }
    return n;
}

int pool_cancel(pool *p, pool_task *t)
{
    pthread_mutex_lock(&p->lock);
    int found = unqueue(p, t, NULL) == 1;
    pthread_mutex_unlock(&p->lock);
    if (found && t->group)
        group_done(t->group);
    return found;
}

int pool_group_init(pool_group *g, pool *p)
{
    if (pthread_mutex_init(&g->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&g->done, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        return -1;
    }
    g->p = p;
    g->pending = 0;
    return 0;
}

void pool_group_submit(pool_group *g, pool_task *t)
{
    pthread_mutex_lock(&g->lock);
    g->pending++;
    pthread_mutex_unlock(&g->lock);
    t->group = g;
    submit(g->p, t);
}

void pool_group_end(pool_group *g)
{
    pthread_mutex_lock(&g->p->lock);
    unsigned taken = unqueue(g->p, NULL, g);
    pthread_mutex_unlock(&g->p->lock);
    pthread_mutex_lock(&g->lock);
    g->pending -= taken;
    while (g->pending > 0)
        pthread_cond_wait(&g->done, &g->lock);
    pthread_mutex_unlock(&g->lock);
    pthread_cond_destroy(&g->done);
    pthread_mutex_destroy(&g->lock);
}

/* The most workers one batch asks for. */
#define POOL_RUN_HELPERS 64

/* A batch's shared state: parts are claimed one at a time (under the
 * group's lock) by whoever is free, so a slow worker never holds the
 * others up; its helper tasks are a group. */
struct pool_batch {
    pool_group group;
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t parts, next;
    pool_task tasks[POOL_RUN_HELPERS];
};

/* Claims and runs parts until none is left; returns when this caller has
 * no more to do. */
static void batch_parts(void *arg)
{
    pool_batch *b = arg;
    pthread_mutex_lock(&b->group.lock);
    while (b->next < b->parts) {
        size_t i = b->next++;
        pthread_mutex_unlock(&b->group.lock);
        b->fn(b->arg, i);
        pthread_mutex_lock(&b->group.lock);
    }
    pthread_mutex_unlock(&b->group.lock);
}

/* Sets b up and queues `helpers` tasks that work on its parts. Returns -1
 * (nothing queued) when its lock cannot be had. */
static int batch_begin(pool_batch *b, pool *p, size_t parts, void (*fn)(void *arg, size_t i),
                       void *arg, size_t helpers)
{
    if (pool_group_init(&b->group, p) != 0)
        return -1;
    if (helpers > p->threads)
        helpers = p->threads;
    if (helpers > POOL_RUN_HELPERS)
        helpers = POOL_RUN_HELPERS;
    b->fn = fn;
    b->arg = arg;
    b->parts = parts;
    b->next = 0;
    for (size_t h = 0; h < helpers; h++) {
        b->tasks[h] = (pool_task){.fn = batch_parts, .arg = b};
        pool_group_submit(&b->group, &b->tasks[h]);
    }
    return 0;
}

/* Runs the parts no one has claimed on the caller, then ends the group:
 * helpers still queued (the workers were busy elsewhere) are taken back,
 * and those running waited for, as b and its tasks are the caller's. */
static void batch_end(pool_batch *b)
{
    batch_parts(b);
    pool_group_end(&b->group);
}

void pool_run(pool *p, size_t parts, void (*fn)(void *arg, size_t i), void *arg)
{
    pool_batch b;
    /* the caller takes a part itself: one helper fewer than parts */
    if (!p || parts <= 1 || batch_begin(&b, p, parts, fn, arg, parts - 1) != 0) {
        for (size_t i = 0; i < parts; i++)
            fn(arg, i);
        return;
    }
    batch_end(&b);
}

pool_batch *pool_start(pool *p, size_t parts, void (*fn)(void *arg, size_t i), void *arg)
{
    pool_batch *b = malloc(sizeof *b);
    if (b && batch_begin(b, p, parts, fn, arg, parts) != 0) {
        free(b);
        b = NULL;
    }
    return b;
}

void pool_join(pool_batch *b)
{
    batch_end(b);
    free(b);
}
