/* ModelInfer and ModelStreamInfer: a ModelInferRequest read in place
 * (its raw_input_contents already in tensors of their own, rpc_msg.c),
 * the inference run by infer.c as for the REST side, and the
 * ModelInferResponse written around the computed tensor, which is sent
 * where it lies: the reply's pieces are the message's small fields and
 * the tensor's own memory. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "infer.h"
#include "numparse.h"
#include "rpc_internal.h"

/* What a ModelInferRequest says, its strings pointing into the message. */
typedef struct input_msg {
    char name[64];
    char datatype[24];
    size_t shape[TENSOR_MAX_DIMS];
    int ndim;
    int bad_shape;             /* a size below 0, or too many */
    pb_reader contents;        /* InferTensorContents, or empty */
    int has_contents;
    tensor typed;              /* the contents, read */
} input_msg;

typedef struct infer_msg {
    char model[64], version[64];
    const uint8_t *id;
    size_t id_len;
    int has_id;
    input_msg in[INFER_INPUTS];
    size_t ninputs;            /* as many as the message has (may be more) */
    char out[INFER_OUTPUTS][32];
    size_t noutputs;
    tensor slopes;
    int has_slope;
} infer_msg;

static lr_err malformed(lr_error *err, const char *what)
{
    return lr_error_set(err, LR_ERR_BAD_MESSAGE, "%s is not valid Protocol Buffers wire data",
                        what);
}

/* negative_slope's InferParameter: a double, an int64, or text holding a
 * number or a list of numbers ("[0.1, 0.2]": PReLU). */
static lr_err take_slope(infer_msg *im, const pb_field *value, lr_error *err)
{
    static const char path[] = "parameters.negative_slope";
    pb_reader rd = pb_reader_of(value->data, value->len);
    pb_field f;
    int rc, got = 0;
    tensor *s = &im->slopes;
    tensor_free(s);
    s->ndim = 0;
    while ((rc = pb_next(&rd, &f)) > 0) {
        tensor_free(s);
        got = 1;
        if (f.num == 4 && f.wire == PB_I64) {
            if (!isfinite(pb_double(f.v)))
                return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s must be a finite number", path);
            rc = tensor_push(s, pb_double(f.v));
        } else if (f.num == 2 && f.wire == PB_VARINT) {
            rc = tensor_push(s, (double)(int64_t)f.v);
        } else if (f.num == 5 && f.wire == PB_VARINT) {
            rc = tensor_push(s, (double)f.v);
        } else if (f.num == 3 && f.wire == PB_LEN) {
            const char *p = (const char *)f.data, *end = p + f.len;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            int list = p < end && *p == '[';
            p += list;
            rc = 0;
            for (;;) {
                while (p < end && (*p == ' ' || *p == '\t'))
                    p++;
                double v;
                const char *stop;
                if (list && s->count == 0 && p < end && *p == ']')
                    break;
                if (p >= end || numparse_f64(p, end, &v, &stop) != NUMPARSE_OK)
                    return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s's string_param must be a "
                                        "number or a list of numbers (\"[0.1, 0.2]\")", path);
                if (tensor_push(s, v) != 0) /* the budget refused, or malloc */
                    return lr_error_set(err, s->account && s->account->refused
                                                 ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY, NULL);
                for (p = stop; p < end && (*p == ' ' || *p == '\t');)
                    p++;
                if (list && p < end && *p == ',') {
                    p++;
                    continue;
                }
                break;
            }
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if ((list && (p >= end || *p != ']')) || p + list != end)
                return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s's string_param must be a "
                                    "number or a list of numbers (\"[0.1, 0.2]\")", path);
            if (list && s->count == 0)
                return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s must not be an empty list",
                                    path);
            s->ndim = list;
            s->shape[0] = s->count;
        } else {
            return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s must be a double_param, an "
                                "int64_param, a uint64_param or a string_param", path);
        }
        if (rc != 0)
            return lr_error_set(err, LR_ERR_NO_MEMORY, NULL);
    }
    if (rc < 0)
        return malformed(err, path);
    if (!got)
        return lr_error_set(err, LR_ERR_BAD_SLOPE, "%s has no value", path);
    im->has_slope = 1;
    return LR_ERR_OK;
}

