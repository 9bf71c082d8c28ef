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
        t->fn(t->arg); /* t may be freed from here on */
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

void pool_submit(pool *p, pool_task *t)
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

int pool_cancel(pool *p, pool_task *t)
{
    int found = 0;
    pthread_mutex_lock(&p->lock);
    for (pool_task **link = &p->head, *prev = NULL; *link; prev = *link, link = &(*link)->next) {
        if (*link == t) {
            *link = t->next;
            if (p->tail == t)
                p->tail = prev;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return found;
}

/* The most workers one batch asks for. */
#define POOL_RUN_HELPERS 64

/* A batch's shared state: parts are claimed one at a time by whoever is
 * free, so a slow worker never holds the others up. */
struct pool_batch {
    pthread_mutex_t lock;
    pthread_cond_t done;
    pool *p;
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t parts, next;
    unsigned queued;  /* helper tasks submitted */
    unsigned helpers; /* helper tasks not yet finished */
    pool_task tasks[POOL_RUN_HELPERS];
};

/* Claims and runs parts until none is left; returns when this caller has
 * no more to do. */
static void batch_parts(pool_batch *b)
{
    pthread_mutex_lock(&b->lock);
    while (b->next < b->parts) {
        size_t i = b->next++;
        pthread_mutex_unlock(&b->lock);
        b->fn(b->arg, i);
        pthread_mutex_lock(&b->lock);
    }
    pthread_mutex_unlock(&b->lock);
}

static void batch_helper(void *arg)
{
    pool_batch *b = arg;
    batch_parts(b);
    pthread_mutex_lock(&b->lock);
    b->helpers--;
    pthread_cond_signal(&b->done);
    pthread_mutex_unlock(&b->lock);
}

/* Sets b up and queues `helpers` tasks that work on its parts. Returns -1
 * (nothing queued) when its lock cannot be had. */
static int batch_begin(pool_batch *b, pool *p, size_t parts, void (*fn)(void *arg, size_t i),
                       void *arg, size_t helpers)
{
    if (pthread_mutex_init(&b->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&b->done, NULL) != 0) {
        pthread_mutex_destroy(&b->lock);
        return -1;
    }
    if (helpers > p->threads)
        helpers = p->threads;
    if (helpers > POOL_RUN_HELPERS)
        helpers = POOL_RUN_HELPERS;
    b->p = p;
    b->fn = fn;
    b->arg = arg;
    b->parts = parts;
    b->next = 0;
    b->queued = b->helpers = (unsigned)helpers;
    for (unsigned h = 0; h < b->queued; h++) {
        b->tasks[h] = (pool_task){.fn = batch_helper, .arg = b};
        pool_submit(p, &b->tasks[h]);
    }
    return 0;
}

/* Runs the parts no one has claimed on the caller, takes back helpers
 * still queued (the workers were busy elsewhere), and waits for those
 * running to leave, as b and its tasks are the caller's memory. */
static void batch_end(pool_batch *b)
{
    batch_parts(b);
    for (unsigned h = 0; h < b->queued; h++) {
        if (pool_cancel(b->p, &b->tasks[h])) {
            pthread_mutex_lock(&b->lock);
            b->helpers--;
            pthread_mutex_unlock(&b->lock);
        }
    }
    pthread_mutex_lock(&b->lock);
    while (b->helpers > 0)
        pthread_cond_wait(&b->done, &b->lock);
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&b->done);
    pthread_mutex_destroy(&b->lock);
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
