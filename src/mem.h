/* Memory hints for request-sized buffers. */
#ifndef LEAKYRELU_MEM_H
#define LEAKYRELU_MEM_H

#include <stddef.h>

/* Asks the kernel to back the pages of [p, p + n) with transparent huge
 * pages when n is at least 4 MiB (a no-op otherwise, and
 * where madvise or THP are unavailable). A fresh multi-megabyte buffer
 * then costs a few hundred page faults instead of thousands: bodies,
 * arrays and replies of large requests are allocated, filled once and
 * freed. Thread-safe; never fails. */
void mem_hint_large(void *p, size_t n);

/* Request buffers double up to this size, then grow in steps of it:
 * realloc moves large buffers by remapping pages, so small steps copy
 * nothing, and under MEM_GROW_STEP of a buffer is ever unused (the bound
 * the memory budget counts on). */
#define MEM_GROW_STEP ((size_t)1 << 20)

/* The size in bytes a buffer of `cap` bytes (0: none yet, then it starts
 * at `first`, a power of two at most MEM_GROW_STEP) grows to so as to hold
 * `need` > cap bytes; 0 when that overflows. */
size_t mem_grow(size_t cap, size_t need, size_t first);

#endif
