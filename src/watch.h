/* Deadlines the HTTP library does not keep: a request's head must arrive
 * within a header timeout (from the connection's start, or, kept alive,
 * within the idle timeout plus the header timeout after the last reply),
 * and a body must keep arriving at a minimum rate. A thread looks once a
 * second and shuts down the socket of a connection past its deadline;
 * the library then closes it as any broken connection. Knows nothing of
 * HTTP libraries: the server reports each connection's events. */
#ifndef LEAKYRELU_WATCH_H
#define LEAKYRELU_WATCH_H

#include <stddef.h>

typedef struct watch watch;
typedef struct watch_conn watch_conn;

/* Starts watching: head_s seconds for a head (0: no limit), idle_s the
 * keep-alive idle timeout (0: none; then heads after the first are not
 * timed), min_rate body bytes per second, over windows of
 * WATCH_RATE_WINDOW seconds (0: no limit). tick(tick_cls), if not NULL,
 * is called about once a second from the watch's thread (for other
 * deadlines). NULL when the thread or memory cannot be had. */
watch *watch_new(unsigned head_s, unsigned idle_s, size_t min_rate, void (*tick)(void *),
                 void *tick_cls);

/* Stops the thread and frees w, once every connection was removed. NULL
 * is ignored. */
void watch_free(watch *w);

/* The seconds over which a body's rate is measured. */
#define WATCH_RATE_WINDOW 5

/* A connection opened on socket fd: its head is due now. NULL when memory
 * runs out (then it is not watched). Thread-safe, as are all below. */
watch_conn *watch_add(watch *w, int fd);

/* The connection is closed, or about to be (its socket still open): it is
 * no longer watched, and freed. NULL is ignored. */
void watch_remove(watch *w, watch_conn *c);

/* The head arrived; body: a body follows (its rate is watched). */
void watch_head(watch_conn *c, int body);

/* `bytes` more of the body arrived. */
void watch_body(watch_conn *c, size_t bytes);

/* The request waits (for memory), its body not read: it is not late
 * while it waits; watch_resume starts its body's rate window anew. */
void watch_pause(watch_conn *c);
void watch_resume(watch_conn *c);

/* The body is complete: the reply is the library's timeout's business. */
void watch_body_done(watch_conn *c);

/* A reply was sent: the next head, if any, is due within the idle timeout
 * plus the header timeout. */
void watch_reply_done(watch_conn *c);

#endif
