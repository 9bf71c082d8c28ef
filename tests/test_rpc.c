/* Tests of src/rpc*.c: the gRPC methods with no HTTP/2: messages built
 * with pb.h, fed to rpc_msg in pieces, answered by rpc_handle, and the
 * replies read back: the results bit for bit, the tensor sent from where
 * it was computed, each error's status and message, the stream's errors
 * as messages, health and reflection; and the memory back to the budget. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/budget.h"
#include "../src/rpc_internal.h"
#include "tap.h"
#include "tests.h"

/* An InferInputTensor x or grad_output, FP64 or FP32, shape [n]. */
static void put_input(pb_writer *w, const char *name, const char *dtype, size_t n)
{
    pb_writer in = pb_writer_of(NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        pb_writer *d = pass ? w : &in;
        if (pass)
            pb_put_len(w, 5, in.n);
        pb_put_string(d, 1, name);
        pb_put_string(d, 2, dtype);
        pb_put_len(d, 3, pb_varint_size(n));
        pb_put_varint(d, n);
    }
}

/* parameters["negative_slope"] = a double. */
static void put_slope(pb_writer *w, double slope)
{
    pb_put_len(w, 4, 16 + 11);
    pb_put_string(w, 1, "negative_slope");
    pb_put_len(w, 2, 9);
    pb_put_double(w, 4, slope);
}

typedef struct outcome {
    rpc_reply r;
    uint8_t *joined;
    const void *raw_at; /* where x's raw contents were received */
} outcome;

/* Feeds msg[0..len) in pieces of `piece` bytes and answers it (a
 * message cut short is answered as grpc_call.c answers it). */
static void run(budget *b, rpc_method m, const uint8_t *msg, size_t len, size_t piece,
                outcome *o)
{
    budget_account a;
    budget_open(b, &a, 0);
    rpc_msg *in = rpc_msg_new(m, &a, 1 << 20);
    ASSERT(in != NULL);
    lr_error err;
    for (size_t at = 0; at < len; at += piece)
        ASSERT_EQ(rpc_msg_feed(in, msg + at, len - at < piece ? len - at : piece, &err),
                  LR_ERR_OK);
    o->raw_at = in->nraw ? in->raw[0].data : NULL;
    rpc_call call = {m, in, &a, NULL, 0};
    memset(&o->r, 0, sizeof o->r);
    if (rpc_msg_end(in, &err) != LR_ERR_OK) /* as the transport answers it */
        rpc_fail_error(&o->r, &err);
    else
        rpc_handle(&call, &o->r);
    o->joined = o->r.code == RPC_OK ? rpc_reply_join(&o->r) : NULL;
    rpc_msg_free(in);
    budget_close(&a);
}

static void done(outcome *o)
{
    free(o->joined);
    rpc_reply_free(&o->r);
}

void test_rpc_infer(void)
{
    budget *b = budget_new(64 << 20);
    double x[4] = {1, -2, 3, -0.0}, want[4] = {1, -0.2, 3, -0.0};
    uint8_t msg[512];
    pb_writer w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "leaky_relu");
    pb_put_string(&w, 3, "42");
    put_input(&w, "x", "FP64", 4);
    put_slope(&w, 0.1);
    pb_put_bytes(&w, 7, x, sizeof x);
    ASSERT(pb_fits(&w));
    for (size_t piece = 1; piece <= w.n; piece = piece * 3 + 1) {
        outcome o;
        run(b, RPC_INFER, msg, w.n, piece, &o);
        ASSERT_EQ(o.r.code, RPC_OK);
        int from_tensor = 0; /* the result is sent from x's own memory */
        for (size_t i = 0; i < o.r.npieces; i++)
            from_tensor |= o.r.piece[i].data == o.raw_at && o.r.piece[i].len == sizeof x;
        ASSERT(from_tensor);
        pb_reader rd = pb_reader_of(o.joined, o.r.len);
        pb_field f;
        int seen = 0;
        while (pb_next(&rd, &f) > 0) {
            if (f.num == 1)
                seen |= (f.len == 10 && memcmp(f.data, "leaky_relu", 10) == 0) << 0;
            if (f.num == 3)
                seen |= (f.len == 2 && memcmp(f.data, "42", 2) == 0) << 1;
            if (f.num == 5) /* name y, FP64, shape [4] */
                seen |= (memmem(f.data, f.len, "\x0a\x01y\x12\x04" "FP64\x1a\x01\x04", 12) != NULL)
                        << 2;
            if (f.num == 6)
                seen |= (f.len == sizeof want && memcmp(f.data, want, sizeof want) == 0) << 3;
        }
        ASSERT_EQ(seen, 15);
        done(&o);
    }
    /* typed contents, float32: fp32_contents [-1, 2, -3] -> y */
    float xf[3] = {-1, 2, -3}, wf[3] = {-0.01f, 2, -0.03f};
    uint8_t contents[2 + sizeof xf];
    pb_writer cw = pb_writer_of(contents, sizeof contents);
    pb_put_bytes(&cw, 6, xf, sizeof xf);
    w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "leaky_relu");
    pb_put_len(&w, 5, 3 + 6 + 3 + 2 + cw.n);
    pb_put_string(&w, 1, "x");
    pb_put_string(&w, 2, "FP32");
    pb_put_len(&w, 3, 1);
    pb_put_varint(&w, 3);
    pb_put_bytes(&w, 5, contents, cw.n);
    outcome o;
    run(b, RPC_INFER, msg, w.n, 5, &o);
    ASSERT_EQ(o.r.code, RPC_OK);
    ASSERT(o.r.len >= sizeof wf && memcmp(o.joined + o.r.len - sizeof wf, wf, sizeof wf) == 0);
    done(&o);
    ASSERT_EQ(budget_used(b), 0u); /* everything charged was given back */
    budget_free(b);
}

