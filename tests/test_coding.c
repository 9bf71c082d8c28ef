/* Tests of the content codings (src/coding.c): bodies coded by zlib
 * itself decoded whatever the pieces they come in, gzip of several
 * members, raw deflate, what is cut short or broken, replies encoded and
 * read back, and Accept-Encoding's choice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/coding.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

typedef struct sink_buf {
    char *data;
    size_t len, cap, most; /* most: the largest piece */
} sink_buf;

static int into(void *cls, const char *data, size_t len)
{
    sink_buf *b = cls;
    if (b->len + len > b->cap)
        return 99;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->most = len > b->most ? len : b->most;
    return 0;
}

/* test_zcode's coding of src into out (room for twice len). */
static size_t zcopy(const char *src, size_t len, int bits, char *out)
{
    size_t n = 0;
    char *coded = test_zcode(src, len, bits, &n);
    if (coded)
        memcpy(out, coded, n);
    free(coded);
    return n;
}

/* Decodes coded in pieces from cuts: 0 and the text, or the error. */
static int decode(coding c, const char *coded, size_t len, size_t piece, sink_buf *out)
{
    coding_decoder *d = coding_decoder_new(c);
    ASSERT(d != NULL);
    int rc = 0;
    out->len = 0;
    for (size_t at = 0; d && rc == 0 && at < len; at += piece)
        rc = coding_decode(d, coded + at, len - at < piece ? len - at : piece, into, out);
    if (rc == 0 && d)
        rc = coding_decode_end(d);
    coding_decoder_free(d);
    return rc;
}

void test_coding(void)
{
    enum { N = 300000 };
    char *text = malloc(N), *coded = malloc(2 * N), *twice = malloc(4 * N);
    sink_buf out = {malloc(2 * N), 0, 2 * N, 0};
    ASSERT(text && coded && twice && out.data);
    if (!text || !coded || !twice || !out.data)
        return;
    uint64_t st = 5;
    for (size_t i = 0; i < N; i++) /* numbers text: compresses, but not to nothing */
        text[i] = "0123456789, -.e["[test_rand(&st) % 16];
    static const struct {
        coding c;
        int bits;
    } kinds[] = {{CODING_GZIP, 31}, {CODING_DEFLATE, 15}, {CODING_DEFLATE, -15}};
    static const size_t pieces[] = {1, 2, 7, 4096, 65536, 2 * N};
    for (size_t k = 0; k < 3; k++) {
        size_t len = zcopy(text, N, kinds[k].bits, coded);
        for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
            if (pieces[p] < 4 && len > 100000 && test_instrumented())
                continue;
            ASSERT_EQ(decode(kinds[k].c, coded, len, pieces[p], &out), 0);
            ASSERT(out.len == N && memcmp(out.data, text, N) == 0);
            ASSERT(out.most <= CODING_PIECE);
        }
        /* cut short, or broken in the middle */
        ASSERT_EQ(decode(kinds[k].c, coded, len - 1, 4096, &out), -1);
        coded[len / 2] ^= 0x55;
        int rc = decode(kinds[k].c, coded, len, 4096, &out);
        if (kinds[k].bits > 0) /* gzip and zlib have a checksum: an error */
            ASSERT_EQ(rc, -1);
        else /* raw deflate has none: an error, or other bytes */
            ASSERT(rc == -1 || (out.len != N || memcmp(out.data, text, N) != 0));
        /* what follows the end: one more member for gzip, else an error */
        len = zcopy(text, N, kinds[k].bits, coded);
        memcpy(twice, coded, len);
        memcpy(twice + len, coded, len);
        rc = decode(kinds[k].c, twice, 2 * len, 1000, &out);
        if (kinds[k].c == CODING_GZIP)
            ASSERT(rc == 0 && out.len == 2 * N && memcmp(out.data + N, text, N) == 0);
        else
            ASSERT_EQ(rc, -1);
    }
    /* what expands a lot (a byte of input gives far more than a piece):
     * all of it comes out, however the input ends */
    memset(text, '0', N);
    for (size_t k = 0; k < 3; k++) {
        size_t len = zcopy(text, N, kinds[k].bits, coded);
        for (size_t p = 1; p <= len; p++) {
            ASSERT_EQ(decode(kinds[k].c, coded, len, p, &out), 0);
            ASSERT(out.len == N && memcmp(out.data, text, N) == 0);
        }
    }
    /* a sink's stop comes back */
    size_t len = zcopy(text, N, 31, coded);
    sink_buf small = {out.data, 0, 1000, 0};
    ASSERT_EQ(decode(CODING_GZIP, coded, len, 500, &small), 99);
    ASSERT_EQ(decode(CODING_GZIP, "not gzip", 8, 8, &out), -1);
    ASSERT_EQ(decode(CODING_GZIP, "", 0, 1, &out), -1); /* nothing is not gzip */

    /* replies: encoded in pieces into small buffers, read back by zlib */
    for (int c = CODING_GZIP; c <= CODING_DEFLATE; c++) {
        coding_encoder *e = coding_encoder_new((coding)c);
        ASSERT(e != NULL);
        size_t in = 0, n = 0;
        int ended = 0;
        for (int rounds = 0; e && !ended && rounds < 1000000; rounds++) {
            size_t piece = 1 + test_rand(&st) % 70000, taken;
            size_t end = in + piece < N ? in + piece : N;
            n += coding_encode(e, text + in, end - in, end == N, &taken, coded + n,
                               1 + test_rand(&st) % 5000, &ended);
            in += taken;
        }
        ASSERT(ended && in == N);
        coding_encoder_free(e);
        ASSERT_EQ(decode((coding)c, coded, n, 65536, &out), 0);
        ASSERT(out.len == N && memcmp(out.data, text, N) == 0);
        ASSERT(n < N); /* and it did compress */
    }

    static const struct {
        const char *accept;
        coding want;
    } accepts[] = {
        {NULL, CODING_IDENTITY},          {"", CODING_IDENTITY},
        {"gzip", CODING_GZIP},            {"deflate", CODING_DEFLATE},
        {"gzip, deflate, br", CODING_GZIP}, {"br;q=1.0, deflate;q=0.5", CODING_DEFLATE},
        {"gzip;q=0, deflate", CODING_DEFLATE}, {"GZIP;Q=0.001", CODING_GZIP},
        {"gzip;q=0.000", CODING_IDENTITY}, {"*", CODING_GZIP},
        {"*;q=0", CODING_IDENTITY},       {"gzip;q=0, *", CODING_DEFLATE},
        {"identity", CODING_IDENTITY},    {"x-gzip", CODING_GZIP},
        {" deflate ; q=1 ", CODING_DEFLATE}, {"br", CODING_IDENTITY},
    };
    for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++)
        if (coding_accepted(accepts[i].accept) != accepts[i].want)
            tap_fail(__FILE__, __LINE__, "Accept-Encoding \"%s\": %s, want %s",
                     accepts[i].accept ? accepts[i].accept : "(none)",
                     coding_name(coding_accepted(accepts[i].accept)),
                     coding_name(accepts[i].want));
    coding c;
    ASSERT(coding_parse(" GZip ", &c) == 0 && c == CODING_GZIP);
    ASSERT(coding_parse("", &c) == 0 && c == CODING_IDENTITY);
    ASSERT(coding_parse("gzip, identity", &c) == -1);
    free(text);
    free(coded);
    free(twice);
    free(out.data);
}
