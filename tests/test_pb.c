/* Tests of src/pb.c: Protocol Buffers' wire format read and written, the
 * malformed messages refused, and a message split as it arrives (the
 * bulk field's payloads apart, the rest intact) however it is cut. */
#include <stdlib.h>
#include <string.h>

#include "../src/pb.h"
#include "tap.h"
#include "tests.h"

void test_pb_wire(void)
{
    uint8_t buf[128];
    pb_writer w = pb_writer_of(buf, sizeof buf);
    pb_put_uint(&w, 1, 300);
    pb_put_double(&w, 2, -0.5);
    pb_put_string(&w, 3, "x");
    pb_put_uint(&w, 536870911, UINT64_MAX); /* the largest field number, a 10-byte varint */
    ASSERT(pb_fits(&w));
    pb_writer size = pb_writer_of(NULL, 0);
    pb_put_uint(&size, 1, 300);
    ASSERT_EQ(size.n, 3u); /* measured without a buffer */
    pb_reader r = pb_reader_of(buf, w.n);
    pb_field f;
    ASSERT_EQ(pb_next(&r, &f), 1);
    ASSERT(f.num == 1 && f.wire == PB_VARINT && f.v == 300);
    ASSERT_EQ(pb_next(&r, &f), 1);
    ASSERT(f.num == 2 && f.wire == PB_I64 && pb_double(f.v) == -0.5);
    ASSERT_EQ(pb_next(&r, &f), 1);
    ASSERT(f.num == 3 && f.wire == PB_LEN && f.len == 1 && f.data[0] == 'x');
    ASSERT_EQ(pb_next(&r, &f), 1);
    ASSERT(f.num == 536870911 && f.v == UINT64_MAX);
    ASSERT_EQ(pb_next(&r, &f), 0);

    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\x08", 1},                                             /* a varint cut short */
        {"\x0a\x05xy", 4},                                       /* a length past the end */
        {"\x00\x01", 2},                                         /* field number 0 */
        {"\x0b", 1},                                             /* a group (wire type 3) */
        {"\x0e\x01", 2},                                         /* wire type 6 */
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11},    /* a varint over 64 bits */
        {"\x0d\x01\x02", 3},                                     /* a fixed32 cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = pb_reader_of(bad[i].bytes, bad[i].len);
        ASSERT_EQ(pb_next(&r, &f), -1);
    }
    w = pb_writer_of(buf, 2); /* too small: counted, not written past */
    pb_put_string(&w, 1, "abc");
    ASSERT(!pb_fits(&w));
    ASSERT_EQ(w.n, 5u);
}

/* A message with the bulk field (7) twice among others, and what its
 * rest must be: the message without the two. */
static size_t sample(uint8_t *msg, uint8_t *rest, uint8_t *raw, size_t *rest_len)
{
    for (size_t i = 0; i < 1000; i++)
        raw[i] = (uint8_t)(i * 7);
    pb_writer w = pb_writer_of(msg, 2048), o = pb_writer_of(rest, 2048);
    pb_writer *both[] = {&w, &o};
    for (int k = 0; k < 2; k++) {
        pb_put_string(both[k], 1, "leaky_relu");
        pb_put_uint(both[k], 9, 123456789);
        pb_put_string(both[k], 12, "a field after the bulk one's number");
    }
    pb_put_bytes(&w, 7, raw, 1000);
    for (int k = 0; k < 2; k++) {
        pb_put_bytes(both[k], 5, "\x0a\x01x", 3);
        pb_put_double(both[k], 10, 2.5);
    }
    pb_put_bytes(&w, 7, raw, 0);
    pb_put_string(&o, 3, "id");
    pb_put_string(&w, 3, "id");
    *rest_len = o.n;
    return w.n;
}

void test_pb_split(void)
{
    static uint8_t msg[2048], want_rest[2048], raw[1000], rest[2048], got_raw[2][1000];
    size_t want_len, len = sample(msg, want_rest, raw, &want_len);
    srand(7);
    for (int cut = 0; cut < 40; cut++) { /* whole, a byte at a time, then random pieces */
        pb_split s;
        pb_split_init(&s, 7);
        size_t nrest = 0, nraw = 0, raw_off = 0, totals[2] = {9, 9};
        for (size_t at = 0; at < len;) {
            size_t n = cut == 0 ? len - at : cut == 1 ? 1 : 1 + (size_t)rand() % 64;
            n = n < len - at ? n : len - at;
            while (n) {
                pb_piece p;
                long took = pb_split_feed(&s, msg + at, n, &p);
                ASSERT(took >= 0);
                if (p.kind == PB_PIECE_BEGIN) {
                    ASSERT(nraw < 2);
                    totals[nraw++] = (size_t)p.total;
                    raw_off = 0;
                } else if (p.kind == PB_PIECE_RAW) {
                    memcpy(got_raw[nraw - 1] + raw_off, p.data, p.len);
                    raw_off += p.len;
                } else {
                    memcpy(rest + nrest, p.data, p.len);
                    nrest += p.len;
                }
                at += (size_t)took;
                n -= (size_t)took;
            }
        }
        ASSERT(pb_split_done(&s));
        ASSERT_EQ(nraw, 2u);
        ASSERT_EQ(totals[0], 1000u);
        ASSERT_EQ(totals[1], 0u);
        ASSERT(memcmp(got_raw[0], raw, 1000) == 0);
        ASSERT_EQ(nrest, want_len);
        ASSERT(memcmp(rest, want_rest, want_len) == 0);
    }
    pb_split s; /* a message cut inside a field is not done */
    pb_split_init(&s, 7);
    pb_piece p;
    ASSERT_EQ(pb_split_feed(&s, msg, 5, &p) > 0, 1);
    ASSERT(!pb_split_done(&s));
    pb_split_init(&s, 7); /* a bad tag is refused */
    ASSERT_EQ(pb_split_feed(&s, (const uint8_t *)"\x0b\x00", 2, &p), -1);
    pb_split_init(&s, 7);
    ASSERT_EQ(pb_split_feed(&s, (const uint8_t *)"\x00", 1, &p), -1);
}
