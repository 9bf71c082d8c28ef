/* Tests of the UTF-8 sanitizer (src/utf8.c) that quotes client bytes in
 * error messages. */
#include <string.h>

#include "../src/utf8.h"
#include "tap.h"
#include "tests.h"

/* Invalid bytes, control characters and cut sequences come out as \xHH;
 * a short buffer is cut on a character boundary. */
void test_utf8_sanitize(void)
{
    char out[64];
    utf8_sanitize("ok \xc3\xa9 \xff\x01 \xe2\x82", out, sizeof out);
    ASSERT_STR_EQ(out, "ok \xc3\xa9 \\xFF\\x01 \\xE2\\x82");
    utf8_sanitize("\xc3\xa9\xc3\xa9", out, 4); /* cut on a character boundary */
    ASSERT_STR_EQ(out, "\xc3\xa9");
}
