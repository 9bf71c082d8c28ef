/* Content codings with zlib: decoding bodies, encoding replies. */
#include "coding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

const char *coding_name(coding c)
{
    return c == CODING_GZIP ? "gzip" : c == CODING_DEFLATE ? "deflate" : "identity";
}

/* [s, s + n) is token, case-insensitively. */
static int is(const char *s, size_t n, const char *token)
{
    return n == strlen(token) && strncasecmp(s, token, n) == 0;
}

int coding_parse(const char *value, coding *out)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0 || is(value, n, "identity"))
        *out = CODING_IDENTITY;
    else if (is(value, n, "gzip") || is(value, n, "x-gzip"))
        *out = CODING_GZIP;
    else if (is(value, n, "deflate"))
        *out = CODING_DEFLATE;
    else
        return -1;
    return 0;
}

/* The q-value of one element of Accept-Encoding ("gzip;q=0.5"): 1 when
 * none is given, 0 for q=0 (or 0.0, 0.00, 0.000). */
static int acceptable(const char *params, size_t n)
{
    const char *q = params;
    for (; q < params + n; q++) {
        if ((*q == 'q' || *q == 'Q') && q + 1 < params + n && q[1] == '=') {
            q += 2;
            if (*q != '0')
                return 1;
            for (q++; q < params + n && (*q == '.' || *q == '0'); q++) {
            }
            return q < params + n && *q >= '1' && *q <= '9';
        }
    }
    return 1;
}

coding coding_accepted(const char *accept)
{
    int gzip = 0, deflate = 0, any = -1; /* -1: "*" not listed */
    int gzip_listed = 0, deflate_listed = 0;
    while (accept && *accept) {
        size_t len = strcspn(accept, ",");
        const char *e = accept;
        while (e < accept + len && (*e == ' ' || *e == '\t'))
            e++;
        size_t name = strcspn(e, ";, \t");
        if (name > (size_t)(accept + len - e))
            name = (size_t)(accept + len - e);
        int ok = acceptable(e + name, (size_t)(accept + len - e - (ptrdiff_t)name));
        if (is(e, name, "gzip") || is(e, name, "x-gzip")) {
            gzip = ok;
            gzip_listed = 1;
        } else if (is(e, name, "deflate")) {
            deflate = ok;
            deflate_listed = 1;
        } else if (is(e, name, "*")) {
            any = ok;
        }
        accept += len + (accept[len] == ',');
    }
    if (gzip || (!gzip_listed && any == 1))
        return CODING_GZIP;
    if (deflate || (!deflate_listed && any == 1))
        return CODING_DEFLATE;
    return CODING_IDENTITY;
}

struct coding_decoder {
    z_stream z;
    coding c;
    int started; /* the first bytes decided between zlib and raw deflate */
    int ended;   /* the coded data ended (a gzip member may follow) */
    int broken;
    unsigned char head[2];
    size_t head_len;
    char out[CODING_PIECE];
};

coding_decoder *coding_decoder_new(coding c)
{
    coding_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->c = c;
    /* gzip now; deflate once its first two bytes say zlib or raw */
    if (c == CODING_GZIP && inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK) {
        free(d);
        return NULL;
    }
    d->started = c == CODING_GZIP;
    return d;
}

/* Inflates `in`, all of it unless the data breaks or the sink stops,
 * and all it decodes to (the output buffer may fill before the input
 * runs out, or after). */
static int inflate_all(coding_decoder *d, const unsigned char *in, size_t len, coding_sink *sink,
                       void *cls)
{
    d->z.next_in = (unsigned char *)(uintptr_t)in;
    d->z.avail_in = (uInt)len;
    for (;;) {
        if (d->ended && d->z.avail_in == 0)
            return 0;
        if (d->ended) { /* more after the end: another gzip member, else an error */
            if (d->c != CODING_GZIP || inflateReset(&d->z) != Z_OK)
                return -1;
            d->ended = 0;
        }
        d->z.next_out = (unsigned char *)d->out;
        d->z.avail_out = sizeof d->out;
        int rc = inflate(&d->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return -1;
        size_t n = sizeof d->out - d->z.avail_out;
        d->ended = rc == Z_STREAM_END;
        if (n) {
            int stop = sink(cls, d->out, n);
            if (stop)
                return stop;
        }
        if (rc == Z_BUF_ERROR || (d->z.avail_in == 0 && d->z.avail_out > 0 && !d->ended))
            return 0; /* it needs more input */
    }
}

int coding_decode(coding_decoder *d, const char *data, size_t len, coding_sink *sink, void *cls)
{
    if (d->broken)
        return -1;
    if (d->c == CODING_IDENTITY) {
        for (size_t at = 0; at < len; at += CODING_PIECE) {
            int stop = sink(cls, data + at, len - at < CODING_PIECE ? len - at : CODING_PIECE);
            if (stop)
                return stop;
        }
        return 0;
    }
    const unsigned char *in = (const unsigned char *)data;
    if (!d->started) { /* deflate: a zlib header (RFC 1950 2.2), or raw deflate */
        while (len && d->head_len < 2) {
            d->head[d->head_len++] = *in++;
            len--;
        }
        if (d->head_len < 2)
            return 0;
        int zlib = (d->head[0] & 0x0f) == 8 && (d->head[0] >> 4) <= 7 &&
                   ((unsigned)d->head[0] << 8 | d->head[1]) % 31 == 0;
        if (inflateInit2(&d->z, zlib ? MAX_WBITS : -MAX_WBITS) != Z_OK) {
            d->broken = 1;
            return -1;
        }
        d->started = 1;
        int rc = inflate_all(d, d->head, 2, sink, cls);
        if (rc != 0) {
            d->broken = rc < 0;
            return rc;
        }
    }
    int rc = inflate_all(d, in, len, sink, cls);
    d->broken = rc < 0;
    return rc;
}

int coding_decode_end(const coding_decoder *d)
{
    return d->c == CODING_IDENTITY || (d->ended && !d->broken) ? 0 : -1;
}

void coding_decoder_free(coding_decoder *d)
{
    if (!d)
        return;
    if (d->started)
        inflateEnd(&d->z);
    free(d);
}

struct coding_encoder {
    z_stream z;
};

coding_encoder *coding_encoder_new(coding c)
{
    coding_encoder *e = calloc(1, sizeof *e);
    /* memLevel 8 and a full window: zlib's defaults, about 256 KiB */
    if (e && deflateInit2(&e->z, 1, Z_DEFLATED, c == CODING_GZIP ? 16 + MAX_WBITS : MAX_WBITS, 8,
                          Z_DEFAULT_STRATEGY) != Z_OK) {
        free(e);
        return NULL;
    }
    return e;
}

size_t coding_encode(coding_encoder *e, const char *in, size_t len, int last, size_t *taken,
                     char *out, size_t cap, int *ended)
{
    e->z.next_in = (unsigned char *)(uintptr_t)in;
    e->z.avail_in = (uInt)(len > 1u << 30 ? 1u << 30 : len);
    e->z.next_out = (unsigned char *)out;
    e->z.avail_out = (uInt)(cap > 1u << 30 ? 1u << 30 : cap);
    int finish = last && e->z.avail_in == len;
    int rc = deflate(&e->z, finish ? Z_FINISH : Z_NO_FLUSH);
    *taken = (size_t)(e->z.next_in - (const unsigned char *)in);
    *ended = rc == Z_STREAM_END;
    return (size_t)(e->z.next_out - (unsigned char *)out);
}

void coding_encoder_free(coding_encoder *e)
{
    if (!e)
        return;
    deflateEnd(&e->z);
    free(e);
}
