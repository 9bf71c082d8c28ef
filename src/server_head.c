/* The request head's checks before any route's, where they need
 * libmicrohttpd's view of the head: the target as sent (before the
 * library decodes it in place), and where each header line lay in the
 * library's buffer. The checks themselves are framing.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_internal.h"

/* A request's exchange is made when its target arrives, before the
 * library decodes it in place (MHD_OPTION_URI_LOG_CALLBACK): the path is
 * decoded here, on all its bytes; a NUL among them is a 400, not a cut. */
void *server__on_target(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    exchange *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    clock_gettime(CLOCK_REALTIME, &ex->ts);
    clock_gettime(CLOCK_MONOTONIC, &ex->t0);
    ex->head.route = API_NONE;
    ex->raw = uri;
    ex->raw_len = uri ? strlen(uri) : 0;
    snprintf(ex->path, sizeof ex->path, "%.*s", uri ? (int)strcspn(uri, "?") : 0,
             uri ? uri : "");
    size_t len;
    framing_target(uri, ex->target, sizeof ex->target, &len, &ex->target_err);
    return ex;
}

/* The head's headers, each to framing, and where each lies in
 * libmicrohttpd's buffer: it parses the head in place, each line's CR and
 * LF turned to NULs, so one header's value ends one or two NULs before
 * the next header's name. Anything else between them is a value the
 * library cut at a NUL byte, or a folded line it joined to a name: both
 * malformed (RFC 9110 section 5.5, RFC 9112 section 5.2). */
typedef struct head_scan {
    framing f;
    const char *end;            /* the previous line's end (the version's, first) */
    const char *name;           /* the previous header's name, and its length */
    size_t name_len;
} head_scan;

#define HIDDEN "its value holds a NUL byte, or a folded line follows it"

/* Whether p..until is one or two NULs. */
static int line_break(const char *p, const char *until)
{
    return until > p && until - p <= 2 && p[0] == '\0' && (until - p == 1 || p[1] == '\0');
}

static enum MHD_Result framing_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    head_scan *h = cls;
    framing_header(&h->f, key, key_size, value, value_size);
    if (h->end && !line_break(h->end, key))
        framing_malformed(&h->f, h->name ? h->name : "(the request line)",
                          h->name ? h->name_len : 18, HIDDEN);
    h->end = value ? value + value_size : key + key_size;
    h->name = key;
    h->name_len = key_size;
    return MHD_YES;
}

lr_err server__head_verdict(struct MHD_Connection *c, exchange *ex, const char *version,
                            lr_error *err)
{
    head_scan h = {.end = version + strlen(version), .name = NULL};
    framing_init(&h.f);
    if (MHD_get_connection_values_n(c, MHD_HEADER_KIND, framing_each, &h) < 0)
        return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
    /* The last line ends with the head: its NUL, and the empty line's. */
    if (h.name && !(h.end[0] == '\0' && h.end[1] == '\0'))
        framing_malformed(&h.f, h.name, h.name_len, HIDDEN);
    lr_err rc = framing_verdict(&h.f, strcmp(version, MHD_HTTP_VERSION_1_0) != 0, err);
    if (rc != LR_ERR_OK)
        return rc;
    /* A raw NUL in the target cut it short: the version does not follow it. */
    if (ex->target_err.code == LR_ERR_OK && version != ex->raw + ex->raw_len + 1)
        return lr_error_set(err, LR_ERR_BAD_TARGET, "the request line holds a NUL byte");
    ex->framing = h.f;
    return LR_ERR_OK;
}

