/* The integration tests' harness (harness.h): spawning the server,
 * waiting for its "listening on" line, libcurl requests, SIGTERM. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

extern char **environ;

/* Spawns the server with "--port 0 --threads 2" plus args (NULL-ended)
 * and an optional environment entry; stdout_to_pipe 0 sends output to
 * /dev/null (for flag tests). Returns the pid, or -1. */
static pid_t spawn_server(const char *const *args, const char *env_entry, int *out_fd,
                          int *err_fd)
{
    const char *bin = getenv("LEAKYRELU_SERVER");
    char *argv[64];
    int n = 0;
    char wrap[256] = "";
    const char *w = getenv("LEAKYRELU_WRAPPER");
    if (w && *w) {
        snprintf(wrap, sizeof wrap, "%s", w);
        for (char *tok = strtok(wrap, " "); tok && n < 32; tok = strtok(NULL, " "))
            argv[n++] = tok;
    }
    argv[n++] = (char *)(uintptr_t)(bin ? bin : "build/leakyrelu-server");
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
    }
    if (out_fd) {
        if (pipe(fds) != 0)
            return -1;
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
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

/* Starts a server and waits for its "listening on" line; env_entry, if
 * not NULL, is added to (or replaces in) its environment. */
static int start(srv *s, const char *const *extra, const char *env_entry, int *err_fd)
{
    /* The access log is off unless a test turns it on (later flags win). */
    const char *args[32] = {"--port", "0", "--threads", "2", "--log", "off"};
    int n = 6, fd;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    memset(s, 0, sizeof *s);
    s->pid = spawn_server(args, env_entry, &fd, err_fd);
    if (s->pid < 0) {
        tap_fail(__FILE__, __LINE__, "cannot spawn the server");
        return -1;
    }
    s->out = fdopen(fd, "r");
    char line[512];
    while (s->out && fgets(line, sizeof line, s->out)) {
        const char *at = strstr(line, "listening on http://");
        const char *colon = at ? strchr(at + 20, ':') : NULL;
        if (colon) {
            s->port = (unsigned)atoi(colon + 1);
            return 0;
        }
    }
    tap_fail(__FILE__, __LINE__, "the server did not start");
    return -1;
}

int srv_start_env(srv *s, const char *const *extra, const char *env_entry)
{
    return start(s, extra, env_entry, NULL);
}

int srv_start_stderr(srv *s, const char *const *extra, int *err_fd)
{
    return start(s, extra, NULL, err_fd);
}

int srv_start(srv *s, const char *const *extra) { return srv_start_env(s, extra, NULL); }

/* Waits for a line containing `text` on the server's stdout. */
int srv_expect_line(srv *s, const char *text)
{
    char line[512];
    while (fgets(line, sizeof line, s->out))
        if (strstr(line, text))
            return 0;
    return -1;
}

/* SIGTERM, then the exit status (or -1 when it did not exit normally). */
int srv_stop(srv *s)
{
    int status;
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (s->out)
        fclose(s->out);
    s->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The server most tests share, started on first use. */
static srv shared;

static void stop_shared(void)
{
    int rc = srv_stop(&shared);
    if (rc != 0)
        fprintf(stderr, "shared server exited with %d\n", rc);
}

unsigned shared_port(void)
{
    if (shared.pid == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (srv_start(&shared, NULL) != 0)
            return 0;
        atexit(stop_shared);
    }
    return shared.port;
}


size_t reply_on_body(char *data, size_t size, size_t n, void *cls)
{
    reply *r = cls;
    char *b = realloc(r->body, r->len + size * n + 1);
    if (!b)
        return 0;
    memcpy(b + r->len, data, size * n);
    r->body = b;
    r->len += size * n;
    b[r->len] = '\0';
    return size * n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t len)
{
    size_t k = strlen(name);
    if (n > k && strncasecmp(line, name, k) == 0) {
        size_t v = n - k;
        while (v > 0 && (line[k + v - 1] == '\r' || line[k + v - 1] == '\n'))
            v--;
        if (v >= len)
            v = len - 1;
        memcpy(out, line + k, v);
        out[v] = '\0';
    }
}

size_t reply_on_header(char *data, size_t size, size_t n, void *cls)
{
    reply *r = cls;
    size_t have = strlen(r->head);
    if (have + size * n < sizeof r->head) {
        memcpy(r->head + have, data, size * n);
        r->head[have + size * n] = '\0';
    }
    header_value(data, size * n, "Retry-After: ", r->retry_after, sizeof r->retry_after);
    header_value(data, size * n, "Allow: ", r->allow, sizeof r->allow);
    header_value(data, size * n, "X-Request-Id: ", r->request_id, sizeof r->request_id);
    header_value(data, size * n, "Content-Type: ", r->content_type, sizeof r->content_type);
    header_value(data, size * n, "Connection: ", r->connection, sizeof r->connection);
    header_value(data, size * n, "Transfer-Encoding: ", r->transfer_encoding,
                 sizeof r->transfer_encoding);
    return size * n;
}

void reply_free(reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* One request. ctype NULL: curl's default for a body (form-urlencoded);
 * "" sends no Content-Type. h may be NULL for a fresh handle. */
void http(CURL *h, unsigned port, const char *method, const char *target, const char *body,
          const char *ctype, reply *r)
{
    http_header(h, port, method, target, body, ctype, NULL, r);
}

typedef struct upload {
    const char *data;
    size_t len, at, piece;
} upload;

static size_t upload_read(char *buf, size_t size, size_t n, void *cls)
{
    upload *u = cls;
    size_t k = u->len - u->at;
    if (k > size * n)
        k = size * n;
    if (u->piece && k > u->piece)
        k = u->piece;
    memcpy(buf, u->data + u->at, k);
    u->at += k;
    return k;
}

void http_bytes(CURL *h, unsigned port, const char *method, const char *target,
                const void *body, size_t len, size_t chunked, const char *const *headers,
                reply *r)
{
    char url[1024];
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type:");
    int own = h == NULL;
    memset(r, 0, sizeof *r);
    if (own)
        h = curl_easy_init();
    if (!h) {
        curl_slist_free_all(list);
        r->rc = CURLE_FAILED_INIT;
        return;
    }
    upload u = {body, body ? len : 0, 0, chunked};
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, target);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, body ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "HEAD") ? method : NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &u);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, chunked ? (curl_off_t)-1 : (curl_off_t)len);
        if (chunked)
            list = curl_slist_append(list, "Transfer-Encoding: chunked");
    }
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, reply_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, NULL);
    curl_easy_setopt(h, CURLOPT_POST, 0L);
    curl_slist_free_all(list);
    if (own)
        curl_easy_cleanup(h);
}

