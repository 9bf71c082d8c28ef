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

#endif
