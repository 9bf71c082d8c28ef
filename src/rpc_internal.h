/* Internals shared by the rpc module's files (rpc__ prefix): a message's
 * storage, and the handlers RPC_METHOD_MAP names. rpc.c dispatches and
 * answers the small methods; rpc_msg.c receives messages; rpc_infer.c
 * is ModelInfer and ModelStreamInfer; rpc_reflect.c is reflection. */
#ifndef LEAKYRELU_RPC_INTERNAL_H
#define LEAKYRELU_RPC_INTERNAL_H

#include "pb.h"
#include "rpc.h"
#include "tensor.h"

struct rpc_msg {
    rpc_method method;
    struct budget_account *account;
    size_t max;       /* bytes it may have */
    size_t size;      /* bytes fed */
    uint8_t *rest;    /* the fields but the bulk ones (a budget block) */
    size_t rest_len, rest_cap;
    int split;        /* the bulk field (raw_input_contents) goes apart */
    pb_split sp;
    tensor raw[RPC_RAW_MAX]; /* its payloads, as bytes: `count` is unset */
    size_t raw_len[RPC_RAW_MAX];
    size_t nraw;
    size_t raw_off;   /* bytes of the last one received */
    uint8_t *block;   /* the last one's memory while it arrives (then raw[]'s), */
    size_t charged;   /*   and what of it is charged: the bytes come so far */
};

#define RPC_HANDLER(id, path, name, streaming, handler) \
    void handler(const rpc_call *call, rpc_reply *r);
RPC_METHOD_MAP(RPC_HANDLER)
#undef RPC_HANDLER

/* r as one message from a buffer of len bytes (malloc'd, r's now). */
void rpc__reply_buffer(rpc_reply *r, uint8_t *buf, size_t len);

/* r as the message fn(w, arg) writes: measured by a first call, written
 * by a second into a buffer of that size (r's); out of memory, r's
 * status says so. */
void rpc__reply_with(rpc_reply *r, void (*fn)(pb_writer *w, const void *arg), const void *arg);

/* A string field as a C string in out (cap bytes, cut short). */
void rpc__string(const pb_field *f, char *out, size_t cap);

#endif
