/* The replies a connection received, checked (fuzz_http_replies.h): each
 * a status line "HTTP/1.1 NNN ", header lines of a token, a colon and no
 * NUL, CR or LF of their own, an empty line, and a body framed by
 * Content-Length or by chunks, never both; nothing after a reply that
 * said "Connection: close"; one X-Request-Id on the service's replies
 * (libmicrohttpd's own have none), CORS for the configured origin only,
 * bodies that decode (gzip, deflate), JSON that parses, errors that say
 * what they are, whole pictures with no infinite or NaN coordinate, and
 * no 5xx but the service's 501 and 503 and libmicrohttpd's 505 (the
 * rules say how its other defects count). */
#include "fuzz_http_replies.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../src/reqid.h"

/* A decoded body larger than this is not a reply of this service. */
#define DECODED_MAX ((size_t)64 << 20)

/* The first `what` (wlen bytes) in p[0..n), or NULL (memmem is GNU's). */
static const char *find(const char *p, size_t n, const char *what, size_t wlen)
{
    for (size_t i = 0; i + wlen <= n; i++)
        if (p[i] == what[0] && memcmp(p + i, what, wlen) == 0)
            return p + i;
    return NULL;
}

static int is(const char *v, size_t n, const char *want)
{
    return v && n == strlen(want) && strncasecmp(v, want, n) == 0;
}

/* A header line: a token, a colon, and no NUL, CR or LF of its own. */
static int header_ok(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] > ' ' && line[i] < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", line[i]))
        i++;
    return i > 0 && i < len && line[i] == ':' && !memchr(line, '\0', len) &&
           !memchr(line, '\r', len) && !memchr(line, '\n', len);
}

/* The first value of header `name` in lines[0..len) (each line ends in
 * CRLF), its length in *vlen; how many lines have that name in *count. */
static const char *header(const char *lines, size_t len, const char *name, size_t *vlen,
                          int *count)
{
    const char *found = NULL;
    size_t nl = strlen(name);
    *count = 0;
    for (const char *p = lines, *end = lines + len, *eol; p < end; p = eol + 2) {
        eol = find(p, (size_t)(end - p), "\r\n", 2);
        if ((size_t)(eol - p) <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0)
            continue;
        const char *v = p + nl + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        if (!found) {
            found = v;
            *vlen = (size_t)(eol - v);
        }
        ++*count;
    }
    return found;
}

/* The chunked body at b[0..n), decoded into a new buffer (*dlen), its
 * length on the wire in *used; NULL when malformed or cut short. */
