/* Requests in flight and the graceful drain: counted without a lock on
 * the request path; the shutdown waits until none is in flight and none
 * has begun for a quiet period. */
#ifndef LEAKYRELU_DRAIN_H
#define LEAKYRELU_DRAIN_H

#include <pthread.h>
#include <stdatomic.h>

/* After the last request in flight, how long a drain waits for one sent
 * just before on a connection kept alive, still unread in its socket. */
#define DRAIN_QUIET_MS 200

typedef struct drain {
    atomic_int draining;
    atomic_uint in_flight; /* between a request's first callback and its end */
    atomic_uint begun;     /* requests ever begun: the quiet period sees new ones */
    pthread_mutex_t lock;  /* these two serve the waiter only, woken by the */
    pthread_cond_t idle;   /* end that brings the count to zero */
} drain;

/* Returns 0, or -1 when the lock or condition cannot be made. */
int drain_init(drain *d);
void drain_destroy(drain *d);

/* A request begins, or ends. Thread-safe; no lock unless draining. */
void drain_begin(drain *d);
void drain_end(drain *d);

/* Marks the drain begun; drain_active then returns 1. Thread-safe. */
void drain_start(drain *d);
int drain_active(drain *d);

/* Stops the listening socket `fd`, which an event loop in other threads
 * keeps watching, from taking connections: new ones are refused by the
 * kernel at once, those in its backlog reset. The descriptor stays open,
 * now an idle listening socket (a Unix one at an unnamed abstract address
 * nobody can connect to), so the event loop never sees an event on it and
 * whoever owns fd still closes it. Returns 0, or -1 (errno set; fd is
 * unchanged). Thread-safe. */
int drain_stop_listening(int fd);

/* After drain_start: waits until no request is in flight and none has
 * begun for DRAIN_QUIET_MS, or `seconds` have passed. Returns the
 * requests still in flight (0 when all finished). */
unsigned drain_wait_idle(drain *d, unsigned seconds);

#endif
