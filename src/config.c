/* Flags and environment variables. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "version.h"

static const char usage[] =
    "Usage: leakyrelu-server [OPTION]...\n"
    "Serves Leaky ReLU and its gradient over HTTP (POST /forward, POST /gradient)\n"
    "and the Open Inference Protocol over HTTP and gRPC.\n"
    "\n"
    "  --port N             TCP port, 0 picks a free one (LEAKYRELU_PORT; default 8080)\n"
    "  --bind ADDR          numeric IPv4/IPv6 address to listen on\n"
    "                       (LEAKYRELU_BIND; default 127.0.0.1)\n"
    "  --grpc-port N|off    gRPC (the Open Inference Protocol over HTTP/2) port, 0\n"
    "                       picks a free one (LEAKYRELU_GRPC_PORT; default 8001, or\n"
    "                       a free one when --port is 0)\n"
    "  --grpc-bind ADDR     address for gRPC (LEAKYRELU_GRPC_BIND; default --bind's)\n"
    "  --threads N          connection threads; a large request is worked on by\n"
    "                       its connection's thread and N - 1 workers\n"
    "                       (LEAKYRELU_THREADS; default: CPUs)\n"
    "  --max-body SIZE      largest request body, bytes or with K/M/G suffix\n"
    "                       (LEAKYRELU_MAX_BODY; default 64M)\n"
    "  --timeout SECONDS    idle connection timeout, 0 = none\n"
    "                       (LEAKYRELU_TIMEOUT; default 30)\n"
    "  --header-timeout S   a request's head must arrive within S seconds of the\n"
    "                       connection (or, kept alive, of --timeout after the\n"
    "                       last reply); 0 = none (LEAKYRELU_HEADER_TIMEOUT;\n"
    "                       default 10)\n"
    "  --min-body-rate SIZE a body must arrive at SIZE bytes per second or more,\n"
    "                       over each 5 s; 0 = none (LEAKYRELU_MIN_BODY_RATE;\n"
    "                       default 1K)\n"
    "  --max-memory SIZE    memory budget of the requests in progress (their\n"
    "                       tensors, text and replies); a request it has no room\n"
    "                       for yet waits for it; 0 = none\n"
    "                       (LEAKYRELU_MAX_MEMORY; default: 3/4 of the cgroup's\n"
    "                       memory limit, else 1/2 of RAM)\n"
    "  --queue-timeout S    the longest a request waits for memory before 503\n"
    "                       overloaded; 0 = no waiting\n"
    "                       (LEAKYRELU_QUEUE_TIMEOUT; default 5)\n"
    "  --max-queue N        requests waiting for memory at once, more get 503\n"
    "                       (LEAKYRELU_MAX_QUEUE; default 1024)\n"
    "  --grace SECONDS      on SIGTERM/SIGINT, time to finish requests in flight\n"
    "                       (LEAKYRELU_GRACE; default 10)\n"
    "  --max-connections N  concurrent connections (LEAKYRELU_MAX_CONNECTIONS;\n"
    "                       default: as many as the open-file limit allows,\n"
    "                       raised to its hard limit at start)\n"
    "  --max-connections-per-ip N\n"
    "                       concurrent connections from one client address, 0 =\n"
    "                       no limit (LEAKYRELU_MAX_CONNECTIONS_PER_IP; default 0)\n"
    "  --connection-memory SIZE\n"
    "                       each connection's buffer in libmicrohttpd: the\n"
    "                       largest request head, and the bytes one read takes\n"
    "                       (LEAKYRELU_CONNECTION_MEMORY; default 32K)\n"
    "  --log FORMAT         access log on stderr, one line per request: json\n"
    "                       (JSON lines), text or off (LEAKYRELU_LOG; default json)\n"
    "  --cors-origin ORIGIN let pages from ORIGIN (https://app.example.com) call\n"
    "                       the service from a browser; repeat for more, or *\n"
    "                       for any (LEAKYRELU_CORS_ORIGIN, comma-separated;\n"
    "                       default none)\n"
    "  --check              GET /healthz on the configured port; exit 0 if it\n"
    "                       answers 200, else 1 (a container HEALTHCHECK)\n"
    "  -h, --help           print this help and exit\n"
    "  --version            print the version and exit\n";

int config_parse_size(const char *s, size_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (shift && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || v == 0 || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int valid_address(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

enum { OPT_PORT = 1, OPT_BIND, OPT_THREADS, OPT_MAX_BODY, OPT_TIMEOUT, OPT_GRACE,
       OPT_MAX_CONN, OPT_MAX_PER_IP, OPT_HEADER_TIMEOUT, OPT_MIN_RATE, OPT_MAX_MEMORY, OPT_LOG, OPT_HELP, OPT_VERSION,
       OPT_CHECK, OPT_CORS, OPT_CONN_MEMORY, OPT_QUEUE_TIMEOUT, OPT_MAX_QUEUE, OPT_GRPC_PORT,
       OPT_GRPC_BIND };

static const struct {
    int opt;
    const char *flag, *env, *expect;
} settings[] = {
    {OPT_PORT, "--port", "LEAKYRELU_PORT", "a port number from 0 to 65535"},
    {OPT_BIND, "--bind", "LEAKYRELU_BIND", "a numeric IPv4 or IPv6 address"},
    {OPT_GRPC_PORT, "--grpc-port", "LEAKYRELU_GRPC_PORT", "a port number from 0 to 65535, or off"},
    {OPT_GRPC_BIND, "--grpc-bind", "LEAKYRELU_GRPC_BIND", "a numeric IPv4 or IPv6 address"},
    {OPT_THREADS, "--threads", "LEAKYRELU_THREADS", "a thread count from 1 to 1024"},
    {OPT_MAX_BODY, "--max-body", "LEAKYRELU_MAX_BODY",
     "a positive byte count, optionally with a K, M or G suffix"},
    {OPT_TIMEOUT, "--timeout", "LEAKYRELU_TIMEOUT", "seconds from 0 to 86400"},
    {OPT_HEADER_TIMEOUT, "--header-timeout", "LEAKYRELU_HEADER_TIMEOUT",
     "seconds from 0 to 86400"},
    {OPT_MIN_RATE, "--min-body-rate", "LEAKYRELU_MIN_BODY_RATE",
     "bytes per second, 0 or a byte count with an optional K, M or G suffix"},
    {OPT_MAX_MEMORY, "--max-memory", "LEAKYRELU_MAX_MEMORY",
     "0 (no budget) or a byte count with an optional K, M or G suffix"},
    {OPT_QUEUE_TIMEOUT, "--queue-timeout", "LEAKYRELU_QUEUE_TIMEOUT", "seconds from 0 to 3600"},
    {OPT_MAX_QUEUE, "--max-queue", "LEAKYRELU_MAX_QUEUE", "a request count from 0 to 1000000"},
    {OPT_GRACE, "--grace", "LEAKYRELU_GRACE", "seconds from 0 to 86400"},
    {OPT_MAX_CONN, "--max-connections", "LEAKYRELU_MAX_CONNECTIONS",
     "a connection count from 1 to 1000000"},
    {OPT_MAX_PER_IP, "--max-connections-per-ip", "LEAKYRELU_MAX_CONNECTIONS_PER_IP",
     "a connection count from 0 (no limit) to 1000000"},
    {OPT_LOG, "--log", "LEAKYRELU_LOG", "json, text or off"},
    {OPT_CONN_MEMORY, "--connection-memory", "LEAKYRELU_CONNECTION_MEMORY",
     "a byte count from 8K to 16M, optionally with a K or M suffix"},
    {OPT_CORS, "--cors-origin", "LEAKYRELU_CORS_ORIGIN",
     "* or origins such as https://app.example.com (scheme, host, optional port; "
     "at most 16)"},
};

/* "a, b" or one origin: each allowed. */
static int add_origins(cors *c, const char *v)
{
    char one[CORS_ORIGIN_MAX];
    if (*v == '\0') /* set and empty: none */
        return 0;
    do {
        while (*v == ' ')
            v++;
        size_t n = strcspn(v, ",");
        while (n && v[n - 1] == ' ')
            n--;
        if (n == 0 || n >= sizeof one)
            return -1;
        memcpy(one, v, n);
        one[n] = '\0';
        if (cors_add(c, one) != 0)
            return -1;
        v += strcspn(v, ",");
    } while (*v++ == ',');
    return 0;
}

