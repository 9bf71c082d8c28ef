/* The part the baseline servers share: flags, the daemon (the same
 * options as leakyrelu-server: epoll thread pool, ITC, 30 s timeout, 1024
 * connections), the "listening on" line, a stop on SIGTERM/SIGINT, and a
 * request body collected in memory. */
#ifndef LEAKYRELU_BENCH_BASELINE_H
#define LEAKYRELU_BENCH_BASELINE_H

#include <microhttpd.h>
#include <stddef.h>

/* Serves with `handler` (and `done`, may be NULL) until SIGTERM or SIGINT.
 * Flags: --port N (0 picks one), --threads N. Returns the exit status. */
int baseline_run(int argc, char **argv, const char *name, MHD_AccessHandlerCallback handler,
                 MHD_RequestCompletedCallback done);

/* A request's body, collected in one buffer. */
typedef struct baseline_body {
    char *data;
    size_t len, cap;
} baseline_body;

/* The access handler's first step: creates the body in *req_cls on the
 * first call (with room for its Content-Length) and appends each piece
 * of upload. Returns NULL and sets *res
 * to what the handler returns at once, until the body is complete; then
 * returns it (owned by *req_cls until baseline_body_done). */
baseline_body *baseline_collect(struct MHD_Connection *c, void **req_cls, const char *upload,
                                size_t *upload_size, enum MHD_Result *res);

/* The completion callback that frees the body. */
void baseline_body_done(void *cls, struct MHD_Connection *c, void **req_cls,
                        enum MHD_RequestTerminationCode why);

#endif
