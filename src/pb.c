/* Protocol Buffers' wire format: varints (7 bits a byte, least
 * significant group first), tags (field number << 3 | wire type), fixed
 * 32- and 64-bit little-endian values, and length-delimited fields; see
 * pb.h. */
#include "pb.h"

#include <string.h>

size_t pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < PB_VARINT_MAX && p + i < end; i++) {
        uint64_t b = p[i];
        if (i == PB_VARINT_MAX - 1 && b > 1)
            return 0; /* more than 64 bits */
        x |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static uint64_t fixed(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int pb_next(pb_reader *r, pb_field *f)
{
    if (r->p >= r->end)
        return 0;
    uint64_t tag;
    size_t n = pb_varint(r->p, r->end, &tag);
    if (n == 0 || tag >> 3 == 0 || tag >> 3 > 0x1fffffff)
        return -1;
    r->p += n;
    *f = (pb_field){.num = (uint32_t)(tag >> 3), .wire = (int)(tag & 7)};
    size_t left = (size_t)(r->end - r->p);
    switch (f->wire) {
    case PB_VARINT:
        n = pb_varint(r->p, r->end, &f->v);
        if (n == 0)
            return -1;
        r->p += n;
        return 1;
    case PB_I64:
    case PB_I32:
        n = f->wire == PB_I64 ? 8 : 4;
        if (left < n)
            return -1;
        f->v = fixed(r->p, (int)n);
        f->data = r->p;
        f->len = n;
        r->p += n;
        return 1;
    case PB_LEN: {
        uint64_t len;
        n = pb_varint(r->p, r->end, &len);
        if (n == 0 || len > left - n)
            return -1;
        f->data = r->p + n;
        f->len = (size_t)len;
        r->p += n + (size_t)len;
        return 1;
    }
    default:
        return -1;
    }
}

double pb_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

size_t pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void pb_put_raw(pb_writer *w, const void *data, size_t len)
{
    if (len && len <= w->cap && w->n <= w->cap - len) /* data may be NULL when len is 0 */
        memcpy(w->buf + w->n, data, len);
    w->n += len;
}

void pb_put_varint(pb_writer *w, uint64_t v)
{
    uint8_t b[PB_VARINT_MAX];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    pb_put_raw(w, b, n);
}

void pb_put_tag(pb_writer *w, uint32_t num, int wire)
{
    pb_put_varint(w, (uint64_t)num << 3 | (uint64_t)wire);
}

void pb_put_uint(pb_writer *w, uint32_t num, uint64_t v)
{
    pb_put_tag(w, num, PB_VARINT);
    pb_put_varint(w, v);
}

void pb_put_len(pb_writer *w, uint32_t num, size_t len)
{
    pb_put_tag(w, num, PB_LEN);
    pb_put_varint(w, len);
}

void pb_put_bytes(pb_writer *w, uint32_t num, const void *data, size_t len)
{
    pb_put_len(w, num, len);
    pb_put_raw(w, data, len);
}

void pb_put_string(pb_writer *w, uint32_t num, const char *s)
{
    pb_put_bytes(w, num, s, strlen(s));
}

void pb_put_double(pb_writer *w, uint32_t num, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
    pb_put_tag(w, num, PB_I64);
    pb_put_raw(w, b, 8);
}

/* The splitter's states: reading a field's tag (and a LEN field's
 * length) into head; passing `left` bytes of a fixed or LEN field;
 * passing a varint's bytes to its last. */
enum { SPLIT_HEAD, SPLIT_PASS, SPLIT_VARINT };

void pb_split_init(pb_split *s, uint32_t raw)
{
    *s = (pb_split){.raw = raw, .state = SPLIT_HEAD};
}

/* A varint at the start of p[0..n): its length, 0 when more bytes are
 * needed, -1 when it is malformed. */
static long varint_status(const uint8_t *p, size_t n, uint64_t *v)
{
    size_t len = pb_varint(p, p + n, v);
    if (len)
        return (long)len;
    for (size_t i = 0; i < n; i++)
        if (!(p[i] & 0x80) || i == PB_VARINT_MAX - 1)
            return -1; /* it ended (or could not) and still was not read */
    return 0;
}

/* The head (a tag, and a LEN field's length) is complete: what follows. */
static void split_begin(pb_split *s, uint32_t num, int wire, uint64_t len, pb_piece *piece)
{
    if (wire == PB_LEN && num == s->raw) {
        *piece = (pb_piece){.kind = PB_PIECE_BEGIN, .total = len};
        s->in_raw = 1;
    } else {
        *piece = (pb_piece){.kind = PB_PIECE_REST, .data = s->head, .len = s->nhead};
        s->in_raw = 0;
    }
    s->nhead = 0;
    s->left = wire == PB_LEN ? len : wire == PB_I64 ? 8 : 4;
    s->state = wire == PB_VARINT ? SPLIT_VARINT : s->left ? SPLIT_PASS : SPLIT_HEAD;
}

long pb_split_feed(pb_split *s, const uint8_t *data, size_t n, pb_piece *piece)
{
    *piece = (pb_piece){.kind = PB_PIECE_REST, .data = data};
    if (s->state == SPLIT_PASS) {
        size_t k = s->left < n ? (size_t)s->left : n;
        *piece = (pb_piece){.kind = s->in_raw ? PB_PIECE_RAW : PB_PIECE_REST, data, k, 0};
        s->left -= k;
        if (s->left == 0)
            s->state = SPLIT_HEAD;
        return (long)k;
    }
    if (s->state == SPLIT_VARINT) {
        size_t k = 0;
        while (k < n) {
            uint8_t b = data[k++];
            if (++s->nhead > PB_VARINT_MAX)
                return -1;
            if (!(b & 0x80)) {
                s->state = SPLIT_HEAD;
                s->nhead = 0;
                break;
            }
        }
        piece->len = k;
        return (long)k;
    }
    for (size_t k = 0; k < n;) {
        s->head[s->nhead++] = data[k++];
        uint64_t tag, len = 0;
        long tl = varint_status(s->head, s->nhead, &tag);
        if (tl < 0)
            return -1;
        if (tl == 0)
            continue;
        uint32_t num = (uint32_t)(tag >> 3);
        int wire = (int)(tag & 7);
        if (num == 0 || tag >> 3 > 0x1fffffff ||
            (wire != PB_VARINT && wire != PB_I64 && wire != PB_LEN && wire != PB_I32))
            return -1;
        if (wire == PB_LEN) {
            long ll = (size_t)tl < s->nhead
                          ? varint_status(s->head + tl, s->nhead - (size_t)tl, &len)
                          : 0;
            if (ll < 0)
                return -1;
            if (ll == 0)
                continue;
        }
        split_begin(s, num, wire, len, piece);
        return (long)k;
    }
    return (long)n;
}

int pb_split_done(const pb_split *s) { return s->state == SPLIT_HEAD && s->nhead == 0; }