/* Applies one setting; returns 0 or -1 when the value is invalid. */
static int apply(config *cfg, int opt, const char *v)
{
    switch (opt) {
    case OPT_PORT: return parse_uint(v, 0, 65535, &cfg->port);
    case OPT_THREADS: return parse_uint(v, 1, 1024, &cfg->threads);
    case OPT_MAX_BODY: return config_parse_size(v, &cfg->max_body);
    case OPT_TIMEOUT: return parse_uint(v, 0, 86400, &cfg->timeout_s);
    case OPT_HEADER_TIMEOUT: return parse_uint(v, 0, 86400, &cfg->header_timeout_s);
    case OPT_MIN_RATE:
        if (strcmp(v, "0") == 0) {
            cfg->min_body_rate = 0;
            return 0;
        }
        return config_parse_size(v, &cfg->min_body_rate);
    case OPT_MAX_MEMORY:
        if (strcmp(v, "0") == 0) {
            cfg->max_memory = SIZE_MAX;
            return 0;
        }
        return config_parse_size(v, &cfg->max_memory);
    case OPT_LOG: return accesslog_parse_format(v, &cfg->log);
    case OPT_CORS: return add_origins(&cfg->cors, v);
    case OPT_CONN_MEMORY:
        return config_parse_size(v, &cfg->connection_memory) != 0 ||
                       cfg->connection_memory < 8192 || cfg->connection_memory > (16u << 20)
                   ? -1
                   : 0;
    case OPT_GRACE: return parse_uint(v, 0, 86400, &cfg->grace_s);
    case OPT_QUEUE_TIMEOUT: return parse_uint(v, 0, 3600, &cfg->queue_timeout_s);
    case OPT_MAX_QUEUE: return parse_uint(v, 0, 1000000, &cfg->max_queue);
    case OPT_MAX_CONN: return parse_uint(v, 1, 1000000, &cfg->max_connections);
    case OPT_MAX_PER_IP: return parse_uint(v, 0, 1000000, &cfg->max_connections_per_ip);
    case OPT_BIND:
        if (strlen(v) >= sizeof cfg->bind || !valid_address(v))
            return -1;
        strcpy(cfg->bind, v);
        return 0;
    case OPT_GRPC_PORT:
        cfg->grpc_port_set = 1;
        if (strcmp(v, "off") == 0) {
            cfg->grpc_port = CONFIG_GRPC_OFF;
            return 0;
        }
        return parse_uint(v, 0, 65535, &cfg->grpc_port);
    case OPT_GRPC_BIND:
        if (strlen(v) >= sizeof cfg->grpc_bind || !valid_address(v))
            return -1;
        strcpy(cfg->grpc_bind, v);
        return 0;
    default: return -1;
    }
}

