/* UTF-8 validation (RFC 3629) for the JSON reader and for error messages
 * that quote client bytes. */
#ifndef LEAKYRELU_UTF8_H
#define LEAKYRELU_UTF8_H

#include <stddef.h>

/* Length (2 to 4) of the valid multi-byte UTF-8 sequence at s, or 0 when
 * the bytes at s are not one (overlong forms, surrogates, code points past
 * U+10FFFF, truncation at `end`). s < end, *s >= 0x80. */
size_t utf8_seq_len(const unsigned char *s, const unsigned char *end);

/* Copies the NUL-terminated `in` into out (cap >= 1 bytes, always
 * NUL-terminated, cut on a character boundary when too long), replacing
 * each byte that is not part of valid UTF-8, and each control character,
 * with "\xNN", so that the text can go into a JSON string as is. */
void utf8_sanitize(const char *in, char *out, size_t cap);

#endif
