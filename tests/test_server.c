/* Integration tests: start the real server binary on a free port, talk to
 * it with libcurl, stop it with SIGTERM. The binary is $LEAKYRELU_SERVER
 * (default build/leakyrelu-server), optionally run under the command in
 * $LEAKYRELU_WRAPPER (for example valgrind). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <jansson.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "helpers.h"
#include "tap.h"
#include "tests.h"

extern char **environ;

typedef struct srv {
    pid_t pid;
    FILE *out; /* the server's stdout */
    unsigned port;
} srv;

/* Spawns the server with "--port 0 --threads 2" plus args (NULL-ended)
 * and an optional environment entry; stdout_to_pipe 0 sends output to
 * /dev/null (for flag tests). Returns the pid, or -1. */
static pid_t spawn_server(const char *const *args, const char *env_entry, int *out_fd)
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
    int fds[2] = {-1, -1};
    posix_spawn_file_actions_init(&fa);
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
static int srv_start_env(srv *s, const char *const *extra, const char *env_entry)
{
    const char *args[32] = {"--port", "0", "--threads", "2"};
    int n = 4, fd;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    memset(s, 0, sizeof *s);
    s->pid = spawn_server(args, env_entry, &fd);
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

static int srv_start(srv *s, const char *const *extra) { return srv_start_env(s, extra, NULL); }

/* Waits for a line containing `text` on the server's stdout. */
static int srv_expect_line(srv *s, const char *text)
{
    char line[512];
    while (fgets(line, sizeof line, s->out))
        if (strstr(line, text))
            return 0;
    return -1;
}

/* SIGTERM, then the exit status (or -1 when it did not exit normally). */
static int srv_stop(srv *s)
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

static unsigned shared_port(void)
{
    if (shared.pid == 0) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (srv_start(&shared, NULL) != 0)
            return 0;
        atexit(stop_shared);
    }
    return shared.port;
}

typedef struct reply {
    long status;
    char *body;
    size_t len;
    char allow[64];
    char connection[32];
    char transfer_encoding[32];
    CURLcode rc;
} reply;

static size_t on_body(char *data, size_t size, size_t n, void *cls)
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

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
    reply *r = cls;
    header_value(data, size * n, "Allow: ", r->allow, sizeof r->allow);
    header_value(data, size * n, "Connection: ", r->connection, sizeof r->connection);
    header_value(data, size * n, "Transfer-Encoding: ", r->transfer_encoding,
                 sizeof r->transfer_encoding);
    return size * n;
}

static void reply_free(reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* One request. ctype NULL: curl's default for a body (form-urlencoded);
 * "" sends no Content-Type. h may be NULL for a fresh handle. */
static void http(CURL *h, unsigned port, const char *method, const char *target,
                 const char *body, const char *ctype, reply *r)
{
    char url[1024], hdr[256];
    struct curl_slist *headers = NULL;
    int own = h == NULL;
    memset(r, 0, sizeof *r);
    if (own)
        h = curl_easy_init();
    if (!h) {
        r->rc = CURLE_FAILED_INIT;
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, target);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, body ? 0L : 1L); /* resets NOBODY: first */
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "HEAD") ? method : NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (ctype) {
        snprintf(hdr, sizeof hdr, "Content-Type:%s%s", *ctype ? " " : "", ctype);
        headers = curl_slist_append(headers, hdr);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (own)
        curl_easy_cleanup(h);
}

/* Checks that an error reply is {"error": string, "code": code, ...} with
 * "offset" present iff want_offset, "path" equal to want_path if given. */
static void check_error_body(const reply *r, const char *code, int want_offset,
                             const char *want_path)
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

