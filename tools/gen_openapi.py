#!/usr/bin/env python3
"""Writes src/openapi.json, the OpenAPI 3.1 description of every endpoint
the service answers (served at GET /openapi.json, embedded in the binary
by the Makefile). Run by `make openapi`; the output is committed, so a
build needs no Python. Standard library only."""
import json
import sys

VERSION = sys.argv[1] if len(sys.argv) > 1 else "0.1.0"

def ref(name):
    return {"$ref": "#/components/schemas/" + name}

def json_body(schema, example=None):
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}

ERROR = {"description": "an error: what and where, for people (`error`) and programs (`code`)",
         "content": json_body(ref("Error"))}

def errors(*statuses):
    return {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}

def options(what):
    return {"summary": "What may be asked here (and a CORS preflight's answer)",
            "description": "204 with `Allow`; with `--cors-origin`, a preflight from an allowed "
                           "origin is also told `Access-Control-Allow-Methods`, "
                           "`-Allow-Headers` and `-Max-Age`.",
            "operationId": what + "_options",
            "tags": ["CORS"],
            "responses": {"204": {"description": "the methods in `Allow`",
                                  "headers": {"Allow": {"schema": {"type": "string"}}}}}}

def get(op, summary, schema, tag, example=None, extra_errors=(), content=None):
    return {"summary": summary, "operationId": op, "tags": [tag],
            "responses": {"200": {"description": summary,
                                  "content": content or json_body(ref(schema), example)},
                          **errors(*extra_errors)}}

QUERY = [
    {"name": "slope", "in": "query", "required": False,
     "description": "one number, or one per channel (axis 1) separated by commas: `0.25,0.1`",
     "schema": {"type": "string"}, "example": "0.1"},
    {"name": "dtype", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["float64", "float32"]}},
    {"name": "shape", "in": "query", "required": False,
     "description": "binary bodies only: the row-major shape, `2,3` (empty: a scalar)",
     "schema": {"type": "string"}},
]
GRAD_OUTPUT = {"name": "grad_output", "in": "query", "required": False,
               "description": "binary bodies only: `1`: the body is x, then grad_output",
               "schema": {"type": "string", "enum": ["1", "true"]}}

BINARY_HEADERS = {
    "Tensor-Shape": {"description": "the reply's shape, `2,3`", "schema": {"type": "string"}},
    "Tensor-Dtype": {"schema": {"type": "string", "enum": ["float64", "float32"]}},
}

def compute(route, request, reply, summary):
    binary = {"schema": {"type": "string", "format": "binary"},
              "example": "(little-endian float64, or float32 with dtype=float32)"}
    body = {"required": True, "content": {
        "application/json": {"schema": ref(request)},
        "text/plain": {"schema": ref(request)},
        "application/x-www-form-urlencoded": {"schema": ref(request)},
        "application/octet-stream": binary}}
    headers = dict(BINARY_HEADERS)
    if route == "gradient":
        headers["Grad-Slope"] = {"description": "with a list of slopes: the gradient of each",
                                 "schema": {"type": "string"}}
    return {"post": {
        "summary": summary, "operationId": route, "tags": ["Leaky ReLU"],
        "parameters": QUERY + ([GRAD_OUTPUT] if route == "gradient" else []),
        "requestBody": body,
        "responses": {"200": {"description": "the result, in the body's format",
                              "headers": headers,
                              "content": {"application/json": {"schema": ref(reply)},
                                          "application/octet-stream": binary}},
                      **errors(400, 413, 415, 422, 501, 503)}},
        "options": options(route)}

MODEL = {"name": "model", "in": "path", "required": True,
         "schema": {"type": "string", "enum": ["leaky_relu", "leaky_relu_grad"]}}
