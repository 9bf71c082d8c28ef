/* Internals shared by the gRPC server's files (grpc__ prefix): the
 * server, its event loops, a connection (one nghttp2 session) and a call
 * (one HTTP/2 stream). grpc.c runs the loops and the connections' bytes;
 * grpc_call.c reads a call's headers and messages; grpc_reply.c writes its
 * replies and trailers. The three are the only files that include
 * nghttp2.h. */
#ifndef LEAKYRELU_GRPC_INTERNAL_H
#define LEAKYRELU_GRPC_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "budget.h"
#include "coding.h"
#include "grpc.h"
#include "reqid.h"
#include "rpc.h"

/* Bounds a connection holds to (HTTP/2's own attacks among them). */
#define GRPC_MAX_STREAMS 100            /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define GRPC_MAX_HEADER_LIST (16 * 1024) /* a call's header bytes (RFC 9113 6.5.2) */
#define GRPC_WINDOW (64 * 1024)         /* each call's receive window, and */
#define GRPC_BIG_WINDOW (1 << 20)       /* a large message's: what a call waiting for
                                           memory may hold beyond the budget */
#define GRPC_MSG_SLACK 4096             /* granted with each piece, beyond its bytes */
#define GRPC_GRANT_KEPT (1 << 20)       /* unused grant a call keeps (REST's too) */
#define GRPC_OUT_MAX (1 << 20)          /* reply bytes queued beyond which a call's
                                           next messages wait (a client not reading) */
enum { GRPC_WAIT_MEMORY = 1, GRPC_WAIT_OUTPUT = 2 }; /* why a call waits */
#define GRPC_CONN_WINDOW (32 << 20)     /* the connection's */
#define GRPC_FRAME_MAX (1 << 20)        /* SETTINGS_MAX_FRAME_SIZE */
#define GRPC_IOV 256                    /* pieces written by one writev */
#define GRPC_STAGE (16 * 1024)          /* frame bytes copied for one writev */
#define GRPC_RATE_WINDOW 5.0            /* --min-body-rate's window, seconds */

struct grpc_server {
    int listen_fd;
    unsigned port;
    grpc_shared sh;
    size_t max_body;
    unsigned timeout_s;        /* a connection idle, or a call stalled */
    size_t min_rate;           /* --min-body-rate: a message's bytes per second */
    unsigned queue_timeout_s;  /* --queue-timeout: the longest wait for memory */
    unsigned max_connections;
    atomic_uint connections;
    unsigned nloops;
    struct grpc__loop *loops;
    atomic_int draining, stopping;
};

typedef struct grpc__loop {
    grpc_server *g;
    pthread_t thread;
    int started;
    int epfd, wakefd;
    int drained;               /* its connections got GOAWAY */
    unsigned waiters;          /* its calls waiting for memory (then it looks often) */
    struct grpc__conn *conns;  /* open, in a list */
    uint8_t *rbuf;             /* what one read takes */
} grpc__loop;

/* A reply message queued on a call, sent from where its pieces lie. */
typedef struct grpc__out {
    uint8_t prefix[5];         /* gRPC's: compressed flag, length */
    rpc_reply reply;           /* its pieces (or one coded buffer) */
    uint8_t *coded;            /* the message compressed, or NULL, */
    size_t coded_len;
    size_t coded_charge;       /*   charged this much (its capacity) */
    struct budget *coded_budget; /*   to this budget, released when freed */
    size_t len;                /* 5 + the message's bytes */
    size_t sent;               /* bytes handed to the connection */
    struct grpc__out *next;
} grpc__out;

typedef struct grpc__conn {
    grpc__loop *loop;
    int fd;
    nghttp2_session *ng;
    struct grpc__conn *prev, *next;
    struct iovec iov[GRPC_IOV]; /* the bytes being written: from stage or replies */
    size_t niov, iov_at;
    uint8_t stage[GRPC_STAGE];
    size_t stage_len;
    grpc__out *retired;        /* sent replies, freed once the writes are done */
    int out_armed;             /* EPOLLOUT is watched */
    int in_paused;             /* EPOLLIN is not (writes wait) */
    int goaway;                /* 1: the shutdown notice sent; 2: the last GOAWAY */
    double goaway_at;
    unsigned streams;          /* calls open */
    double active;             /* a call began or ended, or DATA moved (monotonic s) */
    double wrote;              /* the last write that moved bytes */
    char remote[64];
    struct grpc__call *calls;  /* open, in a list */
} grpc__conn;

