/* The benchmarks' lean HTTP client (client.h). */
#define _DEFAULT_SOURCE
#include "client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double bench_request(int port, const char *req, size_t len, char *buf, size_t cap,
                     double *first, size_t *got_out)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double t0 = bench_now();
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 || fcntl(s, F_SETFL, O_NONBLOCK) != 0) {
        close(s);
        return -1;
    }
    size_t sent = 0, got = 0;
    char status[16] = "";
    for (;;) { /* write and read side by side: the reply may start early */
        struct pollfd p = {s, (short)(POLLIN | (sent < len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 60000) <= 0)
            break;
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t w = send(s, req + sent, len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(s, buf, cap, 0);
            if (r <= 0)
                break; /* the server closes after the reply */
            if (got == 0 && first)
                *first = bench_now() - t0;
            if (got < sizeof status - 1) {
                size_t k = (size_t)r < sizeof status - 1 - got ? (size_t)r : sizeof status - 1 - got;
                memcpy(status + got, buf, k);
            }
            got += (size_t)r;
        }
    }
    double t = bench_now() - t0;
    close(s);
    if (got_out)
        *got_out = got;
    return strncmp(status, "HTTP/1.1 200", 12) == 0 ? t : -1;
}