VERSION_PARAM = {"name": "version", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": ["1"]}}
HEADER_LENGTH = {"name": "Inference-Header-Content-Length", "in": "header", "required": False,
                 "description": "binary tensor data: the JSON's bytes; the inputs' binary data "
                                "follows it", "schema": {"type": "integer", "minimum": 0}}

def model_paths(suffix, op, build):
    out = {}
    for versioned in (False, True):
        path = "/v2/models/{model}" + ("/versions/{version}" if versioned else "") + suffix
        item = build(op + ("_version" if versioned else ""))
        item["parameters"] = [MODEL] + ([VERSION_PARAM] if versioned else [])
        item["options"] = options(op + ("_version" if versioned else ""))
        out[path] = item
    return out

def infer(op):
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"post": {
        "summary": "Inference (Open Inference Protocol, with binary tensor data)",
        "operationId": op, "tags": ["Open Inference Protocol"],
        "parameters": [HEADER_LENGTH],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": ref("InferenceRequest")},
            "application/octet-stream": binary}},
        "responses": {"200": {"description": "the outputs",
                              "headers": {"Inference-Header-Content-Length": {
                                  "description": "with binary outputs: the JSON's bytes",
                                  "schema": {"type": "integer"}}},
                              "content": {"application/json": {"schema": ref("InferenceResponse")},
                                          "application/octet-stream": binary}},
                      **errors(400, 404, 413, 415, 503)}}}

nested = {"oneOf": [{"type": "number"}, {"type": "array", "items": ref("Numbers")}]}
slope = {"oneOf": [{"type": "number"},
                   {"type": "array", "items": {"type": "number"}, "minItems": 1}]}

