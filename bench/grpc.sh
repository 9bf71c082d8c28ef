#!/usr/bin/env bash
# gRPC beside REST, on one server each time: small ModelInfer calls (4
# FP32 elements) with h2load over 32 streams (one connection, and 4
# connections of 8), the same through the Python grpcio peer
# (bench/grpc_peer.py, what a KServe-style Python model server gives),
# and the REST 4-element infer with wrk -c32; then a 64 MB FP32 tensor
# (16M elements) through ModelInfer and through the REST binary infer,
# one at a time, taking turns, with each one's peak memory on a fresh
# server (VmHWM less the idle RSS). Part of `make bench`.
# Usage: bench/grpc.sh BUILD_DIR [SECONDS] [ROUNDS]
set -euo pipefail
build=${1:-build}
secs=${2:-3}
rounds=${3:-3}
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3 # Debian's, with python3-grpcio

# The bodies: gRPC-framed ModelInferRequests, and the REST binary infer.
$py - "$tmp" <<'PY'
import json, struct, sys
from array import array
tmp = sys.argv[1]

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)

def field(num, payload):  # a length-delimited field
    return varint(num << 3 | 2) + varint(len(payload)) + payload

def infer(n, data):  # ModelInferRequest, x FP32 [n], raw_input_contents
    x = field(1, b"x") + field(2, b"FP32") + field(3, varint(n))
    msg = field(1, b"leaky_relu") + field(5, x) + field(7, data)
    return b"\0" + struct.pack(">I", len(msg)) + msg

small = struct.pack("<4f", 1.5, -2.0, 3.25, -0.5)
open(tmp + "/small.grpc", "wb").write(infer(4, small))
json.dump({"inputs": [{"name": "x", "shape": [4], "datatype": "FP32",
                       "data": [1.5, -2.0, 3.25, -0.5]}]}, open(tmp + "/small.json", "w"))
n = 16_000_000
big = array("f", ((i % 999983) * 0.37 - 1.8e5 for i in range(n))).tobytes()
open(tmp + "/big.grpc", "wb").write(infer(n, big))
head = json.dumps({"inputs": [{"name": "x", "shape": [n], "datatype": "FP32",
                               "parameters": {"binary_data_size": len(big)}}],
                   "parameters": {"binary_data_output": True}}).encode()
open(tmp + "/big.rest", "wb").write(head + big)
open(tmp + "/big.len", "w").write(str(len(head)))
PY

grpc_port() { sed -n 's/.*grpc:\/\/[^ ]*:\([0-9]*\).*/\1/p' "$1"; }
infer_path=/inference.GRPCInferenceService/ModelInfer
h2() { # h2load's requests/s: PORT BODY N ARGS...
    local port=$1 body=$2 n=$3
    shift 3
    h2load -n "$n" -t1 "$@" -d "$body" -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$port$infer_path" | awk '/finished in/ {print $4}
        /succeeded/ && ($10 != "0" || $12 != "0") {print "errors: " $0 > "/dev/stderr"; exit 1}'
}

# Ours: one server, the gRPC port found in its first line.
start_grpc() {
    exec {gfd}< <(exec "$build/leakyrelu-server" --port 0 --grpc-port 0 --threads 2 \
                       --max-body 80M --log off 2> /dev/null)
    pid=$!
    pids+=("$pid")
    read -r line <&"$gfd"
    port=$(echo "$line" | sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\).*/\1/p')
    gport=$(echo "$line" | sed -n 's/.*grpc:\/\/[^ ]*:\([0-9]*\).*/\1/p')
}
start_grpc
$py bench/grpc_peer.py --port 0 > "$tmp/peer.out" 2> /dev/null &
peer=$!
pids+=("$peer")
for _ in $(seq 50); do grep -q listening "$tmp/peer.out" && break; sleep 0.1; done
pport=$(awk '/listening on/ {print $3}' "$tmp/peer.out")

declare -A all
for round in $(seq 1 "$rounds"); do
    all[g1]+="$(h2 "$gport" "$tmp/small.grpc" 200000 -c1 -m32) "
    all[g4]+="$(h2 "$gport" "$tmp/small.grpc" 200000 -c4 -m8) "
    all[py]+="$(h2 "$pport" "$tmp/small.grpc" 10000 -c1 -m32) "
    all[rest]+="$(BODY="$tmp/small.json" CTYPE=application/json HEADER= wrk -t1 -c32 \
        -d"${secs}s" -s bench/post.lua "http://127.0.0.1:$port/v2/models/leaky_relu/infer" |
        awk '/Requests\/sec/ {print $2}') "
done
kill "$peer"
med() { echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {
    f = a[NR] < 100 ? "%.1f (%.1f to %.1f)" : "%.0f (%.0f to %.0f)"
    printf f, a[int((NR + 1) / 2)], a[1], a[NR]}'; }
echo
echo "Small ModelInfer (4 FP32 elements), requests/s, median (range) of $rounds rounds:"
printf '  %-58s %s\n' "ours, gRPC, h2load 1 connection x 32 streams" "$(med "${all[g1]}")"
printf '  %-58s %s\n' "ours, gRPC, h2load 4 connections x 8 streams" "$(med "${all[g4]}")"
printf '  %-58s %s\n' "Python grpcio peer (bench/grpc_peer.py), 1 x 32 streams" "$(med "${all[py]}")"
printf '  %-58s %s\n' "ours, REST /v2 infer JSON, wrk -c32" "$(med "${all[rest]}")"
awk -v a="$(med "${all[g1]}" | cut -d' ' -f1)" -v b="$(med "${all[py]}" | cut -d' ' -f1)" \
    'BEGIN {printf "  ours / peer: %.1fx\n", a / b}'

# 64 MB: taking turns, one request at a time.
hl="Inference-Header-Content-Length: $(cat "$tmp/big.len")"
for round in $(seq 1 "$rounds"); do
    t=$(h2 "$gport" "$tmp/big.grpc" 4 -c1 -m1)
    all[bg]+="$t "
    t=$({ for _ in 1 2 3 4; do
        curl -sf -o /dev/null -w '%{time_total}\n' -H "$hl" \
            -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/big.rest" \
            "http://127.0.0.1:$port/v2/models/leaky_relu/infer"; done; } |
        awk '{s += $1} END {print NR / s}')
    all[br]+="$t "
done
kill "$pid"
echo
echo "64 MB FP32 tensor (16M elements), one at a time, requests/s, median (range):"
printf '  %-40s %s\n' "gRPC ModelInfer (h2load)" "$(med "${all[bg]}")"
printf '  %-40s %s\n' "REST binary infer (curl)" "$(med "${all[br]}")"
for mode in grpc rest; do
    start_grpc
    idle=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
    if [ $mode = grpc ]; then
        h2 "$gport" "$tmp/big.grpc" 1 -c1 > /dev/null
    else
        curl -sf -o /dev/null -H "$hl" -H 'Content-Type: application/octet-stream' \
            --data-binary @"$tmp/big.rest" "http://127.0.0.1:$port/v2/models/leaky_relu/infer"
    fi
    hwm=$(awk '$1 == "VmHWM:" {print $2}' "/proc/$pid/status")
    kill "$pid"
    awk -v m=$mode -v h="$hwm" -v i="$idle" 'BEGIN {
        printf "  %-4s peak extra memory %.1f MB: %.2fx the tensor\n", m, (h - i) * 1024 / 1e6,
               (h - i) * 1024 / 64e6 }'
done