/* The request's parameters: a map entry (key 1, value 2). */
static lr_err take_parameter(infer_msg *im, const pb_field *entry, lr_error *err)
{
    pb_reader rd = pb_reader_of(entry->data, entry->len);
    pb_field f, value = {.wire = PB_LEN};
    char key[64] = "";
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0) {
        if (f.num == 1 && f.wire == PB_LEN)
            rpc__string(&f, key, sizeof key);
        else if (f.num == 2 && f.wire == PB_LEN)
            value = f;
    }
    if (rc < 0)
        return malformed(err, "parameters");
    if (strcmp(key, "negative_slope") == 0)
        return take_slope(im, &value, err);
    if (strcmp(key, "binary_data_output") == 0 || strcmp(key, "timeout") == 0 ||
        strcmp(key, "priority") == 0)
        return LR_ERR_OK; /* outputs are raw_output_contents in any case */
    lr_error_set(err, LR_ERR_UNKNOWN_PARAM, "unknown parameter \"%.64s\"; expected "
                 "\"negative_slope\"", key);
    snprintf(err->path, sizeof err->path, "parameters");
    return err->code;
}

/* One size of an input's shape (an int64). */
static void add_size(input_msg *in, uint64_t v)
{
    if ((int64_t)v < 0 || in->ndim == TENSOR_MAX_DIMS)
        in->bad_shape = 1;
    else
        in->shape[in->ndim++] = (size_t)v;
}

/* An InferInputTensor. */
static lr_err take_input(infer_msg *im, const pb_field *field, lr_error *err)
{
    size_t i = im->ninputs++;
    if (i >= INFER_INPUTS)
        return LR_ERR_OK; /* counted: infer.c says how many there may be */
    input_msg *in = &im->in[i];
    pb_reader rd = pb_reader_of(field->data, field->len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0) {
        if (f.num == 1 && f.wire == PB_LEN) {
            rpc__string(&f, in->name, sizeof in->name);
        } else if (f.num == 2 && f.wire == PB_LEN) {
            rpc__string(&f, in->datatype, sizeof in->datatype);
        } else if (f.num == 3 && f.wire == PB_VARINT) {
            add_size(in, f.v);
        } else if (f.num == 3 && f.wire == PB_LEN) { /* packed */
            for (const uint8_t *p = f.data, *end = p + f.len; p < end;) {
                uint64_t v;
                size_t n = pb_varint(p, end, &v);
                if (n == 0)
                    return malformed(err, "a shape");
                p += n;
                add_size(in, v);
            }
        } else if (f.num == 5 && f.wire == PB_LEN) {
            in->contents = pb_reader_of(f.data, f.len);
            in->has_contents = 1;
        }
    }
    if (rc < 0)
        return malformed(err, "an input");
    return LR_ERR_OK;
}

static lr_err take_output(infer_msg *im, const pb_field *field, lr_error *err)
{
    size_t i = im->noutputs++;
    if (i >= INFER_OUTPUTS)
        return lr_error_set(err, LR_ERR_BAD_OUTPUT, "the request names more than %d outputs",
                            INFER_OUTPUTS);
    pb_reader rd = pb_reader_of(field->data, field->len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0)
        if (f.num == 1 && f.wire == PB_LEN)
            rpc__string(&f, im->out[i], sizeof im->out[i]);
    return rc < 0 ? malformed(err, "an output") : LR_ERR_OK;
}

/* The message's fields (the raw contents are apart). */
static lr_err read_msg(const rpc_msg *m, infer_msg *im, lr_error *err)
{
    pb_reader rd = pb_reader_of(m->rest, m->rest_len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&rd, &f)) > 0) {
        lr_err e = LR_ERR_OK;
        if (f.wire != PB_LEN)
            continue; /* every field read is a string or a message */
        switch (f.num) {
        case 1: rpc__string(&f, im->model, sizeof im->model); break;
        case 2: rpc__string(&f, im->version, sizeof im->version); break;
        case 3:
            im->id = f.data;
            im->id_len = f.len;
            im->has_id = 1;
            break;
        case 4: e = take_parameter(im, &f, err); break;
        case 5: e = take_input(im, &f, err); break;
        case 6: e = take_output(im, &f, err); break;
        default: break;
        }
        if (e != LR_ERR_OK)
            return e;
    }
    return rc < 0 ? malformed(err, "the ModelInferRequest") : LR_ERR_OK;
}

