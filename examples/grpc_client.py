#!/usr/bin/env python3
"""A leakyrelu client over gRPC in Python: the Open Inference Protocol's
ModelInfer with a small FP32 tensor sent as raw little-endian bytes and a
negative_slope, then ModelStreamInfer with two requests on one stream.

Needs Debian's python3-grpcio and python3-protobuf, and protoc with the
gRPC plugin (protobuf-compiler, protobuf-compiler-grpc): the Python modules
of proto/inference.proto are generated each time it starts, into a
temporary directory, so nothing generated has to be kept.

Usage: python3 examples/grpc_client.py [HOST:PORT]
       (default localhost:8001, the gRPC port of `make run`)"""
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# Debian's python3-grpcio is importable by Debian's own interpreter only:
# when the python3 found first on PATH (pyenv's, a virtualenv's) has no
# grpc, run this script again with /usr/bin/python3.
try:
    import grpc
    import google.protobuf  # noqa: F401  (the generated modules need it)
except ImportError as e:
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
        os.execv(system, [system] + sys.argv)
    sys.exit(f"{e}: install python3-grpcio and python3-protobuf")

TARGET = sys.argv[1] if len(sys.argv) > 1 else "localhost:8001"
PROTO_DIR = Path(__file__).resolve().parent.parent / "proto"


def generate(out_dir):
    """inference_pb2 (the messages) and inference_pb2_grpc (the stub),
    generated from proto/inference.proto into out_dir and imported."""
    subprocess.run(["protoc", f"-I{PROTO_DIR}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin", "inference.proto"],
                   cwd=PROTO_DIR, check=True)
    sys.path.insert(0, out_dir)
    import inference_pb2
    import inference_pb2_grpc
    return inference_pb2, inference_pb2_grpc


def values(tensor, raw):
    """An output's numbers: raw_output_contents holds them as little-endian
    float32 (FP32) or float64 (FP64)."""
    code = "f" if tensor.datatype == "FP32" else "d"
    return list(struct.unpack(f"<{len(raw) // struct.calcsize(code)}{code}", raw))


def show(what, reply):
    for tensor, raw in zip(reply.outputs, reply.raw_output_contents):
        print(f"{what} {reply.id}: {tensor.name} = {values(tensor, raw)} "
              f"({tensor.datatype}, shape {list(tensor.shape)})")


with tempfile.TemporaryDirectory() as tmp:
    pb, pb_grpc = generate(tmp)

with grpc.insecure_channel(TARGET) as channel:
    stub = pb_grpc.GRPCInferenceServiceStub(channel)

    # ModelInfer: y = x where x > 0, else negative_slope * x, in float32.
    # The slope is a double_param here; an int64_param, or a string_param
    # with a number or a JSON list of one slope per channel ("[0.1, 0.2]"),
    # work too.
    request = pb.ModelInferRequest(model_name="leaky_relu", id="example")
    request.parameters["negative_slope"].double_param = 0.25
    request.inputs.add(name="x", datatype="FP32", shape=[3])
    request.raw_input_contents.append(struct.pack("<3f", -1.0, 0.5, 2.0))
    try:
        reply = stub.ModelInfer(request, timeout=10)
    except grpc.RpcError as e:
        # errors are status codes: INVALID_ARGUMENT (a bad request), NOT_FOUND
        # (an unknown model), UNAVAILABLE (no server), with a message
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            sys.exit(f"cannot reach the gRPC service at {TARGET}: is it running? "
                     "start it with `make run`")
        sys.exit(f"ModelInfer: {e.code().name}: {e.details()}")
    show("ModelInfer", reply)

    # ModelStreamInfer: requests and replies on one stream, one reply per
    # request, in order. A request that fails does not end the stream: its
    # reply has an error_message instead.
    first = pb.ModelInferRequest(model_name="leaky_relu", id="first")
    first.parameters["negative_slope"].double_param = 0.5
    first.inputs.add(name="x", datatype="FP64", shape=[2])
    first.raw_input_contents.append(struct.pack("<2d", -4.0, 4.0))
    # the gradient, times grad_output (the chain rule's upstream gradient)
    second = pb.ModelInferRequest(model_name="leaky_relu_grad", id="second")
    second.parameters["negative_slope"].double_param = 0.25
    second.inputs.add(name="x", datatype="FP64", shape=[2])
    second.inputs.add(name="grad_output", datatype="FP64", shape=[2])
    second.raw_input_contents.extend([struct.pack("<2d", -1.0, 2.0), struct.pack("<2d", 3.0, 3.0)])
    for reply in stub.ModelStreamInfer(iter([first, second]), timeout=10):
        if reply.error_message:
            print(f"ModelStreamInfer {reply.infer_response.id}: error: {reply.error_message}")
        else:
            show("ModelStreamInfer", reply.infer_response)
