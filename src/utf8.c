/* UTF-8 validation and sanitising. */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, const unsigned char *end)
{
    /* Table 3-7 of the Unicode standard: the second byte's range depends
     * on the first (no overlongs after E0/F0, no surrogates after ED,
     * nothing past U+10FFFF after F4). */
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - s) <= need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i <= need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need + 1;
}

void utf8_sanitize(const char *in, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in, *end = s + strlen(in);
    size_t n = 0;
    while (s < end) {
        size_t k = *s < 0x80 ? (*s >= 0x20 && *s != 0x7F) : utf8_seq_len(s, end);
        if (k == 0) { /* not printable UTF-8: four ASCII bytes instead */
            if (n + 4 >= cap)
                break;
            snprintf(out + n, cap - n, "\\x%02X", *s);
            n += 4;
            s++;
            continue;
        }
        if (n + k >= cap)
            break;
        memcpy(out + n, s, k);
        n += k;
        s += k;
    }
    out[n] = '\0';
}
