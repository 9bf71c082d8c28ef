/* gRPC server reflection, v1alpha (grpc/grpc, doc/server-reflection.md):
 * the services served and the descriptors of the files that declare
 * them (proto/inference.proto, health.proto, reflection.proto, compiled
 * into a FileDescriptorSet by protoc at
 * build time and embedded), so that a generic tool can list the services
 * and call them without the .proto files. */
#include <string.h>

#include "rpc_internal.h"

/* The build's FileDescriptorSet (Makefile: protoc --descriptor_set_out). */
extern const unsigned char rpc_descriptors[];
extern const size_t rpc_descriptors_len;

/* error_response's codes are gRPC's. */
#define NOT_FOUND 5

/* A file's name (field 1) and whether it declares `symbol`: its package
 * (2) then a top-level message (4), enum (5) or service (6), or anything
 * inside one of those. */
static int declares(const pb_field *file, const char *symbol, char *name, size_t cap)
{
    pb_reader rd = pb_reader_of(file->data, file->len);
    pb_field f;
    char package[128] = "";
    name[0] = '\0';
    while (pb_next(&rd, &f) > 0) {
        if (f.num == 1 && f.wire == PB_LEN)
            rpc__string(&f, name, cap);
        else if (f.num == 2 && f.wire == PB_LEN)
            rpc__string(&f, package, sizeof package);
    }
    size_t plen = strlen(package);
    if (strncmp(symbol, package, plen) != 0 || symbol[plen] != '.')
        return 0;
    const char *rest = symbol + plen + 1;
    size_t first = strcspn(rest, ".");
    rd = pb_reader_of(file->data, file->len);
    while (pb_next(&rd, &f) > 0) {
        if ((f.num != 4 && f.num != 5 && f.num != 6) || f.wire != PB_LEN)
            continue;
        pb_reader d = pb_reader_of(f.data, f.len);
        pb_field n;
        while (pb_next(&d, &n) > 0)
            if (n.num == 1 && n.wire == PB_LEN && n.len == first &&
                memcmp(n.data, rest, first) == 0)
                return 1;
    }
    return 0;
}

/* The service names a file declares, written as ServiceResponse entries. */
static void write_services(pb_writer *w, const pb_field *file)
{
    pb_reader rd = pb_reader_of(file->data, file->len);
    pb_field f;
    const uint8_t *package = NULL;
    size_t plen = 0;
    while (pb_next(&rd, &f) > 0)
        if (f.num == 2 && f.wire == PB_LEN) {
            package = f.data;
            plen = f.len;
        }
    rd = pb_reader_of(file->data, file->len);
    while (pb_next(&rd, &f) > 0) {
        if (f.num != 6 || f.wire != PB_LEN)
            continue;
        pb_reader d = pb_reader_of(f.data, f.len);
        pb_field n;
        while (pb_next(&d, &n) > 0) {
            if (n.num != 1 || n.wire != PB_LEN)
                continue;
            size_t len = plen + 1 + n.len;
            pb_put_len(w, 1, 1 + pb_varint_size(len) + len); /* a ServiceResponse */
            pb_put_len(w, 1, len);
            pb_put_raw(w, package, plen);
            pb_put_raw(w, ".", 1);
            pb_put_raw(w, n.data, n.len);
        }
    }
}

typedef struct query {
    const pb_field *request;  /* the request, echoed */
    const uint8_t *host;
    size_t host_len;
    int kind;                 /* the oneof's field number; 0: none */
    char arg[256];
} query;

/* The response's oneof into w: 4 (files), 6 (services) or 7 (error). */
static void write_answer(pb_writer *w, const query *q)
{
    pb_reader set = pb_reader_of(rpc_descriptors, rpc_descriptors_len);
    pb_field file;
    char name[128];
    if (q->kind == 7) { /* list_services */
        pb_writer size = pb_writer_of(NULL, 0);
        while (pb_next(&set, &file) > 0)
            write_services(&size, &file);
        pb_put_len(w, 6, size.n);
        set = pb_reader_of(rpc_descriptors, rpc_descriptors_len);
        while (pb_next(&set, &file) > 0)
            write_services(w, &file);
        return;
    }
    if (q->kind == 3 || q->kind == 4) { /* file_by_filename, file_containing_symbol */
        while (pb_next(&set, &file) > 0) {
            int match = declares(&file, q->kind == 4 ? q->arg : "", name, sizeof name);
            if (q->kind == 3 ? strcmp(name, q->arg) == 0 : match) {
                pb_put_len(w, 4, 1 + pb_varint_size(file.len) + file.len);
                pb_put_bytes(w, 1, file.data, file.len);
                return;
            }
        }
    }
    const char *what = q->kind == 3   ? "no file of that name"
                       : q->kind == 4 ? "no symbol of that name"
                       : q->kind == 5 || q->kind == 6 ? "no extensions are declared"
                                                      : "an unknown request";
    size_t len = strlen(what);
    pb_put_len(w, 7, 2 + (1 + pb_varint_size(len) + len));
    pb_put_uint(w, 1, NOT_FOUND);
    pb_put_bytes(w, 2, what, len);
}

static void write_response(pb_writer *w, const void *arg)
{
    const query *q = arg;
    pb_put_bytes(w, 1, q->host, q->host_len);
    pb_put_bytes(w, 2, q->request->data, q->request->len);
    write_answer(w, q);
}

/* ServerReflectionInfo: one response for each request on the stream. */
void rpc__reflect(const rpc_call *call, rpc_reply *r)
{
    pb_field whole = {.data = call->msg->rest, .len = call->msg->rest_len};
    query q = {.request = &whole};
    pb_reader rd = pb_reader_of(whole.data, whole.len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0) {
        if (f.num == 1 && f.wire == PB_LEN) {
            q.host = f.data;
            q.host_len = f.len;
        } else if (f.num >= 3 && f.num <= 7 && f.wire == PB_LEN) {
            q.kind = (int)f.num;
            rpc__string(&f, q.arg, sizeof q.arg);
        }
    }
    if (rc < 0) {
        rpc_fail(r, RPC_INVALID_ARGUMENT, "%s", lr_err_message(LR_ERR_BAD_MESSAGE));
        return;
    }
    rpc__reply_with(r, write_response, &q);
}