int config_load(config *cfg, int argc, char **argv, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, OPT_PORT},
        {"bind", required_argument, NULL, OPT_BIND},
        {"grpc-port", required_argument, NULL, OPT_GRPC_PORT},
        {"grpc-bind", required_argument, NULL, OPT_GRPC_BIND},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
        {"min-body-rate", required_argument, NULL, OPT_MIN_RATE},
        {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
        {"log", required_argument, NULL, OPT_LOG},
        {"grace", required_argument, NULL, OPT_GRACE},
        {"queue-timeout", required_argument, NULL, OPT_QUEUE_TIMEOUT},
        {"max-queue", required_argument, NULL, OPT_MAX_QUEUE},
        {"max-connections", required_argument, NULL, OPT_MAX_CONN},
        {"max-connections-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"check", no_argument, NULL, OPT_CHECK},
        {"cors-origin", required_argument, NULL, OPT_CORS},
        {"connection-memory", required_argument, NULL, OPT_CONN_MEMORY},
        {NULL, 0, NULL, 0},
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->bind, "127.0.0.1");
    cfg->port = 8080;
    cfg->grpc_port = 8001;
    cfg->threads = cpus < 1 ? 1 : cpus > 1024 ? 1024 : (unsigned)cpus;
    cfg->max_body = (size_t)64 << 20;
    cfg->timeout_s = 30;
    cfg->header_timeout_s = 10;
    cfg->min_body_rate = 1024;
    cfg->grace_s = 10;
    cfg->queue_timeout_s = 5;
    cfg->max_queue = 1024;
    cfg->log = ACCESSLOG_JSON;
    cfg->max_connections = 0; /* as many as the file-descriptor limit allows */
    cfg->connection_memory = 32 * 1024; /* libmicrohttpd's own default */

    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const char *v = getenv(settings[i].env);
        if (v && apply(cfg, settings[i].opt, v) != 0) {
            fprintf(err, "leakyrelu-server: invalid %s=\"%s\": expected %s\n",
                    settings[i].env, v, settings[i].expect);
            return 2;
        }
    }
    opterr = 0;
    optind = 1;
    int opt, cors_flags = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            fputs(usage, out);
            return 0;
        }
        if (opt == OPT_VERSION) {
            fprintf(out, "leakyrelu-server %s\n", LEAKYRELU_VERSION);
            return 0;
        }
        if (opt == OPT_CHECK) {
            cfg->check = 1;
            continue;
        }
        if (opt == OPT_CORS && !cors_flags++) /* the flags replace the variable's list */
            memset(&cfg->cors, 0, sizeof cfg->cors);
        if (opt == ':' || opt == '?') {
            fprintf(err, "leakyrelu-server: %s: %s\n", argv[optind - 1],
                    opt == ':' ? "missing value" : "unknown option");
            fputs("Try 'leakyrelu-server --help'.\n", err);
            return 2;
        }
        for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
            if (settings[i].opt == opt && apply(cfg, opt, optarg) != 0) {
                fprintf(err, "leakyrelu-server: invalid %s \"%s\": expected %s\n",
                        settings[i].flag, optarg, settings[i].expect);
                return 2;
            }
        }
    }
    if (optind < argc) {
        fprintf(err, "leakyrelu-server: unexpected argument \"%s\"\n", argv[optind]);
        fputs("Try 'leakyrelu-server --help'.\n", err);
        return 2;
    }
    if (cfg->port == 0 && !cfg->grpc_port_set)
        cfg->grpc_port = 0; /* several servers on one machine (tests) */
    if (cfg->grpc_bind[0] == '\0')
        strcpy(cfg->grpc_bind, cfg->bind);
    return -1;
}
