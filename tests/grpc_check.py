#!/usr/bin/env python3
"""`make test`: the gRPC half of the Open Inference Protocol, spoken to the
real server by python3-grpcio clients generated at run time from
proto/inference.proto, proto/health.proto and proto/reflection.proto
(protoc and grpc_python_plugin, into a temporary directory).

It checks, against the server started with --port 0 --grpc-port 0:
ServerLive, ServerReady and ModelReady; ServerMetadata and ModelMetadata
equal to the REST replies of GET /v2 and GET /v2/models/{m}; ModelInfer
bit for bit against PyTorch (tests/data/torch_cases.jsonl: float64 forward,
gradient and backward; tests/data/torch_extra.jsonl: float32 and PReLU,
grad_slope too), from raw_input_contents and from typed contents;
negative_slope as double, int64 and string (number or JSON list);
the outputs asked for, the id, the model's name and version; the errors'
status codes (INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED) and their
messages, equal to REST's where REST has the same error; ModelStreamInfer
(answers in order, one per request, an error in the middle not ending the
stream); gzip and deflate requests; x-request-id; a 64 MB tensor; the
health service; reflection, and a call made only with the descriptors it
serves; and the drain on SIGTERM. Debian's python3 packages only; TAP.

Usage: tests/grpc_check.py SERVER_BINARY
       tests/grpc_check.py --peer [bench/grpc_peer.py]
The second form checks the Python peer of the benchmarks (bench/
grpc_peer.py) with the checks that need no REST side, health, reflection
or SIGTERM: the check's own self-test."""
import importlib.util
import json
import math
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from array import array
from pathlib import Path

from tap import finish, ok

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
_spec = importlib.util.spec_from_file_location("grpc_gen", ROOT / "tools" / "grpc_gen.py")
grpc_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grpc_gen)
grpc_gen.use_system_python()

import grpc  # noqa: E402  (after use_system_python)
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # noqa: E402

TIMEOUT = 30  # seconds, per call: generous for slow machines
SERVICE = "inference.GRPCInferenceService"
MODELS = ("leaky_relu", "leaky_relu_grad")
CODE = {"FP32": "f", "FP64": "d"}
SIZE = {"FP32": 4, "FP64": 8}
# The model metadata docs/inference-protocol.md documents (for --peer,
# which has no REST side to compare with).
METADATA = {
    "leaky_relu": {"name": "leaky_relu", "versions": ["1"], "platform": "leakyrelu",
                   "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}],
                   "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]}]},
    "leaky_relu_grad": {"name": "leaky_relu_grad", "versions": ["1"], "platform": "leakyrelu",
                        "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]},
                                   {"name": "grad_output", "datatype": "FP64", "shape": [-1]}],
                        "outputs": [{"name": "grad", "datatype": "FP64", "shape": [-1]},
                                    {"name": "grad_slope", "datatype": "FP64", "shape": [-1]}]},
}


# ---- numbers ---------------------------------------------------------------

def f32(v):
    """v rounded to float32 (infinite beyond its range), as a Python float."""
    return array("f", [v])[0]


