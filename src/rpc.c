/* The gRPC methods: the table, status codes, dispatch, and the small
 * methods (health, readiness, metadata) answered from the same facts as
 * the REST side's /v2 routes (api_oip.c). */
#include "rpc.h"

#include <string.h>

#include "infer.h"
#include "rpc_internal.h"
#include "version.h"

static const struct {
    const char *path, *name;
    int streaming;
    void (*handler)(const rpc_call *, rpc_reply *);
} methods[] = {
#define RPC_METHOD_ROW(id, path, name, streaming, handler) {path, name, streaming, handler},
    RPC_METHOD_MAP(RPC_METHOD_ROW)
#undef RPC_METHOD_ROW
    {"", "none", 0, NULL}};

rpc_method rpc_method_find(const char *path, size_t len)
{
    for (int i = 0; i < RPC_NONE; i++)
        if (strlen(methods[i].path) == len && memcmp(methods[i].path, path, len) == 0)
            return (rpc_method)i;
    return RPC_NONE;
}

const char *rpc_method_name(rpc_method m) { return methods[m].name; }
int rpc_method_streaming(rpc_method m) { return methods[m].streaming; }

static void write_bool(pb_writer *w, const void *arg)
{
    if (*(const int *)arg)
        pb_put_uint(w, 1, 1);
}

/* Field 1, an enum, written even when 0. */
static void write_enum(pb_writer *w, const void *arg)
{
    pb_put_uint(w, 1, (uint64_t)*(const int *)arg);
}

static void reply_bool(rpc_reply *r, int v) { rpc__reply_with(r, write_bool, &v); }

void rpc__server_live(const rpc_call *call, rpc_reply *r)
{
    (void)call;
    reply_bool(r, 1);
}

void rpc__server_ready(const rpc_call *call, rpc_reply *r) { reply_bool(r, !call->draining); }

/* A ModelReadyRequest's or ModelMetadataRequest's model (name 1, version
 * 2), as the REST side's paths name it: 1, or 0 with r's status set. */
static int model_of(const rpc_call *call, rpc_reply *r, infer_model *m)
{
    char name[64] = "", version[64] = "";
    pb_reader rd = pb_reader_of(call->msg->rest, call->msg->rest_len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0) {
        if (f.num == 1 && f.wire == PB_LEN)
            rpc__string(&f, name, sizeof name);
        else if (f.num == 2 && f.wire == PB_LEN)
            rpc__string(&f, version, sizeof version);
    }
    if (rc < 0) {
        rpc_fail(r, RPC_INVALID_ARGUMENT, "%s", lr_err_message(LR_ERR_BAD_MESSAGE));
        return 0;
    }
    lr_error err;
    if (infer_model_named(name, version[0] ? version : NULL, m, &err) != LR_ERR_OK) {
        rpc_fail_error(r, &err);
        return 0;
    }
    return 1;
}

void rpc__model_ready(const rpc_call *call, rpc_reply *r)
{
    infer_model m;
    if (model_of(call, r, &m))
        reply_bool(r, !call->draining);
}

static void write_server_metadata(pb_writer *w, const void *arg)
{
    (void)arg;
    pb_put_string(w, 1, "leakyrelu");
    pb_put_string(w, 2, LEAKYRELU_VERSION);
    pb_put_string(w, 3, "binary_tensor_data");
}

void rpc__server_metadata(const rpc_call *call, rpc_reply *r)
{
    (void)call;
    rpc__reply_with(r, write_server_metadata, NULL);
}

/* A TensorMetadata: the name, "FP64" (both FP64 and FP32 are taken), any
 * shape ([-1]). */
static void write_tensor_metadata(pb_writer *w, uint32_t num, const char *name)
{
    pb_writer size = pb_writer_of(NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        pb_writer *o = pass ? w : &size;
        if (pass)
            pb_put_len(w, num, size.n);
        pb_put_string(o, 1, name);
        pb_put_string(o, 2, "FP64");
        pb_put_len(o, 3, PB_VARINT_MAX);
        pb_put_varint(o, (uint64_t)-1);
    }
}

static void write_model_metadata(pb_writer *w, const void *arg)
{
    infer_model m = *(const infer_model *)arg;
    pb_put_string(w, 1, infer_model_name(m));
    pb_put_string(w, 2, INFER_MODEL_VERSION);
    pb_put_string(w, 3, "leakyrelu");
    write_tensor_metadata(w, 4, "x");
    if (m == INFER_MODEL_GRADIENT)
        write_tensor_metadata(w, 4, "grad_output");
    write_tensor_metadata(w, 5, m == INFER_MODEL_FORWARD ? "y" : "grad");
    if (m == INFER_MODEL_GRADIENT)
        write_tensor_metadata(w, 5, "grad_slope");
}

void rpc__model_metadata(const rpc_call *call, rpc_reply *r)
{
    infer_model m;
    if (model_of(call, r, &m))
        rpc__reply_with(r, write_model_metadata, &m);
}

/* grpc.health.v1.Health/Check: SERVING (1), or NOT_SERVING (2) while
 * the server drains, for the server ("") and the inference service. */
void rpc__health(const rpc_call *call, rpc_reply *r)
{
    char service[128] = "";
    pb_reader rd = pb_reader_of(call->msg->rest, call->msg->rest_len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0)
        if (f.num == 1 && f.wire == PB_LEN)
            rpc__string(&f, service, sizeof service);
    if (rc < 0) {
        rpc_fail(r, RPC_INVALID_ARGUMENT, "%s", lr_err_message(LR_ERR_BAD_MESSAGE));
    } else if (service[0] && strcmp(service, "inference.GRPCInferenceService") != 0) {
        rpc_fail(r, RPC_NOT_FOUND, "unknown service \"%s\"; the health of \"\" (the server) "
                 "and \"inference.GRPCInferenceService\" is known", service);
    } else {
        rpc__reply_with(r, write_enum, &(int){call->draining ? 2 : 1});
    }
}

void rpc_handle(const rpc_call *call, rpc_reply *r)
{
    memset(r, 0, sizeof *r);
    if (call->method >= RPC_NONE) {
        rpc_fail(r, RPC_UNIMPLEMENTED, "no such method");
        return;
    }
    methods[call->method].handler(call, r);
}
