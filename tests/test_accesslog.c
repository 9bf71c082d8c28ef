/* The access log: its lines, their escaping, and dropping (never waiting)
 * when the output stalls. */
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/accesslog.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

static const accesslog_entry entry = {
    .ts = {.tv_sec = 1796126400, .tv_nsec = 123456789}, /* 2026-12-01T12:00:00.123Z */
    .method = "POST",
    .path = "/a\"b\\c\x01\xc3\xa9\xff",
    .status = 200,
    .request_bytes = 12,
    .response_bytes = 19,
    .elements = 2,
    .duration_s = 0.0015,
    .request_id = "id-1",
    .remote = "127.0.0.1",
};

void test_accesslog_lines(void)
{
    int fds[2];
    ASSERT(pipe(fds) == 0);
    accesslog *log = accesslog_new(fds[1], ACCESSLOG_JSON, ACCESSLOG_BUFFER);
    ASSERT(log != NULL);
    if (!log)
        return;
    accesslog_write(log, &entry);
    accesslog_entry aborted = entry;
    aborted.aborted = 1;
    aborted.status = 0;
    aborted.path = NULL;
    accesslog_write(log, &aborted);
    accesslog_message(log, "error", "a \"quoted\" message");
    ASSERT_EQ(accesslog_dropped(log), 0);
    accesslog_free(log, 1000);
    close(fds[1]);
    char *text = test_read_fd(fds[0]);
    close(fds[0]);
    ASSERT(text != NULL);
    if (!text)
        return;
    char *second = strchr(text, '\n');
    ASSERT(second != NULL);
    if (!second) {
        free(text);
        return;
    }
    *second++ = '\0';
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    ASSERT(j != NULL);
    if (j) {
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "ts")), "2026-12-01T12:00:00.123Z");
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "method")), "POST");
        /* Quote, backslash and control escaped; valid UTF-8 kept; 0xff replaced. */
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")),
                      "/a\"b\\c\x01\xc3\xa9\xef\xbf\xbd");
        ASSERT_EQ(json_integer_value(json_object_get(j, "status")), 200);
        ASSERT_EQ(json_integer_value(json_object_get(j, "request_bytes")), 12);
        ASSERT_EQ(json_integer_value(json_object_get(j, "response_bytes")), 19);
        ASSERT_EQ(json_integer_value(json_object_get(j, "elements")), 2);
        ASSERT(json_real_value(json_object_get(j, "duration_s")) == 0.0015);
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "request_id")), "id-1");
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "remote")), "127.0.0.1");
        ASSERT(json_object_get(j, "aborted") == NULL);
        json_decref(j);
    }
    char *third = strchr(second, '\n');
    if (third)
        *third++ = '\0';
    j = json_loads(second, 0, &jerr);
    ASSERT(j != NULL);
    if (j) {
        ASSERT(json_is_true(json_object_get(j, "aborted")));
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "path")), "");
        json_decref(j);
    }
    j = third ? json_loads(third, JSON_DISABLE_EOF_CHECK, &jerr) : NULL;
    ASSERT(j != NULL);
    if (j) {
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "level")), "error");
        ASSERT_STR_EQ(json_string_value(json_object_get(j, "message")), "a \"quoted\" message");
        json_decref(j);
    }
    free(text);

    /* Text: space-separated, the request line quoted. */
    ASSERT(pipe(fds) == 0);
    log = accesslog_new(fds[1], ACCESSLOG_TEXT, ACCESSLOG_BUFFER);
    ASSERT(log != NULL);
    if (!log)
        return;
    accesslog_write(log, &entry);
    accesslog_free(log, 1000);
    close(fds[1]);
    text = test_read_fd(fds[0]);
    close(fds[0]);
    ASSERT_STR_EQ(text, "2026-12-01T12:00:00.123Z 127.0.0.1 \"POST /a\\\"b\\\\c\\x01\xc3\xa9\\xff\" "
                        "200 12 19 2 0.001500 id-1\n");
    free(text);

    /* Off: no request lines, messages still. */
    ASSERT(pipe(fds) == 0);
    log = accesslog_new(fds[1], ACCESSLOG_OFF, ACCESSLOG_BUFFER);
    ASSERT(log != NULL);
    if (!log)
        return;
    accesslog_write(log, &entry);
    accesslog_message(log, "warning", "w");
    accesslog_free(log, 1000);
    close(fds[1]);
    text = test_read_fd(fds[0]);
    close(fds[0]);
    ASSERT(text && strstr(text, " warning w\n") && !strstr(text, "POST"));
    free(text);

    accesslog_format f;
    ASSERT_EQ(accesslog_parse_format("json", &f), 0);
    ASSERT_EQ(f, ACCESSLOG_JSON);
    ASSERT_EQ(accesslog_parse_format("text", &f), 0);
    ASSERT_EQ(f, ACCESSLOG_TEXT);
    ASSERT_EQ(accesslog_parse_format("off", &f), 0);
    ASSERT_EQ(f, ACCESSLOG_OFF);
    ASSERT_EQ(accesslog_parse_format("JSON", &f), -1);
}

/* A pipe nobody reads: once it and the buffer are full, lines are dropped
 * and counted, the writer never waits, and freeing gives up on the rest. */
void test_accesslog_stalled(void)
{
    int fds[2];
    ASSERT(pipe(fds) == 0);
    accesslog *log = accesslog_new(fds[1], ACCESSLOG_JSON, 16 * 1024);
    ASSERT(log != NULL);
    if (!log)
        return;
    enum { N = 5000 }; /* about 1.2 MB of lines: far past the pipe's 64 KB */
    for (int i = 0; i < N; i++)
        accesslog_write(log, &entry);
    uint64_t dropped = accesslog_dropped(log);
    ASSERT(dropped > 0);
    ASSERT(dropped < N);
    accesslog_free(log, 100);
    close(fds[1]);
    /* Lines got through; the last may be cut: a non-blocking write takes
     * what fits, and the rest was given up at the deadline. */
    char *text = test_read_fd(fds[0]);
    close(fds[0]);
    ASSERT(text != NULL);
    if (text) {
        size_t n = strlen(text), lines = 0;
        for (size_t i = 0; i < n; i++)
            lines += text[i] == '\n';
        ASSERT(n > 0 && strncmp(text, "{\"ts\": ", 7) == 0);
        ASSERT(lines > 0 && lines <= N - dropped);
    }
    free(text);
}
