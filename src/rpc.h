/* The gRPC services, whatever carries them: the methods (the Open
 * Inference Protocol's GRPCInferenceService, health checking, server
 * reflection), a request message as it arrives, and the reply messages
 * and status. grpc*.c carry them over HTTP/2; this module and rpc_*.c
 * know Protocol Buffers' messages (proto/inference.proto, health.proto, reflection.proto) but no HTTP. */
#ifndef LEAKYRELU_RPC_H
#define LEAKYRELU_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

struct budget;
struct budget_account;
struct pool;

/* gRPC's status codes (grpc/grpc, doc/statuscodes.md). */
#define RPC_CODE_MAP(X)                                                                    \
    X(OK, 0) X(CANCELLED, 1) X(UNKNOWN, 2) X(INVALID_ARGUMENT, 3) X(DEADLINE_EXCEEDED, 4)  \
    X(NOT_FOUND, 5) X(ALREADY_EXISTS, 6) X(PERMISSION_DENIED, 7) X(RESOURCE_EXHAUSTED, 8)  \
    X(FAILED_PRECONDITION, 9) X(ABORTED, 10) X(OUT_OF_RANGE, 11) X(UNIMPLEMENTED, 12)      \
    X(INTERNAL, 13) X(UNAVAILABLE, 14) X(DATA_LOSS, 15) X(UNAUTHENTICATED, 16)

typedef enum rpc_code {
#define RPC_CODE_ENUM(name, value) RPC_##name = value,
    RPC_CODE_MAP(RPC_CODE_ENUM)
#undef RPC_CODE_ENUM
} rpc_code;

#define RPC_CODES 17

/* "OK", "INVALID_ARGUMENT", ...: the code's name (metrics, logs). */
const char *rpc_code_name(rpc_code c);

/* The status an error of the table stands for: a malformed or
 * mismatched request INVALID_ARGUMENT, an unknown model NOT_FOUND, too
 * large or no memory RESOURCE_EXHAUSTED, the drain UNAVAILABLE. */
rpc_code rpc_code_of(lr_err e);

/* X(ID, path, name, streaming, handler): the methods served.
 *   path       the HTTP/2 :path, "/package.Service/Method"
 *   name       its label in metrics and the access log
 *   streaming  1: messages both ways on one call (answered one by one)
 *   handler    void handler(const rpc_call *, rpc_reply *) */
