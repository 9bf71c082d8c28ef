/* `make bench`'s one-request row: one large POST /forward at a time,
 * to two servers (our server with --threads 2 and with --threads 1, both
 * running) taking turns of TURN requests, so both see the same machine,
 * noise and all. For each server, separately for the first request of a turn
 * (it follows the other server's turn) and the others (back to back):
 * the median wall time per request, and its CPU time (all its threads,
 * from /proc/PID/task/TID/schedstat) over the wall time of those
 * requests. The first request of a turn is slower with 2 threads: on the
 * development VM a core left idle by the other server's turn wakes
 * slowly. A lean client: it writes the request and reads the reply with
 * plain socket calls and parses nothing but the status line, as it
 * shares the machine's cores with the server.
 *
 * Usage: bench_one_request BODY SECONDS PORT_A PID_A PORT_B PID_B */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define MAX_REQUESTS 10000
#define TURN 4

/* CPU seconds used so far by every thread of process pid. */
static double process_cpu(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[320];
        snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(file, "r");
        unsigned long long ns = 0;
        if (f) {
            if (fscanf(f, "%llu", &ns) != 1)
                ns = 0;
            fclose(f);
        }
        total += (double)ns * 1e-9;
    }
    closedir(d);
    return total;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s BODY SECONDS PORT_A PID_A PORT_B PID_B\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(argv[1]);
        return 1;
    }
    long body = ftell(f);
    rewind(f);
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /forward?slope=0.01 HTTP/1.1\r\nHost: bench\r\n"
                      "Content-Type: application/json\r\nConnection: close\r\n"
                      "Content-Length: %ld\r\n\r\n",
                      body);
    size_t len = (size_t)hl + (size_t)body, cap = 1 << 20;
    char *req = malloc(len), *buf = malloc(cap);
    static double wall[2][2][MAX_REQUESTS]; /* [server][first of a turn?] */
    if (!req || !buf || body < 0 || fread(req + hl, 1, (size_t)body, f) != (size_t)body) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 1;
    }
    fclose(f);
    memcpy(req, head, (size_t)hl);
    double seconds = atof(argv[2]);
    int port[2] = {atoi(argv[3]), atoi(argv[5])}, pid[2] = {atoi(argv[4]), atoi(argv[6])};
    double cpu[2][2] = {{0, 0}, {0, 0}}, total[2][2] = {{0, 0}, {0, 0}};
    size_t n[2][2] = {{0, 0}, {0, 0}};
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    for (double start = bench_now(); bench_now() - start < seconds && n[1][0] < MAX_REQUESTS - TURN;) {
        for (int i = 0; i < 2 * TURN; i++) { /* a turn on each server */
            int k = i / TURN, first = i % TURN == 0;
            double c0 = process_cpu(pid[k]);
            double t = bench_request(port[k], req, len, buf, cap, NULL, NULL);
            double c1 = process_cpu(pid[k]);
            if (t < 0 || c0 < 0 || c1 < 0) {
                fprintf(stderr, "request to port %d failed\n", port[k]);
                return 1;
            }
            wall[k][first][n[k][first]++] = t;
            total[k][first] += t;
            cpu[k][first] += c1 - c0;
        }
    }
    getrusage(RUSAGE_SELF, &r1);
    double client = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                    (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                    (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) * 1e-6 +
                    (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) * 1e-6;
    for (int k = 0; k < 2; k++) {
        /* back to back, then first of a turn: median wall time, CPU/wall,
         * requests */
        for (int first = 0; first < 2; first++) {
            qsort(wall[k][first], n[k][first], sizeof wall[k][first][0], by_value);
            printf("%.4f %.2f %zu%s", wall[k][first][n[k][first] / 2],
                   cpu[k][first] / total[k][first], n[k][first], first ? "\n" : " ");
        }
    }
    printf("%.1f\n", client * 1e3 / (double)(n[0][0] + n[0][1] + n[1][0] + n[1][1]));
    /* client ms per request */
    return 0;
}
