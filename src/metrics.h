/* The service's counters and their Prometheus text exposition (format
 * 0.0.4). Counting takes no lock: every counter is a relaxed atomic, exact
 * under any concurrency. */
#ifndef LEAKYRELU_METRICS_H
#define LEAKYRELU_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"
#include "rpc.h"

typedef struct metrics metrics;

/* One finished request, as counted. */
typedef struct metrics_sample {
    api_route route;       /* API_NONE when no endpoint matched */
    int status;            /* the HTTP status sent, 0 when none was */
    int aborted;           /* it ended before its reply was complete */
    double duration_s;     /* first byte of the head to the reply's end */
    uint64_t request_bytes;  /* body bytes received */
    uint64_t response_bytes; /* body bytes sent */
    uint64_t elements;     /* array elements computed */
    double queue_wait_s;   /* time it waited for memory; 0: it did not wait */
} metrics_sample;

/* Values other modules own, read when the exposition is written. */
typedef struct metrics_extra {
    uint64_t log_lines_dropped;
    size_t memory_budget_bytes; /* SIZE_MAX: no budget */
    size_t memory_used_bytes;
    size_t queue_length;    /* requests waiting for memory now */
    size_t queue_timeouts;  /* waits that ended in 503, since the start */
} metrics_extra;

/* A zeroed set of counters; the process start time is read now. Returns
 * NULL when out of memory. */
metrics *metrics_new(void);
void metrics_free(metrics *m);

/* Counts a finished request. Thread-safe, lock-free. */
void metrics_count(metrics *m, const metrics_sample *s);

/* Counts a finished gRPC call: its method, status, duration (headers to
 * status), message bytes each way and tensor elements computed.
 * Thread-safe, lock-free. */
void metrics_count_rpc(metrics *m, rpc_method method, rpc_code code, double duration_s,
                       uint64_t request_bytes, uint64_t response_bytes, uint64_t elements);

/* A wait for memory that ended (granted or not) outside a request's
 * count: a gRPC call may wait once per message. Thread-safe, lock-free. */
void metrics_queue_wait(metrics *m, double seconds);

/* Gauges moved by one: requests between their first byte and their end,
 * and open connections. Thread-safe, lock-free. */
void metrics_in_flight(metrics *m, int delta);
void metrics_connections(metrics *m, int delta);

/* The exposition, in a malloc'd buffer of *len bytes (NUL-terminated),
 * or NULL when out of memory. Reads the process' resident memory and CPU
 * time from the system. Thread-safe. */
char *metrics_render(const metrics *m, const metrics_extra *x, size_t *len);

/* The Content-Type of the exposition. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