void http_header(CURL *h, unsigned port, const char *method, const char *target,
                 const char *body, const char *ctype, const char *header, reply *r)
{
    char type[256];
    /* NULL: what curl sends by default for a body; "": none at all */
    snprintf(type, sizeof type, "Content-Type: %s",
             ctype ? ctype : body ? "application/x-www-form-urlencoded" : "");
    const char *headers[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (ctype ? *ctype != '\0' : body != NULL)
        headers[n++] = type;
    headers[n] = header;
    http_bytes(h, port, method, target, body, body ? strlen(body) : 0, 0, headers, r);
}

const char *reply_header(const reply *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *line = r->head; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t k = (size_t)(line + len - v);
            while (k && (v[k - 1] == '\r' || v[k - 1] == ' '))
                k--;
            if (k >= cap)
                k = cap - 1;
            memcpy(out, v, k);
            out[k] = '\0';
            return out;
        }
        line += len + (eol ? 1 : 0);
    }
    return NULL;
}

/* Checks that an error reply is {"error": string, "code": code, ...} with
 * "offset" present iff want_offset, "path" equal to want_path if given. */
void check_error_body(const reply *r, const char *code, int want_offset, const char *want_path)
{
    json_error_t jerr;
    json_t *j = r->body ? json_loads(r->body, 0, &jerr) : NULL;
    if (!j) {
        tap_fail(__FILE__, __LINE__, "error body is not JSON: %s", r->body ? r->body : "");
        return;
    }
    const char *msg = json_string_value(json_object_get(j, "error"));
    ASSERT(msg && strlen(msg) > 5);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "code")), code);
    ASSERT_EQ(json_is_integer(json_object_get(j, "offset")), want_offset);
    if (want_path)
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")), want_path);
    json_decref(j);
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

/* Exit status of the server run with args (NULL-ended) and env entry. */
int run_status(const char *const *args, const char *env_entry)
{
    int status;
    pid_t pid = spawn_server(args, env_entry, NULL, NULL);
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


long http_raw(unsigned port, const char *data, size_t len, char *out, size_t cap, int wait_ms,
              int *closed)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    long got = 0;
    *closed = 0;
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early: read what it said */
        off += (size_t)w;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while ((size_t)got + 1 < cap && poll(&p, 1, wait_ms) == 1) {
        ssize_t n = recv(fd, out + got, cap - 1 - (size_t)got, 0);
        if (n <= 0) {
            *closed = 1; /* an orderly close, or a reset after the reply */
            break;
        }
        got += n;
    }
    out[got] = '\0';
    close(fd);
    return got;
}
