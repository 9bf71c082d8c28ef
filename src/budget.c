/* The memory budget: the count shared by all requests, the accounts
 * open on it in the order they opened, and the waits for room. */
#include "budget.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BUDGET__IDLE, BUDGET__WAITING, BUDGET__ARMED, BUDGET__GRANTED, BUDGET__EXPIRED };

struct budget {
    size_t limit;
    pthread_mutex_t lock; /* all below */
    size_t used, peak, beyond;
    budget_account *first, *last; /* open accounts, oldest first */
    size_t waiting, max_waiting, expired;
    double timeout_s;
    int closed; /* budget_expire(all): no more waits (the server stops) */
};

/* Wakes to call once the lock is let go (a wake resumes a connection,
 * which takes the HTTP library's own locks), linked through the accounts. */
typedef struct wakes {
    budget_account *first;
} wakes;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

budget *budget_new(size_t limit)
{
    budget *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b);
        return NULL;
    }
    b->limit = limit;
    return b;
}

void budget_free(budget *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

size_t budget_limit(const budget *b) { return b->limit; }

/* A count read under the lock. */
static size_t count(budget *b, const size_t *field)
{
    pthread_mutex_lock(&b->lock);
    size_t v = *field;
    pthread_mutex_unlock(&b->lock);
    return v;
}

size_t budget_used(budget *b) { return count(b, &b->used); }
size_t budget_peak(budget *b) { return count(b, &b->peak); }
size_t budget_beyond(budget *b) { return count(b, &b->beyond); }
size_t budget_waiting(budget *b) { return count(b, &b->waiting); }
size_t budget_expired(budget *b) { return count(b, &b->expired); }

void budget_set_queue(budget *b, size_t max_waiting, double timeout_s)
{
    pthread_mutex_lock(&b->lock);
    b->max_waiting = timeout_s > 0 ? max_waiting : 0;
    b->timeout_s = timeout_s;
    pthread_mutex_unlock(&b->lock);
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* Whether x more bytes may go to a (locked): within the limit, and, for
 * all but the oldest, leaving every open account able to finish in
 * order: each one's claim still to come fits in what is free once those
 * before it have finished and given back what they hold. Memory of
 * closed accounts (replies being sent) is not counted on. */
static int can_grant(const budget *b, const budget_account *a, size_t x)
{
    if (x > b->limit - b->used)
        return 0;
    if (a == b->first)
        return 1;
    size_t free = b->limit - b->used - x;
    for (const budget_account *i = b->first; i; i = i->next) {
        size_t held = i->held + (i == a ? x : 0);
        size_t rest = i->claim > held ? i->claim - held : 0;
        if (rest > free)
            return 0;
        free += held;
    }
    return 1;
}

static void grant(budget *b, budget_account *a, size_t x)
{
    b->used += x;
    if (b->used > b->peak)
        b->peak = b->used;
    a->held += x;
    a->left += x;
    if (a->claim < a->held)
        a->claim = a->held;
}

static void unwait(budget *b, budget_account *a, int state, wakes *w)
{
    if (a->state == BUDGET__ARMED) {
        a->wake_next = w->first;
        w->first = a;
    }
    a->state = state;
    b->waiting--;
}

/* Grants what the waiting accounts wait for, oldest first, where it can
 * be had (locked). If every open account waits and none can be granted,
 * nothing will free room but the replies being sent: when there are none,
 * the youngest waiting account gives up (it is refused, and its memory
 * frees) so that the older ones finish. */
static void serve_waits(budget *b, wakes *w)
{
    if (!b->waiting)
        return;
    size_t open = 0, held = 0;
    budget_account *youngest = NULL;
    for (budget_account *a = b->first; a; a = a->next) {
        open++;
        held += a->held;
        if (a->state != BUDGET__WAITING && a->state != BUDGET__ARMED)
            continue;
        size_t x = a->want > a->left ? a->want - a->left : 0;
        if (can_grant(b, a, x)) {
            grant(b, a, x);
            unwait(b, a, BUDGET__GRANTED, w);
        } else {
            youngest = a;
        }
    }
    if (youngest && b->waiting == open && held == b->used) {
        b->expired++;
        unwait(b, youngest, BUDGET__EXPIRED, w);
    }
}

/* After the lock: once woken, an account may be closed and freed at
 * once, so its next is read first. */
static void call_wakes(const wakes *w)
{
    for (budget_account *a = w->first, *next; a; a = next) {
        next = a->wake_next;
        a->wake(a->wake_cls);
    }
}

/* Serves the waits after room was freed, and calls their wakes. */
static void freed(budget *b)
{
    wakes w = {NULL};
    pthread_mutex_lock(&b->lock);
    serve_waits(b, &w);
    pthread_mutex_unlock(&b->lock);
    call_wakes(&w);
}

void budget_release(budget *b, size_t n)
{
    if (!b || !n)
        return;
    pthread_mutex_lock(&b->lock);
    b->used -= n;
    pthread_mutex_unlock(&b->lock);
    freed(b);
}

void budget_open(budget *b, budget_account *a, size_t claim)
{
    memset(a, 0, sizeof *a);
    a->b = b;
    if (!b)
        return;
    a->claim = a->served = claim < b->limit ? claim : b->limit;
    pthread_mutex_lock(&b->lock);
    a->prev = b->last;
    if (b->last)
        b->last->next = a;
    else
        b->first = a;
    b->last = a;
    pthread_mutex_unlock(&b->lock);
}

budget_grant_rc budget_grant(budget_account *a, size_t n)
{
    if (!a || !a->b)
        return BUDGET_GRANTED;
    budget *b = a->b;
    budget_grant_rc rc = BUDGET_GRANTED;
    pthread_mutex_lock(&b->lock);
    if (a->state == BUDGET__WAITING || a->state == BUDGET__ARMED) { /* asked again */
        a->state = BUDGET__IDLE;
        b->waiting--;
    }
    if (a->state == BUDGET__EXPIRED) {
        a->state = BUDGET__IDLE;
        a->refused = 1;
        rc = BUDGET_EXPIRED;
    } else if (a->left < n) {
        a->state = BUDGET__IDLE;
        size_t x = n - a->left;
        if (can_grant(b, a, x)) {
            grant(b, a, x);
        } else if (sat_add(a->held, x) > b->limit) {
            a->refused = a->too_large = 1;
            rc = BUDGET_REFUSED;
        } else if (b->waiting >= b->max_waiting || b->closed) {
            a->refused = 1;
            rc = BUDGET_REFUSED;
        } else {
            a->state = BUDGET__WAITING;
            a->want = n;
            a->since = now_s();
            b->waiting++;
            rc = BUDGET_WAIT;
        }
    } else {
        a->state = BUDGET__IDLE;
    }
    pthread_mutex_unlock(&b->lock);
    if (rc == BUDGET_WAIT) /* it may be the last one needed to see a stall */
        freed(b);
    return rc;
}

int budget_wait(budget_account *a, budget_wake_fn *wake, void *cls)
{
    budget *b = a->b;
    pthread_mutex_lock(&b->lock);
    int done = a->state != BUDGET__WAITING;
    if (!done) {
        a->state = BUDGET__ARMED;
        a->wake = wake;
        a->wake_cls = cls;
    }
    pthread_mutex_unlock(&b->lock);
    return done;
}

budget_grant_rc budget_poll(budget_account *a)
{
    if (!a || !a->b)
        return BUDGET_GRANTED;
    budget *b = a->b;
    budget_grant_rc rc = BUDGET_WAIT;
    pthread_mutex_lock(&b->lock);
    if (a->state == BUDGET__EXPIRED) {
        a->refused = 1;
        rc = BUDGET_EXPIRED;
    } else if (a->state != BUDGET__WAITING && a->state != BUDGET__ARMED) {
        rc = BUDGET_GRANTED;
    }
    if (rc != BUDGET_WAIT)
        a->state = BUDGET__IDLE;
    pthread_mutex_unlock(&b->lock);
    return rc;
}

void budget_expire(budget *b, int all)
{
    wakes w = {NULL};
    double now = now_s();
    pthread_mutex_lock(&b->lock);
    if (all)
        b->closed = 1;
    else
        serve_waits(b, &w); /* what small changes left unserved */
    for (budget_account *a = b->first; a; a = a->next)
        if ((a->state == BUDGET__WAITING || a->state == BUDGET__ARMED) &&
            (all || now - a->since >= b->timeout_s)) {
            b->expired++;
            unwait(b, a, BUDGET__EXPIRED, &w);
        }
    pthread_mutex_unlock(&b->lock);
    call_wakes(&w);
}

int budget_take(budget_account *a, size_t n)
{
    if (!a || !a->b)
        return 0;
    if (n <= a->left) {
        a->left -= n;
        return 0;
    }
    budget *b = a->b;
    size_t x = n - a->left;
    pthread_mutex_lock(&b->lock);
    int ok = can_grant(b, a, x);
    if (ok) {
        grant(b, a, x);
        b->beyond += x;
    } else if (sat_add(a->held, x) > b->limit) {
        a->too_large = 1;
    }
    pthread_mutex_unlock(&b->lock);
    if (!ok) {
        a->refused = 1;
        return -1;
    }
    a->left -= n;
    return 0;
}

void budget_give(budget_account *a, size_t n)
{
    if (a && a->b)
        a->left += n;
}

/* A claim lowered by less than this since the waits were last served
 * does not serve them again (each turn costs a pass over the accounts),
 * unless it comes down to what the account holds. */
#define CLAIM_STEP ((size_t)1 << 20)

void budget_claim(budget_account *a, size_t more)
{
    if (!a || !a->b)
        return;
    budget *b = a->b;
    pthread_mutex_lock(&b->lock);
    size_t claim = sat_add(a->held - a->left, more);
    if (claim > b->limit)
        claim = b->limit;
    if (claim > a->claim)
        a->claim = claim;
    pthread_mutex_unlock(&b->lock);
}

void budget_disown(budget_account *a, size_t n)
{
    if (!a || !a->b)
        return;
    budget *b = a->b;
    pthread_mutex_lock(&b->lock);
    a->held -= n <= a->held - a->left ? n : a->held - a->left;
    pthread_mutex_unlock(&b->lock);
    freed(b); /* its claim may now be met: waits may be served */
}

void budget_expect(budget_account *a, size_t more)
{
    if (!a || !a->b)
        return;
    budget *b = a->b;
    pthread_mutex_lock(&b->lock);
    size_t taken = a->held - a->left, claim = sat_add(taken, more);
    if (claim < a->held)
        claim = a->held;
    int serve = 0;
    if (claim < a->claim) {
        a->claim = claim;
        serve = b->waiting && (claim == a->held || a->served < claim ||
                               a->served - claim >= CLAIM_STEP);
        if (serve)
            a->served = claim;
    }
    pthread_mutex_unlock(&b->lock);
    if (serve)
        freed(b);
}

void budget_trim(budget_account *a, size_t keep)
{
    if (!a || !a->b || a->left <= keep)
        return;
    budget *b = a->b;
    size_t n = a->left - keep;
    pthread_mutex_lock(&b->lock);
    a->left = keep;
    a->held -= n;
    b->used -= n;
    pthread_mutex_unlock(&b->lock);
    freed(b);
}

void budget_close(budget_account *a)
{
    if (!a || !a->b)
        return;
    budget *b = a->b;
    pthread_mutex_lock(&b->lock);
    b->used -= a->left;
    if (a->state == BUDGET__WAITING || a->state == BUDGET__ARMED)
        b->waiting--;
    if (a->prev)
        a->prev->next = a->next;
    else
        b->first = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        b->last = a->prev;
    pthread_mutex_unlock(&b->lock);
    a->left = a->held = 0;
    a->b = NULL;
    freed(b);
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
