#!/usr/bin/env python3
"""Writes src/openapi.json, the OpenAPI 3.1 description of every endpoint
the service answers (served at GET /openapi.json, embedded in the binary
by the Makefile). Run by `make openapi`; the output is committed, so a
build needs no Python. The error codes come from src/errors.h. The
examples are real requests and the server's replies to them:
tests/openapi/check.mjs sends each request example and compares the reply
with the response example of the same name. Standard library only."""
import json
import sys

import errors_table

VERSION = sys.argv[1] if len(sys.argv) > 1 else "0.1.0"
# invalid_message is gRPC's alone (a request message that is not
# Protocol Buffers): no REST reply carries it.
GRPC_ONLY = {"invalid_message"}
ERRORS = [e for e in errors_table.read() if e.status >= 400 and e.code not in GRPC_ONLY]

def ref(name):
    return {"$ref": "#/components/schemas/" + name}

def json_body(schema, example=None):
    media = {"schema": schema}
    if example is not None:
        media["examples"] = {"ok": {"value": example}}
    return {"application/json": media}

def error_response(codes, example, status_note=""):
    """An error reply whose `code` is one of codes (rows of errors.h), each
    listed with its table message; example is a real reply."""
    rows = [e for e in ERRORS if e.code in codes]
    assert len(rows) == len(codes), set(codes) - {e.code for e in rows}
    assert example["code"] in codes, example
    listing = "\n".join(f"- `{e.code}`: {e.message}" for e in rows)
    return {"description": "An error: what and where for people (`error`), and for programs "
                           f"(`code`){status_note}, one of:\n\n{listing}",
            "content": {"application/json": {
                "schema": {"allOf": [ref("Error"), {"properties": {"code": {"enum": codes}}}]},
                "examples": {example["code"]: {"value": example}}}}}

def codes(*statuses, but=()):
    return [e.code for e in ERRORS if e.status in statuses and e.code not in but]

# Real replies of the server (the 413's limit is --max-body's default).
ERROR_RESPONSES = {
    "Error400": error_response(codes(400), {
        "error": "unexpected end of input; expected ',' or ']' at byte 5",
        "code": "invalid_json", "offset": 5}),
    "Error404": error_response(codes(404), {
        "error": "unknown model \"relu\"; the models are \"leaky_relu\" and \"leaky_relu_grad\"",
        "code": "not_found"}),
    "Error413": error_response(codes(413), {
        "error": "the request body (100000000 bytes) is larger than the limit of 67108864 bytes",
        "code": "body_too_large"}),
    "Error415": error_response(codes(415), {
        "error": "Content-Type must be application/json, application/x-www-form-urlencoded, "
                 "text/plain, application/octet-stream or none, not text/csv",
        "code": "unsupported_media_type"}),
    "Error422": error_response(codes(422), {
        "error": "slope has 3 numbers, but x has 2 channels (the length of its axis 1): "
                 "give 2 slopes, or 1 for all at slope",
        "code": "slope_count_mismatch", "path": "slope"}),
    "PlotError422": error_response(codes(422), {
        "error": "xmin must be less than xmax, not xmin = 2.0 and xmax = 1.0 at xmin",
        "code": "invalid_parameter", "path": "xmin"}),
    "Error501": error_response(codes(501), {
        "error": "Transfer-Encoding \"gzip, chunked\" is not supported; only chunked is",
        "code": "unsupported_transfer_encoding"}),
    "Error503": error_response(codes(503, but=["shutting_down"]), {
        "error": "the server's memory budget (--max-memory) is taken by the requests in "
                 "progress; retry later", "code": "overloaded"},
        " (with `Retry-After: 1` for `overloaded`)"),
    "ShuttingDown503": error_response(["shutting_down"], {
        "error": "the server is shutting down", "code": "shutting_down"}),
    # The Open Inference Protocol's request errors are all 400s.
    "InferenceError400": error_response(codes(400, 422), {
        "error": "inputs[0].data has 2 numbers, but shape makes 3 at inputs[0]",
        "code": "shape_mismatch", "path": "inputs[0]"}, " (the service's 422s are 400s here)"),
    "NotReady400": error_response(["shutting_down"], {
        "error": "the server is shutting down", "code": "shutting_down"},
        " (the protocol's \"not ready\" is a 400)"),
}

