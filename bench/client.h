/* The lean HTTP client of the one-at-a-time benchmarks (bench_one_request,
 * bench_binary): a request written and its reply read with plain socket
 * calls, side by side, on a new connection the server closes; nothing
 * parsed but the status line. */
#ifndef LEAKYRELU_BENCH_CLIENT_H
#define LEAKYRELU_BENCH_CLIENT_H

#include <stddef.h>

/* CLOCK_MONOTONIC, in seconds. */
double bench_now(void);

/* Sends the len bytes of req (a whole request, "Connection: close") to
 * 127.0.0.1:port and reads the reply into buf (cap bytes at a time,
 * discarded). Returns the wall time, or -1 unless the status is 200;
 * *first (may be NULL) gets the time to the reply's first byte, *got
 * (may be NULL) the reply's bytes. */
double bench_request(int port, const char *req, size_t len, char *buf, size_t cap,
                     double *first, size_t *got);

#endif
