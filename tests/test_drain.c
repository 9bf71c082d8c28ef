/* The drain: what is in flight, the wait for it to end, and the
 * listening socket stopped under an event loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* A listening TCP socket in an epoll set, with a connection waiting in
 * its backlog: once stopped, a new connection is refused, the epoll set
 * reports nothing (level-triggered, re-added too), and the descriptor is
 * still a listening socket its owner can close. */
void test_drain_stop_listening(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    ASSERT(ls >= 0);
    ASSERT_EQ(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(ls, 8), 0);
    ASSERT_EQ(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out;
    ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev), 0);
    int early = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(early, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(epoll_wait(ep, &out, 1, 1000), 1); /* it is watched */

    ASSERT_EQ(drain_stop_listening(ls), 0);
    int late = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(late, (struct sockaddr *)&a, sizeof a), -1);
    ASSERT_EQ(errno, ECONNREFUSED);
    ASSERT_EQ(epoll_wait(ep, &out, 1, 50), 0);
    ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev), 0); /* as a loop may re-add it */
    ASSERT_EQ(epoll_wait(ep, &out, 1, 50), 0);
    int listening = 0;
    socklen_t len = sizeof listening;
    ASSERT_EQ(getsockopt(ls, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len), 0);
    ASSERT_EQ(listening, 1);
    ASSERT_EQ(accept(ls, NULL, NULL), -1); /* nothing ever arrives */
    ASSERT_EQ(close(ls), 0);
    close(early);
    close(late);
    close(ep);
}