static char *dechunk(const char *b, size_t n, size_t *used, size_t *dlen)
{
    char *d = malloc(n ? n : 1);
    size_t at = 0;
    *dlen = 0;
    while (d) {
        const char *eol = find(b + at, n - at, "\r\n", 2), *p = b + at;
        size_t k = 0;
        for (; eol && p < eol && isxdigit((unsigned char)*p) && k <= n; p++)
            k = k * 16 + (size_t)(isdigit((unsigned char)*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
        if (!eol || p != eol || p == b + at || k > n)
            break;
        at = (size_t)(eol - b) + 2;
        if (k == 0) { /* trailer lines, then an empty one */
            const char *end;
            while ((end = find(b + at, n - at, "\r\n", 2)) && end > b + at &&
                   header_ok(b + at, (size_t)(end - b) - at))
                at = (size_t)(end - b) + 2;
            if (end != b + at)
                break;
            *used = at + 2;
            return d;
        }
        if (n - at < k + 2 || memcmp(b + at + k, "\r\n", 2) != 0)
            break;
        memcpy(d + *dlen, b + at, k);
        *dlen += k;
        at += k + 2;
    }
    free(d);
    return NULL;
}

/* b[0..n) inflated into a new buffer, gzip or (HTTP's deflate) zlib;
 * NULL unless it is exactly one whole stream of that format. */
static char *inflate_all(const char *b, size_t n, int gzip, size_t *dlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK)
        abort();
    size_t cap = 4096;
    char *d = malloc(cap);
    z.next_in = (unsigned char *)(uintptr_t)b;
    z.avail_in = (unsigned)n;
    int rc = Z_OK;
    while (d && rc == Z_OK) {
        if (z.total_out == cap) {
            char *more = cap < DECODED_MAX ? realloc(d, cap *= 2) : NULL;
            if (!more)
                break;
            d = more;
        }
        z.next_out = (unsigned char *)d + z.total_out;
        z.avail_out = (unsigned)(cap - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
    }
    *dlen = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in != 0) {
        free(d);
        return NULL;
    }
    return d;
}

/* One reply's head: its status, its header lines lines[0..len) (each
 * with its CRLF), and its size from the status line to the empty line. */
typedef struct head {
    int status;
    const char *lines;
    size_t len, size;
    const char *length; /* Content-Length's value, or NULL */
    size_t length_len;
    int chunked, close, from_service;
} head;

/* Reads the head at r[0..n) into h (h->lines NULL: cut short, when the
 * rules allow); NULL, or what is wrong with it. */
static const char *parse_head(const char *r, size_t n, const replies_rules *rules, head *h)
{
    const char *end = find(r, n, "\r\n\r\n", 4);
    h->lines = NULL;
    if (n < 13 || memcmp(r, "HTTP/1.1 ", 9) != 0 || r[12] != ' ' || r[9] < '1' || r[9] > '5' ||
        !isdigit((unsigned char)r[10]) || !isdigit((unsigned char)r[11]))
        return rules->cut && n < 13 ? NULL : "a reply that does not start with \"HTTP/1.1 NNN \"";
    if (!end)
        return rules->cut ? NULL : "a reply head cut short";
    h->status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
    const char *eol = find(r, (size_t)(end - r) + 2, "\r\n", 2);
    if (memchr(r, '\0', (size_t)(eol - r)) || memchr(r, '\r', (size_t)(eol - r)) ||
        memchr(r, '\n', (size_t)(eol - r)))
        return "a status line with a NUL, CR or LF";
    h->lines = eol + 2;
    h->len = (size_t)(end + 2 - h->lines);
    h->size = (size_t)(end + 4 - r);
    for (const char *p = h->lines; p < end + 2; p = eol + 2)
        if (!header_ok(p, (size_t)((eol = find(p, (size_t)(end + 2 - p), "\r\n", 2)) - p)))
            return "a malformed reply header line";
    size_t vlen = 0;
    int ids, lengths, codings, closes, origins;
    const char *id = header(h->lines, h->len, "X-Request-Id", &vlen, &ids);
    if (id && (ids != 1 || vlen == 0 || vlen > REQID_MAX))
        return "a reply with more than one X-Request-Id, or an empty or long one";
    h->from_service = id != NULL;
    h->length = header(h->lines, h->len, "Content-Length", &h->length_len, &lengths);
    const char *te = header(h->lines, h->len, "Transfer-Encoding", &vlen, &codings);
    h->chunked = is(te, vlen, "chunked");
    if (lengths > 1 || codings > 1 || (h->length && te))
        return "a reply framed twice (Content-Length and Transfer-Encoding, or two of one)";
    if (te && !h->chunked)
        return "a reply in a transfer coding other than chunked";
    h->close = is(header(h->lines, h->len, "Connection", &vlen, &closes), vlen, "close");
    const char *origin = header(h->lines, h->len, "Access-Control-Allow-Origin", &vlen, &origins);
    if (origin && (origins != 1 || !is(origin, vlen, rules->origin)))
        return "CORS allowed for an origin not configured";
    /* The service's own 5xx are 501 (a transfer coding) and 503;
     * libmicrohttpd's 505 refuses an HTTP version. */
    if (h->status >= 500 && h->from_service && h->status != 501 && h->status != 503)
        return "a 5xx reply from the service other than 501 or 503";
    if (h->status >= 500 && !h->from_service && h->status != 505 && rules->strict >= 1)
        return "a 5xx reply from libmicrohttpd (FUZZ_HTTP_STRICT=0 tolerates it)";
    return NULL;
}

/* A body, decoded: what it says it is (JSON that parses, an error that
 * has its message). NULL, or what is wrong. */
static const char *check_body(const head *h, const char *body, size_t n)
{
    size_t vlen = 0;
    int count;
    const char *coding = header(h->lines, h->len, "Content-Encoding", &vlen, &count);
    char *plain = NULL;
    if (coding && !is(coding, vlen, "identity")) {
        if (!is(coding, vlen, "gzip") && !is(coding, vlen, "deflate"))
            return "a reply in a content coding the service does not write";
        if (!(body = plain = inflate_all(body, n, is(coding, vlen, "gzip"), &n)))
            return "a compressed reply that does not decode";
    }
    const char *type = header(h->lines, h->len, "Content-Type", &vlen, &count), *why = NULL;
    if (type && vlen >= 16 && strncasecmp(type, "application/json", 16) == 0) {
        json_error_t e;
        json_t *j = json_loadb(body, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &e);
        if (!j)
            why = "a JSON reply that does not parse";
        else if (h->status >= 400 && !json_is_string(json_object_get(j, "error")))
            why = "an error reply without an \"error\" message";
        json_decref(j);
    } else if (type && vlen >= 13 && strncasecmp(type, "image/svg+xml", 13) == 0 && h->status == 200 &&
               (n < 7 || memcmp(body + n - 7, "</svg>\n", 7) != 0 || find(body, n, "inf", 3) ||
                find(body, n, "nan", 3))) {
        why = "a picture cut short, or with an infinite or NaN coordinate";
    }
    free(plain);
    return why;
}

/* The length on the wire of the body at b[0..n) that h frames, checked
 * (*why set when it is wrong); SIZE_MAX when it is cut short. */
static size_t body(const head *h, const char *b, size_t n, const replies_rules *rules,
                   const char **why)
{
    size_t len = n, wire = n; /* without a length: until the close */
    char *decoded = NULL;
    if (h->chunked) {
        if (!(decoded = dechunk(b, n, &wire, &len))) {
            *why = rules->cut ? NULL : "a chunked reply malformed or cut short";
            return SIZE_MAX;
        }
        b = decoded;
    } else if (h->length) {
        char *stop;
        unsigned long long k = strtoull(h->length, &stop, 10);
        if (stop != h->length + h->length_len || !isdigit((unsigned char)*h->length)) {
            *why = "a reply with a malformed Content-Length";
            return SIZE_MAX;
        }
        if (n < k) {
            *why = rules->cut ? NULL : "a reply shorter than its Content-Length";
            return SIZE_MAX;
        }
        len = wire = (size_t)k;
    }
    *why = check_body(h, b, len);
    free(decoded);
    return wire;
}

const char *replies_check(const char *out, size_t n, const replies_rules *rules)
{
    int closed = 0;
    for (size_t at = 0; at < n;) {
        const char *r = out + at, *why = NULL;
        head h;
        if (closed)
            return "bytes after a reply that closes the connection";
        if ((why = parse_head(r, n - at, rules, &h)) || !h.lines)
            return why;
        const char *next = r + h.size;
        size_t left = n - at - h.size, type_len = 0;
        at += h.size;
        if (h.status < 200) /* 100 Continue: the final reply follows */
            continue;
        /* libmicrohttpd 0.9.75's 400 and 413 for a bad Content-Length:
         * its head twice over (parse_connection_headers queues the reply,
         * then the state machine goes on as if it had not). */
        if ((h.status == 400 || h.status == 413) && !h.from_service && h.close && h.length &&
            *h.length != '0' && left >= 13 && memcmp(next, r, 13) == 0) {
            if (rules->strict >= 2)
                return "libmicrohttpd's error head twice (FUZZ_HTTP_STRICT=1 tolerates it)";
            continue;
        }
        closed = h.close;
        /* A reply to HEAD says its length and sends no body: the next
         * reply, or the end, follows at once (binary replies answer POST
         * only, and no other body starts "HTTP/"). */
        int count;
        const char *type = header(h.lines, h.len, "Content-Type", &type_len, &count);
        if (h.status == 204 || h.status == 304 ||
            (rules->may_head && !is(type, type_len, "application/octet-stream") &&
             (left == 0 || (left >= 5 && memcmp(next, "HTTP/", 5) == 0))))
            continue;
        /* libmicrohttpd 0.9.75's reply to HEAD in chunks (a compressed
         * one): no body, but the chunks' end all the same. */
        if (rules->may_head && h.chunked && left >= 5 && memcmp(next, "0\r\n\r\n", 5) == 0 &&
            (left == 5 || (left >= 10 && memcmp(next + 5, "HTTP/", 5) == 0))) {
            if (rules->strict >= 2)
                return "libmicrohttpd's last chunk after a reply to HEAD (FUZZ_HTTP_STRICT=1 "
                       "tolerates it)";
            at += 5;
            continue;
        }
        size_t wire = body(&h, next, left, rules, &why);
        if (why || wire == SIZE_MAX)
            return why;
        closed |= !h.chunked && !h.length;
        at += wire;
    }
    return NULL;
}
