/* The request head's framing checks (framing.h). */
#include "framing.h"

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

void framing_header(framing *f, const char *name, size_t name_len, const char *value,
                    size_t value_len)
{
    if (!value) { /* a header without a value: as an empty one */
        value = "";
        value_len = 0;
    }
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
