/* Open Inference Protocol inference requests (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md, "Inference Request JSON
 * Object"), read as they arrive like any other body:
 *   {"id": "...", "parameters": {"negative_slope": S, "binary_data_output": B},
 *    "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64",
 *                "parameters": {"binary_data_size": N}, "data": [...]}, ...],
 *    "outputs": [{"name": "y", "parameters": {"binary_data": B}}]}
 * Each input's "data" goes through the array machine (request__tensor),
 * so its numbers are read by the same codec, in parts on the workers,
 * with checkpoints inside it. Every other member is small: it is checked
 * by the syntax-only scan without checkpoints (text running out there
 * reads again from the last checkpoint) and then taken apart with
 * jansson. The reader's place between values lives in req->oip, so a
 * checkpoint's snapshot holds it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "request_internal.h"

/* The most text a small member may take. */
#define SMALL_MAX (64 * 1024)

/* The level of the value being read (req->oip.at): the body itself (not
 * an object: skipped), or a member of the request, an element of inputs,
 * a member of an input. */
enum { AT_BODY, AT_TOP, AT_INPUTS, AT_INPUT };

enum { TOP_ID, TOP_PARAMETERS, TOP_INPUTS, TOP_OUTPUTS, TOP_COUNT };
static const char *const top_names[TOP_COUNT] = {"id", "parameters", "inputs", "outputs"};

enum { IN_NAME, IN_SHAPE, IN_DATATYPE, IN_PARAMETERS, IN_DATA, IN_COUNT };
static const char *const in_names[IN_COUNT] = {"name", "shape", "datatype", "parameters", "data"};

/* Paths of the inputs' data, for the array machine's element paths. */
static const char *const data_paths[REQUEST_OIP_INPUTS] = {"inputs[0].data", "inputs[1].data"};

static int find(const char *const *names, int n, const char *name, size_t len, int trunc)
{
    for (int i = 0; i < n && !trunc; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return i;
    return -1;
}

static tensor *input_tensor(request *req, size_t i)
{
    return i == 0 ? &req->x : &req->grad_output;
}

/* The small value at ps->p, checked for syntax, then parsed into *out
 * (NULL after a request error, recorded or earlier). Returns 0 or -1. */
static int small_value(request__parser *ps, int depth, const char *path, json_t **out)
{
    const char *start = ps->p;
    request__checkpoint *ck = ps->ckpt;
    ps->ckpt = NULL; /* starved inside: read again from the last checkpoint */
    int rc = request__skip_value(ps, depth);
    ps->ckpt = ck;
    *out = NULL;
    if (rc != 0 || ps->has_semantic)
        return rc;
    size_t len = (size_t)(ps->p - start);
    if (len > SMALL_MAX) {
        request__record(ps, LR_ERR_BAD_MEMBER, path, "%s takes %zu bytes, more than the %d "
                        "allowed", path, len, SMALL_MAX);
        return 0;
    }
    json_error_t e;
    *out = json_loadb(start, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    if (!*out)
        request__record(ps, LR_ERR_BAD_MEMBER, path, "%s: %s", path, e.text);
    return 0;
}

/* A name or id: a string of fewer than cap bytes into out. */
static void take_string(request__parser *ps, const json_t *v, const char *path, char *out,
                        size_t cap)
{
    if (!json_is_string(v))
        request__record(ps, LR_ERR_BAD_MEMBER, path, "%s must be a string", path);
    else if (json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        request__record(ps, LR_ERR_BAD_MEMBER, path, "%s must be a string of at most %zu bytes "
                        "with no NUL", path, cap - 1);
    else
        strcpy(out, json_string_value(v));
}

/* A boolean parameter. */
static void take_bool(request__parser *ps, const json_t *v, const char *path, int *out)
{
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else
        request__record(ps, LR_ERR_BAD_PARAMETER, path, "%s must be true or false", path);
}

/* negative_slope: a number, or a non-empty array of numbers (PReLU). */
static void take_slope(request__parser *ps, const json_t *v)
{
    static const char path[] = "parameters.negative_slope";
    request *req = ps->req;
    req->has_slope = 1;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_number(e)) {
            request__record(ps, LR_ERR_BAD_SLOPE, path, "%s must be a number or a non-empty "
                            "array of numbers", path);
            return;
        }
        if (tensor_push(&req->slopes, json_number_value(e)) != 0) {
            request__fail(ps, LR_ERR_NO_MEMORY, NULL, "out of memory reading the body");
            return;
        }
    }
    if (n == 0)
        request__record(ps, LR_ERR_BAD_SLOPE, path, "%s must not be an empty array", path);
    req->slopes.ndim = json_is_array(v) ? 1 : 0;
    req->slopes.shape[0] = n;
}

/* The request's parameters: negative_slope, binary_data_output, and the
 * ones clients send that change nothing here. */
static void take_parameters(request__parser *ps, json_t *v)
{
    if (!json_is_object(v)) {
        request__record(ps, LR_ERR_BAD_MEMBER, "parameters", "parameters must be an object");
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        if (strcmp(key, "negative_slope") == 0)
            take_slope(ps, value);
        else if (strcmp(key, "binary_data_output") == 0)
            take_bool(ps, value, "parameters.binary_data_output", &ps->req->oip.binary_output);
        else if (strcmp(key, "timeout") != 0 && strcmp(key, "priority") != 0)
            request__record(ps, LR_ERR_UNKNOWN_PARAM, "parameters", "unknown parameter \"%.64s\"; "
                            "expected \"negative_slope\" or \"binary_data_output\"", key);
    }
}

/* A shape: an array of at most TENSOR_MAX_DIMS sizes. */
static void take_shape(request__parser *ps, const json_t *v, const char *path,
                       request_oip_input *in)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_array(v) || n > TENSOR_MAX_DIMS) {
        request__record(ps, LR_ERR_BAD_SHAPE, path, "%s must be an array of at most %d sizes",
                        path, TENSOR_MAX_DIMS);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0) {
            request__record(ps, LR_ERR_BAD_SHAPE, path, "%s must hold sizes: whole numbers, 0 "
                            "or more", path);
            return;
        }
        in->shape[i] = (size_t)json_integer_value(e);
    }
    in->ndim = (int)n;
    in->has_shape = 1;
}

