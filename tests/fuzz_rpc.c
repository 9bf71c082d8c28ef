/* libFuzzer target (make fuzz): any bytes as a gRPC request message of
 * any method, fed to rpc_msg in pieces of any size and answered by
 * rpc_handle: nothing may crash, a reply must be a well-formed Protocol
 * Buffers message (or a status with a message), a message must read the
 * same whatever its pieces, and every byte charged to the budget must be
 * given back. The first byte picks the method, the second the pieces'
 * size. Built only by `make fuzz` (clang). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/budget.h"
#include "../src/pb.h"
#include "../src/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reply to data as one message of method m, fed `piece` bytes at a
 * time: its status, and (joined) its bytes. */
static rpc_code answer(budget *b, rpc_method m, const uint8_t *data, size_t size, size_t piece,
                       uint8_t **joined, size_t *len)
{
    budget_account a;
    budget_open(b, &a, 0);
    rpc_msg *msg = rpc_msg_new(m, &a, 1 << 20);
    if (!msg)
        abort();
    lr_error err;
    rpc_reply r = {0};
    lr_err rc = LR_ERR_OK;
    for (size_t at = 0; at < size && rc == LR_ERR_OK; at += piece)
        rc = rpc_msg_feed(msg, data + at, size - at < piece ? size - at : piece, &err);
    if (rc == LR_ERR_OK)
        rc = rpc_msg_end(msg, &err);
    if (rc != LR_ERR_OK) {
        rpc_fail_error(&r, &err);
    } else {
        rpc_call call = {m, msg, &a, NULL, 0};
        rpc_handle(&call, &r);
    }
    rpc_code code = r.code;
    *len = r.len;
    *joined = code == RPC_OK ? rpc_reply_join(&r) : NULL;
    if (code != RPC_OK && r.message[0] == '\0')
        abort(); /* a failed call says why */
    rpc_reply_free(&r);
    rpc_msg_free(msg);
    budget_close(&a);
    return code;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static budget *b;
    if (!b)
        b = budget_new((size_t)64 << 20);
    if (size < 2)
        return 0;
    rpc_method m = (rpc_method)(data[0] % RPC_NONE);
    size_t piece = 1 + data[1] % 64;
    data += 2;
    size -= 2;
    uint8_t *whole, *pieces;
    size_t whole_len, pieces_len;
    rpc_code a = answer(b, m, data, size, size ? size : 1, &whole, &whole_len);
    rpc_code c = answer(b, m, data, size, piece, &pieces, &pieces_len);
    if (a != c || whole_len != pieces_len || (whole && memcmp(whole, pieces, whole_len) != 0))
        abort(); /* the pieces changed the outcome */
    if (whole) { /* a reply is a message */
        pb_reader r = pb_reader_of(whole, whole_len);
        pb_field f;
        int rc;
        while ((rc = pb_next(&r, &f)) > 0) {
        }
        if (rc < 0)
            abort();
    }
    free(whole);
    free(pieces);
    if (budget_used(b) != 0)
        abort(); /* a charge not given back */
    return 0;
}
