/* The Open Inference Protocol v2 over REST (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md) with Triton's binary tensor
 * data extension (triton-inference-server/server,
 * docs/protocol/extension_binary_data.md): the paths under /v2, server
 * and model metadata, health, and an inference request's body as it
 * arrives (its JSON to the request reader, then the binary inputs'
 * bytes straight into their tensors). Inference itself is api_infer.c's.
 * Two models: leaky_relu (forward) and leaky_relu_grad (the gradient, or
 * backward with a grad_output input), version "1". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "version.h"

static const char *const model_names[] = {[API_MODEL_FORWARD] = "leaky_relu",
                                          [API_MODEL_GRADIENT] = "leaky_relu_grad"};

#define MODEL_VERSION "1"

/* "/name" at *p: moves past it. */
static int segment(const char **p, const char *name)
{
    size_t n = strlen(name);
    if ((*p)[0] != '/' || strncmp(*p + 1, name, n) != 0 || ((*p)[n + 1] != '/' && (*p)[n + 1]))
        return 0;
    *p += n + 1;
    return 1;
}

/* The next segment's text into out (at most cap - 1 bytes shown). */
static size_t next_segment(const char **p, char *out, size_t cap)
{
    const char *s = *p + 1;
    size_t n = strcspn(s, "/");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
    *p = s + n;
    return n;
}

/* Which route and model path names, or 0 with the 404 in resp. */
static int route_of(const char *path, api_call *call, api_response *resp)
{
    const char *p = path + 3; /* after "/v2" */
    if (*p == '\0' || strcmp(p, "/") == 0) {
        call->route = API_V2;
        return 1;
    }
    if (segment(&p, "health")) {
        if (strcmp(p, "/live") == 0)
            call->route = API_V2_LIVE;
        else if (strcmp(p, "/ready") == 0)
            call->route = API_V2_READY;
        else
            goto unknown;
        return 1;
    }
    if (!segment(&p, "models") || *p != '/')
        goto unknown;
    char name[64], version[64];
    size_t n = next_segment(&p, name, sizeof name);
    int m = -1;
    for (int i = 0; i < 2; i++)
        if (n == strlen(model_names[i]) && strcmp(name, model_names[i]) == 0)
            m = i;
    if (m < 0) {
        api__error_response(resp, LR_ERR_NOT_FOUND, "unknown model \"%s\"; the models are "
                            "\"leaky_relu\" and \"leaky_relu_grad\"", name);
        return 0;
    }
    call->model = (api_model)m;
    if (segment(&p, "versions")) {
        n = *p == '/' ? next_segment(&p, version, sizeof version) : 0;
        if (n != 1 || version[0] != '1') {
            api__error_response(resp, LR_ERR_NOT_FOUND, "model \"%s\" has no version \"%s\"; "
                                "its one version is \"" MODEL_VERSION "\"", name,
                                n ? version : "");
            return 0;
        }
    }
    if (*p == '\0')
        call->route = API_V2_MODEL;
    else if (strcmp(p, "/ready") == 0)
        call->route = API_V2_MODEL_READY;
    else if (strcmp(p, "/infer") == 0)
        call->route = API_V2_INFER;
    else
        goto unknown;
    return 1;
unknown:
    api__error_response(resp, LR_ERR_NOT_FOUND, "no endpoint %.200s; the Open Inference "
                        "Protocol's are /v2, /v2/health/live, /v2/health/ready, "
                        "/v2/models/{model}[/versions/1][/ready|/infer]", path);
    return 0;
}

int api__oip_begin(const char *method, const char *path, const char *content_type,
                   api_call *call, api_response *resp)
{
    (void)content_type; /* any: the Triton client sends none with binary data */
    if (!route_of(path, call, resp))
        return 0;
    int post = call->route == API_V2_INFER;
    if (strcmp(method, "OPTIONS") == 0) {
        call->options = 1;
        return 1;
    }
    if (post ? strcmp(method, "POST") != 0
             : strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        api__error_response(resp, LR_ERR_METHOD, "%s is not allowed on %s; use %s", method, path,
                            post ? "POST" : "GET");
        resp->allow = post ? "POST, OPTIONS" : "GET, HEAD, OPTIONS";
        return 0;
    }
    call->format = API_FORMAT_OIP;
    return 1;
}

/* The model's metadata: its inputs and outputs, of any shape (-1), FP64
 * or FP32 (the datatype listed is the default; both are taken);
 * leaky_relu_grad's grad_output may be left out (then the gradient). */
static json_t *model_metadata(api_model m)
{
    json_t *inputs = m == API_MODEL_FORWARD
                         ? json_pack("[{s:s, s:s, s:[i]}]", "name", "x", "datatype", "FP64",
                                     "shape", -1)
                         : json_pack("[{s:s, s:s, s:[i]}, {s:s, s:s, s:[i]}]", "name", "x",
                                     "datatype", "FP64", "shape", -1, "name", "grad_output",
                                     "datatype", "FP64", "shape", -1);
    json_t *outputs = m == API_MODEL_FORWARD
                          ? json_pack("[{s:s, s:s, s:[i]}]", "name", "y", "datatype", "FP64",
                                      "shape", -1)
                          : json_pack("[{s:s, s:s, s:[i]}, {s:s, s:s, s:[i]}]", "name", "grad",
                                      "datatype", "FP64", "shape", -1, "name", "grad_slope",
                                      "datatype", "FP64", "shape", -1);
    return json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name", model_names[m], "versions",
                     MODEL_VERSION, "platform", "leakyrelu", "inputs", inputs, "outputs",
                     outputs);
}