#define RPC_METHOD_MAP(X)                                                                  \
    X(LIVE, "/inference.GRPCInferenceService/ServerLive", "ServerLive", 0,                 \
      rpc__server_live)                                                                    \
    X(READY, "/inference.GRPCInferenceService/ServerReady", "ServerReady", 0,              \
      rpc__server_ready)                                                                   \
    X(MODEL_READY, "/inference.GRPCInferenceService/ModelReady", "ModelReady", 0,          \
      rpc__model_ready)                                                                    \
    X(SERVER_METADATA, "/inference.GRPCInferenceService/ServerMetadata", "ServerMetadata", \
      0, rpc__server_metadata)                                                             \
    X(MODEL_METADATA, "/inference.GRPCInferenceService/ModelMetadata", "ModelMetadata", 0, \
      rpc__model_metadata)                                                                 \
    X(INFER, "/inference.GRPCInferenceService/ModelInfer", "ModelInfer", 0, rpc__infer)    \
    X(STREAM_INFER, "/inference.GRPCInferenceService/ModelStreamInfer", "ModelStreamInfer", \
      1, rpc__infer)                                                                       \
    X(HEALTH, "/grpc.health.v1.Health/Check", "Health.Check", 0, rpc__health)              \
    X(REFLECT, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",           \
      "ServerReflectionInfo", 1, rpc__reflect)

typedef enum rpc_method {
#define RPC_METHOD_ENUM(id, path, name, streaming, handler) RPC_##id,
    RPC_METHOD_MAP(RPC_METHOD_ENUM)
#undef RPC_METHOD_ENUM
    RPC_NONE,   /* no method matched (counted; never handled) */
    RPC_METHODS /* how many there are, RPC_NONE included */
} rpc_method;

/* The method at path[0..len), or RPC_NONE. */
rpc_method rpc_method_find(const char *path, size_t len);
const char *rpc_method_name(rpc_method m); /* "ModelInfer", ..., "none" */
int rpc_method_streaming(rpc_method m);

/* --- a request message as it arrives --- */

/* The most raw_input_contents entries a request may carry. */
#define RPC_RAW_MAX 4

/* One message: its fields but the bulk ones (`rest`, in place), and the
 * payloads of the bulk field (ModelInferRequest's raw_input_contents),
 * each in memory of its own, charged to the call's account, which is
 * where the tensor computed in place is read from. */
typedef struct rpc_msg rpc_msg;

/* An empty message for method m, of at most max bytes (its length, when
 * the transport knows it), its memory charged to a. NULL when out of
 * memory. */
rpc_msg *rpc_msg_new(rpc_method m, struct budget_account *a, size_t max);

/* The message's next n bytes (decoded, when it was compressed). Returns
 * LR_ERR_OK; BODY_TOO_LARGE past max; OVERLOADED or NO_MEMORY when
 * memory cannot be had; BAD_ENCODING... JSON_SYNTAX when the bytes cannot
 * be a message (err says what). */
lr_err rpc_msg_feed(rpc_msg *m, const uint8_t *data, size_t n, lr_error *err);

/* The message is complete: LR_ERR_OK, or JSON_SYNTAX when its bytes end
 * inside a field. */
lr_err rpc_msg_end(rpc_msg *m, lr_error *err);

/* Frees the message and what of its payloads was not taken. NULL is
 * ignored. */
void rpc_msg_free(rpc_msg *m);

/* --- a call, and its reply --- */

/* What a handler is given: the method, the message, the server's state. */
typedef struct rpc_call {
    rpc_method method;
    rpc_msg *msg;                  /* its payloads may be taken */
    struct budget_account *account; /* the call's memory */
    struct pool *workers;          /* for large tensors, or NULL */
    int draining;                  /* the server is shutting down */
} rpc_call;

/* The most pieces a reply message is sent from. */
#define RPC_PIECES 6

/* Bytes of a reply where they lie. */
typedef struct rpc_piece {
    const uint8_t *data;
    size_t len;
} rpc_piece;

/* A reply message, sent from pieces where they lie (the tensor computed
 * in place among them), or the call's status when it failed. */
typedef struct rpc_reply {
    rpc_code code;          /* RPC_OK: the message below is the reply */
    char message[LR_DETAIL_MAX + 128]; /* grpc-message when code is not OK */
    size_t len;             /* the message's bytes, in all */
    size_t npieces;
    rpc_piece piece[RPC_PIECES];
    void *own[3];           /* memory the pieces lie in, freed with the reply */
    struct budget *budget;  /* own[1] is charged `charge` bytes to it */
    size_t charge;
    uint64_t elements;      /* tensor elements computed */
} rpc_reply;

/* Answers one message of the call into *r (zeroed first). Never fails:
 * out of memory is a RESOURCE_EXHAUSTED status. On a streaming method
 * an inference's error is a message (ModelStreamInferResponse's
 * error_message), not a status. Thread-safe. */
void rpc_handle(const rpc_call *call, rpc_reply *r);

/* Sets r's status to code with a message (printf). */
void rpc_fail(rpc_reply *r, rpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* r's status from err: rpc_code_of its code, the message as the REST
 * side words it ("detail at path"). */
void rpc_fail_error(rpc_reply *r, const lr_error *err);

/* r as one message in a buffer: its pieces joined (for a coding).
 * malloc'd; NULL when out of memory. */
uint8_t *rpc_reply_join(const rpc_reply *r);

void rpc_reply_free(rpc_reply *r);

#endif
