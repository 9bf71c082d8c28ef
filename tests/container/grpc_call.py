#!/usr/bin/python3
"""One gRPC health check and one ModelInfer against HOST:PORT, with
python3-grpcio and the messages written by hand (no generated code), for
the container tests: prints `SERVING [1.0, -0.02]` when both work.
Usage: tests/container/grpc_call.py HOST:PORT"""
import struct
import sys

import grpc


def field(num, payload):  # a length-delimited field (payloads under 128 bytes)
    return bytes([num << 3 | 2, len(payload)]) + payload


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    call = lambda path, msg: channel.unary_unary(path)(msg, timeout=10)  # noqa: E731
    health = call("/grpc.health.v1.Health/Check", b"")
    x = field(1, b"x") + field(2, b"FP64") + field(3, bytes([2]))
    reply = call("/inference.GRPCInferenceService/ModelInfer",
                 field(1, b"leaky_relu") + field(5, x) + field(7, struct.pack("<2d", 1, -2)))
    y = struct.unpack("<2d", reply[-16:])  # raw_output_contents, last
    print("SERVING" if health == b"\x08\x01" else health.hex(), list(y))


main()
