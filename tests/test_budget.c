/* Tests of src/budget.c: reservations, charges and releases add up to the
 * unit; a request admitted keeps its room; the default limit from cgroup
 * files (v2 and v1, the process's own and the mount's root) or RAM. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/budget.h"
#include "tap.h"
#include "tests.h"

void test_budget_accounts(void)
{
    budget *b = budget_new(1000);
    ASSERT(b != NULL);
    budget_account a, c;
    ASSERT_EQ(budget_open(b, &a, 600), 0);
    ASSERT_EQ(budget_used(b), 600);
    /* No room for a second 600: refused, nothing charged. */
    ASSERT_EQ(budget_open(b, &c, 600), -1);
    ASSERT_EQ(c.refused, 1);
    ASSERT_EQ(budget_used(b), 600);
    budget_close(&c);
    /* Takes come from the reservation first, then the budget. */
    ASSERT_EQ(budget_take(&a, 500), 0);
    ASSERT_EQ(a.left, 100);
    ASSERT_EQ(budget_used(b), 600);
    ASSERT_EQ(budget_take(&a, 300), 0);
    ASSERT_EQ(a.left, 0);
    ASSERT_EQ(budget_used(b), 800);
    ASSERT_EQ(budget_take(&a, 201), -1); /* would pass 1000 */
    ASSERT_EQ(a.refused, 1);
    ASSERT_EQ(budget_used(b), 800);
    /* What is freed goes back into the reservation; trim returns it. */
    budget_give(&a, 300);
    ASSERT_EQ(budget_used(b), 800);
    budget_trim(&a, 100);
    ASSERT_EQ(a.left, 100);
    ASSERT_EQ(budget_used(b), 600);
    budget_close(&a);
    ASSERT_EQ(budget_used(b), 500); /* the 500 taken is still allocated */
    budget_release(b, 500);
    ASSERT_EQ(budget_used(b), 0);
    ASSERT_EQ(budget_peak(b), 800);

    /* Charged blocks release themselves, after the account is closed. */
    ASSERT_EQ(budget_open(b, &a, 0), 0);
    char *p = budget_malloc(&a, 100);
    ASSERT(p != NULL);
    ASSERT(budget_used(b) >= 100 && budget_used(b) <= 132);
    memset(p, 1, 100);
    ASSERT(budget_malloc(&a, 1000) == NULL);
    budget_close(&a);
    budget_block_free(p);
    ASSERT_EQ(budget_used(b), 0);
    budget_free(b);

    /* No budget: nothing is charged, nothing refused. */
    ASSERT_EQ(budget_open(NULL, &a, SIZE_MAX), 0);
    ASSERT_EQ(budget_take(&a, SIZE_MAX), 0);
    ASSERT_EQ(budget_take(NULL, 5), 0);
    p = budget_malloc(&a, 10);
    ASSERT(p != NULL);
    budget_block_free(p);
    budget_close(&a);
}

/* Writes text to root/rel, making its folders. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *slash = path + strlen(root) + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
        *slash = '\0';
        mkdir(path, 0700);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

void test_budget_default(void)
{
    char root[] = "/tmp/leakyrelu-cgroup-XXXXXX", self[300];
    ASSERT(mkdtemp(root) != NULL);
    const char *src = NULL;
    const size_t GiB = (size_t)1 << 30;
    snprintf(self, sizeof self, "%s/self", root);

    /* Nothing found: half of RAM. */
    put(root, "self", "0::/\n");
    ASSERT_EQ(budget_default(root, self, 8 * GiB, &src), 4 * GiB);
    ASSERT_STR_EQ(src, "1/2 of RAM");

    /* v2, the process's own cgroup: the least limit of it and its
     * parents; "max" is none. */
    put(root, "kubepods/pod1/memory.max", "max\n");
    put(root, "kubepods/memory.max", "1073741824\n");
    put(root, "self", "0::/kubepods/pod1\n");
    ASSERT_EQ(budget_default(root, self, 8 * GiB, &src), 768 << 20);
    ASSERT_STR_EQ(src, "3/4 of the cgroup memory limit");

    /* A limit above RAM is no limit. */
    ASSERT_EQ(budget_default(root, self, GiB / 2, &src), GiB / 4);
    ASSERT_STR_EQ(src, "1/2 of RAM");

    /* v1's memory controller; its "unlimited" is a number near 2^63. */
    put(root, "memory/memory.limit_in_bytes", "9223372036854771712\n");
    put(root, "memory/job/memory.limit_in_bytes", "536870912\n");
    put(root, "self", "9:pids:/\n4:memory:/job\n0::/\n");
    ASSERT_EQ(budget_default(root, self, 8 * GiB, &src), 384 << 20);

    /* Inside a container the path may be the host's: the mount's root
     * counts too. */
    put(root, "memory.max", "268435456\n");
    put(root, "self", "0::/not/here\n");
    ASSERT_EQ(budget_default(root, self, 8 * GiB, &src), 192 << 20);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ASSERT_EQ(system(cmd), 0);
}
