/* Server settings from command-line flags and LEAKYRELU_* environment
 * variables (flags win). */
#ifndef LEAKYRELU_CONFIG_H
#define LEAKYRELU_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "accesslog.h"
#include "cors.h"

/* grpc_port when gRPC is off. */
#define CONFIG_GRPC_OFF 65536u

typedef struct config {
    char bind[64];            /* numeric IPv4 or IPv6 address */
    unsigned port;            /* 0 picks a free port */
    unsigned grpc_port;       /* gRPC's; 0 picks a free one; CONFIG_GRPC_OFF: none */
    int grpc_port_set;        /* given by a flag or the environment */
    char grpc_bind[64];       /* gRPC's address (default: bind's) */
    unsigned threads;         /* MHD thread pool size, >= 1 */
    size_t max_body;          /* bytes */
    unsigned timeout_s;       /* idle connection timeout; 0 = none */
    unsigned header_timeout_s; /* a request head's deadline; 0 = none */
    size_t min_body_rate;     /* body bytes per second at least; 0 = none */
    size_t max_memory;        /* the requests' memory budget, bytes; SIZE_MAX:
                                 none; 0: not set (main picks the default) */
    unsigned queue_timeout_s; /* the longest wait for memory; 0 = no waiting */
    unsigned max_queue;       /* requests waiting for memory at once */
    unsigned grace_s;         /* shutdown grace period */
    unsigned max_connections; /* 0: as many as the open-file limit allows */
    unsigned max_connections_per_ip; /* 0: no limit */
    size_t connection_memory; /* libmicrohttpd's memory per connection, bytes */
    accesslog_format log;     /* --log: the access log's form on stderr */
    cors cors;                /* --cors-origin: origins browsers may call from */
    int check;                /* --check: probe a running server and exit */
} config;

/* Fills cfg with defaults, then the environment, then argv. Returns -1 when
 * the server should run; otherwise the process exit status: 0 after
 * --help or --version (written to out), 2 after a bad flag or value (a
 * message naming it written to err). Not thread-safe (getopt). */
int config_load(config *cfg, int argc, char **argv, FILE *out, FILE *err);

/* Parses a byte count: digits with an optional K, M or G suffix (powers of
 * 1024, case-insensitive, optional trailing "B" or "iB"). Returns 0, or -1
 * when malformed, zero or overflowing. */
int config_parse_size(const char *s, size_t *out);

#endif