static void take_datatype(request__parser *ps, const json_t *v, const char *path,
                          request_oip_input *in)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (strcmp(s, "FP64") == 0 || strcmp(s, "FP32") == 0) {
        in->dtype = s[2] == '6' ? TENSOR_F64 : TENSOR_F32;
        in->has_datatype = 1;
    } else {
        int str = json_is_string(v);
        request__record(ps, LR_ERR_BAD_DTYPE, path,
                        "%s must be \"FP64\" or \"FP32\", not %s%.20s%s", path, str ? "\"" : "",
                        str ? s : "another type", str ? "\"" : "");
    }
}

/* An input's parameters: binary_data_size (the binary extension). */
static void take_input_parameters(request__parser *ps, json_t *v, const char *path,
                                  request_oip_input *in)
{
    if (!json_is_object(v)) {
        request__record(ps, LR_ERR_BAD_MEMBER, path, "%s must be an object", path);
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        if (strcmp(key, "binary_data_size") == 0 && json_is_integer(value) &&
            json_integer_value(value) >= 0) {
            in->binary = 1;
            in->binary_size = (size_t)json_integer_value(value);
        } else if (strcmp(key, "binary_data_size") == 0) {
            request__record(ps, LR_ERR_BAD_PARAMETER, path, "%s.binary_data_size must be a byte "
                            "count", path);
        } else {
            request__record(ps, LR_ERR_UNKNOWN_PARAM, path, "unknown parameter \"%.64s\" in %s; "
                            "expected \"binary_data_size\"%s", key, path,
                            strncmp(key, "shared_memory", 13) == 0
                                ? " (shared memory is not supported)" : "");
        }
    }
}

/* "outputs": the outputs wanted, each with its binary_data parameter. */
static void take_outputs(request__parser *ps, json_t *v)
{
    request_oip *o = &ps->req->oip;
    if (!json_is_array(v) || json_array_size(v) > REQUEST_OIP_OUTPUTS) {
        request__record(ps, LR_ERR_BAD_OUTPUT, "outputs", "outputs must be an array of at most "
                        "%d outputs", REQUEST_OIP_OUTPUTS);
        return;
    }
    o->has_outputs = 1;
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        char path[32];
        snprintf(path, sizeof path, "outputs[%zu]", i);
        if (!json_is_object(e)) {
            request__record(ps, LR_ERR_BAD_OUTPUT, path, "%s must be an object", path);
            return;
        }
        const char *key;
        json_t *value;
        json_object_foreach(e, key, value) {
            char sub[80];
            snprintf(sub, sizeof sub, "%s.%.32s", path, key);
            if (strcmp(key, "name") == 0) {
                take_string(ps, value, sub, o->out[i].name, sizeof o->out[i].name);
            } else if (strcmp(key, "parameters") == 0 && json_is_object(value)) {
                const char *pk;
                json_t *pv;
                json_object_foreach(value, pk, pv) {
                    char pp[120];
                    snprintf(pp, sizeof pp, "%s.%.32s", sub, pk);
                    if (strcmp(pk, "binary_data") == 0) {
                        take_bool(ps, pv, pp, &o->out[i].binary);
                        o->out[i].has_binary = 1;
                    }
                    else
                        request__record(ps, LR_ERR_UNKNOWN_PARAM, sub, "unknown parameter "
                                        "\"%.64s\" in %s; expected \"binary_data\"", pk, sub);
                }
            } else {
                request__record(ps, LR_ERR_BAD_OUTPUT, sub, "%s: an output has a \"name\" and "
                                "optional \"parameters\"", sub);
            }
        }
        if (!o->out[i].name[0])
            request__record(ps, LR_ERR_BAD_OUTPUT, path, "%s has no \"name\"", path);
        o->noutputs = i + 1;
    }
}

