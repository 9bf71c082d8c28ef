/* madvise(MADV_HUGEPAGE) for large buffers. */
#define _DEFAULT_SOURCE /* madvise */
#include "mem.h"

#include <stdint.h>
#include <sys/mman.h>

#include <unistd.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

void mem_hint_large(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    if (!p || n < 2 * HUGE_PAGE)
        return;
    /* The whole pages of the block, not only its 2 MiB-aligned interior:
     * advising part of a mapping splits it, and a split mapping cannot be
     * grown by mremap, so realloc would copy (and hold) the old and the
     * new block at once. */
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t mask = page > 0 ? (uintptr_t)page - 1 : 4095;
    uintptr_t start = (uintptr_t)p & ~mask;
    uintptr_t end = ((uintptr_t)p + n + mask) & ~mask;
    (void)madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint only */
#else
    (void)p;
    (void)n;
#endif
}

size_t mem_grow(size_t cap, size_t need, size_t first)
{
    if (cap == 0)
        cap = first;
    while (cap < need && cap < MEM_GROW_STEP)
        cap *= 2;
    if (cap >= need)
        return cap;
    if (need > SIZE_MAX - MEM_GROW_STEP)
        return 0;
    return (need + MEM_GROW_STEP - 1) / MEM_GROW_STEP * MEM_GROW_STEP;
}
