/* Shared main loop and body collection of the benchmark's baseline servers. */
#define _DEFAULT_SOURCE
#include "baseline.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int baseline_run(int argc, char **argv, const char *name, MHD_AccessHandlerCallback handler,
                 MHD_RequestCompletedCallback done)
{
    unsigned port = 0, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (unsigned)atoi(argv[i + 1]);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, (uint16_t)port, NULL,
        NULL, handler, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
    if (!d)
        return 1;
    printf("%s listening on http://127.0.0.1:%u\n", name,
           MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}

baseline_body *baseline_collect(struct MHD_Connection *c, void **req_cls, const char *upload,
                                size_t *upload_size, enum MHD_Result *res)
{
    baseline_body *b = *req_cls;
    *res = MHD_YES;
    if (!b) {
        /* Room for the declared length at once: no copies as it grows. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        size_t want = cl ? strtoull(cl, NULL, 10) : 0;
        *req_cls = b = calloc(1, sizeof *b);
        if (b && want > 0 && want <= ((size_t)1 << 32) && (b->data = malloc(want)) != NULL)
            b->cap = want;
        if (!b)
            *res = MHD_NO;
        return NULL;
    }
    if (*upload_size == 0)
        return b;
    if (b->len + *upload_size > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + *upload_size)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            *res = MHD_NO;
            return NULL;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, upload, *upload_size);
    b->len += *upload_size;
    *upload_size = 0;
    return NULL;
}

void baseline_body_done(void *cls, struct MHD_Connection *c, void **req_cls,
                        enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)c, (void)why;
    baseline_body *b = *req_cls;
    if (b) {
        free(b->data);
        free(b);
    }
    *req_cls = NULL;
}
