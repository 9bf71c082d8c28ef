/* Test runner: runs every test of tests.h, or those whose names contain one
 * of the arguments, and prints TAP; then a last test, that the shared
 * server exited cleanly. Each test has a deadline (LEAKYRELU_TEST_TIMEOUT
 * seconds; by default 300, 1800 with LEAKYRELU_HARD=1, whose sweeps of
 * every float32 take minutes, and ten times that under
 * $LEAKYRELU_WRAPPER): past
 * it, its servers are killed and the run ends. Exit status 1 when any test
 * failed. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

int tap_failed;
static char skip_reason[160];

__attribute__((format(printf, 4, 0)))
static void vfail(int always, const char *file, int line, const char *fmt, va_list ap)
{
    if (tap_failed++ >= 20 && !always)
        return;
    printf("#   %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
}

void tap_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(0, file, line, fmt, ap);
    va_end(ap);
}

void tap_fail_always(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(1, file, line, fmt, ap);
    va_end(ap);
}

void tap_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(skip_reason, sizeof skip_reason, fmt, ap);
    va_end(ap);
}

const char *tap_data_path(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("TEST_DATA_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "tests/data", name);
    return buf;
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define TEST_ROW(name) {#name, test_##name},
    TEST_LIST(TEST_ROW)
#undef TEST_ROW
};

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

/* The watchdog: a thread that ends the run when a test passes its
 * deadline (a hung server, or a client blocked on one). */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static const char *watch_name; /* the running test, NULL between tests */
static int watch_over;         /* the run is over: the thread ends */
static size_t watch_num;
static struct timespec watch_deadline;
static long watch_seconds;

static void *watchdog(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&watch_lock);
    while (!watch_over) {
        if (!watch_name) {
            pthread_cond_wait(&watch_cond, &watch_lock);
        } else if (pthread_cond_timedwait(&watch_cond, &watch_lock, &watch_deadline) ==
                       ETIMEDOUT && watch_name) {
            printf("#   %s did not end within %ld s: its servers are killed\n", watch_name,
                   watch_seconds);
            harness_kill_all();
            printf("not ok %zu - %s\n", watch_num, watch_name);
            fflush(stdout);
            _exit(1);
        }
    }
    pthread_mutex_unlock(&watch_lock);
    return NULL;
}

static void watch(const char *name, size_t num)
{
    pthread_mutex_lock(&watch_lock);
    watch_name = name;
    watch_num = num;
    clock_gettime(CLOCK_REALTIME, &watch_deadline);
    watch_deadline.tv_sec += watch_seconds;
    pthread_cond_signal(&watch_cond);
    pthread_mutex_unlock(&watch_lock);
}

int main(int argc, char **argv)
{
    size_t n = sizeof tests / sizeof tests[0], planned = 0;
    int failures = 0;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    const char *limit = getenv("LEAKYRELU_TEST_TIMEOUT"), *wrapper = getenv("LEAKYRELU_WRAPPER");
    watch_seconds = limit && atol(limit) > 0 ? atol(limit) : test_hard() ? 1800 : 300;
    if (!limit && wrapper && *wrapper)
        watch_seconds *= 10;
    pthread_t dog;
    if (pthread_create(&dog, NULL, watchdog, NULL) != 0)
        return 2;
    for (size_t i = 0; i < n; i++)
        planned += (size_t)selected(tests[i].name, argc, argv);
    printf("1..%zu\n", planned + 1);
    size_t num = 0;
    for (size_t i = 0; i < n; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        tap_failed = 0;
        skip_reason[0] = '\0';
        num++;
        watch(tests[i].name, num);
        harness_begin_test(tests[i].name);
        tests[i].fn();
        harness_end_test();
        watch(NULL, 0);
        if (tap_failed > 20)
            printf("#   ... %d failures in all\n", tap_failed);
        printf("%s %zu - %s%s%s\n", tap_failed ? "not ok" : "ok", num, tests[i].name,
               skip_reason[0] ? " # SKIP " : "", skip_reason);
        fflush(stdout);
        failures += tap_failed != 0;
    }
    pthread_mutex_lock(&watch_lock);
    watch_over = 1;
    pthread_cond_signal(&watch_cond);
    pthread_mutex_unlock(&watch_lock);
    pthread_join(dog, NULL);
    /* The shared server, stopped now: its exit status and its stderr. */
    tap_failed = 0;
    int shared = harness_finish();
    printf("%s %zu - shared server exited cleanly%s\n", shared > 0 ? "not ok" : "ok", num + 1,
           shared < 0 ? " # SKIP no test started it" : "");
    failures += shared > 0;
    return failures ? 1 : 0;
}