/* The member of input object o->ninputs whose value starts at ps->p. */
static int input_member(request__parser *ps, int m)
{
    request_oip *o = &ps->req->oip;
    size_t i = o->ninputs;
    request_oip_input *in = &o->in[i];
    char path[64];
    snprintf(path, sizeof path, "inputs[%zu].%s", i, in_names[m]);
    if (m == IN_DATA) {
        in->has_data = 1;
        o->in_member = IN_DATA;
        if (!request__at(ps, '['))
            request__record(ps, LR_ERR_BAD_INPUT, path, "%s must be an array of numbers", path);
        return request__tensor(ps, input_tensor(ps->req, i), data_paths[i], 3, NULL);
    }
    json_t *v;
    if (small_value(ps, 3, path, &v) != 0)
        return -1;
    if (v && m == IN_NAME)
        take_string(ps, v, path, in->name, sizeof in->name);
    else if (v && m == IN_SHAPE)
        take_shape(ps, v, path, in);
    else if (v && m == IN_DATATYPE)
        take_datatype(ps, v, path, in);
    else if (v)
        take_input_parameters(ps, v, path, in);
    json_decref(v);
    return 0;
}

/* Input object o->ninputs at ps->p ('{'), or, after, just after one of
 * its values (resuming). */
static int input_object(request__parser *ps, int after)
{
    request_oip *o = &ps->req->oip;
    char name[REQUEST_OIP_NAME + 1];
    int rc = 0;
    o->at = AT_INPUT;
    if (after)
        goto value_read;
    o->in_seen = 0;
    ps->p++;
    request__skip_ws(ps);
    if (request__at(ps, '}'))
        goto end;
    for (;;) {
        size_t len;
        int trunc;
        if (request__member_name(ps, name, sizeof name, &len, &trunc) != 0)
            return -1;
        int m = find(in_names, IN_COUNT, name, len, trunc);
        o->in_member = -1;
        if (m >= 0 && !(o->in_seen >> m & 1)) {
            o->in_seen |= 1u << m;
            rc = input_member(ps, m);
        } else {
            char path[32];
            snprintf(path, sizeof path, "inputs[%zu]", o->ninputs);
            if (m >= 0)
                request__record(ps, LR_ERR_DUPLICATE_MEMBER, path, "member \"%s\" appears twice "
                                "in %s", name, path);
            else
                request__record(ps, LR_ERR_UNKNOWN_MEMBER, path, "unknown member \"%s%s\" in %s; "
                                "expected \"name\", \"shape\", \"datatype\", \"parameters\", "
                                "\"data\"", name, trunc ? "..." : "", path);
            rc = request__skip_value(ps, 3);
        }
    value_read:
        if (rc != 0)
            return -1;
        if (!request__comma(ps))
            break;
    }
    if (!request__at(ps, '}'))
        return request__unexpected(ps, "',' or '}'", 0);
end:
    ps->p++;
    o->at = AT_INPUTS;
    return 0;
}