/* A request's status: its code and message. */
static rpc_code failure(rpc_method m, const uint8_t *msg, size_t len, char *message)
{
    outcome o;
    run(NULL, m, msg, len, len ? len : 1, &o);
    rpc_code c = o.r.code;
    strcpy(message, o.r.message);
    if (c == RPC_OK && m == RPC_STREAM_INFER) { /* the error is the message's */
        pb_reader rd = pb_reader_of(o.joined, o.r.len);
        pb_field f;
        while (pb_next(&rd, &f) > 0)
            if (f.num == 1)
                rpc__string(&f, message, LR_DETAIL_MAX);
    }
    done(&o);
    return c;
}

void test_rpc_errors(void)
{
    uint8_t msg[256];
    char message[sizeof((rpc_reply *)0)->message];
    double x = -1;
    pb_writer w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "relu");
    ASSERT_EQ(failure(RPC_INFER, msg, w.n, message), RPC_NOT_FOUND);
    ASSERT_STR_EQ(message, "unknown model \"relu\"; the models are \"leaky_relu\" and "
                           "\"leaky_relu_grad\"");
    ASSERT_EQ(failure(RPC_STREAM_INFER, msg, w.n, message), RPC_OK); /* a stream goes on */
    ASSERT(strstr(message, "unknown model") != NULL);

    w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "leaky_relu");
    put_input(&w, "x", "INT32", 1);
    pb_put_bytes(&w, 7, &x, sizeof x);
    ASSERT_EQ(failure(RPC_INFER, msg, w.n, message), RPC_INVALID_ARGUMENT);
    ASSERT(strstr(message, "inputs[0].datatype must be \"FP64\" or \"FP32\", not \"INT32\""));

    w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "leaky_relu");
    put_input(&w, "x", "FP64", 2); /* 8 bytes for 2 elements */
    pb_put_bytes(&w, 7, &x, sizeof x);
    ASSERT_EQ(failure(RPC_INFER, msg, w.n, message), RPC_INVALID_ARGUMENT);

    w = pb_writer_of(msg, sizeof msg);
    pb_put_string(&w, 1, "leaky_relu");
    put_input(&w, "x", "FP64", 1);
    put_slope(&w, NAN);
    pb_put_bytes(&w, 7, &x, sizeof x);
    ASSERT_EQ(failure(RPC_INFER, msg, w.n, message), RPC_INVALID_ARGUMENT);
    ASSERT(strstr(message, "finite") != NULL);

    ASSERT_EQ(failure(RPC_INFER, (const uint8_t *)"\x0a\x09leaky", 7, message),
              RPC_INVALID_ARGUMENT); /* cut short: not a message */
    ASSERT_EQ(failure(RPC_MODEL_READY, (const uint8_t *)"\x0a\x01q", 3, message), RPC_NOT_FOUND);
    ASSERT_EQ(failure(RPC_HEALTH, (const uint8_t *)"\x0a\x01q", 3, message), RPC_NOT_FOUND);
    ASSERT_EQ(failure(RPC_NONE, NULL, 0, message), RPC_UNIMPLEMENTED);
}

/* The small methods' replies, byte for byte, and reflection's services. */
void test_rpc_methods(void)
{
    static const struct {
        rpc_method m;
        const char *in;
        size_t in_len;
        const char *out;
        size_t out_len;
    } cases[] = {
        {RPC_LIVE, "", 0, "\x08\x01", 2},
        {RPC_READY, "", 0, "\x08\x01", 2},
        {RPC_MODEL_READY, "\x0a\x0aleaky_relu\x12\x01" "1", 15, "\x08\x01", 2},
        {RPC_HEALTH, "", 0, "\x08\x01", 2},
        {RPC_HEALTH, "\x0a\x1einference.GRPCInferenceService", 32, "\x08\x01", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outcome o;
        run(NULL, cases[i].m, (const uint8_t *)cases[i].in, cases[i].in_len,
            cases[i].in_len ? cases[i].in_len : 1, &o);
        ASSERT_EQ(o.r.code, RPC_OK);
        ASSERT_EQ(o.r.len, cases[i].out_len);
        ASSERT(memcmp(o.joined, cases[i].out, cases[i].out_len) == 0);
        done(&o);
    }
    outcome o;
    run(NULL, RPC_REFLECT, (const uint8_t *)"\x3a\x00", 2, 2, &o); /* list_services */
    ASSERT_EQ(o.r.code, RPC_OK);
    ASSERT(memmem(o.joined, o.r.len, "inference.GRPCInferenceService", 30) != NULL);
    ASSERT(memmem(o.joined, o.r.len, "grpc.health.v1.Health", 21) != NULL);
    ASSERT(memmem(o.joined, o.r.len, "grpc.reflection.v1alpha.ServerReflection", 40) != NULL);
    done(&o);
    run(NULL, RPC_REFLECT, (const uint8_t *)"\x22\x03no.", 5, 5, &o); /* unknown symbol */
    ASSERT(o.r.code == RPC_OK && memmem(o.joined, o.r.len, "\x08\x05\x12", 3) != NULL);
    done(&o);
}