def errors(*statuses, names=None):
    """The error responses of an operation: ErrorSTATUS, or the named ones."""
    names = names or {s: f"Error{s}" for s in statuses}
    return {str(s): {"$ref": "#/components/responses/" + names[s]} for s in statuses}

def options(what):
    return {"summary": "What may be asked here (and a CORS preflight's answer)",
            "description": "204 with `Allow`; with `--cors-origin`, a preflight from an allowed "
                           "origin is also told `Access-Control-Allow-Methods`, "
                           "`-Allow-Headers` and `-Max-Age`.",
            "operationId": what + "_options",
            "tags": ["CORS"],
            "responses": {"204": {"description": "the methods in `Allow`",
                                  "headers": {"Allow": {"schema": {"type": "string"}}}}}}

def get(op, summary, schema, tag, example=None, extra_errors=(), content=None, names=None):
    return {"summary": summary, "operationId": op, "tags": [tag],
            "responses": {"200": {"description": summary,
                                  "content": content or json_body(ref(schema), example)},
                          **errors(*extra_errors, names=names)}}

# No example values for the query: a "try it" tool fills them in, and a
# slope both in the query and in the body is a 422 (slope_conflict).
QUERY = [
    {"name": "slope", "in": "query", "required": False,
     "description": "one number (`0.1`), or one per channel (axis 1) separated by commas "
                    "(`0.25,0.1`); not with a slope in the body",
     "schema": {"type": "string"}},
    {"name": "dtype", "in": "query", "required": False,
     "description": "not with a dtype in the body",
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

def examples(pairs, key):
    return {name: ({"summary": pair["summary"]} if key == "request" and "summary" in pair else {})
            | {"value": pair[key]} for name, pair in pairs.items() if key in pair}

def replies(pairs, status):
    return {name: {"value": pair["reply"]} for name, pair in pairs.items()
            if pair.get("status", 200) == status}

# Requests and the server's replies to them (check.mjs sends each).
COMPUTE_EXAMPLES = {
    "forward": {
        "matrix": {"summary": "an object: a 2 x 2 matrix, slope 0.1",
                   "request": {"x": [[1, -2], [3, -4]], "slope": 0.1},
                   "reply": {"y": [[1.0, -0.2], [3.0, -0.4]]}},
        "bare": {"summary": "a bare array, the default slope 0.01",
                 "request": [1, -2, 3], "reply": [1.0, -0.02, 3.0]},
        "float32": {"summary": "float32, as PyTorch computes a float32 tensor",
                    "request": {"x": [0.1, -0.1, 16777217], "dtype": "float32"},
                    "reply": {"y": [0.1, -0.001, 16777216.0]}},
        "prelu": {"summary": "PReLU: one slope per channel (axis 1)",
                  "request": {"x": [[-1, 2], [-3, 4]], "slope": [0.1, 0.2]},
                  "reply": {"y": [[-0.1, 2.0], [-0.30000000000000004, 4.0]]}},
        "slope_count_mismatch": {"summary": "422: three slopes for two channels",
                                 "request": {"x": [[-1, 2]], "slope": [0.1, 0.2, 0.3]},
                                 "status": 422,
                                 "reply": ERROR_RESPONSES["Error422"]["content"]["application/json"]
                                          ["examples"]["slope_count_mismatch"]["value"]},
    },
    "gradient": {
        "gradient": {"summary": "the gradient: 1 where x > 0, else the slope",
                     "request": {"x": [2, 0, -1], "slope": 0.2},
                     "reply": {"grad": [1.0, 0.2, 0.2]}},
        "backward": {"summary": "backward: grad_output times the gradient",
                     "request": {"x": [2, -1], "grad_output": [5, 5]},
                     "reply": {"grad": [5.0, 0.05]}},
        "prelu": {"summary": "PReLU: the gradient of each slope too",
                  "request": {"x": [[-1, 2], [-3, 4]], "grad_output": [[1, 1], [2, 2]],
                              "slope": [0.1, 0.2]},
                  "reply": {"grad": [[0.1, 1.0], [0.2, 2.0]], "grad_slope": [-7.0, 0.0]}},
    },
}
# The same bodies as text/plain (what a browser's fetch sends for a string).
TEXT_EXAMPLES = {
    "forward": {
        "text": {"summary": "a bare array as text", "request": "[1, -2, 3]",
                 "reply": [1.0, -0.02, 3.0]},
        "invalid_json": {"summary": "400: the array is not closed", "request": "[1, 2",
                         "status": 400,
                         "reply": ERROR_RESPONSES["Error400"]["content"]["application/json"]
                                  ["examples"]["invalid_json"]["value"]},
    },
    "gradient": {
        "text": {"summary": "a bare array as text", "request": "[2, 0, -1]",
                 "reply": [1.0, 0.01, 0.01]},
    },
}

def compute(route, request, reply, summary):
    binary = {"schema": {"type": "string", "format": "binary"}}
    pairs = COMPUTE_EXAMPLES[route] | TEXT_EXAMPLES[route]
    body = {"required": True,
            "description": "JSON: an object with `x` (and `slope`, `dtype`"
                           + (", `grad_output`" if route == "gradient" else "") +
                           "), or a bare array or number with the parameters in the query. "
                           "`text/plain` is read as JSON too, and so is "
                           "`application/x-www-form-urlencoded` (what `curl -d` sends), "
                           "which is therefore not described here: a client generated from "
                           "it would form-encode the fields. `application/octet-stream`: "
                           "little-endian float64 numbers (float32 with `dtype=float32`), "
                           "their shape in `?shape=`.",
            "content": {
                "application/json": {"schema": ref(request),
                                     "examples": examples(COMPUTE_EXAMPLES[route], "request")},
                "text/plain": {"schema": {"type": "string",
                                          "description": "the same JSON, as text"},
                               "examples": examples(TEXT_EXAMPLES[route], "request")},
                "application/octet-stream": binary}}
    headers = dict(BINARY_HEADERS)
    if route == "gradient":
        headers["Grad-Slope"] = {"description": "with a list of slopes: the gradient of each",
                                 "schema": {"type": "string"}}
    return {"post": {
        "summary": summary, "operationId": route, "tags": ["Leaky ReLU"],
        "parameters": QUERY + ([GRAD_OUTPUT] if route == "gradient" else []),
        "requestBody": body,
        "responses": {"200": {"description": "the result, in the body's format (JSON for "
                                             "JSON and text bodies)",
                              "headers": headers,
                              "content": {"application/json": {
                                              "schema": ref(reply),
                                              "examples": replies(pairs, 200)},
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

# Requests to the model leaky_relu and the server's replies (check.mjs
# sends each there).
INFER_EXAMPLES = {
    "matrix": {"summary": "a 2 x 2 matrix, slope 0.1, the request's id echoed",
               "request": {"id": "42", "parameters": {"negative_slope": 0.1},
                           "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64",
                                       "data": [[1, -2], [3, -4]]}]},
               "reply": {"model_name": "leaky_relu", "model_version": "1", "id": "42",
                         "outputs": [{"name": "y", "datatype": "FP64", "shape": [2, 2],
                                      "data": [1.0, -0.2, 3.0, -0.4]}]}},
    "fp32": {"summary": "FP32, flat data, the default slope 0.01",
             "request": {"inputs": [{"name": "x", "shape": [3], "datatype": "FP32",
                                     "data": [0.5, -0.5, 2]}]},
             "reply": {"model_name": "leaky_relu", "model_version": "1",
                       "outputs": [{"name": "y", "datatype": "FP32", "shape": [3],
                                    "data": [0.5, -0.005, 2.0]}]}},
    "shape_mismatch": {"summary": "400: two numbers for a shape of three",
                       "request": {"inputs": [{"name": "x", "shape": [3], "datatype": "FP64",
                                               "data": [1, 2]}]},
                       "status": 400,
                       "reply": ERROR_RESPONSES["InferenceError400"]["content"]
                                ["application/json"]["examples"]["shape_mismatch"]["value"]},
}

def infer(op):
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"post": {
        "summary": "Inference (Open Inference Protocol, with binary tensor data)",
        "operationId": op, "tags": ["Open Inference Protocol"],
        "parameters": [HEADER_LENGTH],
        "requestBody": {"required": True,
                        "description": "The inference request as JSON; with binary tensor "
                                       "data, the JSON (its length in "
                                       "`Inference-Header-Content-Length`) and then the "
                                       "inputs' bytes, little-endian, in the inputs' order.",
                        "content": {
                            "application/json": {"schema": ref("InferenceRequest"),
                                                 "examples": examples(INFER_EXAMPLES, "request")},
                            "application/octet-stream": binary}},
        "responses": {"200": {"description": "the outputs",
                              "headers": {"Inference-Header-Content-Length": {
                                  "description": "with binary outputs: the JSON's bytes",
                                  "schema": {"type": "integer"}}},
                              "content": {"application/json": {
                                              "schema": ref("InferenceResponse"),
                                              "examples": replies(INFER_EXAMPLES, 200)},
                                          "application/octet-stream": binary}},
                      **errors(400, 404, 413, 415, 501, 503,
                               names={400: "InferenceError400", 404: "Error404",
                                      413: "Error413", 415: "Error415", 501: "Error501",
                                      503: "Error503"})}}}

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
            **errors(422, names={422: "PlotError422"}),
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
    "/healthz": {"get": get("healthz", "Health", "Status", "Operations", {"status": "ok"}),
                 "options": options("healthz")},
    "/livez": {"get": get("livez", "Liveness (Kubernetes)", "Status", "Operations",
                          {"status": "ok"}),
               "options": options("livez")},
    "/readyz": {"get": get("readyz", "Readiness (Kubernetes): 503 while shutting down",
                           "Status", "Operations", {"status": "ok"}, extra_errors=(503,),
                           names={503: "ShuttingDown503"}),
                "options": options("readyz")},
    "/version": {"get": get("version", "Name, version and kernel (the one this CPU runs)",
                            "Version", "Operations",
                            {"name": "leakyrelu", "version": VERSION, "kernel": "avx2"}),
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
                       "Open Inference Protocol",
                       {"name": "leakyrelu", "version": VERSION,
                        "extensions": ["binary_tensor_data"]}),
            "options": options("v2")},
    "/v2/health/live": {"get": get("v2_health_live", "Server liveness", "Live",
                                   "Open Inference Protocol", {"live": True}),
                        "options": options("v2_health_live")},
    "/v2/health/ready": {"get": get("v2_health_ready", "Server readiness: 400 while shutting down",
                                    "Ready", "Open Inference Protocol", {"ready": True},
                                    extra_errors=(400,), names={400: "NotReady400"}),
                         "options": options("v2_health_ready")},
}
# The examples are leaky_relu's (check.mjs asks that model).
paths.update(model_paths("", "v2_model", lambda op: {
    "get": get(op, "Model metadata", "ModelMetadata", "Open Inference Protocol",
               {"name": "leaky_relu", "versions": ["1"], "platform": "leakyrelu",
                "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}],
                "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]}]},
               extra_errors=(404,))}))
paths.update(model_paths("/ready", "v2_model_ready", lambda op: {
    "get": get(op, "Model readiness: 400 while shutting down", "ModelReady",
               "Open Inference Protocol", {"name": "leaky_relu", "ready": True},
               extra_errors=(400, 404), names={400: "NotReady400", 404: "Error404"})}))
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
                       "{\"error\", \"code\", \"offset\"?, \"path\"?}; each "
                       "operation's error responses list the codes of their status.",
        "license": {"name": "see the repository"},
    },
    "servers": [{"url": "http://127.0.0.1:8080"}],
    "tags": [{"name": "Leaky ReLU"}, {"name": "Open Inference Protocol"},
             {"name": "Operations"}, {"name": "For people"}, {"name": "CORS"}],
    "paths": paths,
    "components": {"schemas": schemas, "responses": ERROR_RESPONSES},
}
json.dump(doc, sys.stdout, indent=1, sort_keys=False)
sys.stdout.write("\n")
