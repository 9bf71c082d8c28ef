/* madvise(MADV_HUGEPAGE) for large buffers. */
#define _DEFAULT_SOURCE /* madvise */
#include "mem.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((uintptr_t)2 << 20)

void mem_hint_large(void *p, size_t n)
{
#if defined(MADV_HUGEPAGE)
    if (!p || n < 2 * HUGE_PAGE)
        return;
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t end = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE); /* a hint only */
#else
    (void)p;
    (void)n;
#endif
}