static void respond_json(api_response *resp, int status, json_t *obj)
{
    api__respond(resp, status, obj ? json_dumps(obj, 0) : NULL);
    json_decref(obj);
}

void api__handle_oip(const api_request *hr, api_response *resp)
{
    int ready = !hr->draining;
    switch (hr->route) {
    case API_V2:
        respond_json(resp, 200, json_pack("{s:s, s:s, s:[s]}", "name", "leakyrelu", "version",
                                          LEAKYRELU_VERSION, "extensions", "binary_tensor_data"));
        return;
    case API_V2_LIVE:
        respond_json(resp, 200, json_pack("{s:b}", "live", 1));
        return;
    case API_V2_READY:
    case API_V2_MODEL_READY:
        /* Not ready is a 4xx, as the protocol says (Triton: 400). */
        if (!ready) {
            api__error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
            resp->status = 400;
        }
        else if (hr->route == API_V2_READY)
            respond_json(resp, 200, json_pack("{s:b}", "ready", 1));
        else
            respond_json(resp, 200, json_pack("{s:s, s:b}", "name", model_names[hr->model],
                                              "ready", 1));
        return;
    case API_V2_MODEL:
        respond_json(resp, 200, model_metadata(hr->model));
        return;
    case API_V2_INFER:
        api__handle_infer(hr, resp);
        return;
    default:
        api__error_response(resp, LR_ERR_NOT_FOUND, NULL);
        return;
    }
}

/* The inputs with binary data, in the JSON's order: their count, and
 * which (0: x, 1: grad_output) into order[]. */
static size_t binary_inputs(const request *req, size_t order[REQUEST_OIP_INPUTS])
{
    const request_oip *o = &req->oip;
    size_t n = 0;
    for (size_t k = 0; k < o->ninputs && k < REQUEST_OIP_INPUTS; k++) {
        size_t i = o->swapped ? o->ninputs - 1 - k : k;
        if (o->in[i].binary)
            order[n++] = i;
    }
    return n;
}

void api__oip_json_done(api_body *b)
{
    if (b->json_done)
        return;
    b->json_done = 1;
    b->json_rc = request_reader_finish(b->reader);
    if (b->json_rc != LR_ERR_OK)
        return;
    /* Room for each binary input: its bytes go straight there. */
    size_t order[REQUEST_OIP_INPUTS], n = binary_inputs(&b->req, order);
    for (size_t k = 0; k < n; k++) {
        request_oip_input *in = &b->req.oip.in[order[k]];
        tensor *t = order[k] == 0 ? &b->req.x : &b->req.grad_output;
        if (tensor_reserve(t, (in->binary_size + 7) / 8) != 0) {
            b->json_rc = lr_error_set(&b->err, b->account.refused ? LR_ERR_OVERLOADED
                                                                  : LR_ERR_NO_MEMORY, NULL);
            return;
        }
        t->dtype = in->dtype;
        if (in->dtype == TENSOR_F32)
            t->cap *= 2; /* the same bytes, counted in floats */
    }
}

/* Bytes after the JSON: into the binary inputs, in order. */
static void binary_feed(api_body *b, const char *data, size_t len)
{
    size_t order[REQUEST_OIP_INPUTS], n = binary_inputs(&b->req, order);
    if (b->json_rc != LR_ERR_OK)
        n = 0; /* the error is the answer: the bytes are dropped */
    while (len && b->bin_input < n) {
        request_oip_input *in = &b->req.oip.in[order[b->bin_input]];
        tensor *t = order[b->bin_input] == 0 ? &b->req.x : &b->req.grad_output;
        size_t k = in->binary_size - b->bin_off < len ? in->binary_size - b->bin_off : len;
        if (k)
            memcpy((char *)t->data + b->bin_off, data, k);
        b->bin_off += k;
        data += k;
        len -= k;
        if (b->bin_off == in->binary_size) {
            t->count = in->binary_size / (in->dtype == TENSOR_F32 ? 4 : 8);
            b->bin_input++;
            b->bin_off = 0;
        }
    }
    b->bin_extra += len;
}

lr_err api__oip_feed(api_body *b, const char *data, size_t len)
{
    if (b->bad_json_length) {
        b->received += len;
        return LR_ERR_OK;
    }
    if (!b->json_done) {
        size_t n = b->json_len == API_LENGTH_UNKNOWN || b->json_len - b->received > len
                       ? len
                       : b->json_len - b->received;
        if (n && request_reader_feed(b->reader, data, n) != 0)
            return b->account.refused ? LR_ERR_OVERLOADED : LR_ERR_NO_MEMORY;
        b->received += n;
        data += n;
        len -= n;
        if (b->received == b->json_len)
            api__oip_json_done(b);
    }
    if (len)
        binary_feed(b, data, len);
    b->received += len;
    return LR_ERR_OK;
}
