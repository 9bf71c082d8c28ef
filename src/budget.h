/* The memory budget: the bytes requests may hold at once, charged as
 * their memory is allocated (tensors, body text held, reply buffers) and
 * released with it. A request is admitted with a reservation of the most
 * it can come to need, and its allocations are charged to that first, so
 * that a request admitted is never failed by one admitted later. Knows
 * nothing of HTTP. */
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

/* Bytes charged or reserved now, and the most there ever were. */
size_t budget_used(budget *b);
size_t budget_peak(budget *b);

/* Bytes taken beyond the accounts' reservations, in all (bodies of
 * unknown length grow so; one with a Content-Length never does). */
size_t budget_beyond(budget *b);

/* One request's share: its reservation still unused. Owned by one thread
 * at a time (the request's); only the budget itself is shared. */
typedef struct budget_account {
    budget *b;    /* NULL: nothing is charged (tests, tools) */
    size_t left;  /* reserved and not yet taken */
    int refused;  /* a take found no room: the request is overloaded */
} budget_account;

/* Opens a on b with `reserve` bytes set aside. Returns 0, or -1 (a is
 * then open with nothing reserved) when they would exceed the limit.
 * b may be NULL: then nothing is ever charged. Thread-safe. */
int budget_open(budget *b, budget_account *a, size_t reserve);

/* Charges n bytes about to be allocated: from the reservation first, the
 * rest from the budget. Returns 0, or -1 (nothing charged, a->refused
 * set) when the rest would exceed the limit. a may be NULL. */
int budget_take(budget_account *a, size_t n);

/* n bytes charged to a were freed: back into its reservation. a may be
 * NULL. */
void budget_give(budget_account *a, size_t n);

/* Keeps at most `keep` bytes of the unused reservation; the rest goes back
 * to the budget (for the requests that come next). */
void budget_trim(budget_account *a, size_t keep);

/* Returns the unused reservation; what was taken and is still allocated
 * stays charged until budget_release. a may be NULL. */
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