/* An input's typed contents (fp32_contents, 6, or fp64_contents, 7, as
 * its datatype says; packed or not) into in->typed. */
static lr_err read_contents(input_msg *in, size_t i, tensor_dtype dtype,
                            struct budget_account *a, lr_error *err)
{
    uint32_t want = dtype == TENSOR_F32 ? 6 : 7;
    int wire = dtype == TENSOR_F32 ? PB_I32 : PB_I64;
    size_t size = dtype == TENSOR_F32 ? 4 : 8, count = 0;
    for (int pass = 0; pass < 2; pass++) {
        pb_reader rd = in->contents;
        pb_field f;
        int rc;
        size_t k = 0;
        while ((rc = pb_next(&rd, &f)) > 0) {
            if (f.num != want) {
                lr_error_set(err, LR_ERR_BAD_INPUT, "inputs[%zu].contents holds field %" PRIu32
                             "; an %s input's data is %s", i, f.num, in->datatype,
                             want == 6 ? "fp32_contents" : "fp64_contents");
                return err->code;
            }
            if (f.wire != PB_LEN && f.wire != wire)
                return malformed(err, "an input's contents");
            if (f.wire == PB_LEN && f.len % size)
                return malformed(err, "an input's contents");
            size_t n = f.wire == PB_LEN ? f.len / size : 1;
            if (pass && n) /* little-endian, as the host */
                memcpy((char *)in->typed.data + k * size, f.data, n * size);
            k += n;
        }
        if (rc < 0)
            return malformed(err, "an input's contents");
        if (!pass) { /* room in doubles, as tensor_reserve counts; the same bytes in floats */
            count = k;
            in->typed.account = a;
            if (count && tensor_reserve(&in->typed, (count * size + 7) / 8) != 0)
                return lr_error_set(err, a && a->refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY,
                                    NULL);
            in->typed.dtype = dtype;
            in->typed.cap *= 8 / size;
        }
    }
    in->typed.count = count;
    return LR_ERR_OK;
}

static size_t dtype_size(tensor_dtype d) { return d == TENSOR_F32 ? 4 : 8; }
static const char *datatype_name(tensor_dtype d) { return d == TENSOR_F32 ? "FP32" : "FP64"; }

/* Input i's datatype, shape and data: raw_input_contents[i] when the
 * request has them, else its typed contents. */
static lr_err take_data(const rpc_call *call, infer_msg *im, size_t i, infer_input *out,
                        char *path, size_t path_len, lr_error *err)
{
    rpc_msg *m = call->msg;
    input_msg *in = &im->in[i];
    tensor_dtype dtype;
    if (strcmp(in->datatype, "FP64") == 0 || strcmp(in->datatype, "FP32") == 0) {
        dtype = in->datatype[2] == '6' ? TENSOR_F64 : TENSOR_F32;
    } else {
        lr_error_set(err, LR_ERR_BAD_DTYPE, "inputs[%zu].datatype must be \"FP64\" or "
                     "\"FP32\", not \"%.20s\"", i, in->datatype);
        snprintf(err->path, sizeof err->path, "inputs[%zu].datatype", i);
        return err->code;
    }
    if (in->bad_shape) {
        lr_error_set(err, LR_ERR_BAD_SHAPE, "inputs[%zu].shape must hold at most %d sizes: "
                     "whole numbers, 0 or more", i, TENSOR_MAX_DIMS);
        snprintf(err->path, sizeof err->path, "inputs[%zu].shape", i);
        return err->code;
    }
    if (m->nraw && in->has_contents)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "inputs[%zu] has contents, and the request "
                            "raw_input_contents: give one or the other", i);
    if (!m->nraw && !in->has_contents)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "inputs[%zu] has no data: give its "
                            "contents or raw_input_contents", i);
    tensor *t;
    if (m->nraw) {
        t = &m->raw[i];
        size_t size = dtype_size(dtype);
        if (m->raw_len[i] % size)
            return lr_error_set(err, LR_ERR_BINARY_LENGTH, "raw_input_contents[%zu] has %zu "
                                "bytes, not a whole number of %s elements", i, m->raw_len[i],
                                in->datatype);
        t->dtype = dtype;
        if (dtype == TENSOR_F32)
            t->cap *= 2; /* the same bytes, counted in floats */
        t->count = m->raw_len[i] / size;
        snprintf(path, path_len, "raw_input_contents[%zu]", i);
    } else {
        lr_err rc = read_contents(in, i, dtype, call->account, err);
        if (rc != LR_ERR_OK)
            return rc;
        t = &in->typed;
        snprintf(path, path_len, "inputs[%zu].contents", i);
    }
    t->ndim = in->ndim;
    memcpy(t->shape, in->shape, sizeof t->shape);
    *out = (infer_input){in->name, dtype, t, path};
    return LR_ERR_OK;
}

