/* The integration tests' harness (harness.h): the servers the tests
 * start, each with its stderr in a file and every wait bounded, judged
 * when they end. */
#define _DEFAULT_SOURCE /* syscall */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

extern char **environ;

/* The harness's failures are printed even past a test's first 20. */
#define FAIL(...) tap_fail_always(__FILE__, __LINE__, __VA_ARGS__)

/* The deadlines of the harness's waits, in milliseconds: generous (a
 * server under valgrind starts in seconds; --grace is at most 30 s in the
 * tests), so that only a hung server reaches them. */
enum { START_MS = 60000, LINE_MS = 60000, EXIT_MS = 60000 };

/* What a server's stderr holds when a sanitizer found a fault, whether or
 * not the fault ended the process. */
static const char *const reports[] = {"ERROR: AddressSanitizer", "runtime error:",
                                      "LeakSanitizer", "WARNING: ThreadSanitizer"};

/* Every server started, while it runs and, for the running test's, until
 * the test ends (its log is printed if the test failed). Entry 0 is the
 * shared server's. */
enum { MAX_TRACKED = 64 };
typedef struct tracked {
    pid_t pid;     /* 0 once reaped */
    char log[512]; /* the file its stderr goes to; "" when the test reads it */
    long from;     /* where this test's part of the log starts */
    long origin;   /* where this process's part starts (the shared server's
                      log holds each one it restarted) */
} tracked;
static tracked servers[MAX_TRACKED];
static int nservers = 1; /* entry 0: the shared server */
static const char *test_name = "none";
static int test_servers;  /* servers the running test started */
static int shared_failed; /* the shared server failed a test */
static int shared_started;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The folder of the servers' logs: test-logs beside the server binary
 * (build/test-logs for build/leakyrelu-server). */
static const char *server_bin(void)
{
    const char *bin = getenv("LEAKYRELU_SERVER");
    return bin && *bin ? bin : "build/leakyrelu-server";
}

static void log_path(char *out, size_t cap, const char *name)
{
    const char *bin = server_bin(), *slash = strrchr(bin, '/');
    int dir = slash ? (int)(slash - bin) : 1;
    snprintf(out, cap, "%.*s/test-logs", dir, slash ? bin : ".");
    mkdir(out, 0755);
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "/%s.log", name);
}

/* The whole of a file from byte `from`, malloc'd and NUL-terminated
 * (NULL when there is none). */
static char *read_from(const char *path, long from)
{
    FILE *f = *path ? fopen(path, "r") : NULL;
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *text = malloc(cap);
    if (text && fseek(f, from, SEEK_SET) == 0) {
        while ((k = fread(text + n, 1, cap - n - 1, f)) > 0) {
            n += k;
            if (cap - n < 2) {
                char *bigger = realloc(text, cap * 2);
                if (!bigger)
                    break;
                text = bigger;
                cap *= 2;
            }
        }
    }
    fclose(f);
    if (text)
        text[n] = '\0';
    return text;
}