def pack(values, datatype):
    """Little-endian bytes of values in the datatype (rounded to it)."""
    a = array(CODE[datatype], values)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def unpack(raw, datatype):
    a = array(CODE[datatype])
    a.frombytes(raw[:len(raw) // SIZE[datatype] * SIZE[datatype]])
    if sys.byteorder != "little":
        a.byteswap()
    return a


def flat(v):
    """(flat list, shape) of a nested list (a number: shape [])."""
    if not isinstance(v, list):
        return [v], []
    shape, level = [], v
    while isinstance(level, list):
        shape.append(len(level))
        level = level[0] if level else None
    out = []

    def walk(u):
        for e in u:
            if isinstance(e, list):
                walk(e)
            else:
                out.append(e)
    walk(v)
    return out, shape


def channel_of(shape, count, nslopes):
    """Each element's channel (axis 1) for nslopes slopes: PReLU's layout."""
    if nslopes == 1:
        return [0] * count
    inner = 1
    for d in shape[2:]:
        inner *= d
    return [(i // inner) % nslopes for i in range(count)]


def first_difference(got, want, datatype):
    """Where two byte strings of elements differ first, in words."""
    if len(got) != len(want):
        return f"{len(got)} bytes, want {len(want)}"
    g, w = unpack(got, datatype), unpack(want, datatype)
    for i, (a, b) in enumerate(zip(g, w)):
        if pack([a], datatype) != pack([b], datatype):
            return f"element {i}: {a!r}, want {b!r}"
    return "differ"


# ---- requests --------------------------------------------------------------

def set_slope(params, slope):
    """negative_slope: a list goes as JSON text in string_param, a str as
    it is, an int as int64_param, a float as double_param."""
    if slope is None:
        return
    p = params["negative_slope"]
    if isinstance(slope, list):
        p.string_param = json.dumps(slope)
    elif isinstance(slope, str):
        p.string_param = slope
    elif isinstance(slope, int) and not isinstance(slope, bool):
        p.int64_param = slope
    else:
        p.double_param = slope


def infer_request(pb, model, inputs, slope=None, outputs=(), id="", typed=False, version=""):
    """A ModelInferRequest; inputs: (name, datatype, shape, values), the
    values sent as raw_input_contents, or as typed contents when typed."""
    req = pb.ModelInferRequest(model_name=model, model_version=version, id=id)
    set_slope(req.parameters, slope)
    for name, datatype, shape, values in inputs:
        t = req.inputs.add(name=name, datatype=datatype, shape=shape)
        if typed:
            field = t.contents.fp32_contents if datatype == "FP32" else t.contents.fp64_contents
            field.extend(values)
        else:
            req.raw_input_contents.append(pack(values, datatype))
    for name in outputs:
        req.outputs.add(name=name)
    return req


def rest_body(inputs, slope=None, outputs=()):
    """The same request as REST JSON for /v2/models/{m}/infer."""
    body = {"inputs": [{"name": n, "datatype": d, "shape": s, "data": list(v)}
                       for n, d, s, v in inputs]}
    if slope is not None:
        body["parameters"] = {"negative_slope": json.loads(slope) if isinstance(slope, str)
                              else slope}
    if outputs:
        body["outputs"] = [{"name": n} for n in outputs]
    return body


def rpc(fn, req, **kw):
    """(response, None) or (None, the RpcError)."""
    try:
        return fn(req, timeout=TIMEOUT, **kw), None
    except grpc.RpcError as e:
        return None, e


def status(err):
    return f"{err.code()}: {err.details()!r}" if err else "no error"


def outputs_problem(resp, want):
    """'' when resp's outputs are want's: (name, datatype, shape, expected),
    expected the exact bytes, or a list of floats to match within 1e-12
    relative (grad_slope against PyTorch's differently ordered sum)."""
    if len(resp.outputs) != len(want) or len(resp.raw_output_contents) != len(want):
        return (f"{len(resp.outputs)} outputs and {len(resp.raw_output_contents)} "
                f"raw_output_contents, want {len(want)} ({[w[0] for w in want]})")
    for out, raw, (name, datatype, shape, expected) in zip(resp.outputs,
                                                           resp.raw_output_contents, want):
        head = (out.name, out.datatype, list(out.shape))
        if head != (name, datatype, list(shape)):
            return f"output {head}, want {(name, datatype, list(shape))}"
        if out.HasField("contents"):
            return f"output {name} has contents: they go in raw_output_contents"
        if isinstance(expected, bytes):
            if raw != expected:
                return f"output {name}: {first_difference(raw, expected, datatype)}"
        else:
            got = unpack(raw, datatype)
            if len(raw) != len(expected) * SIZE[datatype] or not all(
                    g == w or abs(g - w) <= 1e-12 * abs(w) for g, w in zip(got, expected)):
                return f"output {name}: {list(got)}, want {expected}"
    return ""


class Server:
    """The process under test and how to reach it."""

    def __init__(self, argv, peer):
        self.peer = peer
        self.err = tempfile.TemporaryFile(mode="w+")  # read when something fails
        self.child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.err, text=True)
        timer = threading.Timer(TIMEOUT, self.child.kill)  # a server that never says it listens
        timer.start()
        self.line = self.child.stdout.readline()
        timer.cancel()
        if peer:
            m = re.search(r"listening on (\d+)", self.line)
            self.http, self.grpc = None, m and int(m.group(1))
        else:
            h = re.search(r"listening on http://[^ ]*:(\d+)", self.line)
            g = re.search(r"grpc://[^ ]*:(\d+)", self.line)
            self.http, self.grpc = h and int(h.group(1)), g and int(g.group(1))

    def started(self):
        return self.grpc is not None and (self.peer or self.http is not None)

    def stop(self, wait=15):
        """SIGTERM; the exit status, or None when it did not exit in time."""
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
        try:
            return self.child.wait(wait)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
            return None

    def stderr_tail(self):
        self.err.seek(0)
        return self.err.read()[-2000:]


def channel(port):
    return grpc.insecure_channel(f"127.0.0.1:{port}", options=[
        ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])


class Ctx:
    """What each group of checks needs."""

    def __init__(self, gen, server, ch):
        self.pb, self.gen, self.server, self.ch = gen.inference_pb2, gen, server, ch
        self.stub = gen.inference_pb2_grpc.GRPCInferenceServiceStub(ch)
        self.peer = server.peer

    def rest(self, method, path, body=None):
        """(status, parsed JSON) of a REST request to the same server."""
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(f"http://127.0.0.1:{self.server.http}{path}", data=data,
                                   method=method)
        try:
            with urllib.request.urlopen(r, timeout=TIMEOUT) as resp:
                code, text = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            code, text = e.code, e.read()
        try:
            return code, json.loads(text)
        except ValueError:
            return code, {"error": None, "body": text[:300]}


# ---- server, model readiness and metadata ------------------------------------

def check_ready(c):
    r, e = rpc(c.stub.ServerLive, c.pb.ServerLiveRequest())
    ok("ServerLive: live", e is None and r.live, status(e))
    r, e = rpc(c.stub.ServerReady, c.pb.ServerReadyRequest())
    ok("ServerReady: ready", e is None and r.ready, status(e))
    for model in MODELS:
        for version in ("", "1"):
            r, e = rpc(c.stub.ModelReady, c.pb.ModelReadyRequest(name=model, version=version))
            ok(f"ModelReady {model} version {version!r}: ready", e is None and r.ready, status(e))
    for model, version in (("relu", ""), ("leaky_relu", "2"), ("leaky_relu_grad", "0")):
        r, e = rpc(c.stub.ModelReady, c.pb.ModelReadyRequest(name=model, version=version))
        ok(f"ModelReady {model} version {version!r}: NOT_FOUND naming the model",
           e is not None and e.code() == grpc.StatusCode.NOT_FOUND and model in e.details(),
           status(e))


def metadata_dict(r):
    def tensors(ts):
        return [{"name": t.name, "datatype": t.datatype, "shape": list(t.shape)} for t in ts]
    return {"name": r.name, "versions": list(r.versions), "platform": r.platform,
            "inputs": tensors(r.inputs), "outputs": tensors(r.outputs)}


def check_metadata(c):
    r, e = rpc(c.stub.ServerMetadata, c.pb.ServerMetadataRequest())
    if c.peer:
        ok("ServerMetadata: a name and a version", e is None and r.name and r.version, status(e))
    else:
        got = e is None and {"name": r.name, "version": r.version,
                             "extensions": list(r.extensions)}
        code, want = c.rest("GET", "/v2")
        ok("ServerMetadata equals REST's GET /v2", code == 200 and got == want,
           f"gRPC {got or status(e)}\nREST {want}")
    for model in MODELS:
        for version in ("", "1"):
            r, e = rpc(c.stub.ModelMetadata, c.pb.ModelMetadataRequest(name=model,
                                                                        version=version))
            got = e is None and metadata_dict(r)
            if c.peer:
                want, what = METADATA[model], "the documented metadata"
            else:
                _, want = c.rest("GET", f"/v2/models/{model}")
                what = f"REST's GET /v2/models/{model}"
            ok(f"ModelMetadata {model} version {version!r} equals {what}", got == want,
               f"gRPC {got or status(e)}\nwant {want}")
    r, e = rpc(c.stub.ModelMetadata, c.pb.ModelMetadataRequest(name="relu"))
    ok("ModelMetadata relu: NOT_FOUND naming the model",
       e is not None and e.code() == grpc.StatusCode.NOT_FOUND and "relu" in e.details(),
       status(e))


# ---- ModelInfer against PyTorch ------------------------------------------------

def torch_cases():
    """(group, label, model, inputs, slope, want) for every PyTorch case:
    group names the ok() line it counts in; want as outputs_problem takes."""
    cases = []
    for k, line in enumerate((DATA / "torch_cases.jsonl").read_text().splitlines()):
        d = json.loads(line)
        x, shape = flat(d["x"])
        go, _ = flat(d["grad_output"])
        slope = float(d["slope"])
        xin = [("x", "FP64", shape, x)]
        gin = xin + [("grad_output", "FP64", shape, go)]
        for group, model, inputs, name, key in (
                ("f64 leaky_relu", "leaky_relu", xin, "y", "y"),
                ("f64 leaky_relu_grad", "leaky_relu_grad", xin, "grad", "grad"),
                ("f64 leaky_relu_grad with grad_output", "leaky_relu_grad", gin, "grad",
                 "grad_input")):
            want = [(name, "FP64", shape, pack(flat(d[key])[0], "FP64"))]
            cases.append((group, f"torch_cases line {k + 1}", model, inputs, slope, want))
    for k, line in enumerate((DATA / "torch_extra.jsonl").read_text().splitlines()):
        d = json.loads(line)
        label = f"torch_extra line {k + 1} ({d['kind']})"
        x, shape = flat(d["x"])
        go, _ = flat(d["grad_output"])
        if d["kind"] == "f32":
            slope = float(d["slope"])
            xin = [("x", "FP32", shape, x)]
            gin = xin + [("grad_output", "FP32", shape, go)]
            grad = [1.0 if v > 0 else f32(slope) for v in x]
            cases.append(("f32 leaky_relu", label, "leaky_relu", xin, slope,
                          [("y", "FP32", shape, pack(flat(d["y"])[0], "FP32"))]))
            cases.append(("f32 leaky_relu_grad", label, "leaky_relu_grad", xin, slope,
                          [("grad", "FP32", shape, pack(grad, "FP32"))]))
            cases.append(("f32 leaky_relu_grad with grad_output", label, "leaky_relu_grad",
                          gin, slope,
                          [("grad", "FP32", shape, pack(flat(d["grad_input"])[0], "FP32"))]))
        elif d["kind"] == "prelu":
            slopes = [float(s) for s in d["slope"]]
            xin = [("x", "FP64", shape, x)]
            gin = xin + [("grad_output", "FP64", shape, go)]
            ch = channel_of(shape, len(x), len(slopes))
            grad = [1.0 if v > 0 else slopes[c] for v, c in zip(x, ch)]
            sums = [math.fsum(v for v, c2 in zip(x, ch) if c2 == c and v <= 0)
                    for c in range(len(slopes))]
            cases.append(("prelu leaky_relu", label, "leaky_relu", xin, slopes,
                          [("y", "FP64", shape, pack(flat(d["y"])[0], "FP64"))]))
            cases.append(("prelu leaky_relu_grad with grad_output", label, "leaky_relu_grad",
                          gin, slopes,
                          [("grad", "FP64", shape, pack(flat(d["grad_input"])[0], "FP64")),
                           ("grad_slope", "FP64", [len(slopes)], d["grad_slope"])]))
            cases.append(("prelu leaky_relu_grad", label, "leaky_relu_grad", xin, slopes,
                          [("grad", "FP64", shape, pack(grad, "FP64")),
                           ("grad_slope", "FP64", [len(slopes)], sums)]))
    return cases


def run_cases(c, cases, typed):
    """Sends each case; {group: [count, first failure or None]}, the
    groups in the order torch_cases() makes them."""
    groups = {}
    for group, *_ in cases:
        groups.setdefault(group, [0, None])
    for group, label, model, inputs, slope, want in cases:
        g = groups[group]
        g[0] += 1
        req = infer_request(c.pb, model, inputs, slope, typed=typed, id=f"{label}")
        r, e = rpc(c.stub.ModelInfer, req)
        problem = status(e) if e else outputs_problem(r, want)
        if not problem and (r.id != label or r.model_name != model or r.model_version != "1"):
            problem = f"id {r.id!r}, model {r.model_name!r} version {r.model_version!r}"
        if problem and g[1] is None:
            g[1] = f"{label}, {model}, slope {slope}: {problem}"
    return groups


def check_torch(c):
    cases = torch_cases()
    for group, (count, failure) in run_cases(c, cases, typed=False).items():
        ok(f"ModelInfer, raw contents: {count} PyTorch cases {group}, bit for bit",
           failure is None, failure)
    # typed contents for a subset: every 7th case of each group
    subset = [case for i, case in enumerate(cases) if i % 7 == 0]
    for group, (count, failure) in run_cases(c, subset, typed=True).items():
        dt = "fp32_contents" if group.startswith("f32") else "fp64_contents"
        ok(f"ModelInfer, typed {dt}: {count} PyTorch cases {group}, the same bytes",
           failure is None, failure)
    if c.peer:
        return
    # grad_slope: PyTorch's within 1e-12 above; REST's bit for bit here
    failure, count = None, 0
    for group, label, model, inputs, slope, want in cases:
        if group != "prelu leaky_relu_grad with grad_output":
            continue
        count += 1
        r, e = rpc(c.stub.ModelInfer, infer_request(c.pb, model, inputs, slope,
                                                    outputs=["grad_slope"]))
        code, j = c.rest("POST", f"/v2/models/{model}/infer",
                         rest_body(inputs, slope, outputs=["grad_slope"]))
        rest = code == 200 and pack(j["outputs"][0]["data"], "FP64")
        got = list(r.raw_output_contents) if e is None else []
        if got != [rest] and failure is None:
            shown = status(e) if e else [list(unpack(raw, "FP64")) for raw in got]
            failure = f"{label}: gRPC {shown}, REST {code} {j}"
    ok(f"ModelInfer grad_slope equals REST's bit for bit ({count} PReLU cases)",
       failure is None, failure)


# ---- slopes, outputs, id -------------------------------------------------------

def expect(c, name, req, want):
    r, e = rpc(c.stub.ModelInfer, req)
    problem = status(e) if e else outputs_problem(r, want)
    ok(name, not problem, problem)
    return r


def check_parameters(c):
    pb = c.pb
    x = [1.5, -2.0, 0.0, -0.5, -3e-300, 7.0]
    xin = [("x", "FP64", [6], x)]
    expect(c, "negative_slope as int64_param 2: y = 2x for x <= 0",
           infer_request(pb, "leaky_relu", xin, slope=2),
           [("y", "FP64", [6], pack([v if v > 0 else 2 * v for v in x], "FP64"))])
    expect(c, "negative_slope absent: the default 0.01 (FP64)",
           infer_request(pb, "leaky_relu", xin),
           [("y", "FP64", [6], pack([v if v > 0 else v * 0.01 for v in x], "FP64"))])
    x32 = [f32(v) for v in (1.5, -2.0, -0.3, -1e-3, 3.0, -1e38)]
    s = f32(0.01)
    expect(c, "negative_slope absent: the default 0.01 (FP32, float32 product)",
           infer_request(pb, "leaky_relu", [("x", "FP32", [2, 3], x32)]),
           [("y", "FP32", [2, 3], pack([v if v > 0 else v * s for v in x32], "FP32"))])
    s = f32(0.1)
    expect(c, "negative_slope double_param 0.1 with FP32: the slope rounded to float32 first",
           infer_request(pb, "leaky_relu", [("x", "FP32", [6], x32)], slope=0.1),
           [("y", "FP32", [6], pack([v if v > 0 else v * s for v in x32], "FP32"))])
    expect(c, "negative_slope as string_param \"0.5\" (a number as JSON text)",
           infer_request(pb, "leaky_relu", xin, slope="0.5"),
           [("y", "FP64", [6], pack([v if v > 0 else v * 0.5 for v in x], "FP64"))])
    mx = [("x", "FP64", [2, 2], [-1.0, 2.0, -3.0, 4.0])]
    mg = mx + [("grad_output", "FP64", [2, 2], [1.0, 1.0, 2.0, 2.0])]
    expect(c, "negative_slope \"[0.1, 0.2]\": one slope per channel (axis 1)",
           infer_request(pb, "leaky_relu", mx, slope="[0.1, 0.2]"),
           [("y", "FP64", [2, 2], pack([-1.0 * 0.1, 2.0, -3.0 * 0.1, 4.0], "FP64"))])
    expect(c, "leaky_relu_grad with a list: grad and grad_slope (the documented example)",
           infer_request(pb, "leaky_relu_grad", mg, slope=[0.1, 0.2]),
           [("grad", "FP64", [2, 2], pack([0.1, 1.0, 0.2, 2.0], "FP64")),
            ("grad_slope", "FP64", [2], pack([-7.0, 0.0], "FP64"))])
    fx = [("x", "FP32", [2, 2], [-1.0, 2.0, -3.0, 4.0]),
          ("grad_output", "FP32", [2, 2], [1.0, 1.0, 2.0, 2.0])]
    expect(c, "leaky_relu_grad FP32 with a list: grad_slope in FP32",
           infer_request(pb, "leaky_relu_grad", fx, slope=[0.1, 0.2]),
           [("grad", "FP32", [2, 2], pack([f32(0.1), 1.0, f32(0.1) * 2.0, 2.0], "FP32")),
            ("grad_slope", "FP32", [2], pack([-7.0, 0.0], "FP32"))])
    expect(c, "leaky_relu_grad FP32, typed fp32_contents for both inputs",
           infer_request(pb, "leaky_relu_grad", fx, slope=[0.1, 0.2], typed=True),
           [("grad", "FP32", [2, 2], pack([f32(0.1), 1.0, f32(0.1) * 2.0, 2.0], "FP32")),
            ("grad_slope", "FP32", [2], pack([-7.0, 0.0], "FP32"))])
    expect(c, "outputs [grad_slope] only: just grad_slope",
           infer_request(pb, "leaky_relu_grad", mg, slope=[0.1, 0.2], outputs=["grad_slope"]),
           [("grad_slope", "FP64", [2], pack([-7.0, 0.0], "FP64"))])
    expect(c, "outputs [grad] only, with a list: just grad",
           infer_request(pb, "leaky_relu_grad", mg, slope=[0.1, 0.2], outputs=["grad"]),
           [("grad", "FP64", [2, 2], pack([0.1, 1.0, 0.2, 2.0], "FP64"))])
    expect(c, "outputs [grad_slope, grad]: in the order asked",
           infer_request(pb, "leaky_relu_grad", mg, slope=[0.1, 0.2],
                         outputs=["grad_slope", "grad"]),
           [("grad_slope", "FP64", [2], pack([-7.0, 0.0], "FP64")),
            ("grad", "FP64", [2, 2], pack([0.1, 1.0, 0.2, 2.0], "FP64"))])
    expect(c, "an empty tensor (shape [0]): an empty output",
           infer_request(pb, "leaky_relu", [("x", "FP64", [0], [])]),
           [("y", "FP64", [0], b"")])
    special = [float("-inf"), float("inf"), -1e308]
    expect(c, "raw outputs carry infinities (-inf, inf, -1e308 * 10)",
           infer_request(pb, "leaky_relu", [("x", "FP64", [3], special)], slope=10.0),
           [("y", "FP64", [3], pack([float("-inf"), float("inf"), float("-inf")], "FP64"))])
    req = infer_request(pb, "leaky_relu", [("x", "FP64", [1], [-1.0])], id="req-42 \u00e9")
    r, e = rpc(c.stub.ModelInfer, req)
    ok("ModelInfer echoes the id; model_name leaky_relu, model_version \"1\" (asked \"\")",
       e is None and (r.id, r.model_name, r.model_version) == ("req-42 \u00e9", "leaky_relu", "1"),
       status(e) if e else (r.id, r.model_name, r.model_version))
    req = infer_request(pb, "leaky_relu_grad", [("x", "FP64", [1], [-1.0])], version="1")
    r, e = rpc(c.stub.ModelInfer, req)
    ok("ModelInfer version \"1\": model_version \"1\", no id when none was given",
       e is None and (r.id, r.model_name, r.model_version) == ("", "leaky_relu_grad", "1"),
       status(e) if e else (r.id, r.model_name, r.model_version))


# ---- errors --------------------------------------------------------------------

def check_errors(c):
    pb = c.pb
    INVALID, NOT_FOUND = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    x2 = ("x", "FP64", [2], [1.0, -2.0])
    nan = pb.InferParameter(double_param=float("nan"))
    inf = pb.InferParameter(double_param=float("inf"))

    def raw_req(model, inputs, raws, **kw):
        """inputs (name, datatype, shape) with raw_input_contents as given."""
        req = pb.ModelInferRequest(model_name=model, **kw)
        for name, datatype, shape in inputs:
            req.inputs.add(name=name, datatype=datatype, shape=shape)
        req.raw_input_contents.extend(raws)
        return req

    typed_short = infer_request(pb, "leaky_relu", [("x", "FP64", [3], [1.0, 2.0])], typed=True)
    with_nan = infer_request(pb, "leaky_relu", [x2])
    with_nan.parameters["negative_slope"].CopyFrom(nan)
    with_inf = infer_request(pb, "leaky_relu", [x2])
    with_inf.parameters["negative_slope"].CopyFrom(inf)
    # (name, request, code, REST (model path, body) whose error message must be the same)
    cases = [
        ("datatype INT32",
         raw_req("leaky_relu", [("x", "INT32", [2])], [struct.pack("<2i", 1, -2)]), INVALID, None),
        ("raw_input_contents of 16 bytes for shape [3] FP64",
         raw_req("leaky_relu", [("x", "FP64", [3])], [struct.pack("<2d", 1, 2)]), INVALID, None),
        ("raw_input_contents of 7 bytes for shape [2] FP32",
         raw_req("leaky_relu", [("x", "FP32", [2])], [b"\0" * 7]), INVALID, None),
        ("shape [-1]", raw_req("leaky_relu", [("x", "FP64", [-1])], [struct.pack("<d", 1)]),
         INVALID, None),
        ("shape [-2, -1] (its product 2 matches the 16 bytes)",
         raw_req("leaky_relu", [("x", "FP64", [-2, -1])], [struct.pack("<2d", 1, 2)]),
         INVALID, None),
        ("two raw_input_contents for one input",
         raw_req("leaky_relu", [("x", "FP64", [1])], [struct.pack("<d", 1)] * 2), INVALID, None),
        ("typed fp64_contents of 2 numbers for shape [3]", typed_short, INVALID, None),
        ("unknown input name \"q\"", infer_request(pb, "leaky_relu", [("q", "FP64", [2], [1, -2])]),
         INVALID, ("leaky_relu", rest_body([("q", "FP64", [2], [1, -2])]))),
        ("no input x (grad_output only)",
         infer_request(pb, "leaky_relu_grad", [("grad_output", "FP64", [2], [1, -2])]),
         INVALID, None),
        ("no inputs at all", pb.ModelInferRequest(model_name="leaky_relu"), INVALID, None),
        ("grad_output given to leaky_relu",
         infer_request(pb, "leaky_relu", [x2, ("grad_output", "FP64", [2], [1, 1])]),
         INVALID, None),
        ("grad_output of another shape",
         infer_request(pb, "leaky_relu_grad", [x2, ("grad_output", "FP64", [1], [1])]),
         INVALID, None),
        ("negative_slope double_param NaN", with_nan, INVALID, None),
        ("negative_slope double_param infinity", with_inf, INVALID, None),
        ("negative_slope string_param \"abc\"",
         infer_request(pb, "leaky_relu", [x2], slope="abc"), INVALID, None),
        ("negative_slope string_param \"[]\"",
         infer_request(pb, "leaky_relu", [x2], slope="[]"), INVALID, None),
        ("negative_slope 1e300 with FP32 (outside float32)",
         infer_request(pb, "leaky_relu", [("x", "FP32", [1], [1.0])], slope=1e300),
         INVALID, None),
        ("3 slopes for x of 2 channels",
         infer_request(pb, "leaky_relu", [("x", "FP64", [1, 2], [1, -2])], slope="[1, 2, 3]"),
         INVALID, ("leaky_relu", rest_body([("x", "FP64", [1, 2], [1, -2])], [1, 2, 3]))),
        ("2 slopes for a 1-dimensional x",
         infer_request(pb, "leaky_relu", [x2], slope=[0.1, 0.2]),
         INVALID, ("leaky_relu", rest_body([x2], [0.1, 0.2]))),
        ("unknown output \"grad\" of leaky_relu",
         infer_request(pb, "leaky_relu", [x2], outputs=["grad"]),
         INVALID, ("leaky_relu", rest_body([x2], outputs=["grad"]))),
        ("grad_slope asked for with one slope",
         infer_request(pb, "leaky_relu_grad", [x2], outputs=["grad_slope"]),
         INVALID, ("leaky_relu_grad", rest_body([x2], outputs=["grad_slope"]))),
        ("unknown model \"relu\"", infer_request(pb, "relu", [x2]),
         NOT_FOUND, ("relu", rest_body([x2]))),
        ("model leaky_relu version \"2\"", infer_request(pb, "leaky_relu", [x2], version="2"),
         NOT_FOUND, ("leaky_relu/versions/2", rest_body([x2]))),
    ]
    for name, req, code, rest in cases:
        r, e = rpc(c.stub.ModelInfer, req)
        good = e is not None and e.code() == code and bool(e.details())
        detail = status(e)
        if good and rest and not c.peer:
            _, j = c.rest("POST", f"/v2/models/{rest[0]}/infer", rest[1])
            good = e.details() == j.get("error")
            detail += f"\nREST's: {j.get('error')!r}"
        same = " with REST's message" if rest and not c.peer else ""
        ok(f"ModelInfer {name}: {code.name}{same}", good, detail)
    for method in ("/inference.GRPCInferenceService/RepositoryIndex", "/no.such.Service/Call"):
        call = c.ch.unary_unary(method, request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
        r, e = rpc(call, b"")
        ok(f"{method}: UNIMPLEMENTED", e is not None and e.code() == grpc.StatusCode.UNIMPLEMENTED,
           status(e))


# ---- streaming, compression, metadata, size -------------------------------------

def check_stream(c):
    pb = c.pb
    bad = pb.ModelInferRequest(model_name="leaky_relu", id="c")
    bad.inputs.add(name="x", datatype="INT32", shape=[1])
    bad.raw_input_contents.append(struct.pack("<i", 1))
    plan = [  # (request, want outputs or None for an error)
        (infer_request(pb, "leaky_relu", [("x", "FP64", [2], [1.0, -2.0])], 0.5, id="a"),
         [("y", "FP64", [2], pack([1.0, -1.0], "FP64"))]),
        (infer_request(pb, "leaky_relu_grad", [("x", "FP64", [2], [1.0, -2.0])], 0.5, id="b"),
         [("grad", "FP64", [2], pack([1.0, 0.5], "FP64"))]),
        (bad, None),
        (infer_request(pb, "leaky_relu", [("x", "FP32", [1], [-4.0])], id="d"),
         [("y", "FP32", [1], pack([-4.0 * f32(0.01)], "FP32"))]),
        (infer_request(pb, "leaky_relu_grad", [("x", "FP64", [2], [1.0, -2.0]),
                                               ("grad_output", "FP64", [2], [3.0, 4.0])],
                       [0.25], id="e"),
         [("grad", "FP64", [2], pack([3.0, 1.0], "FP64")),
          ("grad_slope", "FP64", [1], pack([-8.0], "FP64"))]),
    ]

    def judge(replies):
        if len(replies) != len(plan):
            return f"{len(replies)} replies to {len(plan)} requests"
        for (req, want), reply in zip(plan, replies):
            if reply.infer_response.id != req.id:
                return f"reply {reply.infer_response.id!r} where {req.id!r} was due"
            if want is None:
                if not reply.error_message:
                    return f"request {req.id}: no error_message"
            elif reply.error_message:
                return f"request {req.id}: {reply.error_message!r}"
            else:
                problem = outputs_problem(reply.infer_response, want)
                if problem:
                    return f"request {req.id}: {problem}"
        return ""

    try:
        replies = list(c.stub.ModelStreamInfer(iter([p[0] for p in plan]), timeout=TIMEOUT))
        problem = judge(replies)
    except grpc.RpcError as e:
        problem = status(e)
    ok("ModelStreamInfer: 5 requests a..e, 5 replies in order, c's an error_message, "
       "the stream going on", not problem, problem)

    # one request at a time: each reply must come while the stream is open
    q = queue.Queue()

    def requests():
        while True:
            item = q.get()
            if item is None:
                return
            yield item

    problem = ""
    replies = []
    try:
        it = c.stub.ModelStreamInfer(requests(), timeout=TIMEOUT)
        for req, _ in plan:
            q.put(req)
            replies.append(next(it))
        q.put(None)
        rest = list(it)
        problem = judge(replies) or (f"{len(rest)} replies after the last" if rest else "")
    except (grpc.RpcError, StopIteration) as e:
        q.put(None)
        problem = status(e) if isinstance(e, grpc.RpcError) else "the stream ended early"
    ok("ModelStreamInfer: each reply arrives before the next request is sent", not problem,
       problem)


def check_compression(c):
    x = [(i % 97 - 48) * 0.25 for i in range(20000)]
    want = [("y", "FP64", [20000], pack([v if v > 0 else v * 0.3 for v in x], "FP64"))]
    for algo in (grpc.Compression.Gzip, grpc.Compression.Deflate):
        req = infer_request(c.pb, "leaky_relu", [("x", "FP64", [20000], x)], 0.3)
        r, e = rpc(c.stub.ModelInfer, req, compression=algo)
        problem = status(e) if e else outputs_problem(r, want)
        ok(f"ModelInfer compressed with {algo.name}: the same bytes", not problem, problem)


def check_request_id(c):
    req = infer_request(c.pb, "leaky_relu", [("x", "FP64", [1], [-1.0])])
    try:
        _, call = c.stub.ModelInfer.with_call(req, timeout=TIMEOUT,
                                              metadata=[("x-request-id", "abc-123")])
        got = dict(call.initial_metadata()).get("x-request-id")
        ok("x-request-id abc-123 comes back in the initial metadata", got == "abc-123",
           call.initial_metadata())
        _, call = c.stub.ModelInfer.with_call(req, timeout=TIMEOUT)
        got = dict(call.initial_metadata()).get("x-request-id")
        ok("without x-request-id, the server makes one", bool(got), call.initial_metadata())
    except grpc.RpcError as e:
        ok("x-request-id", False, status(e))


def check_large(c, count):
    """A tensor of count FP32 elements: a pattern of period P (a prime, so
    that no misplaced part can look right) whose result is computed once
    per period, and the whole reply compared."""
    period = 999_983 if count > 999_983 else count
    one = array("f", [(i - period // 2) * 0.5 for i in range(period)])
    s = f32(0.01)
    y_one = array("f", [v if v > 0 else v * s for v in one])
    reps, tail = divmod(count, period)
    x = one.tobytes() * reps + one[:tail].tobytes()
    want = y_one.tobytes() * reps + y_one[:tail].tobytes()
    if sys.byteorder != "little":
        sys.exit("the large check assumes a little-endian machine")
    req = c.pb.ModelInferRequest(model_name="leaky_relu", id="large")
    req.inputs.add(name="x", datatype="FP32", shape=[count])
    req.raw_input_contents.append(x)
    del x
    started = time.monotonic()
    r, e = rpc(c.stub.ModelInfer, req)
    took = time.monotonic() - started
    problem = status(e) if e else outputs_problem(r, [("y", "FP32", [count], want)])
    ok(f"ModelInfer of {count} FP32 elements ({count * 4 / 1e6:.0f} MB) bit for bit "
       f"({took:.1f} s)", not problem, problem)


# ---- health, reflection, drain -------------------------------------------------

def check_health(c):
    h_pb, h_grpc = c.gen.health_pb2, c.gen.health_pb2_grpc
    stub = h_grpc.HealthStub(c.ch)
    serving = h_pb.HealthCheckResponse.SERVING
    for service in ("", SERVICE):
        r, e = rpc(stub.Check, h_pb.HealthCheckRequest(service=service))
        ok(f"Health/Check {service!r}: SERVING", e is None and r.status == serving, status(e))
    r, e = rpc(stub.Check, h_pb.HealthCheckRequest(service="no.such.Service"))
    ok("Health/Check an unknown service: NOT_FOUND",
       e is not None and e.code() == grpc.StatusCode.NOT_FOUND, status(e))
    try:
        list(stub.Watch(h_pb.HealthCheckRequest(service=""), timeout=5))
        e = None
    except grpc.RpcError as err:
        e = err
    ok("Health/Watch: UNIMPLEMENTED", e is not None and e.code() == grpc.StatusCode.UNIMPLEMENTED,
       status(e))


def check_reflection(c):
    r_pb = c.gen.reflection_pb2
    stub = c.gen.reflection_pb2_grpc.ServerReflectionStub(c.ch)
    Req = r_pb.ServerReflectionRequest
    asks = [Req(list_services=""),
            Req(file_containing_symbol=SERVICE),
            Req(file_containing_symbol="no.such.Symbol"),
            Req(file_by_filename="inference.proto"),
            Req(file_containing_symbol="inference.ModelInferRequest"),
            Req(file_containing_symbol="grpc.health.v1.Health"),
            Req(all_extension_numbers_of_type="inference.ModelInferRequest")]
    try:
        replies = list(stub.ServerReflectionInfo(iter(asks), timeout=TIMEOUT))
    except grpc.RpcError as e:
        ok("ServerReflectionInfo answers", False, status(e))
        return
    ok("ServerReflectionInfo: one reply per request", len(replies) == len(asks),
       f"{len(replies)} replies")
    if len(replies) != len(asks):
        return
    (services, by_symbol, unknown, by_name, by_message, health, extensions) = replies
    names = {s.name for s in services.list_services_response.service}
    want = {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    ok("reflection list_services: the inference, health and reflection services",
       want <= names, names)

    def files(reply):
        return [descriptor_pb2.FileDescriptorProto.FromString(b)
                for b in reply.file_descriptor_response.file_descriptor_proto]

    protos = files(by_symbol)
    methods = {m.name for f in protos for s in f.service if f"{f.package}.{s.name}" == SERVICE
               for m in s.method}
    ok(f"reflection file_containing_symbol {SERVICE}: its file, the 7 methods",
       methods == {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata",
                   "ModelInfer", "ModelStreamInfer"}, methods or by_symbol)
    ok("reflection file_containing_symbol no.such.Symbol: error_code 5 (NOT_FOUND)",
       unknown.WhichOneof("message_response") == "error_response" and
       unknown.error_response.error_code == 5, unknown)
    ok("reflection file_by_filename inference.proto: the file",
       [f.name for f in files(by_name)][:1] == ["inference.proto"], by_name)
    ok("reflection file_containing_symbol inference.ModelInferRequest: inference.proto",
       any(f.package == "inference" for f in files(by_message)), by_message)
    ok("reflection file_containing_symbol grpc.health.v1.Health: health's file",
       any(f.package == "grpc.health.v1" for f in files(health)), health)
    ok("reflection all_extension_numbers_of_type: error_code 5 (NOT_FOUND)",
       extensions.WhichOneof("message_response") == "error_response" and
       extensions.error_response.error_code == 5, extensions)
    dynamic_call(c, protos)


def dynamic_call(c, protos):
    """A ModelInfer made as a generic tool makes it: the message classes
    built from the served descriptors alone, in a pool of their own."""
    try:
        pool = descriptor_pool.DescriptorPool()
        pending = list(protos)
        while pending:  # dependencies first
            added = [f for f in pending if all(d in {p.name for p in protos if p not in pending}
                                               for d in f.dependency)]
            if not added:
                raise ValueError(f"unresolved dependencies: {[f.dependency for f in pending]}")
            for f in added:
                pool.Add(f)
                pending.remove(f)
        method = pool.FindServiceByName(SERVICE).FindMethodByName("ModelInfer")
        factory = message_factory.MessageFactory(pool)
        Request = factory.GetPrototype(method.input_type)
        Response = factory.GetPrototype(method.output_type)
        req = Request(model_name="leaky_relu", id="dynamic")
        req.parameters["negative_slope"].double_param = 0.25
        t = req.inputs.add()
        t.name, t.datatype = "x", "FP64"
        t.shape.append(3)
        req.raw_input_contents.append(struct.pack("<3d", -1.0, 0.5, -3.0))
        call = c.ch.unary_unary(f"/{SERVICE}/ModelInfer",
                                request_serializer=Request.SerializeToString,
                                response_deserializer=Response.FromString)
        r = call(req, timeout=TIMEOUT)
        good = (r.id == "dynamic" and r.outputs[0].name == "y" and
                r.raw_output_contents[0] == struct.pack("<3d", -0.25, 0.5, -0.75))
        ok("a ModelInfer with message classes built from reflection's descriptors only",
           good, r)
    except Exception as e:  # noqa: BLE001  (an RpcError, or a descriptor the pool refuses)
        ok("a ModelInfer with message classes built from reflection's descriptors only",
           False, repr(e))


def check_drain(gen, server_binary):
    """A second server: after SIGTERM, new calls fail (UNAVAILABLE) and it
    exits 0 within seconds."""
    pb, stub_of = gen.inference_pb2, gen.inference_pb2_grpc.GRPCInferenceServiceStub
    s = Server([server_binary, "--port", "0", "--grpc-port", "0", "--log", "off"], peer=False)
    if not s.started():
        ok("a second server starts", False, s.line or s.stderr_tail())
        s.stop()
        return
    ch = channel(s.grpc)
    try:
        stub_of(ch).ServerLive(pb.ServerLiveRequest(), timeout=TIMEOUT)
        live = True
    except grpc.RpcError:
        live = False
    ch.close()
    started = time.monotonic()
    s.child.send_signal(signal.SIGTERM)
    refused, last = False, "no call made"
    while time.monotonic() - started < 10 and not refused:
        with channel(s.grpc) as fresh:
            try:
                stub_of(fresh).ServerLive(pb.ServerLiveRequest(), timeout=2)
                last = "a call succeeded after SIGTERM"
                time.sleep(0.1)
            except grpc.RpcError as e:
                last = status(e)
                refused = e.code() == grpc.StatusCode.UNAVAILABLE
                if not refused:
                    time.sleep(0.1)
    ok("after SIGTERM, a new call fails with UNAVAILABLE", live and refused, last)
    code = s.stop(wait=15)
    ok(f"after SIGTERM, the server exits 0 ({time.monotonic() - started:.1f} s)", code == 0,
       f"status {code}\n{s.stderr_tail()}")


def rest_holder(port, hold_s, total=64_000_000):
    """A REST binary body of `total` bytes declared (the REST side charges
    its block at once), its first MB sent, then a trickle for hold_s seconds
    (above --min-body-rate), then the rest: memory held that long. Runs in a
    thread; returns the thread."""
    def run():
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"POST /forward?dtype=float32 HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/octet-stream\r\nConnection: close\r\n"
                      b"Content-Length: %d\r\n\r\n"
                      % total)
            sent, chunk = 1_000_000, 20_000
            s.sendall(bytes(sent))
            end = time.monotonic() + hold_s
            while time.monotonic() < end:
                time.sleep(0.25)
                s.sendall(bytes(chunk))
                sent += chunk
            s.sendall(bytes(total - sent))
            while s.recv(1 << 20):
                pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def check_budget(gen, server_binary):
    """The memory budget, shared with REST: a 64 MB ModelInfer that finds the
    budget taken waits for room (flow control holds its bytes back) and is
    served once a REST body frees it; one that waits longer than
    --queue-timeout ends RESOURCE_EXHAUSTED. A server with --max-memory
    100M and --queue-timeout 2."""
    pb, stub_of = gen.inference_pb2, gen.inference_pb2_grpc.GRPCInferenceServiceStub
    s = Server([server_binary, "--port", "0", "--grpc-port", "0", "--log", "off",
                "--max-memory", "100M", "--max-body", "80M", "--queue-timeout", "2"], peer=False)
    if not s.started():
        ok("a server with --max-memory 100M starts", False, s.line or s.stderr_tail())
        s.stop()
        return
    n = 16_000_000
    req = pb.ModelInferRequest(model_name="leaky_relu")
    req.inputs.add(name="x", datatype="FP32", shape=[n])
    req.raw_input_contents.append(array("f", [-2.0]).tobytes() * n)
    with channel(s.grpc) as ch:
        stub = stub_of(ch)
        for hold, want in ((1.0, "served"), (4.0, "refused")):
            holder = rest_holder(s.http, hold)
            time.sleep(0.3)  # the REST body holds 64 MB of the 100
            t0 = time.monotonic()
            r, e = rpc(stub.ModelInfer, req)
            took = time.monotonic() - t0
            holder.join(30)
            if want == "served":
                good = (e is None and len(r.raw_output_contents[0]) == 4 * n and
                        r.raw_output_contents[0][:4] == array("f", [-2.0 * f32(0.01)]).tobytes())
                ok(f"a 64 MB ModelInfer, the budget taken by a REST body for {hold:g} s: it "
                   f"waits and is served ({took:.1f} s)", good and took >= 0.5,
                   status(e) if e else f"{took:.2f} s")
            else:
                ok(f"... taken for {hold:g} s, more than --queue-timeout 2: RESOURCE_EXHAUSTED "
                   f"after the wait ({took:.1f} s)",
                   e is not None and e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and
                   "queue-timeout" in e.details() and 1.5 <= took <= 4.0,
                   status(e) if e else "served")
    m = urllib.request.urlopen(f"http://127.0.0.1:{s.http}/metrics", timeout=TIMEOUT).read()
    m = m.decode()
    waits = re.search(r"^leakyrelu_queue_wait_seconds_count (\d+)", m, re.M)
    used = re.search(r"^leakyrelu_memory_used_bytes (\d+)", m, re.M)
    ok("metrics: the gRPC calls' waits counted, and the memory given back",
       waits and int(waits[1]) >= 2 and used and int(used[1]) == 0,
       f"queue waits {waits and waits[1]}, memory used {used and used[1]}")
    code = s.stop()
    ok("that server exits 0 on SIGTERM", code == 0, f"status {code}\n{s.stderr_tail()}")


def main():
    args = sys.argv[1:]
    peer = bool(args) and args[0] == "--peer"
    if not args or (peer and len(args) > 2):
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory(prefix="grpc_check.") as tmp:
        gen = grpc_gen.generate(tmp)
        if peer:
            script = args[1] if len(args) > 1 else str(ROOT / "bench" / "grpc_peer.py")
            server = Server([sys.executable, script, "--port", "0"], peer=True)
        else:
            server = Server([args[0], "--port", "0", "--grpc-port", "0", "--max-body", "80M",
                             "--log", "off"], peer=False)
        if not ok("the server starts and says where it listens (HTTP and gRPC)",
                  server.started(), server.line or server.stderr_tail()):
            server.stop()
            finish()
        ch = channel(server.grpc)
        try:
            grpc.channel_ready_future(ch).result(timeout=TIMEOUT)
            c = Ctx(gen, server, ch)
            check_ready(c)
            check_metadata(c)
            check_torch(c)
            check_parameters(c)
            check_errors(c)
            check_stream(c)
            check_compression(c)
            check_large(c, 1_000_000 if peer else 16_000_000)
            if not peer:
                check_request_id(c)
                check_health(c)
                check_reflection(c)
        except grpc.FutureTimeoutError:
            ok("the gRPC port accepts a connection", False, f"port {server.grpc}")
        finally:
            ch.close()
            code = server.stop()
        ok("SIGTERM: the server exits 0", code == 0, f"status {code}\n{server.stderr_tail()}")
        if not peer:
            check_budget(gen, args[0])
            check_drain(gen, args[0])
    finish()


main()
