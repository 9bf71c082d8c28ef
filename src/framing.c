/* The request head's framing checks (framing.h). */
#include "framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void framing_init(framing *f) { memset(f, 0, sizeof *f); }

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* Keeps value (without surrounding spaces and tabs) in out, cut short, and
 * says whether it is exactly `token` (case-insensitively). */
static int keep(char out[FRAMING_VALUE_MAX], const char *value, size_t len, const char *token)
{
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    size_t n = len < FRAMING_VALUE_MAX - 1 ? len : FRAMING_VALUE_MAX - 1;
    memcpy(out, value, n);
    out[n] = '\0';
    return len == strlen(token) && strncasecmp(value, token, len) == 0;
}

void framing_malformed(framing *f, const char *name, size_t name_len, const char *why)
{
    if (f->bad_why)
        return; /* the first is told */
    size_t n = name_len < FRAMING_VALUE_MAX - 1 ? name_len : FRAMING_VALUE_MAX - 1;
    for (size_t i = 0; i < n; i++) /* printable in a message */
        f->bad[i] = name[i] > ' ' && name[i] < 0x7f ? name[i] : '?';
    f->bad[n] = '\0';
    f->bad_why = why;
}

/* RFC 9110 section 5.6.2: tchar. */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

void framing_header(framing *f, const char *name, size_t name_len, const char *value,
                    size_t value_len)
{
    if (!value) { /* a header without a value: as an empty one */
        value = "";
        value_len = 0;
    }
    size_t i = 0;
    while (i < name_len && is_tchar((unsigned char)name[i]))
        i++;
    if (name_len == 0 || i < name_len)
        framing_malformed(f, name, name_len, "its name is not a token (a space before the "
                          "colon, or a folded line?)");
    else if (memchr(value, '\0', value_len) || memchr(value, '\r', value_len) ||
             memchr(value, '\n', value_len))
        framing_malformed(f, name, name_len, "its value holds a NUL, CR or LF byte");
    if (name_is(name, name_len, "Content-Length")) {
        f->content_length++;
    } else if (name_is(name, name_len, "Transfer-Encoding")) {
        if (f->transfer_encoding++ == 0)
            f->te_chunked = keep(f->te, value, value_len, "chunked");
    } else if (name_is(name, name_len, "Host")) {
        f->host++;
    } else if (name_is(name, name_len, "Content-Encoding")) {
        if (f->content_encoding++ == 0)
            (void)keep(f->ce, value, value_len, "identity"); /* coding_parse reads it */
    }
}

lr_err framing_verdict(const framing *f, int http_1_1, lr_error *err)
{
    if (f->bad_why)
        return lr_error_set(err, LR_ERR_BAD_HEADER, "the header \"%s\" is malformed: %s",
                            f->bad, f->bad_why);
    if (f->content_length && f->transfer_encoding)
        return lr_error_set(err, LR_ERR_BAD_FRAMING,
                            "Content-Length and Transfer-Encoding together; send one");
    if (f->content_length > 1)
        return lr_error_set(err, LR_ERR_BAD_FRAMING, "%u Content-Length headers; send one",
                            f->content_length);
    if (f->transfer_encoding && !http_1_1)
        return lr_error_set(err, LR_ERR_BAD_FRAMING,
                            "Transfer-Encoding in an HTTP/1.0 request");
    if (f->transfer_encoding > 1 || (f->transfer_encoding && !f->te_chunked))
        return lr_error_set(err, LR_ERR_TRANSFER_CODING,
                            "Transfer-Encoding \"%s\"%s is not supported; only chunked is",
                            f->te, f->transfer_encoding > 1 ? " (and more)" : "");
    if (http_1_1 && f->host == 0)
        return lr_error_set(err, LR_ERR_BAD_HOST, "no Host header; an HTTP/1.1 request has one");
    if (http_1_1 && f->host > 1)
        return lr_error_set(err, LR_ERR_BAD_HOST, "%u Host headers; an HTTP/1.1 request has one",
                            f->host);
    return lr_error_set(err, LR_ERR_OK, NULL);
}

lr_err framing_encoding(const framing *f, coding *out, lr_error *err)
{
    *out = CODING_IDENTITY;
    if (f->content_encoding > 1 || (f->content_encoding && coding_parse(f->ce, out) != 0))
        return lr_error_set(err, LR_ERR_CONTENT_ENCODING,
                            "Content-Encoding \"%s\"%s is not supported; send the body as gzip, "
                            "deflate or unencoded", f->ce,
                            f->content_encoding > 1 ? " (and more)" : "");
    return lr_error_set(err, LR_ERR_OK, NULL);
}

static int hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

lr_err framing_target(const char *raw, char *out, size_t cap, size_t *len, lr_error *err)
{
    *len = 0;
    out[0] = '\0';
    if (!raw || !*raw)
        return lr_error_set(err, LR_ERR_BAD_TARGET, "the request has no target");
    const char *p = raw;
    if (strcmp(p, "*") == 0) {
        snprintf(out, cap, "*");
        *len = 1;
        return lr_error_set(err, LR_ERR_OK, NULL);
    }
    if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
        p = strstr(p, "://") + 3; /* the absolute form: the authority goes */
        size_t host = strcspn(p, "/?#");
        if (host == 0)
            return lr_error_set(err, LR_ERR_BAD_TARGET, "the target %.100s has no host", raw);
        p += host;
        if (*p != '/') { /* "http://host" or "http://host?q": the path is "/" */
            snprintf(out, cap, "/");
            *len = 1;
        }
    } else if (*p != '/') {
        return lr_error_set(err, LR_ERR_BAD_TARGET,
                            "the target %.100s is not a path (\"/forward\") or a URL", raw);
    }
    size_t n = *len;
    for (; *p && *p != '?'; p++) {
        unsigned char c = (unsigned char)*p;
        int hi, lo;
        if (c <= ' ' || c == 0x7f)
            return lr_error_set(err, LR_ERR_BAD_TARGET,
                                "the target holds a space or control byte (0x%02x)", c);
        if (c == '%') {
            if ((hi = hex(p[1])) < 0 || (lo = hex(p[2])) < 0)
                return lr_error_set(err, LR_ERR_BAD_TARGET,
                                    "the target holds a malformed escape (%%%.2s)", p + 1);
            c = (unsigned char)(hi * 16 + lo);
            if (c == 0)
                return lr_error_set(err, LR_ERR_BAD_TARGET, "the target holds %%00 (a NUL)");
            p += 2;
        }
        if (n + 1 < cap)
            out[n] = (char)c;
        n++;
    }
    *len = n;
    out[n < cap ? n : cap - 1] = '\0';
    return lr_error_set(err, LR_ERR_OK, NULL);
}
