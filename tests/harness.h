/* The integration tests' harness: the real server binary started on a
 * free port ($LEAKYRELU_SERVER, default build/leakyrelu-server, optionally
 * under the command in $LEAKYRELU_WRAPPER, e.g. valgrind), and its end
 * after SIGTERM. Each server's stderr goes to
 * a file in test-logs/ beside the binary, printed when its test fails.
 * Every wait has a deadline, then SIGKILL. A server killed by a signal,
 * exiting with a status other than the one wanted (0 after SIGTERM), or
 * with a sanitizer's report in its stderr fails the running test. */
#ifndef LEAKYRELU_TEST_HARNESS_H
#define LEAKYRELU_TEST_HARNESS_H

#include <sys/types.h>

#include "client.h" /* the tests' HTTP client, which most users of this use */

typedef struct srv {
    pid_t pid;
    int out;       /* the server's stdout (a pipe) */
    char buf[512]; /* what was read from it and not yet used */
    size_t have;
    unsigned port;
} srv;

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

/* The server's resident memory in kB, from /proc. */
long rss_kb(pid_t pid);

/* The most resident memory the server has had, in kB (VmHWM). */
long peak_rss_kb(pid_t pid);

/* Exit status of the server run with args (NULL-ended) and env entry
 * (at most 60 s, then SIGKILL and -1); a signal or a sanitizer report
 * fails the test (and gives -1 for a signal). */
int run_status(const char *const *args, const char *env_entry);

#endif
