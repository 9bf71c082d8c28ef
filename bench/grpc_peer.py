#!/usr/bin/env python3
"""A Python gRPC inference server for the benchmarks to compare leakyrelu's
gRPC side with: the Open Inference Protocol's GRPCInferenceService of
proto/inference.proto (ServerLive, ServerReady, ModelReady,
ServerMetadata, ModelMetadata, ModelInfer and Triton's ModelStreamInfer)
for the models leaky_relu and leaky_relu_grad, served the way a
KServe-style Python model server serves them: python3-grpcio's server on a
thread pool, the tensors decoded from raw_input_contents (or the typed
fp32_contents / fp64_contents) with `array`, computed in Python, and
encoded back into raw_output_contents.

The arithmetic is PyTorch's, as the service's: float64 as IEEE doubles;
float32 as the float32 product of the float32 x and the slope rounded to
float32 (the double product of two float32 values is exact, so rounding it
once to float32 is the float32 product). negative_slope is a double_param,
an int64_param, or a string_param holding a JSON number or list (PReLU:
one slope per channel, axis 1). It also serves as the reference peer of
tests/grpc_check.py --peer.

    python3 bench/grpc_peer.py --port N [--bind 127.0.0.1] [--threads 4]

prints `listening on N` (the port bound; N = 0 picks a free one) once it
serves, and stops on SIGTERM or SIGINT. Needs python3-grpcio,
python3-protobuf, protobuf-compiler and protobuf-compiler-grpc."""
import argparse
import importlib.util
import json
import math
import re
import signal
import sys
import tempfile
import threading
from array import array
from concurrent import futures
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("grpc_gen", ROOT / "tools" / "grpc_gen.py")
grpc_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grpc_gen)
grpc_gen.use_system_python()

import grpc  # noqa: E402  (after use_system_python)

MODELS = ("leaky_relu", "leaky_relu_grad")
DEFAULT_SLOPE = 0.01
SIZE = {"FP32": 4, "FP64": 8}
TYPECODE = {"FP32": "f", "FP64": "d"}
FLOAT32_MAX = 3.4028234663852886e38
LITTLE = sys.byteorder == "little"


