/* The access log: one line per request (JSON or text) and the server's
 * own messages, written to a descriptor by a thread of its own so that a
 * slow or stalled output never holds up a request: when its buffer is
 * full, lines are dropped and counted. */
#ifndef LEAKYRELU_ACCESSLOG_H
#define LEAKYRELU_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum accesslog_format {
    ACCESSLOG_JSON, /* JSON lines: {"ts": ..., "method": ..., ...} */
    ACCESSLOG_TEXT, /* one space-separated line per request */
    ACCESSLOG_OFF   /* no request lines; messages still written, as text */
} accesslog_format;

typedef struct accesslog accesslog;

/* One finished request. Strings are NUL-terminated and may hold any bytes
 * (they are escaped); NULL is written as empty. */
typedef struct accesslog_entry {
    struct timespec ts;      /* when its head arrived (CLOCK_REALTIME) */
    const char *method;
    const char *path;        /* without the query */
    int status;              /* 0 when no reply was sent */
    const char *grpc_status; /* a gRPC call's status ("OK", ...); NULL otherwise */
    int aborted;             /* ended before its reply was complete */
    uint64_t request_bytes;  /* body bytes received */
    uint64_t response_bytes; /* body bytes sent */
    uint64_t elements;
    double duration_s;
    const char *request_id;
    const char *remote;      /* the client's address */
} accesslog_entry;

/* Bytes of lines buffered before lines are dropped. */
#define ACCESSLOG_BUFFER (1u << 20)

/* Longest line; longer paths and messages are cut to fit. */
#define ACCESSLOG_LINE_MAX 1024

/* Starts the writer thread over fd (not closed at the end). Returns NULL
 * when out of memory or threads. */
accesslog *accesslog_new(int fd, accesslog_format format, size_t buffer_bytes);

/* Writes e's line, or drops it when the buffer is full. Never blocks on
 * the output; does nothing in ACCESSLOG_OFF. Thread-safe. */
void accesslog_write(accesslog *log, const accesslog_entry *e);

/* A message of the server's own (level: "error", "warning", "info"), as
 * {"ts": ..., "level": ..., "message": ...} in JSON, else as text.
 * Thread-safe, never blocks on the output. */
void accesslog_message(accesslog *log, const char *level, const char *text);

/* 1 when request lines are written (not ACCESSLOG_OFF): what only they
 * need can be skipped otherwise. Thread-safe. */
int accesslog_on(const accesslog *log);

/* Lines dropped so far. Thread-safe. */
uint64_t accesslog_dropped(const accesslog *log);

/* Writes what is buffered, for at most flush_ms when the output is slow,
 * stops the thread and frees log; NULL is ignored. */
void accesslog_free(accesslog *log, unsigned flush_ms);

/* Parses "json", "text" or "off"; returns 0, or -1 for anything else. */
int accesslog_parse_format(const char *s, accesslog_format *out);

#endif
