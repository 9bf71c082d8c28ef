#!/usr/bin/env python3
"""A leakyrelu client in Python with the standard library only: JSON,
float32, PReLU, binary bodies, and the Open Inference Protocol in JSON
and with binary tensor data (Triton's extension).

Usage: python3 examples/client.py [http://127.0.0.1:8080]"""
import http.client
import json
import struct
import sys
import urllib.parse

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
URL = urllib.parse.urlsplit(BASE)
conn = http.client.HTTPConnection(URL.hostname, URL.port or 80, timeout=30)
try:
    conn.connect()
except OSError:
    sys.exit(f"cannot reach the service at {BASE}: is it running? start it with `make run`")


def post(path, body, headers):
    """One request on the kept-alive connection: (status, headers, body)."""
    conn.request("POST", path, body, headers)
    reply = conn.getresponse()
    return reply.status, reply, reply.read()


def post_json(path, obj):
    status, _, body = post(path, json.dumps(obj), {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"{path}: {status} {body.decode()}")
    return json.loads(body)


# JSON: a 2 x 2 matrix, slope 0.1
print("forward:", post_json("/forward", {"x": [[1, -2], [3, -4]], "slope": 0.1}))

# float32: numbers rounded once to float32, computed in float32; the
# shortest text of each float32 is printed, and numpy.float32(v) or
# struct.unpack("<f", struct.pack("<f", v)) gives the float32 back
print("float32:", post_json("/forward", {"x": [0.1, -0.1], "dtype": "float32"}))

# PReLU: a slope per channel (axis 1); /gradient also gives the gradient
# with respect to each slope
print("prelu:", post_json("/gradient", {"x": [[[1, -2]], [[-3, 4]]], "slope": [0.25],
                                        "grad_output": [[[1, 1]], [[1, 1]]]}))

# Binary: little-endian float64 in, the same out, the shape in a header
x = [1.0, -2.0, float("inf"), float("-inf")]
status, reply, body = post("/forward?slope=0.5&shape=2,2", struct.pack("<4d", *x),
                           {"Content-Type": "application/octet-stream"})
assert status == 200, body
print("binary:", struct.unpack("<4d", body), "shape", reply.getheader("Tensor-Shape"))

# The Open Inference Protocol, JSON
reply = post_json("/v2/models/leaky_relu/infer", {
    "id": "example", "parameters": {"negative_slope": 0.2},
    "inputs": [{"name": "x", "shape": [3], "datatype": "FP64", "data": [-1, 0, 1]}]})
print("infer:", reply["outputs"][0]["data"], "id", reply["id"])

# The Open Inference Protocol with binary tensor data: the JSON, then the
# bytes; Inference-Header-Content-Length says where the JSON ends
data = struct.pack("<3f", -1, 0.5, 2)
head = json.dumps({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32",
                               "parameters": {"binary_data_size": len(data)}}],
                   "parameters": {"binary_data_output": True}}).encode()
status, reply, body = post("/v2/models/leaky_relu/infer", head + data,
                           {"Inference-Header-Content-Length": str(len(head))})
assert status == 200, body
n = int(reply.getheader("Inference-Header-Content-Length"))
meta = json.loads(body[:n])
size = meta["outputs"][0]["parameters"]["binary_data_size"]
print("infer binary:", struct.unpack("<3f", body[n:n + size]), meta["outputs"][0]["shape"])