class BadRequest(Exception):
    """A request the service refuses: a gRPC status code and its message."""

    def __init__(self, message, code=grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code
        self.message = message


def server_version():
    """The service's version, as the Makefile sets it."""
    try:
        m = re.search(r"^VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M)
        return m.group(1) if m else "0"
    except OSError:
        return "0"


def check_model(name, version):
    if name not in MODELS:
        raise BadRequest(f'unknown model "{name}"; the models are "leaky_relu" and '
                         f'"leaky_relu_grad"', grpc.StatusCode.NOT_FOUND)
    if version not in ("", "1"):
        raise BadRequest(f'model "{name}" has no version "{version}"; its one version is "1"',
                         grpc.StatusCode.NOT_FOUND)


def f32(v):
    """v rounded to float32 (infinite when it is out of float32's range)."""
    return array("f", [v])[0]


def product(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def decode(req, i):
    """Input i's elements as an array of its datatype, checked against its
    shape: from raw_input_contents[i] when the request has raw contents,
    else from its typed contents."""
    inp = req.inputs[i]
    where = f"inputs[{i}]"
    if inp.datatype not in SIZE:
        raise BadRequest(f'{where}.datatype must be "FP64" or "FP32", not "{inp.datatype}"')
    if any(d < 0 for d in inp.shape):
        raise BadRequest(f"{where}.shape must hold sizes: whole numbers, 0 or more")
    count = product(inp.shape)
    if req.raw_input_contents:
        if len(req.raw_input_contents) != len(req.inputs):
            raise BadRequest(f"the request has {len(req.raw_input_contents)} "
                             f"raw_input_contents for {len(req.inputs)} inputs")
        raw = req.raw_input_contents[i]
        if len(raw) != count * SIZE[inp.datatype]:
            raise BadRequest(f"raw_input_contents[{i}] has {len(raw)} bytes, but shape and "
                             f"datatype make {count * SIZE[inp.datatype]}")
        values = array(TYPECODE[inp.datatype])
        values.frombytes(raw)
        if not LITTLE:
            values.byteswap()
        return values
    typed = inp.contents.fp32_contents if inp.datatype == "FP32" else inp.contents.fp64_contents
    if len(typed) != count:
        field = "fp32_contents" if inp.datatype == "FP32" else "fp64_contents"
        raise BadRequest(f"{where}.contents.{field} has {len(typed)} numbers, but the shape "
                         f"makes {count}")
    return array(TYPECODE[inp.datatype], typed)


def slopes_of(req):
    """(slopes, is_list): negative_slope's value(s), finite numbers."""
    if "negative_slope" not in req.parameters:
        return [DEFAULT_SLOPE], False
    p = req.parameters["negative_slope"]
    kind = p.WhichOneof("parameter_choice")
    bad = BadRequest("parameters.negative_slope must be a number or a non-empty array of "
                     "numbers")
    if kind == "double_param":
        slopes, is_list = [p.double_param], False
    elif kind in ("int64_param", "uint64_param"):
        slopes, is_list = [float(getattr(p, kind))], False
    elif kind == "string_param":
        try:
            value = json.loads(p.string_param)
        except ValueError:
            raise bad from None
        is_list = isinstance(value, list)
        slopes = value if is_list else [value]
        if not slopes or any(isinstance(v, bool) or not isinstance(v, (int, float))
                             for v in slopes):
            raise bad
        slopes = [float(v) for v in slopes]
    else:
        raise bad
    if not all(math.isfinite(v) for v in slopes):
        raise bad
    return slopes, is_list


def check_slopes(slopes, shape, datatype):
    channels = shape[1] if len(shape) >= 2 else 1
    if len(slopes) != 1 and len(slopes) != channels:
        if len(shape) < 2 or channels == 0:
            what = "one channel (fewer than 2 dimensions)" if channels else \
                "no channels (its axis 1 is empty)"
            raise BadRequest(f"slope has {len(slopes)} numbers, but x has {what}: give 1 slope "
                             f"at slope")
        s = "" if channels == 1 else "s"
        raise BadRequest(f"slope has {len(slopes)} numbers, but x has {channels} channel{s} "
                         f"(the length of its axis 1): give {channels} slope{s}, or 1 for all "
                         f"at slope")
    if datatype == "FP32":
        for a in slopes:
            if abs(a) > FLOAT32_MAX and math.isinf(f32(a)):
                raise BadRequest(f"slope {a:g} is outside the range of float32")


def runs(shape, count, nslopes):
    """(start, end, channel): the runs of elements sharing one slope."""
    if nslopes == 1:
        yield 0, count, 0
        return
    inner = product(shape[2:])
    if inner == 0:
        return
    for start in range(0, count, inner):
        yield start, start + inner, (start // inner) % nslopes


def compute(model, x, grad_output, slopes, shape, datatype):
    """The main output (y or grad) as an array of the datatype."""
    single = datatype == "FP32"
    out = array(TYPECODE[datatype])
    for start, end, c in runs(shape, len(x), len(slopes)):
        a = f32(slopes[c]) if single else slopes[c]
        xs = x[start:end] if (start, end) != (0, len(x)) else x
        if model == "leaky_relu":
            part = [v if v > 0 else v * a for v in xs]
        elif grad_output is None:
            part = [1.0 if v > 0 else a for v in xs]
        else:
            gs = grad_output[start:end]
            part = [g if v > 0 else g * a for v, g in zip(xs, gs)]
        out.fromlist(part)
    return out


def grad_slope(x, grad_output, slopes, shape, datatype):
    """The gradient with respect to each slope: the sum, over its channel's
    elements with x <= 0, of x * grad_output (or x), correctly rounded in
    float64, then rounded to the datatype."""
    terms = [[] for _ in slopes]
    for start, end, c in runs(shape, len(x), len(slopes)):
        for i in range(start, end):
            v = x[i]
            if v <= 0:
                terms[c].append(v * grad_output[i] if grad_output is not None else v)
    sums = []
    for t in terms:
        try:
            sums.append(math.fsum(t))
        except (OverflowError, ValueError):  # an infinite term or an overflow: IEEE's sum
            sums.append(sum(t))
    return array(TYPECODE[datatype], sums)


def to_bytes(values):
    if not LITTLE:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def infer(pb, req):
    """One ModelInferRequest's ModelInferResponse; BadRequest when refused."""
    check_model(req.model_name, req.model_version)
    model = req.model_name
    if not 1 <= len(req.inputs) <= 2:
        extra = ' and, for the backward pass, "grad_output"' if model == "leaky_relu_grad" else ""
        raise BadRequest(f'the request has {len(req.inputs)} inputs; give "x"{extra}')
    names = [inp.name for inp in req.inputs]
    for i, name in enumerate(names):
        if name not in ("x", "grad_output"):
            raise BadRequest(f'unknown input "{name[:64]}"; the inputs are "x" and, for '
                             f'leaky_relu_grad, "grad_output" at inputs[{i}].name')
    tensors = [decode(req, i) for i in range(len(req.inputs))]
    if len(names) == 2 and names[0] == names[1]:
        raise BadRequest(f'input "{names[0]}" is given twice')
    if "x" not in names:
        raise BadRequest('the request has no input "x" at inputs')
    ix = names.index("x")
    x, x_in = tensors[ix], req.inputs[ix]
    shape, datatype = list(x_in.shape), x_in.datatype
    grad_output = None
    if "grad_output" in names:
        ig = names.index("grad_output")
        if req.inputs[ig].datatype != datatype:
            raise BadRequest("grad_output's datatype must be x's")
        if list(req.inputs[ig].shape) != shape:
            raise BadRequest("grad_output must have x's shape")
        if model == "leaky_relu":
            raise BadRequest('leaky_relu takes one input, "x"; grad_output is leaky_relu_grad\'s')
        grad_output = tensors[ig]
    slopes, is_list = slopes_of(req)
    main = "y" if model == "leaky_relu" else "grad"
    with_slope = model == "leaky_relu_grad" and is_list
    wanted = [o.name for o in req.outputs] or ([main, "grad_slope"] if with_slope else [main])
    for i, name in enumerate(wanted):
        if name != main and not (name == "grad_slope" and with_slope):
            raise BadRequest(f'unknown output "{name[:64]}"; {model}\'s outputs are "{main}"'
                             + ("" if model == "leaky_relu" else ' and "grad_slope"' if is_list
                                else ' (and "grad_slope" when negative_slope is a list)')
                             + f" at outputs[{i}].name")
        if name in wanted[:i]:
            raise BadRequest(f'output "{name}" is asked for twice')
    check_slopes(slopes, shape, datatype)

    resp = pb.ModelInferResponse(model_name=model, model_version="1", id=req.id)
    for name in wanted:
        if name == "grad_slope":
            data, out_shape = grad_slope(x, grad_output, slopes, shape, datatype), [len(slopes)]
        else:
            data, out_shape = compute(model, x, grad_output, slopes, shape, datatype), shape
        resp.outputs.add(name=name, datatype=datatype, shape=out_shape)
        resp.raw_output_contents.append(to_bytes(data))
    return resp


def servicer_class(pb, pb_grpc):
    class Inference(pb_grpc.GRPCInferenceServiceServicer):
        def ServerLive(self, request, context):
            return pb.ServerLiveResponse(live=True)

        def ServerReady(self, request, context):
            return pb.ServerReadyResponse(ready=True)

        def ModelReady(self, request, context):
            try:
                check_model(request.name, request.version)
            except BadRequest as e:
                context.abort(e.code, e.message)
            return pb.ModelReadyResponse(ready=True)

        def ServerMetadata(self, request, context):
            return pb.ServerMetadataResponse(name="leakyrelu-python-peer",
                                             version=server_version())

        def ModelMetadata(self, request, context):
            try:
                check_model(request.name, request.version)
            except BadRequest as e:
                context.abort(e.code, e.message)
            forward = request.name == "leaky_relu"
            tensor = pb.ModelMetadataResponse.TensorMetadata
            inputs = ["x"] if forward else ["x", "grad_output"]
            outputs = ["y"] if forward else ["grad", "grad_slope"]
            return pb.ModelMetadataResponse(
                name=request.name, versions=["1"], platform="leakyrelu",
                inputs=[tensor(name=n, datatype="FP64", shape=[-1]) for n in inputs],
                outputs=[tensor(name=n, datatype="FP64", shape=[-1]) for n in outputs])

        def ModelInfer(self, request, context):
            try:
                return infer(pb, request)
            except BadRequest as e:
                context.abort(e.code, e.message)

        def ModelStreamInfer(self, request_iterator, context):
            for request in request_iterator:
                try:
                    yield pb.ModelStreamInferResponse(infer_response=infer(pb, request))
                except BadRequest as e:
                    yield pb.ModelStreamInferResponse(
                        error_message=e.message,
                        infer_response=pb.ModelInferResponse(model_name=request.model_name,
                                                             model_version=request.model_version,
                                                             id=request.id))

    return Inference


def main():
    parser = argparse.ArgumentParser(description="A Python gRPC peer for the benchmarks.")
    parser.add_argument("--port", type=int, required=True, help="0 picks a free one")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grpc_peer.") as tmp:
        gen = grpc_gen.generate(tmp)
        pb, pb_grpc = gen.inference_pb2, gen.inference_pb2_grpc
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.threads),
                             options=[("grpc.max_send_message_length", -1),
                                      ("grpc.max_receive_message_length", -1)])
        pb_grpc.add_GRPCInferenceServiceServicer_to_server(servicer_class(pb, pb_grpc)(), server)
        port = server.add_insecure_port(f"{args.bind}:{args.port}")
        if port == 0:
            sys.exit(f"cannot listen on {args.bind}:{args.port}")
        server.start()
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        print(f"listening on {port}", flush=True)
        while not stop.wait(3600):
            pass
        server.stop(5).wait()


if __name__ == "__main__":
    main()
