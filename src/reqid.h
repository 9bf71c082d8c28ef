/* Request ids (X-Request-Id): a client's own, when it is safe to echo,
 * else a new one. */
#ifndef LEAKYRELU_REQID_H
#define LEAKYRELU_REQID_H

#include <stddef.h>

/* The longest id echoed; longer ones are replaced. */
#define REQID_MAX 128

/* Fills out (REQID_MAX + 1 bytes, NUL-terminated) with the client's id
 * when it has 1 to REQID_MAX printable ASCII characters (0x21 to 0x7e: no
 * spaces, controls or bytes beyond ASCII, so that it is safe in a header
 * and a log line), else with a new id: 32 hex digits, unique within the
 * process and random across processes. given may be NULL (no header).
 * Returns 1 when the client's id was kept, 0 when a new one was made.
 * Thread-safe. */
int reqid_take(const char *given, char out[REQID_MAX + 1]);

#endif