static long file_size(const char *path)
{
    struct stat st;
    return *path && stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The first sanitizer report in text, or NULL. */
static const char *find_report(const char *text)
{
    const char *first = NULL;
    for (size_t i = 0; text && i < sizeof reports / sizeof reports[0]; i++) {
        const char *at = strstr(text, reports[i]);
        if (at && (!first || at < first))
            first = at;
    }
    return first;
}

/* Prints a server's log from byte `from` as TAP comments: from the line
 * of its first sanitizer report (80 lines), or else its last 30 lines. */
static void print_log(const char *path, long from)
{
    char *text = read_from(path, from);
    if (!text || !*text) {
        free(text);
        return;
    }
    size_t lines = 0, show = 80;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    const char *start = find_report(text), *what = ", from its first report";
    if (start) {
        while (start > text && start[-1] != '\n')
            start--;
    } else {
        start = text;
        for (size_t skip = lines > 30 ? lines - 30 : 0; skip > 0; start++)
            skip -= *start == '\n';
        what = start == text ? "" : ", its last 30 lines";
    }
    printf("#   the server's stderr (%s, %zu line%s)%s:\n", path, lines, lines == 1 ? "" : "s",
           what);
    for (const char *p = start; *p && show > 0; show--) {
        size_t len = strcspn(p, "\n");
        printf("#   | %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    fflush(stdout);
    free(text);
}

/* Waits for pid to end, for up to ms; *status is its wait status. 0, or
 * -1 when it still ran at the deadline: it was then killed (SIGKILL). A
 * pidfd tells when the child ends; without one, waitpid is retried every
 * 10 ms. Under valgrind (its preloaded library), which does not know
 * pidfd_open (3.19) and would warn, it is not asked. */
static int reap(pid_t pid, int *status, int ms)
{
    static int no_pidfd = -1;
    if (no_pidfd < 0) {
        const char *preload = getenv("LD_PRELOAD");
        no_pidfd = preload && strstr(preload, "vgpreload") != NULL;
    }
    long long end = now_ms() + ms;
    int pidfd = no_pidfd ? -1 : (int)syscall(SYS_pidfd_open, pid, 0);
    if (!no_pidfd && pidfd < 0 && errno == ENOSYS)
        no_pidfd = 1;
    int rc = 0;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            *status = 0;
            rc = -2; /* not a child of ours */
            break;
        }
        long long left = end - now_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
            }
            rc = -1;
            break;
        }
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (pidfd < 0 || poll(&p, 1, (int)left) < 0)
            nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    }
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* Judges a server that ended with wait status `status` (rc: reap's) and
 * fails the running test when it hung, was killed by a signal, exited
 * other than `want` (-1: any status), or left a sanitizer report in its
 * log. Returns its exit status, or -1. */
static int judge(tracked *t, int rc, int status, int want)
{
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *text = read_from(t->log, t->origin);
    const char *report = find_report(text);
    if (rc == -1)
        FAIL("server %d did not end within %d s: killed", (int)t->pid, EXIT_MS / 1000);
    else if (rc == -2)
        FAIL("server %d cannot be waited for (not a child)", (int)t->pid);
    else if (WIFSIGNALED(status))
        FAIL("server %d was killed by signal %d (%s)", (int)t->pid, WTERMSIG(status),
             strsignal(WTERMSIG(status)));
    else if (want >= 0 && code != want)
        FAIL("server %d exited with status %d, not %d", (int)t->pid, code, want);
    if (report)
        FAIL("server %d's stderr has a report: %.*s", (int)t->pid, (int)strcspn(report, "\n"),
             report);
    free(text);
    t->pid = 0;
    return rc == -1 ? -1 : code;
}

/* Spawns the server with args (NULL-ended) and an optional environment
 * entry; its stdout on a pipe (*out_fd) or /dev/null (out_fd NULL), its
 * stderr on a pipe (*err_fd) or appended to the file `log`. Returns the
 * pid, or -1. */
static pid_t spawn_server(const char *const *args, const char *env_entry, int *out_fd,
                          int *err_fd, const char *log)
{
    char *argv[64];
    int n = 0;
    char wrap[256] = "";
    const char *w = getenv("LEAKYRELU_WRAPPER");
    if (w && *w) {
        snprintf(wrap, sizeof wrap, "%s", w);
        for (char *tok = strtok(wrap, " "); tok && n < 32; tok = strtok(NULL, " "))
            argv[n++] = tok;
    }
    argv[n++] = (char *)(uintptr_t)server_bin();
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = (char *)(uintptr_t)args[i];
    argv[n] = NULL;

    char *envp[256];
    int e = 0;
    size_t name_len = env_entry ? strcspn(env_entry, "=") + 1 : 0;
    for (char **p = environ; *p && e < 250; p++)
        if (!env_entry || strncmp(*p, env_entry, name_len) != 0) /* replaced */
            envp[e++] = *p;
    if (env_entry)
        envp[e++] = (char *)(uintptr_t)env_entry;
    envp[e] = NULL;

    posix_spawn_file_actions_t fa;
    int fds[2] = {-1, -1}, efds[2] = {-1, -1};
    posix_spawn_file_actions_init(&fa);
    if (err_fd) {
        if (pipe(efds) != 0)
            return -1;
        posix_spawn_file_actions_adddup2(&fa, efds[1], 2);
        posix_spawn_file_actions_addclose(&fa, efds[0]);
        posix_spawn_file_actions_addclose(&fa, efds[1]);
    } else {
        posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    }
    if (out_fd) {
        if (pipe(fds) != 0)
            return -1;
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (err_fd) {
        close(efds[1]);
        if (rc != 0)
            close(efds[0]);
        else
            *err_fd = efds[0];
    }
    if (out_fd) {
        close(fds[1]);
        if (rc != 0) {
            close(fds[0]);
            return -1;
        }
        *out_fd = fds[0];
    }
    return rc == 0 ? pid : -1;
}

/* A new entry for a server of the running test, its log file emptied;
 * NULL (and a failure) when there are too many. */
static tracked *track(int piped_stderr)
{
    if (nservers == MAX_TRACKED) {
        FAIL("more than %d servers in one test", MAX_TRACKED - 1);
        return NULL;
    }
    tracked *t = &servers[nservers++];
    char name[160];
    snprintf(name, sizeof name, "%s-%d", test_name, ++test_servers);
    memset(t, 0, sizeof *t);
    if (!piped_stderr) {
        log_path(t->log, sizeof t->log, name);
        FILE *f = fopen(t->log, "w");
        if (f)
            fclose(f);
    }
    return t;
}

/* Reads the server's stdout up to a line containing `text`, for up to ms
 * milliseconds; the line is copied into line (cap bytes). 0, or -1 at the
 * end of its output or at the deadline (a failure then says which). */
static int read_line(srv *s, const char *text, char *line, size_t cap, int ms)
{
    long long end = now_ms() + ms;
    for (;;) {
        char *nl = memchr(s->buf, '\n', s->have);
        if (nl || s->have == sizeof s->buf) { /* a line, or an overlong one cut */
            size_t len = nl ? (size_t)(nl - s->buf) : s->have;
            snprintf(line, cap, "%.*s", (int)len, s->buf);
            s->have -= len + (nl != NULL);
            memmove(s->buf, s->buf + len + (nl != NULL), s->have);
            if (strstr(line, text))
                return 0;
            continue;
        }
        long long left = end - now_ms();
        struct pollfd p = {.fd = s->out, .events = POLLIN};
        int ready = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        ssize_t n = ready > 0 ? read(s->out, s->buf + s->have, sizeof s->buf - s->have) : -1;
        if (n <= 0) {
            FAIL("no \"%s\" from server %d: %s", text, (int)s->pid,
                 ready == 0 ? "the deadline passed" : "its output ended");
            return -1;
        }
        s->have += (size_t)n;
    }
}

/* Starts a server and waits for its "listening on" line; env_entry, if
 * not NULL, is added to (or replaces in) its environment. */
static int start(srv *s, const char *const *extra, const char *env_entry, int *err_fd,
                 tracked *t)
{
    /* The access log is off unless a test turns it on (later flags win). */
    const char *args[32] = {"--port", "0", "--threads", "2", "--log", "off"};
    int n = 6;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    memset(s, 0, sizeof *s);
    s->out = -1;
    if (!t)
        return -1;
    t->origin = file_size(t->log);
    s->pid = t->pid = spawn_server(args, env_entry, &s->out, err_fd, t->log);
    if (s->pid < 0) {
        s->pid = t->pid = 0;
        FAIL("cannot spawn %s", server_bin());
        return -1;
    }
    char line[512];
    if (read_line(s, "listening on http://", line, sizeof line, START_MS) == 0) {
        const char *colon = strchr(strstr(line, "listening on http://") + 20, ':');
        s->port = colon ? (unsigned)atoi(colon + 1) : 0;
        if (s->port)
            return 0;
    }
    FAIL("the server did not start");
    srv_stop(s);
    return -1;
}

int srv_start_env(srv *s, const char *const *extra, const char *env_entry)
{
    return start(s, extra, env_entry, NULL, track(0));
}

int srv_start_stderr(srv *s, const char *const *extra, int *err_fd)
{
    return start(s, extra, NULL, err_fd, track(1));
}

int srv_start(srv *s, const char *const *extra) { return srv_start_env(s, extra, NULL); }

int srv_expect_line(srv *s, const char *text)
{
    char line[512];
    return read_line(s, text, line, sizeof line, LINE_MS);
}

static tracked *tracked_of(pid_t pid)
{
    for (int i = 0; i < nservers; i++)
        if (servers[i].pid == pid)
            return &servers[i];
    return NULL;
}

int srv_wait(srv *s)
{
    tracked *t = s->pid > 0 ? tracked_of(s->pid) : NULL;
    if (!t)
        return -1;
    int status, rc = reap(s->pid, &status, EXIT_MS);
    if (s->out >= 0)
        close(s->out);
    s->out = -1;
    s->pid = 0;
    return judge(t, rc, status, 0);
}

int srv_stop(srv *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    return srv_wait(s);
}

/* The server most tests share, started on first use, stopped by
 * harness_finish. */
static srv shared;

unsigned shared_port(void)
{
    if (shared.pid == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        tracked *t = &servers[0];
        if (!shared_started) { /* one log for the run, a restart's appended */
            log_path(t->log, sizeof t->log, "shared");
            FILE *f = fopen(t->log, "w");
            if (f)
                fclose(f);
            shared_started = 1;
        }
        if (start(&shared, NULL, NULL, NULL, t) != 0) {
            shared_failed = 1;
            return 0;
        }
    }
    return shared.port;
}

int run_status(const char *const *args, const char *env_entry)
{
    tracked *t = track(0);
    int status;
    pid_t pid = t ? spawn_server(args, env_entry, NULL, NULL, t->log) : -1;
    if (pid < 0)
        return -1;
    t->pid = pid;
    int rc = reap(pid, &status, EXIT_MS);
    return judge(t, rc, status, -1);
}

void harness_begin_test(const char *name)
{
    test_name = name;
    test_servers = 0;
    nservers = 1;
    servers[0].from = file_size(servers[0].log);
}

void harness_end_test(void)
{
    /* A server the test left running is stopped, and judged. */
    for (int i = 1; i < nservers; i++) {
        if (servers[i].pid > 0) {
            FAIL("the test left server %d running", (int)servers[i].pid);
            kill(servers[i].pid, SIGTERM);
            int status, rc = reap(servers[i].pid, &status, EXIT_MS);
            judge(&servers[i], rc, status, 0);
        }
    }
    /* The shared server must still run, with no report in its log. */
    int before = tap_failed;
    if (shared.pid > 0) {
        int status;
        pid_t r = waitpid(shared.pid, &status, WNOHANG);
        if (r == shared.pid) {
            FAIL("the shared server ended during the test");
            judge(&servers[0], 0, status, 0);
            if (shared.out >= 0)
                close(shared.out);
            memset(&shared, 0, sizeof shared); /* the next test starts another */
        } else {
            char *text = read_from(servers[0].log, servers[0].from);
            const char *report = find_report(text);
            if (report)
                FAIL("the shared server's stderr has a report: %.*s", (int)strcspn(report, "\n"),
                     report);
            free(text);
        }
    }
    shared_failed |= tap_failed > before;
    if (!tap_failed)
        return;
    print_log(servers[0].log, servers[0].from);
    for (int i = 1; i < nservers; i++)
        print_log(servers[i].log, 0);
}

int harness_finish(void)
{
    if (!shared_started)
        return -1;
    int before = tap_failed;
    servers[0].from = 0;
    if (shared.pid > 0)
        srv_stop(&shared);
    if (shared_failed)
        printf("#   the shared server failed a test before (see above)\n");
    if (tap_failed > before)
        print_log(servers[0].log, 0);
    return shared_failed || tap_failed > before;
}

void harness_kill_all(void)
{
    for (int i = 0; i < nservers; i++) {
        if (servers[i].pid > 0) {
            kill(servers[i].pid, SIGKILL);
            print_log(servers[i].log, servers[i].from);
        }
    }
}

/* The server's resident memory in kB, from /proc. */
static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long kb = -1;
    size_t n = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            kb = atol(line + n);
    if (f)
        fclose(f);
    return kb;
}

long rss_kb(pid_t pid) { return status_kb(pid, "VmRSS:"); }

long peak_rss_kb(pid_t pid) { return status_kb(pid, "VmHWM:"); }
