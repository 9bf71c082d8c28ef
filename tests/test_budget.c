/* Tests of src/budget.c: grants, charges and releases add up to the
 * unit; waits for room are granted in a safe order, expire and are
 * bounded; the default limit from cgroup
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

/* Counts the wakes a waiting account gets. */
static void count_wake(void *cls) { (*(int *)cls)++; }

void test_budget_accounts(void)
{
    budget *b = budget_new(1000);
    ASSERT(b != NULL);
    budget_account a, c;
    budget_open(b, &a, 600);
    ASSERT_EQ(budget_used(b), 0); /* a claim, nothing charged */
    ASSERT_EQ(budget_grant(&a, 500), BUDGET_GRANTED);
    ASSERT_EQ(a.left, 500);
    ASSERT_EQ(budget_used(b), 500);
    /* Takes come from the grant first, then the budget, when there is room. */
    ASSERT_EQ(budget_take(&a, 400), 0);
    ASSERT_EQ(a.left, 100);
    ASSERT_EQ(budget_take(&a, 300), 0);
    ASSERT_EQ(a.left, 0);
    ASSERT_EQ(budget_used(b), 700);
    ASSERT_EQ(budget_beyond(b), 200);
    ASSERT_EQ(budget_take(&a, 301), -1); /* would pass 1000: never fits */
    ASSERT_EQ(a.refused, 1);
    ASSERT_EQ(a.too_large, 1);
    ASSERT_EQ(budget_used(b), 700);
    /* What is freed goes back into the grant; trim returns it. */
    budget_give(&a, 300);
    ASSERT_EQ(budget_used(b), 700);
    budget_trim(&a, 100);
    ASSERT_EQ(a.left, 100);
    ASSERT_EQ(budget_used(b), 500);
    budget_close(&a);
    ASSERT_EQ(budget_used(b), 400); /* the 400 taken is still allocated */
    budget_release(b, 400);
    ASSERT_EQ(budget_used(b), 0);
    ASSERT_EQ(budget_peak(b), 700);

    /* Charged blocks release themselves, after the account is closed. */
    budget_open(b, &a, 0);
    char *p = budget_malloc(&a, 100);
    ASSERT(p != NULL);
    ASSERT(budget_used(b) >= 100 && budget_used(b) <= 132);
    memset(p, 1, 100);
    ASSERT(budget_malloc(&a, 1000) == NULL);
    budget_close(&a);
    budget_block_free(p);
    ASSERT_EQ(budget_used(b), 0);

    /* No room and no queue: refused at once, nothing charged. */
    budget_open(b, &a, 900);
    budget_open(b, &c, 300);
    ASSERT_EQ(budget_grant(&a, 800), BUDGET_GRANTED);
    ASSERT_EQ(budget_grant(&c, 300), BUDGET_REFUSED);
    ASSERT_EQ(c.refused, 1);
    ASSERT_EQ(c.too_large, 0);
    ASSERT_EQ(budget_used(b), 800);
    budget_close(&c);
    budget_close(&a);
    ASSERT_EQ(budget_used(b), 0);
    budget_free(b);

    /* No budget: nothing is charged, nothing refused. */
    budget_open(NULL, &a, SIZE_MAX);
    ASSERT_EQ(budget_grant(&a, SIZE_MAX), BUDGET_GRANTED);
    ASSERT_EQ(budget_take(&a, SIZE_MAX), 0);
    ASSERT_EQ(budget_take(NULL, 5), 0);
    p = budget_malloc(&a, 10);
    ASSERT(p != NULL);
    budget_block_free(p);
    budget_close(&a);
}

/* Waiting for room: the oldest request may always grow to its claim; a
 * younger one waits rather than take what the older ones may still need,
 * and is woken, once, when it can be granted; waits expire; the queue is
 * bounded; when every open request waits and nothing else can free room,
 * the youngest gives up so that the others finish. */
