/* Replies: the one way a handler fills an api_response (a JSON or text
 * body, an empty one, extra headers), the JSON error replies from the
 * error table, the validators that let caches keep what does not change
 * (ETag, If-None-Match, Cache-Control), and freeing a reply. Depends on
 * no other api file: every handler may use it. */
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "stream.h"
#include "utf8.h"

void api__respond(api_response *resp, int status, char *body, size_t len)
{
    resp->status = status;
    resp->body = body;
    resp->len = body ? len : 0;
    resp->stream = NULL;
    resp->body_in_budget = 0;
    resp->out_of_memory = 0;
}

void api__respond_empty(api_response *resp, int status)
{
    api__respond(resp, status, NULL, 0);
    resp->content_type = "";
}

int api__respond_copy(api_response *resp, const char *text, size_t len,
                      const char *content_type)
{
    char *body = malloc(len + 1);
    if (!body) {
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return 0;
    }
    memcpy(body, text, len + 1);
    api__respond(resp, 200, body, len);
    resp->content_type = content_type;
    return 1;
}

void api__respond_json(api_response *resp, int status, json_t *obj)
{
    /* jansson allocates with malloc by default (json_set_alloc_funcs is
     * never called), so the text can be released with free(). */
    char *text = obj ? json_dumps(obj, 0) : NULL;
    json_decref(obj);
    if (!text) {
        api__respond_failed(resp);
        return;
    }
    api__respond(resp, status, text, strlen(text));
}

void api__respond_failed(api_response *resp)
{
    api__respond(resp, 503, NULL, 0);
    resp->out_of_memory = 1;
}

int api__add_header(api_response *resp, const char *name, const char *value)
{
    char *v = resp->nheaders < API_HEADERS_MAX ? strdup(value) : NULL;
    if (!v)
        return 0;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return 1;
}

void api_error(const lr_error *err, api_response *resp)
{
    memset(resp, 0, sizeof *resp); /* it owns nothing yet (api.h) */
    char msg[LR_DETAIL_MAX + LR_PATH_MAX + 64], safe[sizeof msg];
    int n = snprintf(msg, sizeof msg, "%s",
                     err->detail[0] ? err->detail : lr_err_message(err->code));
    if (err->path[0] && n >= 0 && (size_t)n < sizeof msg)
        n += snprintf(msg + n, sizeof msg - (size_t)n, " at %s", err->path);
    if (err->offset != LR_NO_OFFSET && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, " at byte %zu", err->offset);
    /* Messages quote client bytes (names, escapes, headers, the path):
     * make them valid, printable UTF-8 or jansson refuses the string. */
    utf8_sanitize(msg, safe, sizeof safe);
    json_t *obj = json_pack("{s:s, s:s}", "error", safe, "code", lr_err_code(err->code));
    if (obj && err->offset != LR_NO_OFFSET &&
        json_object_set_new(obj, "offset", json_integer((json_int_t)err->offset)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    if (obj && err->path[0] &&
        json_object_set_new(obj, "path", json_string(err->path)) != 0) {
        json_decref(obj);
        obj = NULL;
    }
    resp->retry_after = err->code == LR_ERR_OVERLOADED ? 1 : 0;
    api__respond_json(resp, lr_err_status(err->code), obj);
}

void api__error_response(api_response *resp, lr_err code, const char *fmt, ...)
{
    lr_error err;
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(&err, code, fmt, ap);
    va_end(ap);
    api_error(&err, resp);
}

void api__no_memory(api_response *resp, int refused)
{
    api__error_response(resp, refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY, NULL);
}

/* A tag for a body: FNV-1a, 64 bits, of its bytes (Fowler, Noll and Vo;
 * the IETF draft draft-eastlake-fnv), as "<16 hex digits>" in quotes. It
 * is sent weak (W/): the reply may go compressed or not, and a strong tag
 * would have to differ between the two (RFC 9110, section 8.8.1). */
static void etag_of(const char *body, size_t len, char tag[20])
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)body[i];
        h *= 0x100000001b3u;
    }
    snprintf(tag, 20, "\"%016llx\"", (unsigned long long)h);
}

/* 1 when If-None-Match (a list of entity tags, or "*") holds the opaque
 * tag, by the weak comparison RFC 9110 section 13.1.2 prescribes (W/ is
 * ignored). */
static int etag_matches(const char *if_none_match, const char *tag)
{
    const char *p = if_none_match;
    size_t tlen = strlen(tag);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        size_t n = strcspn(p, ", \t");
        if (n == tlen && memcmp(p, tag, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

/* Frees the reply's body however it was allocated. */
static void free_body(api_response *resp)
{
    if (resp->body_in_budget)
        budget_block_free(resp->body);
    else
        free(resp->body);
    resp->body = NULL;
    resp->body_in_budget = 0;
}

void api__cacheable(const api_request *req, api_response *resp, const char *cache_control)
{
    if (resp->status != 200 || !resp->body)
        return;
    char tag[20], weak[24];
    etag_of(resp->body, resp->len, tag);
    snprintf(weak, sizeof weak, "W/%s", tag);
    if (req->if_none_match && etag_matches(req->if_none_match, tag)) {
        free_body(resp); /* the cache has it: 304 with no body */
        api__respond_empty(resp, 304);
    }
    if (!api__add_header(resp, "ETag", weak) ||
        !api__add_header(resp, "Cache-Control", cache_control)) {
        api_response_free(resp);
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
    }
}

void api_response_free(api_response *resp)
{
    free_body(resp);
    stream_free(resp->stream);
    resp->stream = NULL;
    for (size_t i = 0; i < resp->nheaders; i++)
        free(resp->headers[i].value);
    resp->nheaders = 0;
    for (size_t i = 0; i < resp->nparts; i++) {
        free(resp->parts[i].data);
        budget_release(resp->parts[i].budget, resp->parts[i].charged);
    }
    resp->nparts = 0;
}
