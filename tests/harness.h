/* The integration tests' harness: the real server binary started on a
 * free port ($LEAKYRELU_SERVER, default build/leakyrelu-server, optionally
 * under the command in $LEAKYRELU_WRAPPER, e.g. valgrind), requests to it
 * through libcurl, and its end after SIGTERM. Each server's stderr goes to
 * a file in test-logs/ beside the binary, printed when its test fails.
 * Every wait has a deadline, then SIGKILL. A server killed by a signal,
 * exiting with a status other than the one wanted (0 after SIGTERM), or
 * with a sanitizer's report in its stderr fails the running test. */
#ifndef LEAKYRELU_TEST_HARNESS_H
#define LEAKYRELU_TEST_HARNESS_H

#include <curl/curl.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct srv {
    pid_t pid;
    int out;       /* the server's stdout (a pipe) */
    char buf[512]; /* what was read from it and not yet used */
    size_t have;
    unsigned port;
} srv;

typedef struct reply {
    long status;
    char *body;
    size_t len;
    char allow[64];
    char connection[32];
    char transfer_encoding[32];
    char retry_after[16];
    char request_id[160];
    char content_type[80];
    char head[4096]; /* every header line received, as received */
    CURLcode rc;
} reply;

/* Starts a server with "--port 0 --threads 2 --log off" plus extra (NULL-ended)
 * and waits (at most 60 s) for its "listening on" line; env_entry, if not
 * NULL, is added to (or replaces in) its environment. Returns 0, or -1 (a
 * failure). The test must stop it (srv_stop) before it ends. */
int srv_start_env(srv *s, const char *const *extra, const char *env_entry);

/* srv_start with the server's stderr on a pipe whose reading end is put
 * in *err_fd (the caller closes it): not in a file, not searched for
 * sanitizer reports (a sanitizer's exit status still fails the test). */
int srv_start_stderr(srv *s, const char *const *extra, int *err_fd);

/* srv_start_env with no environment entry. */
int srv_start(srv *s, const char *const *extra);

/* Waits (at most 60 s) for a line containing `text` on the server's
 * stdout. 0, or -1 (a failure). */
int srv_expect_line(srv *s, const char *text);

/* Waits (at most 60 s, then SIGKILL) for the server to exit, after a
 * signal the test sent; fails the test unless it exited 0 with no
 * sanitizer report. Returns the exit status, or -1. */
int srv_wait(srv *s);

/* SIGTERM, then srv_wait. */
int srv_stop(srv *s);

/* The port of the server most tests share, started on first use (again
 * after one that ended); 0 when it cannot start. harness_end_test fails
 * the test during which it ends or writes a sanitizer report. */
unsigned shared_port(void);

/* The test runner's calls: before each test; after it (fails the test
 * for a server it left running, or the shared server's end or report,
 * and prints the servers' logs when the test failed); at the end (stops
 * the shared server: 1 when it failed at some point, 0 when it exited
 * cleanly, -1 when no test started it); and, when a test is past its
 * deadline, SIGKILL to every server still running. */
void harness_begin_test(const char *name);
void harness_end_test(void);
int harness_finish(void);
void harness_kill_all(void);

/* libcurl's write callback appending to a reply's body (cls: the reply). */
size_t reply_on_body(char *data, size_t size, size_t n, void *cls);

/* Frees the body and clears r. */
void reply_free(reply *r);

/* One request. ctype NULL: curl's default for a body (form-urlencoded);
 * "" sends no Content-Type. h may be NULL for a fresh handle. */
void http(CURL *h, unsigned port, const char *method, const char *target, const char *body,
          const char *ctype, reply *r);

/* http with one more header line ("Name: value"), or none when NULL. */
void http_header(CURL *h, unsigned port, const char *method, const char *target,
                 const char *body, const char *ctype, const char *header, reply *r);

/* A request with a body of len bytes (may hold NUL bytes; NULL: none)
 * and the header lines in headers (NULL-ended; may be NULL). With
 * chunked, the body is sent in chunks of `chunked` bytes with no length
 * given; else with its Content-Length. No Content-Type unless given;
 * curl's Expect: 100-continue for bodies over 1 MiB unless "Expect:". */
void http_bytes(CURL *h, unsigned port, const char *method, const char *target,
                const void *body, size_t len, size_t chunked, const char *const *headers,
                reply *r);

/* The value of header `name` in r (case-insensitive), copied into out
 * (NUL-terminated); NULL when absent. */
const char *reply_header(const reply *r, const char *name, char *out, size_t cap);

/* Checks that an error reply is {"error": string, "code": code, ...} with
 * "offset" present iff want_offset, "path" equal to want_path if given. */
void check_error_body(const reply *r, const char *code, int want_offset, const char *want_path);

/* Sends len bytes of raw request text on a new connection to port and
 * reads what comes back (at most cap - 1 bytes, NUL-terminated) until the
 * server closes the connection (*closed = 1) or `wait_ms` pass with
 * nothing more (*closed = 0). Returns the bytes read, or -1. */
long http_raw(unsigned port, const char *data, size_t len, char *out, size_t cap, int wait_ms,
              int *closed);

/* The server's resident memory in kB, from /proc. */
long rss_kb(pid_t pid);

/* The most resident memory the server has had, in kB (VmHWM). */
long peak_rss_kb(pid_t pid);

/* The libcurl header callback filling a reply's header fields (cls: the
 * reply), for tests that set up their own handles. */
size_t reply_on_header(char *data, size_t size, size_t n, void *cls);

/* Exit status of the server run with args (NULL-ended) and env entry
 * (at most 60 s, then SIGKILL and -1); a signal or a sanitizer report
 * fails the test (and gives -1 for a signal). */
int run_status(const char *const *args, const char *env_entry);

#endif
