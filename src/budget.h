/* The memory budget: the bytes requests may hold at once, charged as
 * their memory is allocated (tensors, body text held, reply buffers) and
 * released with it. A request is granted room as it grows, a piece of
 * body at a time, and its allocations are charged to that grant; when
 * there is no room yet it waits in a bounded queue (its caller pauses it)
 * instead of being refused, and grants are made so that every request
 * admitted can finish. Knows nothing of HTTP. */
#ifndef LEAKYRELU_BUDGET_H
#define LEAKYRELU_BUDGET_H

#include <stddef.h>

typedef struct budget budget;

/* A budget of `limit` bytes (SIZE_MAX: unlimited, charges only counted).
 * NULL when memory runs out. */
budget *budget_new(size_t limit);

/* Frees a budget nothing is charged to any more; NULL is ignored. */
void budget_free(budget *b);

size_t budget_limit(const budget *b);

/* Bytes charged or granted now, and the most there ever were. */
size_t budget_used(budget *b);
size_t budget_peak(budget *b);

/* Bytes taken beyond the accounts' grants, in all (granted at once when
 * there is room, never waited for: a body whose grants are right never
 * does). */
size_t budget_beyond(budget *b);

/* Called once, from any thread, when a wait ends (granted or expired). */
typedef void budget_wake_fn(void *cls);

/* One request's share. `left` is its owner's (one thread at a time); the
 * rest is the budget's, under its lock. */
typedef struct budget_account {
    budget *b;     /* NULL: nothing is charged (tests, tools) */
    size_t left;   /* granted and not yet taken */
    int refused;   /* a take or grant found no room: the request is overloaded */
    int too_large; /* ... and never will: it needs more than the whole limit */
    size_t held;   /* granted in its name and not given back to the budget */
    size_t claim;  /* the most it may come to hold (its worst case) */
    size_t served; /* its claim when the waits were last served for it */
    struct budget_account *prev, *next; /* the open accounts, oldest first */
    size_t want;   /* waiting: for `left` to reach this */
    int state;     /* BUDGET__IDLE, __WAITING, __ARMED, __GRANTED or __EXPIRED */
    double since;  /* when its wait began, monotonic seconds */
    budget_wake_fn *wake;
    void *wake_cls;
    struct budget_account *wake_next; /* in a batch of wakes to call */
} budget_account;

/* Opens a on b, claiming at most `claim` bytes (capped at the limit; a
 * body of unknown length claims more as it grows). Nothing is charged
 * yet. b may be NULL: then nothing is ever charged. Thread-safe. */
void budget_open(budget *b, budget_account *a, size_t claim);

/* What budget_grant says. */
typedef enum budget_grant_rc {
    BUDGET_GRANTED, /* a->left >= n */
    BUDGET_WAIT,    /* no room yet: wait (budget_wait) */
    BUDGET_REFUSED, /* no room, and no waiting: the queue is full, waits are off,
                       or the request needs more than the whole limit (a->too_large) */
    BUDGET_EXPIRED  /* its wait passed the queue timeout (or the server stops) */
} budget_grant_rc;

/* Makes a's unused grant at least n bytes. The grant is made only when
 * every open request can still finish, in the order they were opened,
 * with the room their claims could come to need (the banker's algorithm,
 * E. W. Dijkstra, EWD-108, 1965, with that order as the safe sequence):
 * so the oldest request may always grow, up to its claim, and none waits
 * forever. A grant beyond a's claim raises it. n = 0 after a wait
 * expired reports BUDGET_EXPIRED once. */
budget_grant_rc budget_grant(budget_account *a, size_t n);

/* After BUDGET_WAIT, once the caller has paused the request: wake(cls)
 * is called once when the grant is made or the wait expires; then call
 * budget_grant again. Returns 1 when that already happened (wake is not
 * called), else 0. */
int budget_wait(budget_account *a, budget_wake_fn *wake, void *cls);

/* After BUDGET_WAIT, for a caller that looks rather than be woken (an
 * event loop's tick): BUDGET_GRANTED once the grant is made (and at once
 * if a does not wait), BUDGET_EXPIRED once when its wait expired, else
 * BUDGET_WAIT. Never queues a again. Thread-safe. */
budget_grant_rc budget_poll(budget_account *a);

/* Waits: at most max_waiting at once (0: none, a request with no room is
 * refused at once), each for at most timeout_s seconds. Default: none. */
void budget_set_queue(budget *b, size_t max_waiting, double timeout_s);

/* Ends the waits past the timeout (call about once a second), or all of
 * them (all != 0: the server stops; no request waits from then on).
 * Their wakes are called. */
void budget_expire(budget *b, int all);

/* Requests waiting now; waits that expired since the start. */
size_t budget_waiting(budget *b);
size_t budget_expired(budget *b);

/* Charges n bytes about to be allocated: from the grant first, the rest
 * granted now if there is room (no waiting). Returns 0, or -1 (nothing
 * charged, a->refused set). a may be NULL. */
int budget_take(budget_account *a, size_t n);

/* n bytes charged to a were freed: back into its grant. a may be NULL. */
void budget_give(budget_account *a, size_t n);

/* a may come to take `more` bytes beyond what it holds taken: its claim
 * is raised to that (capped at the limit; never lowered), so that the
 * grants to younger accounts keep room for it. A call of a stream that
 * learns its next message's length. */
void budget_claim(budget_account *a, size_t more);

/* n bytes taken through a (and still charged) now belong to a block that
 * will be given to budget_release (a reply sent on while a stays open):
 * a no longer holds them. */
void budget_disown(budget_account *a, size_t n);

/* a may still take at most `more` bytes beyond what it holds taken: its
 * claim is lowered to that (never raised), which may let others in. */
void budget_expect(budget_account *a, size_t more);

/* Keeps at most `keep` bytes of the unused grant; the rest goes back to
 * the budget (for the requests that come next). */
void budget_trim(budget_account *a, size_t keep);

/* Returns the unused grant and leaves the open accounts; what was taken
 * and is still allocated stays charged until budget_release. a may be
 * NULL. */
void budget_close(budget_account *a);

/* n bytes charged through an account already closed were freed (a reply
 * sent after its request was done with). b may be NULL. Thread-safe. */
void budget_release(budget *b, size_t n);

/* n bytes from malloc, charged to a; NULL when refused or out of memory.
 * budget_block_free releases the charge with the memory, from any thread,
 * after a is closed too (fit for a reply freed by the HTTP library). */
void *budget_malloc(budget_account *a, size_t n);
void budget_block_free(void *p);

/* Resizes a block from budget_malloc (NULL: a new one) to n bytes, the
 * change charged to or given back to a, which must still be open (the
 * block's own account). NULL when refused or out of memory: the block is
 * then unchanged. */
void *budget_realloc(budget_account *a, void *p, size_t n);

/* The default limit: 3/4 of the memory limit of the cgroup (v2 or v1)
 * the process runs in, read under `cgroup_root` (normally
 * "/sys/fs/cgroup") for the path `proc_cgroup` names (normally
 * "/proc/self/cgroup"); else half of `ram` bytes. *source says which,
 * in words ("3/4 of the cgroup memory limit", "1/2 of RAM"). */
size_t budget_default(const char *cgroup_root, const char *proc_cgroup, size_t ram,
                      const char **source);

#endif