/* The inputs array at ps->p, or, after, just after one of its elements. */
static int inputs_array(request__parser *ps, int after)
{
    request_oip *o = &ps->req->oip;
    int rc = 0;
    o->at = AT_INPUTS;
    if (after)
        goto element_read;
    if (!request__at(ps, '[')) {
        request__record(ps, LR_ERR_BAD_INPUT, "inputs", "inputs must be an array of objects");
        o->at = AT_TOP;
        return request__skip_value(ps, 1);
    }
    ps->p++;
    request__skip_ws(ps);
    if (request__at(ps, ']'))
        goto end;
    for (;;) {
        if (request__at(ps, '{') && o->ninputs < REQUEST_OIP_INPUTS) {
            rc = input_object(ps, 0);
        } else {
            if (o->ninputs >= REQUEST_OIP_INPUTS)
                request__record(ps, LR_ERR_BAD_INPUT, "inputs", "more than %d inputs; the models "
                                "take \"x\" and, for leaky_relu_grad, \"grad_output\"",
                                REQUEST_OIP_INPUTS);
            else if (request__at_value(ps))
                request__record(ps, LR_ERR_BAD_INPUT, "inputs", "inputs[%zu] must be an object, "
                                "not %s", o->ninputs, request__kind_of(ps));
            rc = request__skip_value(ps, 2);
        }
    element_read:
        if (rc != 0)
            return -1;
        o->ninputs++;
        if (!request__comma(ps))
            break;
    }
    if (!request__at(ps, ']'))
        return request__unexpected(ps, "',' or ']'", 0);
end:
    ps->p++;
    o->at = AT_TOP;
    return 0;
}

/* The request object at ps->p ('{'), or, after, just after a value. */
static int top_object(request__parser *ps, int after)
{
    request_oip *o = &ps->req->oip;
    char name[64];
    int rc = 0;
    if (after)
        goto value_read;
    ps->p++;
    request__skip_ws(ps);
    if (request__at(ps, '}'))
        goto end;
    for (;;) {
        size_t len;
        int trunc;
        if (request__member_name(ps, name, sizeof name, &len, &trunc) != 0)
            return -1;
        int m = find(top_names, TOP_COUNT, name, len, trunc);
        o->at = AT_TOP;
        if (m >= 0 && !(o->seen >> m & 1)) {
            o->seen |= 1u << m;
            json_t *v = NULL;
            if (m == TOP_INPUTS)
                rc = inputs_array(ps, 0);
            else
                rc = small_value(ps, 1, top_names[m], &v);
            if (v && m == TOP_ID) {
                take_string(ps, v, "id", o->id, sizeof o->id);
                o->has_id = 1;
            } else if (v && m == TOP_PARAMETERS) {
                take_parameters(ps, v);
            } else if (v) {
                take_outputs(ps, v);
            }
            json_decref(v);
        } else {
            if (m >= 0)
                request__record(ps, LR_ERR_DUPLICATE_MEMBER, NULL, "member \"%s\" appears twice",
                                name);
            else
                request__record(ps, LR_ERR_UNKNOWN_MEMBER, NULL, "unknown member \"%s%s\"; "
                                "expected \"id\", \"parameters\", \"inputs\", \"outputs\"", name,
                                trunc ? "..." : "");
            rc = request__skip_value(ps, 1);
        }
    value_read:
        if (rc != 0)
            return -1;
        if (!request__comma(ps))
            break;
    }
    if (!request__at(ps, '}'))
        return request__unexpected(ps, "',' or '}'", 0);
end:
    ps->p++;
    return 0;
}

/* Reading from a checkpoint: the value it is inside first, then the rest
 * of each level around it. */
static int resume_from(request__parser *ps, const request__checkpoint *resume)
{
    request_oip *o = &ps->req->oip;
    int rc;
    if (resume->kind == REQUEST__RESUME_ARRAY)
        rc = request__tensor(ps, input_tensor(ps->req, o->ninputs), data_paths[o->ninputs], 3,
                             &resume->array);
    else
        rc = request__skip(ps, &resume->skip);
    if (rc == 0 && o->at == AT_INPUT)
        rc = input_object(ps, 1);
    if (rc == 0 && o->at == AT_INPUTS)
        rc = inputs_array(ps, 1);
    return rc != 0 || o->at == AT_BODY ? rc : top_object(ps, 1);
}

/* An input's data against its shape: nested exactly as the shape says,
 * or flat with as many numbers; then shaped so. Binary data is to come:
 * its byte count must fit. */