/* The request as infer.c takes it. */
static lr_err to_infer(const rpc_call *call, infer_msg *im, infer_request *ir,
                       char paths[INFER_INPUTS][48], lr_error *err)
{
    *ir = (infer_request){0};
    lr_err rc = infer_model_named(im->model, im->version[0] ? im->version : NULL, &ir->model,
                                  err);
    if (rc != LR_ERR_OK)
        return rc;
    size_t n = im->ninputs < INFER_INPUTS ? im->ninputs : INFER_INPUTS;
    if (call->msg->nraw && call->msg->nraw != im->ninputs)
        return lr_error_set(err, LR_ERR_BAD_INPUT, "the request has %zu raw_input_contents "
                            "for %zu inputs: give one per input, in their order",
                            call->msg->nraw, im->ninputs);
    ir->ninputs = im->ninputs;
    for (size_t i = 0; i < n && im->ninputs <= INFER_INPUTS; i++) {
        rc = take_data(call, im, i, &ir->in[i], paths[i], sizeof paths[i], err);
        if (rc != LR_ERR_OK)
            return rc;
    }
    ir->slopes = im->has_slope ? &im->slopes : NULL;
    ir->noutputs = im->noutputs;
    for (size_t k = 0; k < im->noutputs; k++)
        ir->outputs[k].name = im->out[k]; /* text 0: raw bytes carry infinities */
    return LR_ERR_OK;
}

/* An InferOutputTensor: name, datatype, shape (packed). */
static void write_output(pb_writer *w, const infer_output *o, const infer_result *res)
{
    pb_writer size = pb_writer_of(NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        pb_writer *d = pass ? w : &size;
        if (pass)
            pb_put_len(w, 5, size.n);
        pb_put_string(d, 1, o->name);
        pb_put_string(d, 2, datatype_name(res->dtype));
        size_t dims = 0;
        for (int k = 0; k < (o->slope ? 1 : res->y->ndim); k++)
            dims += pb_varint_size(o->slope ? res->nslopes : res->y->shape[k]);
        if (!o->slope && res->y->ndim == 0)
            continue; /* a scalar: no sizes */
        pb_put_len(d, 3, dims);
        for (int k = 0; k < (o->slope ? 1 : res->y->ndim); k++)
            pb_put_varint(d, o->slope ? res->nslopes : res->y->shape[k]);
    }
}

/* ModelInferResponse's fields before the raw outputs. */
static void write_head(pb_writer *w, const infer_msg *im, const infer_result *res,
                       infer_model model)
{
    pb_put_string(w, 1, infer_model_name(model));
    pb_put_string(w, 2, INFER_MODEL_VERSION);
    if (im->has_id)
        pb_put_bytes(w, 3, im->id, im->id_len);
    for (size_t i = 0; i < res->noutputs; i++)
        write_output(w, &res->out[i], res);
}

static size_t output_len(const infer_result *res, const infer_output *o)
{
    return (o->slope ? res->nslopes : res->y->count) * dtype_size(res->dtype);
}

/* The reply: the head and each output's tag in one buffer, each output's
 * bytes where they lie (the kernel's result moves to the reply). On a
 * stream, wrapped as ModelStreamInferResponse.infer_response. */
