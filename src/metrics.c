/* Counters as relaxed atomics, and the Prometheus text exposition:
 * https://prometheus.io/docs/instrumenting/exposition_formats/ (0.0.4),
 * named per https://prometheus.io/docs/practices/naming/ (base units,
 * _total for counters, _seconds and _bytes). */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lrelu.h"
#include "numfmt.h"
#include "version.h"

/* Statuses 100 to 599 each have a counter per route. */
#define STATUS_MIN 100
#define STATUS_SLOTS 500

/* Upper bounds of the duration histogram, 10 µs to 10 s: 1, 2.5 and 5
 * per decade, from a tiny /livez to a 64 MB body. */
static const double bounds[] = {1e-5,  2.5e-5, 5e-5,  1e-4,  2.5e-4, 5e-4, 1e-3,
                                2.5e-3, 5e-3,  1e-2,  2.5e-2, 5e-2,  0.1,  0.25,
                                0.5,   1,      2.5,   5,     10};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

typedef _Atomic uint64_t counter;

struct metrics {
    counter requests[API_ROUTES][STATUS_SLOTS];
    counter aborted[API_ROUTES];
    counter buckets[API_ROUTES][NBOUNDS + 1]; /* not cumulative; the last is +Inf */
    counter duration_ns[API_ROUTES];
    counter elements[API_ROUTES];
    counter request_bytes, response_bytes;
    counter queue_buckets[NBOUNDS + 1]; /* waits for memory, as buckets above */
    counter queue_wait_ns;
    counter rpc_calls[RPC_METHODS][RPC_CODES];
    counter rpc_buckets[RPC_METHODS][NBOUNDS + 1];
    counter rpc_duration_ns[RPC_METHODS];
    counter rpc_elements[RPC_METHODS];
    _Atomic int64_t in_flight, connections;
    double start_time; /* seconds since the epoch */
};

static void add(counter *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }

/* C11 atomic loads take no const pointer: the exposition reads through
 * these two casts only. */
static uint64_t get(const counter *c)
{
    return atomic_load_explicit((counter *)(uintptr_t)c, memory_order_relaxed);
}

static int64_t gauge(const _Atomic int64_t *g)
{
    return atomic_load_explicit((_Atomic int64_t *)(uintptr_t)g, memory_order_relaxed);
}

metrics *metrics_new(void)
{
    metrics *m = calloc(1, sizeof *m); /* all-zero atomics are zero-initialised */
    if (!m)
        return NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m->start_time = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    return m;
}

void metrics_free(metrics *m) { free(m); }

static size_t bucket(double seconds)
{
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    return b;
}

static uint64_t nanoseconds(double seconds)
{
    double ns = seconds > 0 ? seconds * 1e9 : 0;
    return ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX / 2;
}

void metrics_count(metrics *m, const metrics_sample *s)
{
    unsigned r = (unsigned)s->route < API_ROUTES ? (unsigned)s->route : API_NONE;
    if (s->status >= STATUS_MIN && s->status < STATUS_MIN + STATUS_SLOTS)
        add(&m->requests[r][s->status - STATUS_MIN], 1);
    if (s->aborted)
        add(&m->aborted[r], 1);
    add(&m->buckets[r][bucket(s->duration_s)], 1);
    add(&m->duration_ns[r], nanoseconds(s->duration_s));
    if (s->queue_wait_s > 0) {
        add(&m->queue_buckets[bucket(s->queue_wait_s)], 1);
        add(&m->queue_wait_ns, nanoseconds(s->queue_wait_s));
    }
    add(&m->elements[r], s->elements);
    add(&m->request_bytes, s->request_bytes);
    add(&m->response_bytes, s->response_bytes);
}

void metrics_count_rpc(metrics *m, rpc_method method, rpc_code code, double duration_s,
                       uint64_t request_bytes, uint64_t response_bytes, uint64_t elements)
{
    unsigned r = (unsigned)method < RPC_METHODS ? (unsigned)method : RPC_NONE;
    add(&m->rpc_calls[r][(unsigned)code < RPC_CODES ? (unsigned)code : RPC_UNKNOWN], 1);
    add(&m->rpc_buckets[r][bucket(duration_s)], 1);
    add(&m->rpc_duration_ns[r], nanoseconds(duration_s));
    add(&m->rpc_elements[r], elements);
    add(&m->request_bytes, request_bytes);
    add(&m->response_bytes, response_bytes);
}

