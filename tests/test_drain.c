/* The drain: what is in flight, and the wait for it to end. */
#include <pthread.h>
#include <time.h>

#include "../src/drain.h"
#include "tap.h"
#include "tests.h"

static void *end_later(void *arg)
{
    struct timespec t = {0, 50 * 1000000L};
    nanosleep(&t, NULL);
    drain_end(arg);
    return NULL;
}

void test_drain(void)
{
    drain d;
    ASSERT_EQ(drain_init(&d), 0);
    ASSERT_EQ(drain_active(&d), 0);
    drain_begin(&d);
    drain_begin(&d);
    drain_end(&d);
    drain_start(&d);
    ASSERT_EQ(drain_active(&d), 1);
    ASSERT_EQ(drain_wait_idle(&d, 0), 1); /* no time: one is left */
    /* Ended by another thread while waiting: woken, then the quiet period. */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, end_later, &d), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ASSERT_EQ(drain_wait_idle(&d, 10), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    pthread_join(t, NULL);
    double waited = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    ASSERT(waited >= DRAIN_QUIET_MS / 1000.0 && waited < 5);
    drain_destroy(&d);
}
