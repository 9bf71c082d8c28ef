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

/* The most workers one pool_run asks for. */
#define POOL_RUN_HELPERS 64

/* pool_run's shared state: parts are claimed one at a time by whoever is
 * free, so a slow worker never holds the others up. */
typedef struct run {
    pthread_mutex_t lock;
    pthread_cond_t done;
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t parts, next;
    unsigned helpers; /* helper tasks not yet finished */
} run;

/* Claims and runs parts until none is left; returns when this caller has
 * no more to do. */
static void run_parts(run *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->next < r->parts) {
        size_t i = r->next++;
        pthread_mutex_unlock(&r->lock);
        r->fn(r->arg, i);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
}

static void run_helper(void *arg)
{
    run *r = arg;
    run_parts(r);
    pthread_mutex_lock(&r->lock);
    r->helpers--;
    pthread_cond_signal(&r->done);
    pthread_mutex_unlock(&r->lock);
}

void pool_run(pool *p, size_t parts, void (*fn)(void *arg, size_t i), void *arg)
{
    if (!p || parts <= 1) {
        for (size_t i = 0; i < parts; i++)
            fn(arg, i);
        return;
    }
    run r = {.fn = fn, .arg = arg, .parts = parts};
    if (pthread_mutex_init(&r.lock, NULL) != 0) {
        for (size_t i = 0; i < parts; i++)
            fn(arg, i);
        return;
    }
    if (pthread_cond_init(&r.done, NULL) != 0) {
        pthread_mutex_destroy(&r.lock);
        for (size_t i = 0; i < parts; i++)
            fn(arg, i);
        return;
    }
    pool_task tasks[POOL_RUN_HELPERS];
    unsigned helpers = p->threads < POOL_RUN_HELPERS ? p->threads : POOL_RUN_HELPERS;
    if (helpers > parts - 1)
        helpers = (unsigned)(parts - 1);
    r.helpers = helpers;
    for (unsigned h = 0; h < helpers; h++) {
        tasks[h] = (pool_task){.fn = run_helper, .arg = &r};
        pool_submit(p, &tasks[h]);
    }
    run_parts(&r);
    /* Helpers still queued (the workers were busy elsewhere) are taken
     * back; then wait for those running to leave, as r and tasks live on
     * this stack. */
    for (unsigned h = 0; h < helpers; h++) {
        if (pool_cancel(p, &tasks[h])) {
            pthread_mutex_lock(&r.lock);
            r.helpers--;
            pthread_mutex_unlock(&r.lock);
        }
    }
    pthread_mutex_lock(&r.lock);
    while (r.helpers > 0)
        pthread_cond_wait(&r.done, &r.lock);
    pthread_mutex_unlock(&r.lock);
    pthread_cond_destroy(&r.done);
    pthread_mutex_destroy(&r.lock);
}
