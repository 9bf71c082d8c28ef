/* The gRPC server: the Open Inference Protocol (and health checking and
 * reflection) over HTTP/2 cleartext on a port of its own, with event
 * loops of its own; the only module that sees nghttp2. It shares the
 * REST server's memory budget, workers, metrics, log and drain. */
#ifndef LEAKYRELU_GRPC_H
#define LEAKYRELU_GRPC_H

#include <stddef.h>

#include "config.h"

struct accesslog;
struct budget;
struct drain;
struct metrics;
struct pool;

typedef struct grpc_server grpc_server;

/* What the gRPC server shares with the REST one. */
typedef struct grpc_shared {
    struct budget *budget;
    struct pool *workers;     /* may be NULL */
    struct metrics *metrics;
    struct accesslog *log;
    struct drain *drain;      /* calls in flight count as requests */
} grpc_shared;

/* Listens on cfg's grpc_bind and grpc_port with cfg->threads event
 * loops. Returns NULL with a message in err on failure. */
grpc_server *grpc_start(const config *cfg, const grpc_shared *sh, char *err, size_t errlen);

/* The port bound. */
unsigned grpc_port(const grpc_server *g);

/* Begins the drain: no new connection; each connection gets GOAWAY, so
 * no new call begins; the calls in flight finish. Thread-safe. */
void grpc_drain(grpc_server *g);

/* Closes every connection, stops the loops and frees g. NULL is ignored. */
void grpc_stop(grpc_server *g);

#endif
