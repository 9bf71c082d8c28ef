/* Request ids: safe client ids kept, others replaced by unique new ones. */
#include <stdlib.h>
#include <string.h>

#include "../src/reqid.h"
#include "tap.h"
#include "tests.h"

static int is_new_id(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdef", *s))
            return 0;
    return 1;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

void test_reqid(void)
{
    char id[REQID_MAX + 1], long_ok[REQID_MAX + 1], too_long[REQID_MAX + 2];
    ASSERT_EQ(reqid_take("abc-123_X.y/z", id), 1);
    ASSERT_STR_EQ(id, "abc-123_X.y/z");
    memset(long_ok, 'a', REQID_MAX);
    long_ok[REQID_MAX] = '\0';
    ASSERT_EQ(reqid_take(long_ok, id), 1);
    ASSERT_STR_EQ(id, long_ok);
    memset(too_long, 'a', REQID_MAX + 1);
    too_long[REQID_MAX + 1] = '\0';
    static const char *const bad[] = {"", "a b", "tab\there", "caf\xc3\xa9", "x\x7f", NULL};
    ASSERT_EQ(reqid_take(too_long, id), 0);
    ASSERT(is_new_id(id));
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(reqid_take(bad[i], id), 0);
        ASSERT(is_new_id(id));
    }
    ASSERT_EQ(reqid_take(NULL, id), 0);
    ASSERT(is_new_id(id));
    enum { N = 20000 };
    char (*ids)[33] = malloc(sizeof *ids * N);
    ASSERT(ids != NULL);
    if (!ids)
        return;
    for (int i = 0; i < N; i++) {
        reqid_take(NULL, id);
        memcpy(ids[i], id, 33);
    }
    qsort(ids, N, sizeof *ids, by_text);
    int dup = 0;
    for (int i = 1; i < N; i++)
        dup += strcmp(ids[i - 1], ids[i]) == 0;
    ASSERT_EQ(dup, 0);
    free(ids);
}
