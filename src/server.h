/* The HTTP server: the only module that sees libmicrohttpd. */
#ifndef LEAKYRELU_SERVER_H
#define LEAKYRELU_SERVER_H

#include <stddef.h>

#include "config.h"

typedef struct server server;

/* Starts listening and serving on cfg's address with an epoll thread pool.
 * Returns NULL with a message in err (errlen bytes) on failure. The caller
 * should block SIGTERM/SIGINT first if it wants to handle them itself: the
 * pool threads inherit the signal mask. */
server *server_start(const config *cfg, char *err, size_t errlen);

/* The TCP port actually bound (useful with port 0). */
unsigned server_port(const server *s);

/* The gRPC port bound, or -1 when gRPC is off. */
int server_grpc_port(const server *s);

/* Begins a graceful shutdown: /readyz answers 503, replies carry
 * "Connection: close", and no new connection is accepted. */
void server_drain(server *s);

/* After server_drain: waits until no request is in flight, and none has
 * begun for 200 ms (one sent on a kept-alive connection just before the
 * drain may be unread still), or `seconds` have passed. Returns the
 * number of requests still in flight (0 when all finished). */
unsigned server_wait_idle(server *s, unsigned seconds);

/* Closes every connection, stops the threads and frees s. */
void server_stop(server *s);

/* Serves fd, a connected stream socket (a TCP connection's server end),
 * as a connection accepted from 127.0.0.1: the fuzz target's way in. s
 * owns fd from here, even on failure (-1); 0 when taken. Thread-safe. */
int server_adopt(server *s, int fd);

#endif
