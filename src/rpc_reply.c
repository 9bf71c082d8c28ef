/* A gRPC call's outcome: status codes and their names, the status of a
 * failed call, and the reply message's memory. The rpc module's lowest
 * file: the handlers use it, it uses none of them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "rpc_internal.h"
#include "utf8.h"

const char *rpc_code_name(rpc_code c)
{
    switch (c) {
#define RPC_CODE_CASE(name, value) case RPC_##name: return #name;
        RPC_CODE_MAP(RPC_CODE_CASE)
#undef RPC_CODE_CASE
    }
    return "UNKNOWN";
}

rpc_code rpc_code_of(lr_err e)
{
    switch (e) {
    case LR_ERR_OK: return RPC_OK;
    case LR_ERR_SHUTTING_DOWN: return RPC_UNAVAILABLE;
    case LR_ERR_NO_MEMORY:
    case LR_ERR_OVERLOADED:
    case LR_ERR_BODY_TOO_LARGE: return RPC_RESOURCE_EXHAUSTED;
    case LR_ERR_NOT_FOUND: return RPC_NOT_FOUND;
    case LR_ERR_NOT_IMPLEMENTED:
    case LR_ERR_METHOD: return RPC_UNIMPLEMENTED;
    default: return lr_err_status(e) < 500 ? RPC_INVALID_ARGUMENT : RPC_INTERNAL;
    }
}

void rpc_fail(rpc_reply *r, rpc_code code, const char *fmt, ...)
{
    char msg[sizeof r->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rpc_reply_free(r);
    r->code = code;
    utf8_sanitize(msg, r->message, sizeof r->message);
}

void rpc_fail_error(rpc_reply *r, const lr_error *err)
{
    const char *text = err->detail[0] ? err->detail : lr_err_message(err->code);
    if (err->path[0])
        rpc_fail(r, rpc_code_of(err->code), "%s at %s", text, err->path);
    else
        rpc_fail(r, rpc_code_of(err->code), "%s", text);
}

void rpc__reply_buffer(rpc_reply *r, uint8_t *buf, size_t len)
{
    r->own[0] = buf;
    r->piece[0].data = buf;
    r->piece[0].len = len;
    r->npieces = 1;
    r->len = len;
}

void rpc__string(const pb_field *f, char *out, size_t cap)
{
    size_t n = f->wire == PB_LEN ? (f->len < cap ? f->len : cap - 1) : 0;
    for (size_t i = 0; i < n; i++) /* a NUL cannot cut a name short: "x\0y" is not "x" */
        out[i] = f->data[i] ? (char)f->data[i] : '?';
    out[n] = '\0';
}

uint8_t *rpc_reply_join(const rpc_reply *r)
{
    uint8_t *buf = malloc(r->len ? r->len : 1), *p = buf;
    for (size_t i = 0; buf && i < r->npieces; i++) {
        memcpy(p, r->piece[i].data, r->piece[i].len);
        p += r->piece[i].len;
    }
    return buf;
}

void rpc_reply_free(rpc_reply *r)
{
    free(r->own[0]);
    if (r->budget)
        budget_release(r->budget, r->charge);
    free(r->own[1]);
    free(r->own[2]);
    memset(r, 0, sizeof *r);
}

/* A message written by fn(w, arg) into a buffer of its size. */
void rpc__reply_with(rpc_reply *r, void (*fn)(pb_writer *w, const void *arg), const void *arg)
{
    pb_writer size = pb_writer_of(NULL, 0);
    fn(&size, arg);
    uint8_t *buf = malloc(size.n ? size.n : 1);
    if (!buf) {
        rpc_fail(r, RPC_RESOURCE_EXHAUSTED, "%s", lr_err_message(LR_ERR_NO_MEMORY));
        return;
    }
    pb_writer w = pb_writer_of(buf, size.n);
    fn(&w, arg);
    rpc__reply_buffer(r, buf, w.n);
}
