/* The part the two baseline servers share: flags, the daemon (the same
 * options as leakyrelu-server: epoll thread pool, ITC, 30 s timeout, 1024
 * connections), the "listening on" line, and a stop on SIGTERM/SIGINT. */
#ifndef LEAKYRELU_BENCH_BASELINE_H
#define LEAKYRELU_BENCH_BASELINE_H

#include <microhttpd.h>

/* Serves with `handler` (and `done`, may be NULL) until SIGTERM or SIGINT.
 * Flags: --port N (0 picks one), --threads N. Returns the exit status. */
int baseline_run(int argc, char **argv, const char *name, MHD_AccessHandlerCallback handler,
                 MHD_RequestCompletedCallback done);

#endif
