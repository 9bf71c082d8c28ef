/* Test runner: runs every test of tests.h, or those whose names contain one
 * of the arguments, and prints TAP. Exit status 1 when any test failed. */
#include <stdarg.h>
#include <stdlib.h>

#include "tap.h"
#include "tests.h"

int tap_failed;

void tap_fail(const char *file, int line, const char *fmt, ...)
{
    if (tap_failed++ >= 20)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("#   %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
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

int main(int argc, char **argv)
{
    size_t n = sizeof tests / sizeof tests[0], planned = 0;
    int failures = 0;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        planned += (size_t)selected(tests[i].name, argc, argv);
    printf("1..%zu\n", planned);
    size_t num = 0;
    for (size_t i = 0; i < n; i++) {
        if (!selected(tests[i].name, argc, argv))
            continue;
        tap_failed = 0;
        tests[i].fn();
        num++;
        if (tap_failed > 20)
            printf("#   ... %d failures in all\n", tap_failed);
        printf("%s %zu - %s\n", tap_failed ? "not ok" : "ok", num, tests[i].name);
        fflush(stdout);
        failures += tap_failed != 0;
    }
    return failures ? 1 : 0;
}