def plot():
    def param(name, schema, description):
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description}
    number = {"type": "string", "pattern": "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$"}
    return {
        "summary": "The function's picture, drawn from the kernel's values",
        "description": "An SVG 1.1 document: Leaky ReLU (and/or its gradient) over "
                       "[xmin, xmax], axes through the origin, ticks at round numbers, a "
                       "grid, a legend, the formula and slope in the title. The gradient's "
                       "jump at 0 is drawn as two pieces (f'(0) = a, a filled dot; 1 just "
                       "after, an open one). The same query gives the same picture: ETag "
                       "and Cache-Control, If-None-Match answered 304.",
        "operationId": "plot", "tags": ["For people"],
        "parameters": [
            param("slope", {"type": "string"}, "one slope, or up to 8 separated by commas "
                  "(one curve each): `0.1`, `0.25,0.1`; default 0.01"),
            param("xmin", number, "the left end of x, default -5"),
            param("xmax", number, "the right end, default 5; greater than xmin by at least "
                  "a millionth of the larger |x|"),
            param("what", {"type": "string", "enum": ["forward", "gradient", "both"]},
                  "the curves; `both` (the default) draws two panels, side by side when "
                  "width >= height, else one above the other"),
            param("dtype", {"type": "string", "enum": ["float64", "float32"]},
                  "computed as in float64 (default) or float32"),
            param("width", {"type": "integer", "minimum": 240, "maximum": 4096},
                  "pixels; default 960 for both, else 640"),
            param("height", {"type": "integer", "minimum": 160, "maximum": 4096},
                  "pixels; default 400"),
        ],
        "responses": {
            "200": {"description": "the picture",
                    "headers": {"ETag": {"schema": {"type": "string"}},
                                "Cache-Control": {"schema": {"type": "string"}}},
                    "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
            "304": {"description": "If-None-Match holds the picture's ETag"},
            **errors(422),
        },
    }

def compute_request(grad):
    props = {"x": ref("Numbers"), "slope": ref("Slope"), "dtype": ref("Dtype")}
    if grad:
        props["grad_output"] = ref("Numbers")
    return {"oneOf": [{"type": "object", "properties": props, "required": ["x"],
                       "additionalProperties": False}, ref("Numbers")]}

schemas = {
    "Numbers": {"description": "a number, or nested arrays of numbers (rectangular, at most "
                               "32 deep)", **nested},
    "Slope": {"description": "one slope for all, or one per channel (PReLU)", **slope},
    "Dtype": {"type": "string", "enum": ["float64", "float32"]},
    "ForwardRequest": compute_request(False),
    "GradientRequest": compute_request(True),
    "ForwardReply": {"oneOf": [{"type": "object", "properties": {"y": ref("Numbers")},
                                "required": ["y"], "additionalProperties": False},
                               ref("Numbers")]},
    "GradientReply": {"oneOf": [{"type": "object",
                                 "properties": {"grad": ref("Numbers"),
                                                "grad_slope": {"type": "array",
                                                               "items": {"type": "number"}}},
                                 "required": ["grad"], "additionalProperties": False},
                                ref("Numbers")]},
    "Error": {"type": "object", "required": ["error", "code"],
              "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                             "offset": {"type": "integer", "minimum": 0},
                             "path": {"type": "string"}},
              "additionalProperties": False},
    "Status": {"type": "object", "required": ["status"],
               "properties": {"status": {"const": "ok"}}, "additionalProperties": False},
    "Version": {"type": "object", "required": ["name", "version", "kernel"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                               "kernel": {"type": "string"}},
                "additionalProperties": False},
    "ServerMetadata": {"type": "object", "required": ["name", "version", "extensions"],
                       "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                                      "extensions": {"type": "array",
                                                     "items": {"type": "string"}}}},
    "Live": {"type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}},
    "Ready": {"type": "object", "required": ["ready"],
              "properties": {"ready": {"type": "boolean"}}},
    "ModelReady": {"type": "object", "required": ["name", "ready"],
                   "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}}},
    "MetadataTensor": {"type": "object", "required": ["name", "datatype", "shape"],
                       "properties": {"name": {"type": "string"},
                                      "datatype": {"type": "string"},
                                      "shape": {"type": "array", "items": {"type": "integer"}}}},
    "ModelMetadata": {"type": "object", "required": ["name", "platform", "inputs", "outputs"],
                      "properties": {"name": {"type": "string"},
                                     "versions": {"type": "array", "items": {"type": "string"}},
                                     "platform": {"type": "string"},
                                     "inputs": {"type": "array", "items": ref("MetadataTensor")},
                                     "outputs": {"type": "array",
                                                 "items": ref("MetadataTensor")}}},
    "InferenceRequest": {
        "type": "object", "required": ["inputs"], "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "parameters": {"type": "object", "additionalProperties": False, "properties": {
                "negative_slope": ref("Slope"),
                "binary_data_output": {"type": "boolean"},
                "timeout": {"type": "integer"}, "priority": {"type": "integer"}}},
            "inputs": {"type": "array", "minItems": 1, "maxItems": 2,
                       "items": ref("RequestInput")},
            "outputs": {"type": "array", "maxItems": 4, "items": ref("RequestOutput")}}},
    "RequestInput": {
        "type": "object", "required": ["name", "shape", "datatype"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "enum": ["x", "grad_output"]},
            "shape": {"type": "array", "maxItems": 32, "items": {"type": "integer", "minimum": 0}},
            "datatype": {"type": "string", "enum": ["FP64", "FP32"]},
            "parameters": {"type": "object", "additionalProperties": False, "properties": {
                "binary_data_size": {"type": "integer", "minimum": 0}}},
            "data": {"type": "array", "items": ref("Numbers"),
                     "description": "row-major, flat or nested as the shape"}}},
    "RequestOutput": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "enum": ["y", "grad", "grad_slope"]},
                       "parameters": {"type": "object", "additionalProperties": False,
                                      "properties": {"binary_data": {"type": "boolean"}}}}},
    "InferenceResponse": {
        "type": "object", "required": ["model_name", "outputs"], "additionalProperties": False,
        "properties": {"model_name": {"type": "string"}, "model_version": {"type": "string"},
                       "id": {"type": "string"},
                       "outputs": {"type": "array", "items": ref("ResponseOutput")}}},
    "ResponseOutput": {
        "type": "object", "required": ["name", "datatype", "shape"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"},
                       "datatype": {"type": "string", "enum": ["FP64", "FP32"]},
                       "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                       "data": {"type": "array", "items": {"type": "number"}},
                       "parameters": {"type": "object", "properties": {
                           "binary_data_size": {"type": "integer", "minimum": 0}}}}},
}