void test_http_endpoints(void)
{
    unsigned port = shared_port();
    reply r;
    static const char *const ok[] = {"/healthz", "/livez", "/readyz"};
    for (int i = 0; i < 3; i++) {
        http(NULL, port, "GET", ok[i], NULL, NULL, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, "{\"status\": \"ok\"}");
        reply_free(&r);
    }
    http(NULL, port, "GET", "/version", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && strstr(r.body, "\"version\": \"") != NULL);
    reply_free(&r);
    http(NULL, port, "HEAD", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    reply_free(&r);
}

void test_http_compute(void)
{
    static const struct {
        const char *target, *body, *ctype, *want;
    } cases[] = {
        {"/forward", "{\"x\": [[1, -2], [3, -4]], \"slope\": 0.1}", "application/json",
         "{\"y\": [[1.0, -0.2], [3.0, -0.4]]}"},
        {"/forward?slope=0.1", "[1, -2, 3]", NULL, "[1.0, -0.2, 3.0]"},
        {"/forward", "[1, -2, 3]", "", "[1.0, -0.02, 3.0]"},
        {"/forward", "-0", "application/json; charset=utf-8", "-0.0"},
        {"/forward", "[]", NULL, "[]"},
        {"/forward?slope=2", "{\"x\": [-3]}", NULL, "{\"y\": [-6.0]}"},
        {"/forward?&slope=2&", "[-3]", NULL, "[-6.0]"},
        {"/gradient", "{\"x\": [1, 0, -0, -1]}", NULL, "{\"grad\": [1.0, 0.01, 0.01, 0.01]}"},
        {"/gradient?slope=0.5", "{\"x\": [1, -1], \"grad_output\": [3, 3]}", NULL,
         "{\"grad\": [3.0, 1.5]}"},
        {"/forward", "[1e-05, 1e16, 1000000000000000000000000000000]", NULL,
         "[1e-05, 1e+16, 1e+30]"},
    };
    unsigned port = shared_port();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r;
        http(NULL, port, "POST", cases[i].target, cases[i].body, cases[i].ctype, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, cases[i].want);
        reply_free(&r);
    }
}

void test_http_errors(void)
{
    static const struct {
        const char *method, *target, *body, *ctype;
        long status;
        const char *code;
        int offset;
        const char *path, *allow;
    } cases[] = {
        {"POST", "/forward", "[1, 2", NULL, 400, "invalid_json", 1, NULL, NULL},
        {"POST", "/forward", "[NaN]", NULL, 400, "invalid_number", 1, NULL, NULL},
        {"POST", "/forward", "[1] [2]", NULL, 400, "trailing_data", 1, NULL, NULL},
        {"POST", "/forward", "[\"\xff\"]", NULL, 400, "invalid_utf8", 1, NULL, NULL},
        {"POST", "/forward", "", NULL, 400, "empty_body", 0, NULL, NULL},
        {"GET", "/nope", NULL, NULL, 404, "not_found", 0, NULL, NULL},
        {"GET", "/forward", NULL, NULL, 405, "method_not_allowed", 0, NULL, "POST"},
        {"DELETE", "/healthz", NULL, NULL, 405, "method_not_allowed", 0, NULL, "GET, HEAD"},
        {"POST", "/forward", "[1]", "text/plain", 415, "unsupported_media_type", 0, NULL, NULL},
        {"POST", "/forward", "{\"slope\": 1}", NULL, 422, "missing_x", 0, NULL, NULL},
        {"POST", "/forward", "[[1, 2], [3]]", NULL, 422, "ragged_array", 0, "x[1]", NULL},
        {"POST", "/forward", "[1, true]", NULL, 422, "not_a_number", 0, "x[1]", NULL},
        {"POST", "/forward", "[[[1e400]]]", NULL, 422, "number_out_of_range", 0, "x[0][0][0]", NULL},
        {"POST", "/forward", "{\"x\": [1], \"slope\": \"a\"}", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward?slope=x", "[1]", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward?slope=1", "{\"x\": [1], \"slope\": 1}", NULL, 422, "slope_conflict", 0, NULL, NULL},
        {"POST", "/forward?sloep=1", "[1]", NULL, 422, "unknown_parameter", 0, NULL, NULL},
        {"POST", "/forward?slope=1%00x", "[1]", NULL, 422, "invalid_slope", 0, NULL, NULL},
        {"POST", "/forward", "[1]", "application/json garbage", 415, "unsupported_media_type", 0, NULL, NULL},
        {"POST", "/forward", "{\"x\": [1], \"slop\": 1}", NULL, 422, "unknown_member", 0, NULL, NULL},
        {"POST", "/gradient", "{\"x\": [1], \"grad_output\": [1, 2]}", NULL, 422, "shape_mismatch", 0, NULL, NULL},
        {"POST", "/forward", "{\"x\": [1], \"x\": [1]}", NULL, 422, "duplicate_member", 0, NULL, NULL},
        {"POST", "/forward", "true", NULL, 422, "invalid_body", 0, NULL, NULL},
        {"POST", "/forward?slope=-10", "[-1e308]", NULL, 422, "result_not_finite", 0, "x[0]", NULL},
    };
    unsigned port = shared_port();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r;
        http(NULL, port, cases[i].method, cases[i].target, cases[i].body, cases[i].ctype, &r);
        if (r.status != cases[i].status)
            tap_fail(__FILE__, __LINE__, "case %zu: status %ld, want %ld: %s", i, r.status,
                     cases[i].status, r.body ? r.body : "");
        check_error_body(&r, cases[i].code, cases[i].offset, cases[i].path);
        if (cases[i].allow)
            ASSERT_STR_EQ(r.allow, cases[i].allow);
        reply_free(&r);
    }
    /* A deep document is refused without harming the server. */
    size_t n = 200000;
    char *deep = malloc(2 * n + 1);
    ASSERT(deep != NULL);
    if (!deep)
        return;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    reply r;
    http(NULL, port, "POST", "/forward", deep, NULL, &r);
    ASSERT_EQ(r.status, 422);
    check_error_body(&r, "too_deep", 0, NULL);
    reply_free(&r);
    free(deep);
}

