/* `make bench`'s binary row: a 64 MB application/octet-stream POST
 * /forward (8,000,000 float64), one at a time, on loopback, beside
 * memcpy of the same 64 MB on this machine. Prints the median wall time
 * per request, the input rate (64 MB over it), and the server's peak RSS
 * growth over the run against the body's size. A lean client: the body
 * is made once in memory, written and read with plain socket calls side
 * by side, the reply discarded (only its status line is looked at).
 *
 * Usage: bench_binary SECONDS PORT PID */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define BODY ((size_t)64000000)
#define MAX_REQUESTS 1000

/* The process's peak resident set (VmHWM), in kB; -1 when unknown. */
static long peak_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SECONDS PORT PID\n", argv[0]);
        return 2;
    }
    double seconds = atof(argv[1]);
    int port = atoi(argv[2]), pid = atoi(argv[3]);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /forward HTTP/1.1\r\nHost: bench\r\n"
                      "Content-Type: application/octet-stream\r\nConnection: close\r\n"
                      "Content-Length: %zu\r\n\r\n", BODY);
    size_t len = (size_t)hl + BODY, cap = 1 << 20;
    char *req = malloc(len), *buf = malloc(cap), *copy = malloc(BODY);
    if (!req || !buf || !copy)
        return 1;
    memcpy(req, head, (size_t)hl);
    unsigned long long r = 88172645463325252ull;
    for (size_t i = 0; i < BODY / 8; i++) { /* random doubles in (-1, 1) */
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double v = (double)(r >> 11) / 9007199254740992.0 * 2 - 1;
        memcpy(req + hl + i * 8, &v, 8);
    }
    double best = 1e9;
    for (int i = 0; i < 10; i++) {
        double t0 = bench_now();
        memcpy(copy, req + hl, BODY);
        double t = bench_now() - t0;
        best = t < best ? t : best;
        __asm__ volatile("" : : "r"(copy) : "memory");
    }
    static double wall[MAX_REQUESTS], first[MAX_REQUESTS];
    size_t n = 0, got = 0;
    long rss0 = peak_rss_kb(pid);
    for (double start = bench_now(); (n < 3 || bench_now() - start < seconds) && n < MAX_REQUESTS; n++)
        if ((wall[n] = bench_request(port, req, len, buf, cap, &first[n], &got)) < 0 ||
            got <= BODY) {
            fprintf(stderr, "request to port %d failed\n", port);
            return 1;
        }
    long rss1 = peak_rss_kb(pid);
    qsort(wall, n, sizeof wall[0], by_value);
    qsort(first, n, sizeof first[0], by_value);
    printf("memcpy 64 MB: %.1f ms, %.1f GB/s\n", best * 1e3, BODY / best / 1e9);
    printf("POST /forward 64 MB float64, %zu requests, medians: body sent and computed (the "
           "reply's first byte) %.1f ms, input %.2f GB/s; whole exchange %.1f ms, %.2f GB/s in "
           "and out; server peak RSS %ld MB (grew %ld MB) for a 64 MB body\n",
           n, first[n / 2] * 1e3, BODY / first[n / 2] / 1e9, wall[n / 2] * 1e3,
           2 * BODY / wall[n / 2] / 1e9, rss1 / 1000, (rss1 - rss0) / 1000);
    free(req);
    free(buf);
    free(copy);
    return 0;
}
