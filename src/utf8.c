/* UTF-8 validation and sanitising. */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* Table 3-7 of the Unicode standard (well-formed UTF-8 byte sequences):
 * the second byte's range depends on the first (no overlongs after E0/F0,
 * no surrogates after ED, nothing past U+10FFFF after F4). */
static const struct {
    unsigned char first_lo, first_hi, need, second_lo, second_hi;
} utf8_rows[] = {
    {0xC2, 0xDF, 1, 0x80, 0xBF}, {0xE0, 0xE0, 2, 0xA0, 0xBF}, {0xE1, 0xEC, 2, 0x80, 0xBF},
    {0xED, 0xED, 2, 0x80, 0x9F}, {0xEE, 0xEF, 2, 0x80, 0xBF}, {0xF0, 0xF0, 3, 0x90, 0xBF},
    {0xF1, 0xF3, 3, 0x80, 0xBF}, {0xF4, 0xF4, 3, 0x80, 0x8F},
};

size_t utf8_seq_len(const unsigned char *s, const unsigned char *end)
{
    unsigned char c = s[0], lo = 0, hi = 0;
    size_t need = 0;
    for (size_t i = 0; i < sizeof utf8_rows / sizeof utf8_rows[0] && !need; i++) {
        if (c >= utf8_rows[i].first_lo && c <= utf8_rows[i].first_hi) {
            need = utf8_rows[i].need;
            lo = utf8_rows[i].second_lo;
            hi = utf8_rows[i].second_hi;
        }
    }
    if (!need)
        return 0;
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