/* A chunked upload of `total` bytes of "[1, 1, ...]"-like filler. */
typedef struct upload {
    size_t sent, total;
} upload;

static size_t on_read_filler(char *buf, size_t size, size_t n, void *cls)
{
    upload *u = cls;
    size_t k = size * n < 100 ? size * n : 100; /* many small chunks */
    if (k > u->total - u->sent)
        k = u->total - u->sent;
    for (size_t i = 0; i < k; i++)
        buf[i] = u->sent + i == 0 ? '[' : ' ';
    u->sent += k;
    return k;
}

void test_http_body_limit(void)
{
    static const char *const args[] = {"--max-body", "1000", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    char body[1200];
    reply r;
    /* Exactly at the limit: read and answered. */
    memset(body, ' ', sizeof body);
    memcpy(body, "[1]", 3);
    body[1000] = '\0';
    http(NULL, s.port, "POST", "/forward", body, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.body, "[1.0]");
    reply_free(&r);
    /* One byte over, by Content-Length. */
    body[1000] = ' ';
    body[1001] = '\0';
    http(NULL, s.port, "POST", "/forward", body, NULL, &r);
    ASSERT_EQ(r.status, 413);
    check_error_body(&r, "body_too_large", 0, NULL);
    reply_free(&r);
    /* Chunked, over the limit: decided while reading, answered at the end,
     * however far past the limit the body goes (in many pieces). */
    static const size_t totals[] = {999, 5000, 300000};
    for (size_t t = 0; t < 3; t++) {
        size_t total = totals[t];
        CURL *h = curl_easy_init();
        struct curl_slist *hd = curl_slist_append(NULL, "Transfer-Encoding: chunked");
        char url[128];
        upload u = {0, total};
        memset(&r, 0, sizeof r);
        snprintf(url, sizeof url, "http://127.0.0.1:%u/forward", s.port);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_filler);
        curl_easy_setopt(h, CURLOPT_READDATA, &u);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        /* 999 bytes of "[   ..." is unterminated JSON: 400, not 413. */
        ASSERT_EQ(r.status, total <= 1000 ? 400 : 413);
        reply_free(&r);
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);
    }
    /* A GET with a body over the limit is still answered. */
    char *big = malloc(300001);
    ASSERT(big != NULL);
    if (big) {
        memset(big, ' ', 300000);
        big[300000] = '\0';
        http(NULL, s.port, "GET", "/healthz", big, NULL, &r);
        ASSERT_EQ(r.status, 200);
        reply_free(&r);
        free(big);
    }
    ASSERT_EQ(srv_stop(&s), 0);
}

/* One PyTorch case over a keep-alive connection: the reply is exactly
 * PyTorch's. */
typedef struct torch_conn {
    CURL *h;
    unsigned port;
} torch_conn;

static void torch_over_http(void *arg, int line, int which, const char *req, const char *want)
{
    torch_conn *c = arg;
    reply r;
    http(c->h, c->port, "POST", which ? "/gradient" : "/forward", req, "application/json", &r);
    if (r.status != 200 || !r.body || strcmp(r.body, want) != 0)
        tap_fail(__FILE__, __LINE__, "case %d/%d: status %ld\n#   want %.200s\n#   got  %.200s",
                 line, which, r.status, want, r.body ? r.body : "(null)");
    reply_free(&r);
}

void test_http_torch_cases(void)
{
    torch_conn c = {curl_easy_init(), shared_port()}; /* one connection for all */
    ASSERT_EQ(test_torch_cases(torch_over_http, &c), 200);
    curl_easy_cleanup(c.h);
}

