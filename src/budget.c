/* The memory budget: one atomic count shared by all requests, and the
 * accounts that reserve from it. */
#include "budget.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct budget {
    size_t limit;
    atomic_size_t used;
    atomic_size_t peak;
    atomic_size_t beyond;
};

budget *budget_new(size_t limit)
{
    budget *b = malloc(sizeof *b);
    if (!b)
        return NULL;
    b->limit = limit;
    atomic_init(&b->used, 0);
    atomic_init(&b->peak, 0);
    atomic_init(&b->beyond, 0);
    return b;
}

void budget_free(budget *b) { free(b); }

size_t budget_limit(const budget *b) { return b->limit; }

size_t budget_used(budget *b) { return atomic_load(&b->used); }

size_t budget_peak(budget *b) { return atomic_load(&b->peak); }

size_t budget_beyond(budget *b) { return atomic_load(&b->beyond); }

/* Adds n to the count unless that would pass the limit. */
static int charge(budget *b, size_t n)
{
    size_t used = atomic_load(&b->used), now;
    do {
        if (n > b->limit || used > b->limit - n)
            return -1;
        now = used + n;
    } while (!atomic_compare_exchange_weak(&b->used, &used, now));
    size_t peak = atomic_load(&b->peak);
    while (peak < now && !atomic_compare_exchange_weak(&b->peak, &peak, now))
        ;
    return 0;
}

void budget_release(budget *b, size_t n)
{
    if (b && n)
        atomic_fetch_sub(&b->used, n);
}

int budget_open(budget *b, budget_account *a, size_t reserve)
{
    a->b = b;
    a->left = 0;
    a->refused = 0;
    if (!b)
        return 0;
    if (charge(b, reserve) != 0) {
        a->refused = 1;
        return -1;
    }
    a->left = reserve;
    return 0;
}

int budget_take(budget_account *a, size_t n)
{
    if (!a || !a->b)
        return 0;
    if (n <= a->left) {
        a->left -= n;
        return 0;
    }
    if (charge(a->b, n - a->left) != 0) {
        a->refused = 1;
        return -1;
    }
    atomic_fetch_add(&a->b->beyond, n - a->left);
    a->left = 0;
    return 0;
}

void budget_give(budget_account *a, size_t n)
{
    if (a && a->b)
        a->left += n;
}

void budget_trim(budget_account *a, size_t keep)
{
    if (a && a->b && a->left > keep) {
        budget_release(a->b, a->left - keep);
        a->left = keep;
    }
}

void budget_close(budget_account *a)
{
    budget_trim(a, 0);
}

/* A charged block: who to release to and how much, before the memory
 * handed out (16 bytes, keeping malloc's alignment for doubles). */
typedef struct block_head {
    budget *b;
    size_t charged;
} block_head;

void *budget_malloc(budget_account *a, size_t n)
{
    if (n > SIZE_MAX - sizeof(block_head))
        return NULL;
    size_t total = n + sizeof(block_head);
    if (budget_take(a, total) != 0)
        return NULL;
    block_head *h = malloc(total);
    if (!h) {
        budget_give(a, total);
        return NULL;
    }
    h->b = a ? a->b : NULL;
    h->charged = h->b ? total : 0;
    return h + 1;
}

void *budget_realloc(budget_account *a, void *p, size_t n)
{
    if (!p)
        return budget_malloc(a, n);
    block_head *h = (block_head *)p - 1;
    if (n > SIZE_MAX - sizeof(block_head))
        return NULL;
    size_t total = n + sizeof(block_head), was = h->charged;
    if (h->b && total > was && budget_take(a, total - was) != 0)
        return NULL;
    block_head *grown = realloc(h, total);
    if (!grown) {
        if (h->b && total > was)
            budget_give(a, total - was);
        return NULL;
    }
    if (grown->b && total < was)
        budget_give(a, was - total);
    if (grown->b)
        grown->charged = total;
    return grown + 1;
}

void budget_block_free(void *p)
{
    if (!p)
        return;
    block_head *h = (block_head *)p - 1;
    budget_release(h->b, h->charged);
    free(h);
}

/* A limit file's value: a byte count, or none ("max", absent, or v1's
 * "unlimited", a number near 2^63). */
static size_t read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return SIZE_MAX;
    unsigned long long v = 0;
    int ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    return ok && v > 0 && v < (1ULL << 62) && v <= SIZE_MAX ? (size_t)v : SIZE_MAX;
}

/* The least limit on dir/<path>/file and its ancestors up to dir. */
static size_t least_limit(const char *dir, const char *path, const char *file)
{
    char p[1024];
    size_t least = SIZE_MAX;
    int n = snprintf(p, sizeof p, "%s%s", dir, path);
    if (n < 0 || (size_t)n >= sizeof p)
        return SIZE_MAX;
    for (;;) {
        size_t len = strlen(p);
        while (len > strlen(dir) && p[len - 1] == '/')
            p[--len] = '\0';
        char full[1100];
        snprintf(full, sizeof full, "%s/%s", p, file);
        size_t v = read_limit(full);
        if (v < least)
            least = v;
        char *slash = strrchr(p, '/');
        if (len <= strlen(dir) || !slash || (size_t)(slash - p) < strlen(dir))
            break;
        *slash = '\0';
    }
    return least;
}

size_t budget_default(const char *cgroup_root, const char *proc_cgroup, size_t ram,
                      const char **source)
{
    /* The limits of the process's own cgroup and its ancestors (when the
     * cgroup tree is the host's), and those at the mount's root (inside a
     * container, the container's own cgroup). */
    char v1dir[512], line[1024];
    size_t least = SIZE_MAX;
    snprintf(v1dir, sizeof v1dir, "%s/memory", cgroup_root);
    FILE *f = fopen(proc_cgroup, "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        size_t v = SIZE_MAX;
        if (strncmp(line, "0::", 3) == 0)
            v = least_limit(cgroup_root, c2 + 1, "memory.max");
        else if (c2 - c1 == 7 && strncmp(c1 + 1, "memory", 6) == 0)
            v = least_limit(v1dir, c2 + 1, "memory.limit_in_bytes");
        if (v < least)
            least = v;
    }
    if (f)
        fclose(f);
    size_t root = least_limit(cgroup_root, "", "memory.max");
    if (root < least)
        least = root;
    root = least_limit(v1dir, "", "memory.limit_in_bytes");
    if (root < least)
        least = root;
    if (least != SIZE_MAX && least < ram) {
        *source = "3/4 of the cgroup memory limit";
        return least / 4 * 3;
    }
    *source = "1/2 of RAM";
    return ram / 2;
}
