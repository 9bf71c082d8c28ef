/* leakyrelu-server: flags, signals, start and graceful stop. */
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include "budget.h"
#include "config.h"
#include "healthcheck.h"
#include "lrelu.h"
#include "server.h"
#include "version.h"

/* Descriptors kept back from connections: stdio, the listening socket,
 * and each connection thread's epoll and wake-up descriptors. */
#define FD_RESERVE(threads) (32 + 4 * (threads))

/* Raises the open-file limit to its hard limit (a connection is one
 * descriptor) and returns how many connections it leaves room for. */
static unsigned connection_room(unsigned threads)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return 1024;
    if (lim.rlim_cur < lim.rlim_max) {
        struct rlimit raised = {.rlim_cur = lim.rlim_max, .rlim_max = lim.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            lim = raised;
    }
    rlim_t room = lim.rlim_cur == RLIM_INFINITY ? 1000000 : lim.rlim_cur;
    room = room > FD_RESERVE(threads) ? room - FD_RESERVE(threads) : 1;
    return room > 1000000 ? 1000000 : (unsigned)room;
}

int main(int argc, char **argv)
{
    config cfg;
    int rc = config_load(&cfg, argc, argv, stdout, stderr);
    if (rc >= 0)
        return rc;
    if (cfg.check)
        return healthcheck_run(&cfg, stderr);

#if defined(M_MMAP_THRESHOLD)
    /* Request-sized buffers (bodies, arrays, replies) come from mmap and go
     * back to the system when freed, and realloc grows them with mremap,
     * without copying. glibc would otherwise raise this threshold after
     * the first large free and keep the memory in the heap. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif

    /* Block the stop signals before any thread starts so that every pool
     * thread inherits the mask and only sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fprintf(stderr, "leakyrelu-server: cannot set up signal handling\n");
        return 1;
    }

    unsigned room = connection_room(cfg.threads);
    if (cfg.max_connections > room)
        fprintf(stderr,
                "leakyrelu-server: --max-connections %u is more than the open-file limit "
                "allows; using %u\n",
                cfg.max_connections, room);
    if (cfg.max_connections == 0 || cfg.max_connections > room)
        cfg.max_connections = room;

    const char *budget_from = "--max-memory";
    if (cfg.max_memory == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        size_t ram = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)1 << 30;
        cfg.max_memory =
            budget_default("/sys/fs/cgroup", "/proc/self/cgroup", ram, &budget_from);
    }

    char err[256] = "";
    server *s = server_start(&cfg, err, sizeof err);
    if (!s) {
        fprintf(stderr, "leakyrelu-server: %s\n", err);
        return 1;
    }
    int v6 = strchr(cfg.bind, ':') != NULL;
    printf("leakyrelu %s listening on http://%s%s%s:%u", LEAKYRELU_VERSION, v6 ? "[" : "",
           cfg.bind, v6 ? "]" : "", server_port(s));
    if (server_grpc_port(s) >= 0) {
        int g6 = strchr(cfg.grpc_bind, ':') != NULL;
        printf(" and grpc://%s%s%s:%d", g6 ? "[" : "", cfg.grpc_bind, g6 ? "]" : "",
               server_grpc_port(s));
    }
    printf(" (threads %u, kernel %s, connections %u", cfg.threads, lrelu_variant(),
           cfg.max_connections);
    if (cfg.max_connections_per_ip)
        printf(", %u per client address", cfg.max_connections_per_ip);
    if (cfg.max_memory == SIZE_MAX)
        printf(", no memory budget");
    else
        printf(", memory budget %zu MiB (%s)", cfg.max_memory >> 20, budget_from);
    printf(")\n");
    fflush(stdout);

    int sig = 0;
    if (sigwait(&stop, &sig) != 0)
        sig = SIGTERM;
    server_drain(s);
    printf("leakyrelu: %s received; not accepting connections, draining (grace %u s)\n",
           sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.grace_s);
    fflush(stdout);
    unsigned left = server_wait_idle(s, cfg.grace_s);
    if (left)
        fprintf(stderr, "leakyrelu: grace period over; closing %u unfinished request(s)\n",
                left);
    server_stop(s);
    printf("leakyrelu: stopped\n");
    fflush(stdout);
    return 0;
}