/* Large replies are streamed: chunked on HTTP/1.1 (and the connection
 * stays usable), until the close on HTTP/1.0; exact either way. */
void test_http_stream(void)
{
    static const size_t shape[] = {400, 250};
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    for (int round = 0; round < 3; round++) {
        char *want, *body = test_big_body(shape, 2, round != 1, &want);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         round == 2 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1);
        reply r;
        http(h, port, "POST", "/forward", body, "application/json", &r);
        ASSERT_EQ(r.rc, CURLE_OK);
        ASSERT_EQ(r.status, 200);
        if (round < 2)
            ASSERT_STR_EQ(r.transfer_encoding, "chunked");
        else
            ASSERT_STR_EQ(r.transfer_encoding, "");
        ASSERT_EQ(r.len, strlen(want));
        ASSERT(r.body && strcmp(r.body, want) == 0);
        reply_free(&r);
        free(want);
        free(body);
    }
    curl_easy_cleanup(h);
    /* --threads 1: no workers, the connection's thread formats alone. */
    static const char *const one[] = {"--threads", "1", NULL};
    srv s;
    if (srv_start(&s, one) != 0)
        return;
    char *want, *body = test_big_body(shape, 2, 1, &want);
    reply r;
    http(NULL, s.port, "POST", "/forward", body, "application/json", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.transfer_encoding, "chunked");
    ASSERT(r.body && strcmp(r.body, want) == 0);
    reply_free(&r);
    free(want);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* The server's resident memory in kB, from /proc. */
static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* A client that reads a large reply slowly does not make the server hold
 * the reply's text: once the first bytes arrive (so the result is
 * computed and, were it written whole, would be written by now), the
 * server holds the 8 MB of doubles but not the 21 MB of text. The body
 * is short numbers ("-3, ") whose results print long. */
