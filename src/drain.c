/* Requests in flight, waiting for them at shutdown, and the listening
 * socket closed under the event loop. */
#include "drain.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* dup2 closes the listening socket's open file description, which drops
 * it from every epoll set, and puts in its place a socket that is
 * listening (so a level-triggered loop that re-adds it sees nothing) but
 * can never be reached: bound by Linux's autobind to a random abstract
 * name. */
int drain_stop_listening(int fd)
{
    int idle = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (idle < 0)
        return -1;
    struct sockaddr_un autobind = {.sun_family = AF_UNIX};
    int rc = bind(idle, (struct sockaddr *)&autobind, sizeof(sa_family_t));
    if (rc == 0)
        rc = listen(idle, 1);
    if (rc == 0)
        rc = dup2(idle, fd) < 0 ? -1 : 0;
    int saved = errno;
    close(idle);
    errno = saved;
    return rc;
}

int drain_init(drain *d)
{
    atomic_init(&d->draining, 0);
    atomic_init(&d->in_flight, 0);
    atomic_init(&d->begun, 0);
    if (pthread_mutex_init(&d->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&d->idle, NULL) != 0) {
        pthread_mutex_destroy(&d->lock);
        return -1;
    }
    return 0;
}

void drain_destroy(drain *d)
{
    pthread_cond_destroy(&d->idle);
    pthread_mutex_destroy(&d->lock);
}

void drain_begin(drain *d)
{
    atomic_fetch_add(&d->in_flight, 1);
    atomic_fetch_add(&d->begun, 1);
}

void drain_end(drain *d)
{
    /* The waiter sets `draining` before it reads the count under the lock,
     * so either it sees zero, or this sees `draining` and takes the lock
     * (which it cannot get while the waiter is between check and wait). */
    if (atomic_fetch_sub(&d->in_flight, 1) == 1 && atomic_load(&d->draining)) {
        pthread_mutex_lock(&d->lock);
        pthread_cond_broadcast(&d->idle);
        pthread_mutex_unlock(&d->lock);
    }
}

void drain_start(drain *d) { atomic_store(&d->draining, 1); }

int drain_active(drain *d) { return atomic_load(&d->draining); }

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

unsigned drain_wait_idle(drain *d, unsigned seconds)
{
    struct timespec deadline, quiet;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        while (atomic_load(&d->in_flight) > 0)
            if (pthread_cond_timedwait(&d->idle, &d->lock, &deadline) == ETIMEDOUT)
                goto out;
        unsigned seen = atomic_load(&d->begun);
        clock_gettime(CLOCK_REALTIME, &quiet);
        quiet.tv_nsec += DRAIN_QUIET_MS * 1000000L;
        if (quiet.tv_nsec >= 1000000000L) {
            quiet.tv_sec++;
            quiet.tv_nsec -= 1000000000L;
        }
        if (before(&deadline, &quiet))
            quiet = deadline;
        while (atomic_load(&d->begun) == seen &&
               pthread_cond_timedwait(&d->idle, &d->lock, &quiet) != ETIMEDOUT)
            ;
        if (atomic_load(&d->begun) == seen || !before(&quiet, &deadline))
            break;
    }
out:;
    unsigned left = atomic_load(&d->in_flight);
    pthread_mutex_unlock(&d->lock);
    return left;
}