void metrics_queue_wait(metrics *m, double seconds)
{
    add(&m->queue_buckets[bucket(seconds)], 1);
    add(&m->queue_wait_ns, nanoseconds(seconds));
}

void metrics_in_flight(metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

void metrics_connections(metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

/* A float as Prometheus reads it (Go's ParseFloat): Python's repr. */
static const char *num(double v, char buf[NUMFMT_F64_BUF])
{
    *numfmt_f64(v, buf) = '\0';
    return buf;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series from per-bucket (not cumulative) counts and the
 * nanoseconds in all: NAME_bucket{LABEL="VALUE",le="..."} (le as Go's
 * client writes it: "1e-05", "0.005", "10"), NAME_sum, NAME_count. label
 * NULL: no label. */
static void histogram(FILE *f, const char *name, const char *label, const char *value,
                      const counter *buckets, const counter *ns)
{
    char buf[NUMFMT_F64_BUF], pair[128] = "";
    if (label)
        snprintf(pair, sizeof pair, "%s=\"%s\"", label, value);
    uint64_t total = 0;
    for (size_t b = 0; b <= NBOUNDS; b++) {
        char le[16] = "+Inf";
        if (b < NBOUNDS)
            snprintf(le, sizeof le, "%g", bounds[b]);
        total += get(&buckets[b]);
        fprintf(f, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, pair, label ? "," : "", le,
                (unsigned long long)total);
    }
    fprintf(f, "%s_sum%s%s%s %s\n", name, label ? "{" : "", pair, label ? "}" : "",
            num((double)get(ns) / 1e9, buf));
    fprintf(f, "%s_count%s%s%s %llu\n", name, label ? "{" : "", pair, label ? "}" : "",
            (unsigned long long)total);
}

static void process_usage(double *rss_bytes, double *cpu_s)
{
    *rss_bytes = 0;
    *cpu_s = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size, resident;
        long page = sysconf(_SC_PAGESIZE);
        if (fscanf(f, "%lu %lu", &size, &resident) == 2 && page > 0)
            *rss_bytes = (double)resident * (double)page;
        fclose(f);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void render_requests(FILE *f, const metrics *m)
{
    head(f, "leakyrelu_requests_total", "counter",
         "Requests answered, by route and HTTP status (route \"none\": no endpoint matched).");
    for (unsigned r = 0; r < API_ROUTES; r++)
        for (unsigned s = 0; s < STATUS_SLOTS; s++) {
            uint64_t n = get(&m->requests[r][s]);
            if (n)
                fprintf(f, "leakyrelu_requests_total{route=\"%s\",code=\"%u\"} %llu\n",
                        api_route_name((api_route)r), s + STATUS_MIN, (unsigned long long)n);
        }
    head(f, "leakyrelu_requests_aborted_total", "counter",
         "Requests that ended before their reply was complete (client gone, timeout).");
    for (unsigned r = 0; r < API_ROUTES; r++)
        fprintf(f, "leakyrelu_requests_aborted_total{route=\"%s\"} %llu\n",
                api_route_name((api_route)r), (unsigned long long)get(&m->aborted[r]));
    head(f, "leakyrelu_request_duration_seconds", "histogram",
         "Time from a request's head to the end of its reply, by route.");
    for (unsigned r = 0; r < API_ROUTES; r++)
        histogram(f, "leakyrelu_request_duration_seconds", "route", api_route_name((api_route)r),
                  m->buckets[r], &m->duration_ns[r]);
    head(f, "leakyrelu_elements_total", "counter", "Array elements computed, by route.");
    for (unsigned r = 0; r < API_ROUTES; r++)
        if (api_route_has_body((api_route)r))
            fprintf(f, "leakyrelu_elements_total{route=\"%s\"} %llu\n",
                    api_route_name((api_route)r), (unsigned long long)get(&m->elements[r]));
}

/* gRPC calls, by method and status code, as the REST routes are. */
static void render_rpc(FILE *f, const metrics *m)
{
    head(f, "leakyrelu_grpc_requests_total", "counter",
         "gRPC calls finished, by method and status code (method \"none\": unknown).");
    for (unsigned r = 0; r < RPC_METHODS; r++)
        for (unsigned c = 0; c < RPC_CODES; c++) {
            uint64_t n = get(&m->rpc_calls[r][c]);
            if (n)
                fprintf(f, "leakyrelu_grpc_requests_total{method=\"%s\",code=\"%s\"} %llu\n",
                        rpc_method_name((rpc_method)r), rpc_code_name((rpc_code)c),
                        (unsigned long long)n);
        }
    head(f, "leakyrelu_grpc_request_duration_seconds", "histogram",
         "Time from a gRPC call's headers to its status, by method.");
    for (unsigned r = 0; r < RPC_METHODS; r++)
        histogram(f, "leakyrelu_grpc_request_duration_seconds", "method",
                  rpc_method_name((rpc_method)r), m->rpc_buckets[r], &m->rpc_duration_ns[r]);
    head(f, "leakyrelu_grpc_elements_total", "counter", "Tensor elements computed, by gRPC method.");
    for (unsigned r = RPC_INFER; r <= RPC_STREAM_INFER; r++)
        fprintf(f, "leakyrelu_grpc_elements_total{method=\"%s\"} %llu\n",
                rpc_method_name((rpc_method)r), (unsigned long long)get(&m->rpc_elements[r]));
}

/* The wait for memory: how many wait now, how long those that waited
 * did, and how many gave up. */
static void render_queue(FILE *f, const metrics *m, const metrics_extra *x)
{
    head(f, "leakyrelu_queue_length", "gauge", "Requests waiting for memory now.");
    fprintf(f, "leakyrelu_queue_length %zu\n", x->queue_length);
    head(f, "leakyrelu_queue_wait_seconds", "histogram",
         "Time requests that waited for memory waited, in all.");
    histogram(f, "leakyrelu_queue_wait_seconds", NULL, NULL, m->queue_buckets, &m->queue_wait_ns);
    head(f, "leakyrelu_queue_timeouts_total", "counter",
         "Requests answered 503 after waiting --queue-timeout for memory.");
    fprintf(f, "leakyrelu_queue_timeouts_total %zu\n", x->queue_timeouts);
}

char *metrics_render(const metrics *m, const metrics_extra *x, size_t *len)
{
    char *out = NULL, buf[NUMFMT_F64_BUF];
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f)
        return NULL;
    render_requests(f, m);
    render_rpc(f, m);
    head(f, "leakyrelu_request_bytes_total", "counter", "Request body bytes received.");
    fprintf(f, "leakyrelu_request_bytes_total %llu\n",
            (unsigned long long)get(&m->request_bytes));
    head(f, "leakyrelu_response_bytes_total", "counter", "Response body bytes sent.");
    fprintf(f, "leakyrelu_response_bytes_total %llu\n",
            (unsigned long long)get(&m->response_bytes));
    head(f, "leakyrelu_requests_in_flight", "gauge", "Requests begun and not yet finished.");
    fprintf(f, "leakyrelu_requests_in_flight %lld\n", (long long)gauge(&m->in_flight));
    head(f, "leakyrelu_connections_open", "gauge", "Open client connections.");
    fprintf(f, "leakyrelu_connections_open %lld\n", (long long)gauge(&m->connections));
    head(f, "leakyrelu_log_lines_dropped_total", "counter",
         "Access log lines dropped because the log's output could not keep up.");
    fprintf(f, "leakyrelu_log_lines_dropped_total %llu\n",
            (unsigned long long)x->log_lines_dropped);
    if (x->memory_budget_bytes != SIZE_MAX) {
        head(f, "leakyrelu_memory_budget_bytes", "gauge",
             "The memory budget of the requests in progress (--max-memory).");
        fprintf(f, "leakyrelu_memory_budget_bytes %zu\n", x->memory_budget_bytes);
    }
    head(f, "leakyrelu_memory_used_bytes", "gauge",
         "Memory held or granted by the requests in progress.");
    fprintf(f, "leakyrelu_memory_used_bytes %zu\n", x->memory_used_bytes);
    render_queue(f, m, x);
    double rss, cpu;
    process_usage(&rss, &cpu);
    head(f, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.");
    fprintf(f, "process_start_time_seconds %s\n", num(m->start_time, buf));
    head(f, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    fprintf(f, "process_resident_memory_bytes %s\n", num(rss, buf));
    head(f, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    fprintf(f, "process_cpu_seconds_total %s\n", num(cpu, buf));
    head(f, "leakyrelu_build_info", "gauge", "The version and the kernel variant in use; always 1.");
    fprintf(f, "leakyrelu_build_info{version=\"%s\",kernel=\"%s\"} 1\n", LEAKYRELU_VERSION,
            lrelu_variant());
    if (ferror(f)) {
        fclose(f);
        free(out);
        return NULL;
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}