void test_http_stream_slow_reader(void)
{
    enum { N = 1000000 };
    static const char want[] = "-0.3703703670370368"; /* -3 * slope, as Python prints it */
    const size_t reply_len = 2 + (size_t)N * (sizeof want - 1) + (size_t)(N - 1) * 2;
    /* Under AddressSanitizer freed memory stays resident in quarantine:
     * turned off for this one server (other options kept). */
    char asan[512];
    const char *user = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=0", user ? user : "",
             user && *user ? ":" : "");
    srv s;
    if (srv_start_env(&s, NULL, asan) != 0)
        return;
    char *body = malloc((size_t)N * 4 + 2), *p = body;
    ASSERT(body != NULL);
    *p++ = '[';
    for (int i = 0; i < N; i++) {
        memcpy(p, i ? ", -3" : "-3", i ? 4 : 2);
        p += i ? 4 : 2;
    }
    *p++ = ']';
    size_t body_len = (size_t)(p - body);
    long before = rss_kb(s.pid);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {60, 0}; /* a safety net, not the measurement */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int small = 16384; /* a small receive window: the text stays at the server */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "POST /forward?slope=0.1234567890123456 HTTP/1.1\r\nHost: x\r\n"
                      "Connection: close\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      body_len);
    ASSERT_EQ(write(fd, head, (size_t)hn), hn);
    for (size_t off = 0; off < body_len;) {
        ssize_t w = write(fd, body + off, body_len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    char *text = malloc(reply_len + 65536);
    ASSERT(text != NULL);
    ssize_t got = read(fd, text, 1024);
    ASSERT(got > 0);
    long during = rss_kb(s.pid);
    const char *wrapper = getenv("LEAKYRELU_WRAPPER");
    if (wrapper && *wrapper) { /* valgrind's own memory would blur the figure */
        printf("#   slow reader: RSS not compared under %s\n", wrapper);
    } else if (before > 0 && during > 0 &&
               (size_t)(during - before) * 1024 > 8 * (size_t)N + reply_len / 2) {
        tap_fail(__FILE__, __LINE__, "server RSS grew by %ld kB while the client paused",
                 during - before);
    }
    /* Then the whole text arrives (to the close), and it is right. */
    size_t total = got > 0 ? (size_t)got : 0;
    while (total < reply_len + 65536 &&
           (got = read(fd, text + total, reply_len + 65536 - total)) > 0)
        total += (size_t)got;
    close(fd);
    size_t want_len = sizeof want - 1, numbers = 0, body_at = 0;
    for (size_t i = 0; i + 4 <= total && !body_at; i++)
        if (memcmp(text + i, "\r\n\r\n", 4) == 0)
            body_at = i + 4;
    /* chunked: count the numbers wherever the chunk framing falls */
    for (size_t i = body_at; body_at && i + want_len <= total; i++) {
        if (memcmp(text + i, want, want_len) == 0) {
            numbers++;
            i += want_len - 1;
        }
    }
    ASSERT(body_at != 0);
    ASSERT(total > reply_len);
    ASSERT(numbers >= (size_t)N - 4000); /* a few are split by chunk framing */
    free(text);
    free(body);
    ASSERT_EQ(srv_stop(&s), 0);
}

void test_http_keepalive(void)
{
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    for (int i = 0; i < 5; i++) {
        reply r;
        long connects = -1;
        http(h, port, "POST", "/forward", "[-1]", NULL, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STR_EQ(r.body, "[-0.01]");
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        ASSERT_EQ(connects, i == 0 ? 1 : 0); /* reused after the first */
        reply_free(&r);
    }
    /* An error reply that read the whole body keeps the connection too. */
    reply r;
    long connects = -1;
    http(h, port, "POST", "/forward", "[1,", NULL, &r);
    ASSERT_EQ(r.status, 400);
    reply_free(&r);
    http(h, port, "GET", "/healthz", NULL, NULL, &r);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    ASSERT_EQ(connects, 0);
    reply_free(&r);
    curl_easy_cleanup(h);
}

typedef struct worker {
    unsigned port;
    int id, failures;
} worker;

static void *concurrent_client(void *arg)
{
    worker *w = arg;
    CURL *h = curl_easy_init();
    for (int i = 0; i < 40; i++) {
        char body[64], want[64];
        int v = w->id * 1000 + i;
        snprintf(body, sizeof body, "[%d, -%d]", v, v);
        snprintf(want, sizeof want, "[%d.0, -%d.0]", v, v * 2);
        reply r;
        http(h, w->port, "POST", "/forward?slope=2", body, NULL, &r);
        if (r.status != 200 || !r.body || strcmp(r.body, want) != 0)
            w->failures++;
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

void test_http_concurrent(void)
{
    enum { N = 8 };
    pthread_t t[N];
    worker w[N];
    unsigned port = shared_port();
    for (int i = 0; i < N; i++) {
        w[i] = (worker){port, i + 1, 0};
        ASSERT_EQ(pthread_create(&t[i], NULL, concurrent_client, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(w[i].failures, 0);
    }
}

/* Random bytes and mutated requests: every reply is a JSON error or a
 * result, and the server stays up. */
void test_http_garbage(void)
{
    unsigned port = shared_port();
    CURL *h = curl_easy_init();
    uint64_t state = 12345;
    static const char seed[] = "{\"x\": [[1.5, -2e-3], [3, -4]], \"slope\": 0.1, \"grad_output\": [[1, 2], [3, 4]]}";
    for (int i = 0; i < 300; i++) {
        char body[sizeof seed];
        memcpy(body, seed, sizeof seed);
        for (int k = 0; k < 1 + i % 4; k++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body[state % (sizeof seed - 1)] = (char)(1 + (state >> 20) % 255);
        }
        reply r;
        http(h, port, "POST", i % 2 ? "/gradient" : "/forward", body, NULL, &r);
        ASSERT(r.status == 200 || r.status == 400 || r.status == 422);
        json_t *j = r.body ? json_loads(r.body, JSON_DECODE_ANY, NULL) : NULL;
        if (!j)
            tap_fail(__FILE__, __LINE__, "reply is not JSON: %s", r.body ? r.body : "(none)");
        json_decref(j);
        reply_free(&r);
    }
    curl_easy_cleanup(h);
    reply r;
    http(NULL, port, "GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);
}

/* A connection that stalls mid-request is closed after --timeout. */
void test_http_timeout(void)
{
    static const char *const args[] = {"--timeout", "1", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0}; /* a safety net, not the measurement */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char partial[] = "POST /forward HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n[1";
    ASSERT_EQ(write(fd, partial, sizeof partial - 1), (long)(sizeof partial - 1));
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    ASSERT(n >= 0); /* closed (0) or an error reply, not the 10 s safety timeout */
    close(fd);
    ASSERT_EQ(srv_stop(&s), 0);
}

/* Graceful shutdown: SIGTERM while a request is in flight. */
typedef struct slow_upload {
    sem_t started, go;
    int first;
    const char *body;
    size_t off, len;
} slow_upload;

static size_t on_read_slow(char *buf, size_t size, size_t n, void *cls)
{
    slow_upload *u = cls;
    if (u->first) { /* the server answered 100-continue: it has the request */
        u->first = 0;
        sem_post(&u->started);
        while (sem_wait(&u->go) != 0) {
        }
    }
    size_t k = size * n < u->len - u->off ? size * n : u->len - u->off;
    memcpy(buf, u->body + u->off, k);
    u->off += k;
    return k;
}

typedef struct inflight {
    unsigned port;
    slow_upload up;
    reply r;
} inflight;

static void *inflight_client(void *arg)
{
    inflight *f = arg;
    char url[128];
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Expect: 100-continue");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/forward", f->port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->up.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read_slow);
    curl_easy_setopt(h, CURLOPT_READDATA, &f->up);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->r);
    f->r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->r.status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return NULL;
}

void test_http_shutdown(void)
{
    static const char *const args[] = {"--grace", "30", NULL};
    srv s;
    if (srv_start(&s, args) != 0)
        return;
    CURL *idle = curl_easy_init();
    reply r;
    http(idle, s.port, "GET", "/readyz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    reply_free(&r);

    inflight f;
    memset(&f, 0, sizeof f);
    f.port = s.port;
    f.up.first = 1;
    f.up.body = "{\"x\": [2, -2]}";
    f.up.len = strlen(f.up.body);
    sem_init(&f.up.started, 0, 0);
    sem_init(&f.up.go, 0, 0);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, inflight_client, &f), 0);
    while (sem_wait(&f.up.started) != 0) {
    }
    kill(s.pid, SIGTERM);
    ASSERT_EQ(srv_expect_line(&s, "draining"), 0);

    /* Draining: an open connection sees /readyz 503 and Connection: close;
     * new connections are refused. */
    http(idle, s.port, "GET", "/readyz", NULL, NULL, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT_STR_EQ(r.connection, "close");
    check_error_body(&r, "shutting_down", 0, NULL);
    reply_free(&r);
    http(NULL, s.port, "GET", "/healthz", NULL, NULL, &r);
    ASSERT_EQ(r.rc, CURLE_COULDNT_CONNECT);
    reply_free(&r);

    /* The request in flight completes, then the server exits 0. */
    sem_post(&f.up.go);
    pthread_join(t, NULL);
    ASSERT_EQ(f.r.rc, CURLE_OK);
    ASSERT_EQ(f.r.status, 200);
    ASSERT_STR_EQ(f.r.body, "{\"y\": [2.0, -0.02]}");
    reply_free(&f.r);
    curl_easy_cleanup(idle);
    int status;
    ASSERT_EQ(waitpid(s.pid, &status, 0), s.pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fclose(s.out);
    sem_destroy(&f.up.started);
    sem_destroy(&f.up.go);
}

/* Exit status of the server run with args (NULL-ended) and env entry. */
static int run_status(const char *const *args, const char *env_entry)
{
    int status;
    pid_t pid = spawn_server(args, env_entry, NULL);
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void test_http_flags(void)
{
    static const char *const help[] = {"--help", NULL};
    static const char *const version[] = {"--version", NULL};
    static const char *const bad_port[] = {"--port", "http", NULL};
    static const char *const bad_body[] = {"--max-body", "lots", NULL};
    static const char *const bad_flag[] = {"--verbose", NULL};
    static const char *const extra[] = {"serve", NULL};
    ASSERT_EQ(run_status(help, NULL), 0);
    ASSERT_EQ(run_status(version, NULL), 0);
    ASSERT_EQ(run_status(bad_port, NULL), 2);
    ASSERT_EQ(run_status(bad_body, NULL), 2);
    ASSERT_EQ(run_status(bad_flag, NULL), 2);
    ASSERT_EQ(run_status(extra, NULL), 2);
    ASSERT_EQ(run_status(help, "LEAKYRELU_THREADS=many"), 2);
    /* The port is taken: a clear failure, status 1. */
    char port[16];
    snprintf(port, sizeof port, "%u", shared_port());
    const char *const taken[] = {"--port", port, NULL};
    ASSERT_EQ(run_status(taken, NULL), 1);
    /* --check: the container HEALTHCHECK. */
    const char *const check[] = {"--check", "--port", port, NULL};
    ASSERT_EQ(run_status(check, NULL), 0);
    const char *const check_none[] = {"--check", "--port", "1", NULL};
    ASSERT_EQ(run_status(check_none, NULL), 1);
}
