/* Internals shared by the server module's files (server__ prefix): the
 * server, one request's exchange, and its reply. server.c drives
 * libmicrohttpd (the daemon, a request's head and body, the finished
 * request); server_reply.c turns an api_response into libmicrohttpd's
 * (a buffer, pieces, a stream, compressed or not, with its headers);
 * server_head.c checks the head where the library left it. The three
 * are the only files that include microhttpd.h. */
#ifndef LEAKYRELU_SERVER_INTERNAL_H
#define LEAKYRELU_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "accesslog.h"
#include "api.h"
#include "budget.h"
#include "cors.h"
#include "drain.h"
#include "framing.h"
#include "grpc.h"
#include "metrics.h"
#include "pool.h"
#include "reqid.h"
#include "server.h"
#include "watch.h"

struct server {
    struct MHD_Daemon *daemon;
    grpc_server *grpc; /* the gRPC port's server, or NULL (--grpc-port off) */
    size_t max_body;
    size_t piece;  /* the most body one read hands over (--connection-memory) */
    unsigned port;
    cors cors;     /* the origins browsers may call from */
    drain drain;   /* requests in flight, and the shutdown's wait for them */
    pool *workers; /* large requests' parallel parts: --threads - 1, or NULL */
    watch *watch;  /* head and body deadlines */
    budget *budget; /* the memory requests may hold */
    metrics *metrics;
    accesslog *log;
    atomic_int started;   /* MHD_start_daemon has returned */
    char start_log[256];  /* until then, libmicrohttpd's last message */
};

/* A reply sent through a callback (streamed, or compressed), owned by
 * its MHD response; the exchange keeps a reference to read how much was
 * sent, since libmicrohttpd may free the response before or after it
 * reports the request complete. */
typedef struct server__reply server__reply;

/* Body bytes handed to libmicrohttpd so far. */
uint64_t server__reply_sent(server__reply *rp);

/* Drops the exchange's reference; NULL is ignored. */
void server__reply_release(server__reply *rp);

/* One request's state, kept in MHD's per-request pointer. */
typedef struct exchange {
    struct timespec ts;  /* its head's arrival, CLOCK_REALTIME (for the log) */
    struct timespec t0;  /* the same, CLOCK_MONOTONIC (for its duration) */
    int status;          /* the status queued, 0 until one is */
    int head_only;       /* HEAD: no body is sent */
    uint64_t response_bytes; /* of a reply from a buffer */
    uint64_t elements;
    server__reply *reply; /* of a reply through a callback, or NULL */
    char request_id[REQID_MAX + 1];
    char method[16];
    char path[257];      /* the target as sent, without its query, cut short (for the log) */
    const char *raw;     /* the target in libmicrohttpd's buffer, and its length */
    size_t raw_len;      /*   as it came (only compared, never read later) */
    char target[257];    /* the target's path, decoded (framing_target) */
    lr_error target_err; /* LR_ERR_OK, or why the target is malformed */
    int begun;           /* its first call came */
    framing framing;     /* its headers, as checked */
    api_head head;  /* its route, API_NONE until api_begin found one */
    int routed;     /* api_begin accepted the request */
    api_body *body; /* read as it arrives */
    size_t len;     /* bytes received */
    lr_err early;   /* BODY_TOO_LARGE, OVERLOADED, NO_MEMORY or BAD_ENCODING found
                       while reading */
    int over_budget; /* early is BODY_TOO_LARGE: more memory than the budget */
    int waited_out;  /* early is OVERLOADED: its wait for memory expired */
    watch_conn *deadlines; /* its connection's, or NULL */
    struct MHD_Connection *conn; /* for the wake that resumes it */
    int paused;              /* suspended, waiting for memory */
    int admitting;           /* paused in admit: its call comes again */
    struct timespec paused_at; /* CLOCK_MONOTONIC */
    double waited_s;         /* in all */
} exchange;

/* server_head.c. A request's exchange, made when its target arrives
 * (MHD_OPTION_URI_LOG_CALLBACK): its path decoded on all its bytes. NULL
 * when memory runs out. */
void *server__on_target(void *cls, const char *uri, struct MHD_Connection *c);

/* The request line's and headers' checks (framing.c's, with where the
 * library left each line): LR_ERR_OK with ex->framing filled, or the
 * error to answer, with the connection closed. */
lr_err server__head_verdict(struct MHD_Connection *c, exchange *ex, const char *version,
                            lr_error *err);

/* Queues resp (whose body, stream and parts MHD's response takes over)
 * on c: its headers (the request id, Allow, Retry-After, CORS, the
 * coding), compressed as the request's Accept-Encoding asks when it is a
 * success worth compressing. Out of memory, a fixed 503. */
enum MHD_Result server__send(server *s, struct MHD_Connection *c, exchange *ex,
                             api_response *resp);

/* The JSON reply for err; close: the connection is closed after it (when
 * the body's end cannot be trusted). */
enum MHD_Result server__refuse(server *s, struct MHD_Connection *c, exchange *ex,
                               const lr_error *err, int close);

/* server__refuse for code with the detail (NULL: the table's message). */
enum MHD_Result server__send_error(server *s, struct MHD_Connection *c, exchange *ex,
                                   lr_err code, const char *detail);

#endif