/* One call: an HTTP/2 stream. */
typedef struct grpc__call {
    grpc__conn *c;
    int32_t id;
    struct grpc__call *prev, *next;
    rpc_method method;
    char path[128];            /* :path, cut short (for the log) */
    int bad_type, not_post;    /* what the headers got wrong */
    size_t header_bytes;
    coding in_coding;          /* grpc-encoding */
    int bad_coding;
    char coding_name[32];
    int accept_gzip, accept_deflate; /* grpc-accept-encoding */
    double deadline;           /* monotonic seconds; 0: none */
    char request_id[REQID_MAX + 1];
    int has_request_id;
    struct timespec ts;        /* its head's arrival (CLOCK_REALTIME) */
    double t0;                 /* the same, monotonic */
    double progress;           /* its DATA last moved, either way */
    budget_account account;
    /* the message being read */
    uint8_t prefix[5];
    size_t prefix_have;
    size_t msg_len, msg_have;
    double msg_t0;             /* its rate's window began: the message's first byte, */
    size_t msg_mark;           /*   or later, with this much of it come */
    coding_decoder *dec;
    rpc_msg *msg;              /* being read, or complete (unary: until the end) */
    int msgs;                  /* messages complete */
    int half_closed;           /* the client ended its side */
    /* the replies */
    grpc__out *out, *out_tail;
    int headers_sent;          /* response headers submitted */
    int finished;              /* the status is decided: no more replies */
    int trailers_sent;
    int deferred;              /* the data source waits for replies */
    int reset_after;           /* RST_STREAM once the status is sent (the client still sends) */
    int waiting;               /* GRPC_WAIT_*: its bytes are held, not consumed */
    double wait_t0;
    uint8_t *held;             /* bytes that came while it waited (at most its window) */
    size_t held_len;
    int end_held;              /* the client ended its side while it waited */
    rpc_code code;
    char message[LR_DETAIL_MAX + 128];
    uint64_t bytes_in, bytes_out, elements;
    size_t out_bytes;          /* reply bytes queued, not yet handed to the connection */
    double out_since;          /* the replies' rate window began (0: none queued), */
    uint64_t out_sent;         /*   and the bytes handed over since */
} grpc__call;

/* A header for nghttp2 (which copies it): a literal name, a string value. */
#define NV(name, value)                                                                    \
    {(uint8_t *)(uintptr_t)(name), (uint8_t *)(uintptr_t)(value), sizeof(name) - 1,        \
     strlen(value), NGHTTP2_NV_FLAG_NONE}

/* The call of stream id, or NULL. */
static inline struct grpc__call *grpc__call_of(nghttp2_session *s, int32_t id)
{
    return nghttp2_session_get_stream_user_data(s, id);
}

/* Monotonic seconds. */
static inline double grpc__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* grpc_call.c: the nghttp2 callbacks of a server session (with
 * grpc_reply.c's). */
void grpc__callbacks(nghttp2_session_callbacks *cb);

/* grpc_reply.c: the callbacks that send (frames, DATA from the replies'
 * pieces, the trailers, the reset after them). */
void grpc__reply_callbacks(nghttp2_session_callbacks *cb);

/* grpc_reply.c: the call's status is decided: sent now (trailers only),
 * or after the replies queued; a client still sending is reset after it. */
void grpc__finish(grpc__call *call, rpc_code code, const char *message);

/* grpc_reply.c: a call waiting (for memory, or for its replies to be
 * read) waits no more: out of the budget's queue, its loop's count. */
void grpc__call_unwait(grpc__call *call);

/* grpc_reply.c: queues a reply message (r's pieces are the queue's now). */
void grpc__queue_reply(grpc__call *call, rpc_reply *r);

/* grpc_reply.c: the call's deadline passed, it stalled, or the server
 * stops: ends it with code (DEADLINE_EXCEEDED, CANCELLED) and why, or
 * resets it when its replies are stuck. */
void grpc__call_expire(grpc__call *call, rpc_code code, const char *why);

/* grpc_call.c: the call is over (its stream closed, or the connection):
 * counted, logged and freed. */
void grpc__call_end(grpc__call *call, uint32_t error_code);

/* grpc_call.c: a call waiting for memory looks at its wait: granted, it
 * reads what it held and goes on; expired, it ends RESOURCE_EXHAUSTED. */
void grpc__call_poll(grpc__call *call);

/* The connection's writes, gathered for one writev: bytes where they
 * lie (a reply's), extending the last piece when they follow it. */
static inline void grpc__iov_add(grpc__conn *c, const void *data, size_t len)
{
    struct iovec *last = c->niov ? &c->iov[c->niov - 1] : NULL;
    if (last && (const char *)last->iov_base + last->iov_len == data) {
        last->iov_len += len; /* contiguous in the stage */
        return;
    }
    c->iov[c->niov++] = (struct iovec){(void *)(uintptr_t)data, len};
}

/* Bytes copied into the stage (frames nghttp2 made): how many fitted. */
static inline size_t grpc__stage(grpc__conn *c, const uint8_t *data, size_t len)
{
    if (c->niov == GRPC_IOV)
        return 0;
    size_t n = GRPC_STAGE - c->stage_len < len ? GRPC_STAGE - c->stage_len : len;
    if (n == 0)
        return 0;
    memcpy(c->stage + c->stage_len, data, n);
    grpc__iov_add(c, c->stage + c->stage_len, n);
    c->stage_len += n;
    return n;
}

/* Room for `pieces` more pieces, `copied` bytes of them staged. */
static inline int grpc__iov_room(const grpc__conn *c, size_t pieces, size_t copied)
{
    return c->niov + pieces <= GRPC_IOV && GRPC_STAGE - c->stage_len >= copied;
}

#endif