static void check_input(request__parser *ps, size_t i)
{
    request_oip_input *in = &ps->req->oip.in[i];
    tensor *t = input_tensor(ps->req, i);
    char path[32];
    snprintf(path, sizeof path, "inputs[%zu]", i);
    const char *missing = !in->name[0] ? "name" : !in->has_shape ? "shape"
                          : !in->has_datatype ? "datatype" : NULL;
    if (missing) {
        request__record(ps, LR_ERR_BAD_INPUT, path, "%s has no \"%s\"", path, missing);
        return;
    }
    size_t n;
    if (tensor_shape_count(in->shape, in->ndim, &n) != 0) {
        request__record(ps, LR_ERR_BAD_SHAPE, path, "%s.shape has more elements than memory can "
                        "hold", path);
        return;
    }
    size_t size = in->dtype == TENSOR_F32 ? 4 : 8;
    if (in->has_data == in->binary) {
        request__record(ps, LR_ERR_BAD_INPUT, path, "%s must have %s", path,
                        in->binary ? "either \"data\" or parameters.binary_data_size, not both"
                                   : "\"data\" (or parameters.binary_data_size, with the data "
                                     "after the JSON)");
    } else if (in->binary && (n > SIZE_MAX / size || in->binary_size != n * size)) {
        request__record(ps, LR_ERR_BINARY_LENGTH, path, "%s has binary_data_size %zu, but shape "
                        "and datatype make %zu bytes", path, in->binary_size, n * size);
    } else if (in->binary) {
        t->ndim = in->ndim;
        memcpy(t->shape, in->shape, sizeof in->shape);
    } else if (t->ndim > 1 && (t->ndim != in->ndim ||
                               memcmp(t->shape, in->shape, (size_t)t->ndim * sizeof t->shape[0]))) {
        request__record(ps, LR_ERR_SHAPE_MISMATCH, path, "%s.data is nested as another shape than "
                        "%s.shape says (send it flat, or nested as the shape)", path, path);
    } else if (t->count != n) {
        request__record(ps, LR_ERR_SHAPE_MISMATCH, path, "%s.data has %zu numbers, but shape "
                        "makes %zu", path, t->count, n);
    } else {
        t->ndim = in->ndim; /* flat data, shaped */
        memcpy(t->shape, in->shape, sizeof in->shape);
    }
}

/* What is checked once the body is read without a request error: the
 * inputs complete, named x and grad_output once each (x first from here
 * on), of one datatype; the slope flat. */
static void oip_end(request__parser *ps)
{
    request *req = ps->req;
    request_oip *o = &req->oip;
    if (!(o->seen >> TOP_INPUTS & 1) || o->ninputs == 0) {
        request__record(ps, LR_ERR_BAD_INPUT, "inputs", "the request has no inputs; give "
                        "\"x\"");
        return;
    }
    for (size_t i = 0; i < o->ninputs && !ps->has_semantic; i++)
        check_input(ps, i);
    if (ps->has_semantic)
        return;
    for (size_t i = 0; i < o->ninputs; i++) {
        if (strcmp(o->in[i].name, "x") != 0 && strcmp(o->in[i].name, "grad_output") != 0) {
            char path[48];
            snprintf(path, sizeof path, "inputs[%zu].name", i);
            request__record(ps, LR_ERR_BAD_INPUT, path, "unknown input \"%s\"; the inputs "
                            "are \"x\" and, for leaky_relu_grad, \"grad_output\"", o->in[i].name);
            return;
        }
    }
    if (o->ninputs == 2 && strcmp(o->in[0].name, o->in[1].name) == 0) {
        request__record(ps, LR_ERR_BAD_INPUT, "inputs", "input \"%s\" is given twice",
                        o->in[0].name);
        return;
    }
    if (strcmp(o->in[0].name, "x") != 0) {
        if (o->ninputs == 1) {
            request__record(ps, LR_ERR_BAD_INPUT, "inputs", "the request has no input \"x\"");
            return;
        }
        tensor t = req->x; /* x second: swapped into place */
        req->x = req->grad_output;
        req->grad_output = t;
        request_oip_input in = o->in[0];
        o->in[0] = o->in[1];
        o->in[1] = in;
        o->swapped = 1;
    }
    req->has_grad_output = o->ninputs == 2;
    req->has_dtype = 1;
    req->dtype = o->in[0].dtype;
    if (o->ninputs == 2 && o->in[1].dtype != o->in[0].dtype)
        request__record(ps, LR_ERR_BAD_DTYPE, "inputs", "grad_output's datatype must be x's");
    else if (o->ninputs == 2 && !tensor_same_shape(&req->x, &req->grad_output))
        request__record(ps, LR_ERR_SHAPE_MISMATCH, "inputs", "grad_output must have x's shape");
}

int request__oip_body(request__parser *ps, const request__checkpoint *resume)
{
    int rc;
    if (resume) {
        rc = resume_from(ps, resume);
    } else if (request__at(ps, '{')) {
        ps->req->is_object = 1;
        ps->req->oip.at = AT_TOP;
        rc = top_object(ps, 0);
    } else if (request__at_value(ps)) {
        request__record(ps, LR_ERR_BODY_TYPE, NULL, "an inference request must be an object, "
                        "not %s", request__kind_of(ps));
        rc = request__skip_value(ps, 0);
    } else {
        rc = request__unexpected(ps, "a JSON object", 1);
    }
    return rc != 0 ? -1 : 0;
}

void request__oip_end(request__parser *ps) { oip_end(ps); }
