/* A gRPC request message as its bytes arrive: kept in one buffer, but
 * for ModelInferRequest's raw_input_contents, whose payloads go straight
 * into memory of their own, the tensors the kernel then computes in
 * place (pb_split tells the two apart as the bytes come). Every byte is
 * charged to the call's account before it is stored, as it arrives (a
 * length declared is not charged: a client could declare and not send). */
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "mem.h"
#include "rpc_internal.h"

/* The field number of ModelInferRequest.raw_input_contents. */
#define RAW_INPUT_CONTENTS 7

rpc_msg *rpc_msg_new(rpc_method m, budget_account *a, size_t max)
{
    rpc_msg *msg = calloc(1, sizeof *msg);
    if (!msg)
        return NULL;
    msg->method = m;
    msg->account = a;
    msg->max = max;
    msg->split = m == RPC_INFER || m == RPC_STREAM_INFER;
    pb_split_init(&msg->sp, RAW_INPUT_CONTENTS);
    for (size_t i = 0; i < RPC_RAW_MAX; i++) {
        tensor_init(&msg->raw[i]);
        msg->raw[i].account = a;
    }
    return msg;
}

static lr_err no_room(rpc_msg *m, lr_error *err)
{
    return lr_error_set(err, m->account && m->account->refused ? LR_ERR_OVERLOADED
                                                               : LR_ERR_NO_MEMORY, NULL);
}

/* The rest's buffer is charged to the account (taken as it grows, given
 * back to it when freed: a stream's calls hold it message by message). */
static lr_err keep(rpc_msg *m, const uint8_t *data, size_t n, lr_error *err)
{
    if (n > m->rest_cap - m->rest_len) {
        size_t cap = mem_grow(m->rest_cap, m->rest_len + n, 256);
        if (!cap || budget_take(m->account, cap - m->rest_cap) != 0)
            return no_room(m, err);
        uint8_t *grown = realloc(m->rest, cap);
        if (!grown) {
            budget_give(m->account, cap - m->rest_cap);
            return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
        }
        m->rest = grown;
        m->rest_cap = cap;
    }
    memcpy(m->rest + m->rest_len, data, n);
    m->rest_len += n;
    return LR_ERR_OK;
}

/* The last raw payload is complete: its block, charged in full, becomes
 * its tensor's memory (as doubles; rpc_infer.c sets the dtype). */
static lr_err raw_done(rpc_msg *m, lr_error *err)
{
    tensor *t = &m->raw[m->nraw - 1];
    size_t alloc = (m->raw_len[m->nraw - 1] + 7) & ~(size_t)7;
    if (budget_take(m->account, alloc - m->charged) != 0)
        return no_room(m, err);
    t->data = (double *)(void *)m->block;
    t->cap = alloc / 8;
    m->block = NULL;
    m->charged = 0;
    return LR_ERR_OK;
}

/* A raw_input_contents payload of `total` bytes begins, `left` bytes
 * before the message's most. */
static lr_err begin_raw(rpc_msg *m, uint64_t total, size_t left, lr_error *err)
{
    if (m->nraw == RPC_RAW_MAX)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "the request has more than %d "
                            "raw_input_contents", RPC_RAW_MAX);
    if (total > left) /* (a message's length is known: it declares more than it holds) */
        return lr_error_set(err, LR_ERR_BODY_TOO_LARGE, "raw_input_contents[%zu] declares %llu "
                            "bytes, more than the message's %zu left", m->nraw,
                            (unsigned long long)total, left);
    /* Its whole size is allocated now, one block hinted for huge pages
     * (a tensor grown in steps lies in 4 KiB pages, whose misses made a
     * 64 MB call three times slower), but charged as its bytes come: a
     * length declared and not sent holds address space, not memory. */
    size_t alloc = ((size_t)total + 7) & ~(size_t)7;
    m->raw_len[m->nraw++] = (size_t)total;
    m->raw_off = m->charged = 0;
    if (alloc) {
        m->block = malloc(alloc);
        if (!m->block)
            return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
        mem_hint_large(m->block, alloc);
    }
    return total ? LR_ERR_OK : raw_done(m, err);
}

lr_err rpc_msg_feed(rpc_msg *m, const uint8_t *data, size_t n, lr_error *err)
{
    if (n > m->max - m->size)
        return lr_error_set(err, LR_ERR_BODY_TOO_LARGE, "the message is larger than "
                            "--max-body (%zu bytes)", m->max);
    m->size += n;
    if (!m->split)
        return keep(m, data, n, err);
    size_t at = m->size - n; /* the message's bytes before data */
    while (n) {
        pb_piece piece;
        long took = pb_split_feed(&m->sp, data, n, &piece);
        if (took < 0)
            return lr_error_set(err, LR_ERR_BAD_MESSAGE, NULL);
        lr_err rc = LR_ERR_OK;
        if (piece.kind == PB_PIECE_BEGIN) {
            rc = begin_raw(m, piece.total, m->max - at - (size_t)took, err);
        } else if (piece.kind == PB_PIECE_RAW) {
            if (budget_take(m->account, piece.len) != 0)
                return no_room(m, err);
            m->charged += piece.len;
            memcpy(m->block + m->raw_off, piece.data, piece.len);
            m->raw_off += piece.len;
            if (m->raw_off == m->raw_len[m->nraw - 1])
                rc = raw_done(m, err);
        } else if (piece.len) {
            rc = keep(m, piece.data, piece.len, err);
        }
        if (rc != LR_ERR_OK)
            return rc;
        data += took;
        at += (size_t)took;
        n -= (size_t)took;
    }
    return LR_ERR_OK;
}

lr_err rpc_msg_end(rpc_msg *m, lr_error *err)
{
    if (m->split && !pb_split_done(&m->sp))
        return lr_error_set(err, LR_ERR_BAD_MESSAGE, "the message ends inside a field");
    return LR_ERR_OK;
}

void rpc_msg_free(rpc_msg *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < RPC_RAW_MAX; i++)
        tensor_free(&m->raw[i]);
    free(m->block); /* a payload cut short: what came is what was charged */
    budget_give(m->account, m->charged);
    free(m->rest);
    budget_give(m->account, m->rest_cap);
    free(m);
}
