/* Connection deadlines (watch.h): a list under one lock for adding and
 * removing, each connection's phase and clock in atomics for the events,
 * and a thread that sweeps the list once a second. */
#include "watch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum phase {
    PHASE_HEAD, /* a head is due by `due` */
    PHASE_BODY, /* a body is arriving: its rate is watched */
    PHASE_REPLY, /* the library's timeout's business */
    PHASE_PAUSED /* waiting for memory: not reading, so not late */
};

struct watch_conn {
    struct watch *w;
    int fd;
    atomic_int phase;
    atomic_int fresh;        /* a new body began: the sweeper starts its window */
    atomic_llong due;        /* PHASE_HEAD: the deadline, in ms; 0: none */
    atomic_ullong body;      /* body bytes so far */
    long long window_start;  /* the sweeper's own: ms, and body bytes then */
    unsigned long long window_bytes;
    int cut;                 /* shut down already (under the lock) */
    watch_conn *prev, *next;
};

struct watch {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the sweeper's sleep, cut short on stop */
    watch_conn *head;
    int stopping;
    unsigned head_s, idle_s;
    size_t min_rate;
    void (*tick)(void *); /* called each sweep, outside the lock */
    void *tick_cls;
    pthread_t thread;
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Whether c is late at `now`; the body's window is moved on when it is not. */
static int late(const watch *w, watch_conn *c, long long now)
{
    int phase = atomic_load(&c->phase);
    if (phase == PHASE_HEAD) {
        long long due = atomic_load(&c->due);
        return due && now > due;
    }
    if (phase != PHASE_BODY || !w->min_rate)
        return 0;
    unsigned long long body = atomic_load(&c->body);
    if (atomic_exchange(&c->fresh, 0) || !c->window_start) {
        c->window_start = now;
        c->window_bytes = body;
        return 0;
    }
    long long span = now - c->window_start;
    if (span < WATCH_RATE_WINDOW * 1000)
        return 0;
    if ((body - c->window_bytes) * 1000 < (unsigned long long)span * w->min_rate)
        return 1;
    c->window_start = now;
    c->window_bytes = body;
    return 0;
}

static void *sweeper(void *arg)
{
    watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
        long long now = now_ms();
        for (watch_conn *c = w->head; c && !w->stopping; c = c->next) {
            if (!c->cut && late(w, c, now)) {
                /* The socket is open while c is listed: removal, which
                 * comes before the library closes it, takes this lock. */
                shutdown(c->fd, SHUT_RDWR);
                c->cut = 1;
            }
        }
        if (w->tick && !w->stopping) {
            pthread_mutex_unlock(&w->lock);
            w->tick(w->tick_cls);
            pthread_mutex_lock(&w->lock);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

watch *watch_new(unsigned head_s, unsigned idle_s, size_t min_rate, void (*tick)(void *),
                 void *tick_cls)
{
    watch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->tick = tick;
    w->tick_cls = tick_cls;
    w->head_s = head_s;
    w->idle_s = idle_s;
    w->min_rate = min_rate;
    if (pthread_mutex_init(&w->lock, NULL) != 0)
        goto fail_lock;
    if (pthread_cond_init(&w->wake, NULL) != 0)
        goto fail_cond;
    if (pthread_create(&w->thread, NULL, sweeper, w) != 0)
        goto fail_thread;
    return w;

fail_thread:
    pthread_cond_destroy(&w->wake);
fail_cond:
    pthread_mutex_destroy(&w->lock);
fail_lock:
    free(w);
    return NULL;
}

void watch_free(watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    while (w->head) /* none, unless the library failed to report a close */
        watch_remove(w, w->head);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

watch_conn *watch_add(watch *w, int fd)
{
    watch_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->w = w;
    c->fd = fd;
    atomic_init(&c->phase, PHASE_HEAD);
    atomic_init(&c->fresh, 0);
    atomic_init(&c->due, w->head_s ? now_ms() + (long long)w->head_s * 1000 : 0);
    atomic_init(&c->body, 0);
    pthread_mutex_lock(&w->lock);
    c->next = w->head;
    if (w->head)
        w->head->prev = c;
    w->head = c;
    pthread_mutex_unlock(&w->lock);
    return c;
}

void watch_remove(watch *w, watch_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&w->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->lock);
    free(c);
}

void watch_head(watch_conn *c, int body)
{
    if (!c)
        return;
    atomic_store(&c->body, 0);
    atomic_store(&c->fresh, 1);
    atomic_store(&c->phase, body ? PHASE_BODY : PHASE_REPLY);
}

void watch_body(watch_conn *c, size_t bytes)
{
    if (c)
        atomic_fetch_add(&c->body, bytes);
}

void watch_body_done(watch_conn *c)
{
    if (c)
        atomic_store(&c->phase, PHASE_REPLY);
}

void watch_reply_done(watch_conn *c)
{
    if (!c)
        return;
    const watch *w = c->w;
    long long wait_s = w->idle_s && w->head_s ? (long long)w->idle_s + w->head_s : 0;
    atomic_store(&c->due, wait_s ? now_ms() + wait_s * 1000 : 0);
    atomic_store(&c->phase, PHASE_HEAD);
}

void watch_pause(watch_conn *c)
{
    if (c)
        atomic_store(&c->phase, PHASE_PAUSED);
}

void watch_resume(watch_conn *c)
{
    if (!c)
        return;
    atomic_store(&c->fresh, 1);
    atomic_store(&c->phase, PHASE_BODY);
}