paths = {
    "/forward": compute("forward", "ForwardRequest", "ForwardReply", "Leaky ReLU"),
    "/gradient": compute("gradient", "GradientRequest", "GradientReply",
                         "Its gradient, or backward with grad_output"),
    "/healthz": {"get": get("healthz", "Health", "Status", "Operations"),
                 "options": options("healthz")},
    "/livez": {"get": get("livez", "Liveness (Kubernetes)", "Status", "Operations"),
               "options": options("livez")},
    "/readyz": {"get": get("readyz", "Readiness (Kubernetes): 503 while shutting down",
                           "Status", "Operations", extra_errors=(503,)),
                "options": options("readyz")},
    "/version": {"get": get("version", "Name, version and kernel", "Version", "Operations"),
                 "options": options("version")},
    "/metrics": {"get": get("metrics", "Prometheus text exposition 0.0.4", None, "Operations",
                            content={"text/plain": {"schema": {"type": "string"}}}),
                 "options": options("metrics")},
    "/openapi.json": {"get": get("openapi", "This document", None, "Operations",
                                 content={"application/json": {"schema": {"type": "object"}}}),
                      "options": options("openapi")},
    "/plot.svg": {"get": plot(), "options": options("plot")},
    "/": {"get": {"summary": "The playground: a page to try the function in a browser",
                  "description": "One self-contained HTML page (no external resources): a "
                                 "slope slider redrawing /plot.svg, a box for an array sent "
                                 "to /forward and /gradient, and the curl command for it.",
                  "operationId": "playground", "tags": ["For people"],
                  "responses": {"200": {"description": "the page",
                                        "headers": {"ETag": {"schema": {"type": "string"}}},
                                        "content": {"text/html": {"schema": {"type": "string"}}}},
                                "304": {"description": "If-None-Match holds the page's ETag"}}},
          "options": options("playground")},
    "/v2": {"get": get("v2", "Server metadata", "ServerMetadata",
                       "Open Inference Protocol"),
            "options": options("v2")},
    "/v2/health/live": {"get": get("v2_health_live", "Server liveness", "Live",
                                   "Open Inference Protocol"),
                        "options": options("v2_health_live")},
    "/v2/health/ready": {"get": get("v2_health_ready", "Server readiness: 400 while shutting down",
                                    "Ready", "Open Inference Protocol", extra_errors=(400,)),
                         "options": options("v2_health_ready")},
}
paths.update(model_paths("", "v2_model", lambda op: {
    "get": get(op, "Model metadata", "ModelMetadata", "Open Inference Protocol",
               extra_errors=(404,))}))
paths.update(model_paths("/ready", "v2_model_ready", lambda op: {
    "get": get(op, "Model readiness: 400 while shutting down", "ModelReady",
               "Open Inference Protocol", extra_errors=(400, 404))}))
paths.update(model_paths("/infer", "v2_infer", lambda op: infer(op)))

paths["/openapi.json"]["get"]["responses"]["304"] = {
    "description": "If-None-Match holds the document's ETag"}

doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "leakyrelu",
        "version": VERSION,
        "description": "Leaky ReLU and its gradient, exactly as PyTorch computes them, over "
                       "JSON, binary bodies and the Open Inference Protocol (with Triton's "
                       "binary tensor data extension). Bodies may be gzip or deflate "
                       "(Content-Encoding); replies honour Accept-Encoding. OPTIONS works on "
                       "every path (CORS with --cors-origin). Every error is "
                       "{\"error\", \"code\", \"offset\"?, \"path\"?}.",
        "license": {"name": "see the repository"},
    },
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "tags": [{"name": "Leaky ReLU"}, {"name": "Open Inference Protocol"},
             {"name": "Operations"}, {"name": "For people"}, {"name": "CORS"}],
    "paths": paths,
    "components": {"schemas": schemas, "responses": {"Error": ERROR}},
}
json.dump(doc, sys.stdout, indent=1, sort_keys=False)
sys.stdout.write("\n")
