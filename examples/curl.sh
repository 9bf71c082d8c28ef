#!/bin/sh
# leakyrelu from the shell with curl: JSON, float32, PReLU, binary bodies,
# compression, and the Open Inference Protocol.
# Usage: sh examples/curl.sh [http://127.0.0.1:8080]
set -eu
base=${1:-http://127.0.0.1:8080}
if ! curl -s -o /dev/null "$base/healthz"; then
    echo "cannot reach the service at $base: is it running? start it with \`make run\`" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each reply is kept in a variable first, so that a failed request (curl -f:
# an HTTP error too) stops the script (set -e) instead of printing nothing.
r=$(curl -sf -d '{"x": [[1, -2], [3, -4]], "slope": 0.1}' "$base/forward")
echo "forward: $r"
r=$(curl -sf -d '[0.1, -0.1]' "$base/forward?dtype=float32")
echo "float32: $r"
r=$(curl -sf -d '{"x": [[1, -2], [-3, 4]], "slope": [0.25, 0.5]}' "$base/gradient")
echo "prelu: $r"

# binary: eight little-endian bytes per float64 (printf writes them here)
printf '\000\000\000\000\000\000\360\077\000\000\000\000\000\000\000\300' > "$tmp/x.bin" # 1, -2
curl -sf -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/x.bin" \
     -D "$tmp/head" -o "$tmp/y.bin" "$base/forward?slope=0.5"
echo "binary:$(od -An -tf8 "$tmp/y.bin" | tr -s ' ') ($(grep -i '^tensor-shape' "$tmp/head" | tr -d '\r'))"

# a gzip body
r=$(printf '[1, -2]' | gzip | curl -sf -H 'Content-Encoding: gzip' --data-binary @- "$base/forward")
echo "gzip: $r"

# the Open Inference Protocol
r=$(curl -sf -d '{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [-1, 1]}]}' \
    "$base/v2/models/leaky_relu/infer")
echo "infer: $r"
r=$(curl -sf "$base/v2/models/leaky_relu/ready")
echo "ready: $r"
