/* The Open Inference Protocol v2 over REST (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md) with Triton's binary tensor
 * data extension (triton-inference-server/server,
 * docs/protocol/extension_binary_data.md): the paths under /v2, server
 * and model metadata, and health. An inference request's body as it
 * arrives is api_body.c's; inference itself api_infer.c's and infer.c's.
 * Two models: leaky_relu (forward) and leaky_relu_grad (the gradient, or
 * backward with a grad_output input), version "1". */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "infer.h"
#include "budget.h"
#include "version.h"

#define MODEL_VERSION INFER_MODEL_VERSION

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
int api__oip_route(const char *path, api_head *head, api_response *resp)
{
    const char *p = path + 3; /* after "/v2" */
    if (*p == '\0' || strcmp(p, "/") == 0) {
        head->route = API_V2;
        return 1;
    }
    if (segment(&p, "health")) {
        if (strcmp(p, "/live") == 0)
            head->route = API_V2_LIVE;
        else if (strcmp(p, "/ready") == 0)
            head->route = API_V2_READY;
        else
            goto unknown;
        return 1;
    }
    if (!segment(&p, "models") || *p != '/')
        goto unknown;
    char name[64], version[64] = "";
    next_segment(&p, name, sizeof name); /* cut short, it names no model */
    int versioned = segment(&p, "versions");
    if (versioned && *p == '/')
        next_segment(&p, version, sizeof version);
    lr_error err;
    if (infer_model_named(name, versioned ? version : NULL, &head->model, &err) != LR_ERR_OK) {
        api_error(&err, resp);
        return 0;
    }
    if (*p == '\0')
        head->route = API_V2_MODEL;
    else if (strcmp(p, "/ready") == 0)
        head->route = API_V2_MODEL_READY;
    else if (strcmp(p, "/infer") == 0)
        head->route = API_V2_INFER;
    else
        goto unknown;
    return 1;
unknown:
    api__error_response(resp, LR_ERR_NOT_FOUND, "no endpoint %.200s; the Open Inference "
                        "Protocol's are /v2, /v2/health/live, /v2/health/ready, "
                        "/v2/models/{model}[/versions/1][/ready|/infer]", path);
    return 0;
}

/* The model's metadata: its inputs and outputs, of any shape (-1), FP64
 * or FP32 (the datatype listed is the default; both are taken);
 * leaky_relu_grad's grad_output may be left out (then the gradient). */
static json_t *model_metadata(infer_model m)
{
    json_t *inputs = m == INFER_MODEL_FORWARD
                         ? json_pack("[{s:s, s:s, s:[i]}]", "name", "x", "datatype", "FP64",
                                     "shape", -1)
                         : json_pack("[{s:s, s:s, s:[i]}, {s:s, s:s, s:[i]}]", "name", "x",
                                     "datatype", "FP64", "shape", -1, "name", "grad_output",
                                     "datatype", "FP64", "shape", -1);
    json_t *outputs = m == INFER_MODEL_FORWARD
                          ? json_pack("[{s:s, s:s, s:[i]}]", "name", "y", "datatype", "FP64",
                                      "shape", -1)
                          : json_pack("[{s:s, s:s, s:[i]}, {s:s, s:s, s:[i]}]", "name", "grad",
                                      "datatype", "FP64", "shape", -1, "name", "grad_slope",
                                      "datatype", "FP64", "shape", -1);
    return json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name", infer_model_name(m), "versions",
                     MODEL_VERSION, "platform", "leakyrelu", "inputs", inputs, "outputs",
                     outputs);
}

void api__handle_oip_server(const api_request *hr, api_response *resp)
{
    (void)hr;
    api__respond_json(resp, 200, json_pack("{s:s, s:s, s:[s]}", "name", "leakyrelu", "version",
                                           LEAKYRELU_VERSION, "extensions",
                                           "binary_tensor_data"));
}

void api__handle_oip_live(const api_request *hr, api_response *resp)
{
    (void)hr;
    api__respond_json(resp, 200, json_pack("{s:b}", "live", 1));
}

/* /v2/health/ready and /v2/models/{model}/ready. Not ready is a 4xx, as
 * the protocol says (Triton: 400). */
void api__handle_oip_ready(const api_request *hr, api_response *resp)
{
    if (hr->draining)
    {
        api__error_response(resp, LR_ERR_SHUTTING_DOWN, NULL);
        resp->status = 400;
    }
    else if (hr->route == API_V2_READY)
        api__respond_json(resp, 200, json_pack("{s:b}", "ready", 1));
    else
        api__respond_json(resp, 200, json_pack("{s:s, s:b}", "name",
                                               infer_model_name(hr->model), "ready", 1));
}

void api__handle_oip_model(const api_request *hr, api_response *resp)
{
    api__respond_json(resp, 200, model_metadata(hr->model));
}