static int encode(const rpc_call *call, const infer_msg *im, infer_result *res,
                  infer_model model, rpc_reply *r)
{
    pb_writer head = pb_writer_of(NULL, 0);
    write_head(&head, im, res, model);
    size_t inner = head.n;
    for (size_t i = 0; i < res->noutputs; i++) {
        size_t n = output_len(res, &res->out[i]);
        inner += 1 + pb_varint_size(n) + n;
    }
    int stream = call->method == RPC_STREAM_INFER;
    size_t cap = head.n + res->noutputs * (1 + PB_VARINT_MAX) + 1 + PB_VARINT_MAX;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 0;
    r->own[0] = buf;
    pb_writer w = pb_writer_of(buf, cap);
    if (stream)
        pb_put_len(&w, 2, inner);
    write_head(&w, im, res, model);
    size_t start = 0;
    for (size_t i = 0; i < res->noutputs; i++) {
        const infer_output *o = &res->out[i];
        size_t n = output_len(res, o);
        pb_put_len(&w, 6, n);
        r->piece[r->npieces++] = (rpc_piece){buf + start, w.n - start};
        start = w.n;
        const void *data;
        if (o->slope) {
            uint8_t *v = malloc(n ? n : 1);
            if (!v)
                return 0;
            r->own[2] = v;
            for (size_t c = 0; c < res->nslopes; c++) {
                float f = (float)res->grad_slope[c];
                memcpy(v + c * dtype_size(res->dtype),
                       res->dtype == TENSOR_F32 ? (const void *)&f
                                                : (const void *)&res->grad_slope[c],
                       dtype_size(res->dtype));
            }
            data = v;
        } else {
            struct budget_account *a = res->y->account;
            r->budget = a ? a->b : NULL;
            data = r->own[1] = tensor_take_data(res->y, &r->charge);
            budget_disown(a, r->charge); /* the reply's now, released when sent */
        }
        if (n)
            r->piece[r->npieces++] = (rpc_piece){data, n};
    }
    if (w.n > start)
        r->piece[r->npieces++] = (rpc_piece){buf + start, w.n - start};
    r->len = (stream ? 1 + pb_varint_size(inner) : 0) + inner;
    return 1;
}

/* A stream's failed inference: ModelStreamInferResponse's error_message,
 * with the request's model and id, and the stream goes on. */
struct stream_error {
    const char *message;
    const infer_msg *im;
};

/* ModelStreamInferResponse: error_message, and an infer_response with the
 * request's model and id. */
static void write_stream_error(pb_writer *w, const void *arg)
{
    const struct stream_error *e = arg;
    pb_writer inner = pb_writer_of(NULL, 0);
    for (int pass = 0; pass < 2; pass++) {
        pb_writer *o = pass ? w : &inner;
        if (pass) {
            pb_put_string(w, 1, e->message);
            pb_put_len(w, 2, inner.n);
        }
        pb_put_string(o, 1, e->im->model);
        if (e->im->has_id)
            pb_put_bytes(o, 3, e->im->id, e->im->id_len);
    }
}

static void stream_error(rpc_reply *r, const lr_error *err, const infer_msg *im)
{
    rpc_reply failed = {0};
    rpc_fail_error(&failed, err);
    struct stream_error e = {failed.message, im};
    rpc__reply_with(r, write_stream_error, &e);
}

void rpc__infer(const rpc_call *call, rpc_reply *r)
{
    infer_msg im = {0};
    tensor_init(&im.slopes);
    im.slopes.account = call->account; /* a list as long as the message: charged */
    for (size_t i = 0; i < INFER_INPUTS; i++)
        tensor_init(&im.in[i].typed);
    lr_error err;
    lr_error_clear(&err);
    infer_request ir;
    infer_result res = {0};
    char paths[INFER_INPUTS][48];
    lr_err rc = read_msg(call->msg, &im, &err);
    if (rc == LR_ERR_OK)
        rc = to_infer(call, &im, &ir, paths, &err);
    if (rc == LR_ERR_OK)
        rc = infer_run(&ir, call->workers, &res, &err);
    if (rc == LR_ERR_OK) {
        r->elements = res.y ? res.y->count : ir.in[0].t->count;
        if (!encode(call, &im, &res, ir.model, r))
            rpc_fail(r, RPC_RESOURCE_EXHAUSTED, "%s", lr_err_message(LR_ERR_NO_MEMORY));
    } else if (call->method == RPC_STREAM_INFER) {
        stream_error(r, &err, &im);
    } else {
        rpc_fail_error(r, &err);
    }
    infer_result_free(&res);
    tensor_free(&im.slopes);
    for (size_t i = 0; i < INFER_INPUTS; i++)
        tensor_free(&im.in[i].typed);
}
