/* HTTP content codings (RFC 9110 section 8.4.1): gzip (RFC 1952) and
 * deflate (the zlib format, RFC 1950; raw deflate, RFC 1951, is read
 * too, as some clients send it), with zlib. Request bodies are decoded
 * as they arrive, replies encoded as they are sent; neither is ever held
 * whole. Knows nothing of HTTP libraries. */
#ifndef LEAKYRELU_CODING_H
#define LEAKYRELU_CODING_H

#include <stddef.h>

typedef enum coding {
    CODING_IDENTITY,
    CODING_GZIP,
    CODING_DEFLATE
} coding;

/* "gzip", "deflate" or "identity", the names of the codings. */
const char *coding_name(coding c);

/* A Content-Encoding value: one coding, "gzip" (or "x-gzip"), "deflate"
 * or "identity", case-insensitive, spaces around it ignored; empty is
 * identity. Returns 0, or -1 for anything else (a list of codings too). */
int coding_parse(const char *value, coding *out);

/* The coding to answer a request with, from its Accept-Encoding (NULL:
 * none): gzip when it is acceptable (listed, or "*", with a q-value above
 * 0), else deflate, else identity (RFC 9110 section 12.5.3). */
coding coding_accepted(const char *accept_encoding);

/* --- decoding a request body as it arrives --- */

typedef struct coding_decoder coding_decoder;

/* NULL when memory runs out. */
coding_decoder *coding_decoder_new(coding c);

/* Where decoded bytes go: returns 0 to go on, anything else to stop
 * (coding_decode then returns it). */
typedef int coding_sink(void *cls, const char *data, size_t len);

/* Decodes the next len bytes of the body, handing what they decode to
 * to sink in pieces of at most CODING_PIECE bytes. Returns 0, -1 when the
 * data is not of the coding (or follows its end), or the sink's stop. A
 * gzip body may be several members, one after the other. */
int coding_decode(coding_decoder *d, const char *data, size_t len, coding_sink *sink, void *cls);

/* The body is complete: 0 when its coded data ended too, else -1. */
int coding_decode_end(const coding_decoder *d);

void coding_decoder_free(coding_decoder *d);

#define CODING_PIECE (64 * 1024)

/* --- encoding a reply as it is sent --- */

typedef struct coding_encoder coding_encoder;

/* At zlib's fastest level (1): a reply is compressed at several hundred
 * MB/s, a fraction of what sending takes. NULL when memory runs out. */
coding_encoder *coding_encoder_new(coding c);

/* Compresses what it can of in[0, len) into out (cap > 0 bytes): *taken
 * says how many bytes of in it took; with last (in holds the rest of the
 * reply), it also ends the coded data, and *ended is set once all of it
 * is written. Returns the bytes written to out (0 is possible while in
 * is taken). */
size_t coding_encode(coding_encoder *e, const char *in, size_t len, int last, size_t *taken,
                     char *out, size_t cap, int *ended);

void coding_encoder_free(coding_encoder *e);

/* The memory an encoder or a decoder holds, at most (zlib's state and
 * windows). */
#define CODING_MEMORY ((size_t)400 * 1024)

#endif