void test_budget_waits(void)
{
    budget *b = budget_new(1000);
    ASSERT(b != NULL);
    budget_set_queue(b, 2, 3600);
    budget_account old, young, third, fourth;
    int woke = 0, woke3 = 0;
    budget_open(b, &old, 800);
    budget_open(b, &young, 500);
    ASSERT_EQ(budget_grant(&old, 100), BUDGET_GRANTED);
    /* 300 for young would leave 600 free, less than old's 700 to come. */
    ASSERT_EQ(budget_grant(&young, 300), BUDGET_WAIT);
    ASSERT_EQ(budget_waiting(b), 1);
    ASSERT_EQ(budget_wait(&young, count_wake, &woke), 0);
    /* The oldest grows to its claim all the same. */
    ASSERT_EQ(budget_grant(&old, 800), BUDGET_GRANTED);
    ASSERT_EQ(budget_used(b), 800);
    ASSERT_EQ(woke, 0);
    /* A third waits too; a fourth finds the queue full; a small one fits. */
    budget_open(b, &third, 300);
    ASSERT_EQ(budget_grant(&third, 300), BUDGET_WAIT);
    ASSERT_EQ(budget_wait(&third, count_wake, &woke3), 0);
    budget_open(b, &fourth, 300);
    ASSERT_EQ(budget_grant(&fourth, 300), BUDGET_REFUSED);
    ASSERT_EQ(fourth.refused, 1);
    ASSERT_EQ(fourth.too_large, 0);
    fourth.refused = 0;
    ASSERT_EQ(budget_grant(&fourth, 10), BUDGET_GRANTED);
    budget_close(&fourth);
    ASSERT_EQ(woke + woke3, 0);
    /* old finishes: both are granted, and each woken once. */
    budget_close(&old);
    ASSERT_EQ(woke, 1);
    ASSERT_EQ(woke3, 1);
    ASSERT_EQ(budget_waiting(b), 0);
    ASSERT_EQ(budget_grant(&young, 300), BUDGET_GRANTED);
    ASSERT_EQ(young.left, 300);
    ASSERT_EQ(budget_grant(&third, 300), BUDGET_GRANTED);
    budget_close(&third);
    budget_close(&young);
    ASSERT_EQ(budget_used(b), 0);

    /* A wait expires: woken once, then BUDGET_EXPIRED once. */
    budget_open(b, &old, 1000);
    budget_open(b, &young, 10);
    ASSERT_EQ(budget_grant(&old, 1000), BUDGET_GRANTED);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_WAIT);
    woke = 0;
    ASSERT_EQ(budget_wait(&young, count_wake, &woke), 0);
    budget_expire(b, 0); /* not yet */
    ASSERT_EQ(woke, 0);
    budget_set_queue(b, 2, 1e-9);
    budget_expire(b, 0);
    budget_set_queue(b, 2, 3600);
    ASSERT_EQ(woke, 1);
    ASSERT_EQ(budget_expired(b), 1);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_EXPIRED);
    ASSERT_EQ(young.refused, 1);
    budget_close(&young);
    /* Granted before it was armed: budget_wait says so, with no wake. A
     * trim alone is not enough: old's claim still counts what it gave
     * back; lowering the claim lets young in. */
    budget_open(b, &young, 10);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_WAIT);
    budget_trim(&old, 500);
    ASSERT_EQ(budget_used(b), 500);
    budget_expect(&old, 0);
    woke = 0;
    ASSERT_EQ(budget_wait(&young, count_wake, &woke), 1);
    ASSERT_EQ(woke, 0);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_GRANTED);
    budget_close(&young);
    budget_close(&old);

    /* Beyond its claim the oldest waits for room; when every open request
     * waits with nothing else to free room, the youngest is let go
     * (expired) and the oldest goes on. */
    budget_open(b, &old, 100);
    budget_open(b, &young, 800);
    ASSERT_EQ(budget_grant(&old, 100), BUDGET_GRANTED);
    ASSERT_EQ(budget_grant(&young, 800), BUDGET_GRANTED);
    ASSERT_EQ(budget_grant(&old, 300), BUDGET_WAIT);
    woke = woke3 = 0;
    ASSERT_EQ(budget_wait(&old, count_wake, &woke), 0);
    ASSERT_EQ(budget_grant(&young, 1000), BUDGET_WAIT);
    ASSERT_EQ(budget_wait(&young, count_wake, &woke3), 1);
    ASSERT_EQ(budget_grant(&young, 1000), BUDGET_EXPIRED);
    ASSERT_EQ(woke, 0);
    budget_close(&young);
    ASSERT_EQ(woke, 1);
    ASSERT_EQ(budget_grant(&old, 300), BUDGET_GRANTED);
    budget_close(&old);
    ASSERT_EQ(budget_used(b), 0);

    /* More than the whole limit never fits: refused, not queued. */
    budget_open(b, &old, 5000);
    ASSERT_EQ(budget_grant(&old, 1001), BUDGET_REFUSED);
    ASSERT_EQ(old.too_large, 1);
    ASSERT_EQ(budget_waiting(b), 0);
    budget_close(&old);

    /* Once every wait is ended (the server stops), none begins. */
    budget_open(b, &old, 1000);
    budget_open(b, &young, 10);
    ASSERT_EQ(budget_grant(&old, 1000), BUDGET_GRANTED);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_WAIT);
    ASSERT_EQ(budget_wait(&young, count_wake, &woke), 0);
    woke = 0;
    budget_expire(b, 1);
    ASSERT_EQ(woke, 1);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_EXPIRED);
    ASSERT_EQ(budget_grant(&young, 10), BUDGET_REFUSED);
    budget_close(&young);
    budget_close(&old);
    ASSERT_EQ(budget_used(b), 0);
    budget_free(b);
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

/* budget_claim raises a claim (the banker's algorithm then keeps room for
 * it: a younger account waits); budget_disown hands a charge on to a
 * block released later, so a long-lived account (a gRPC stream) does not
 * hold what its replies hold; budget_poll sees a wait end without a wake. */
void test_budget_claims(void)
{
    budget *b = budget_new(1000);
    budget_account old, young;
    budget_open(b, &old, 0);
    budget_open(b, &young, 0);
    budget_set_queue(b, 4, 60);
    budget_claim(&old, 800); /* the older may still come to take 800 */
    ASSERT_EQ(budget_grant(&young, 300), BUDGET_WAIT); /* 300 would leave it 700 */
    ASSERT_EQ(budget_poll(&young), BUDGET_WAIT);
    budget_expect(&old, 0); /* it will take nothing more: room for the younger */
    ASSERT_EQ(budget_poll(&young), BUDGET_GRANTED);
    ASSERT_EQ(budget_take(&young, 300), 0);
    budget_disown(&young, 300); /* a reply's now */
    ASSERT_EQ(young.held, 0u);
    ASSERT_EQ(budget_used(b), 300u); /* still charged until released */
    budget_release(b, 300);
    budget_close(&young);
    budget_close(&old);
    ASSERT_EQ(budget_used(b), 0u);
    budget_free(b);
}
