/* Protocol Buffers' wire format (protobuf.dev, "Encoding"): fields read
 * from a message in place, fields written into a caller's buffer, and a
 * message's top-level fields split as its bytes arrive, so that a large
 * `bytes` field can land straight in memory of its own. Never allocates;
 * knows no message: rpc*.c give the fields their meaning. */
#ifndef LEAKYRELU_PB_H
#define LEAKYRELU_PB_H

#include <stddef.h>
#include <stdint.h>

/* Wire types (groups, 3 and 4, are deprecated and refused). */
enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

/* The longest varint, in bytes. */
#define PB_VARINT_MAX 10

/* --- reading --- */

typedef struct pb_reader {
    const uint8_t *p, *end;
} pb_reader;

/* One field as read: its number and wire type; a varint's or a fixed
 * field's value in v (fixed ones as their little-endian bits); a LEN
 * field's bytes at data[0..len), inside the message. */
typedef struct pb_field {
    uint32_t num;
    int wire;
    uint64_t v;
    const uint8_t *data;
    size_t len;
} pb_field;

static inline pb_reader pb_reader_of(const void *data, size_t len)
{
    const uint8_t *p = data;
    return (pb_reader){p, p ? p + len : p}; /* no data: empty */
}

/* Reads the next field into f: 1, 0 at the message's end, or -1 when the
 * bytes are not a well-formed message (a varint too long, a length past
 * the end, field number 0, a group or an unknown wire type). */
int pb_next(pb_reader *r, pb_field *f);

/* A varint at p (at most end - p bytes): its length, 0 when malformed. */
size_t pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v);

/* A fixed 64-bit field's bits as a double. */
double pb_double(uint64_t bits);

/* --- writing --- */

/* Writes into buf[0..cap); what goes past cap is only counted, so a
 * writer over no buffer (NULL, 0) measures a message. */
typedef struct pb_writer {
    uint8_t *buf;
    size_t cap;
    size_t n; /* bytes written, or that would have been */
} pb_writer;

static inline pb_writer pb_writer_of(void *buf, size_t cap)
{
    return (pb_writer){(uint8_t *)buf, cap, 0};
}

/* 1 when everything written fitted. */
static inline int pb_fits(const pb_writer *w) { return w->n <= w->cap; }

size_t pb_varint_size(uint64_t v);
void pb_put_raw(pb_writer *w, const void *data, size_t len);
void pb_put_varint(pb_writer *w, uint64_t v);
void pb_put_tag(pb_writer *w, uint32_t num, int wire);
/* A varint field (bool, int64, uint64, enum); zero is written too. */
void pb_put_uint(pb_writer *w, uint32_t num, uint64_t v);
/* A LEN field's tag and length: its `len` bytes follow. */
void pb_put_len(pb_writer *w, uint32_t num, size_t len);
/* A string or bytes field. */
void pb_put_bytes(pb_writer *w, uint32_t num, const void *data, size_t len);
void pb_put_string(pb_writer *w, uint32_t num, const char *s);
void pb_put_double(pb_writer *w, uint32_t num, double v);

/* --- splitting a message as it arrives --- */

/* Where the bytes of a message go, field by field at its top level: those
 * of one LEN field number (`raw`: a repeated bytes field holding bulk
 * data) are handed over as that field's payload, every other byte (tags,
 * lengths, the other fields whole) as the message's rest. */
typedef struct pb_split {
    uint32_t raw;       /* the field number whose payloads go apart */
    int state;          /* pb.c's */
    uint8_t head[2 * PB_VARINT_MAX]; /* a tag and a length being read */
    size_t nhead;
    uint64_t left;      /* bytes left of the field being passed */
    int in_raw;         /* it is a `raw` payload */
} pb_split;

/* What one step of pb_split_feed found. */
typedef struct pb_piece {
    enum {
        PB_PIECE_REST,  /* data[0..len) belong to the rest */
        PB_PIECE_BEGIN, /* a `raw` payload of `total` bytes begins (len 0) */
        PB_PIECE_RAW    /* data[0..len) are the next bytes of that payload */
    } kind;
    const uint8_t *data;
    size_t len;
    uint64_t total;
} pb_piece;

void pb_split_init(pb_split *s, uint32_t raw);

/* Takes bytes from data[0..n) (n > 0) and describes them in *piece;
 * returns how many it took (0 only with a PB_PIECE_BEGIN), or -1 when the
 * bytes cannot be a message (a malformed tag or length). */
long pb_split_feed(pb_split *s, const uint8_t *data, size_t n, pb_piece *piece);

/* 1 when the bytes fed end on a field's boundary (a whole message). */
int pb_split_done(const pb_split *s);

#endif
