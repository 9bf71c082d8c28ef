#!/bin/sh
# leakyrelu from the shell with curl: JSON, float32, PReLU, binary bodies,
# compression, and the Open Inference Protocol.
# Usage: sh examples/curl.sh [http://127.0.0.1:8080]
set -eu
base=${1:-http://127.0.0.1:8080}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "forward: $(curl -sf -d '{"x": [[1, -2], [3, -4]], "slope": 0.1}' "$base/forward")"
echo "float32: $(curl -sf -d '[0.1, -0.1]' "$base/forward?dtype=float32")"
echo "prelu: $(curl -sf -d '{"x": [[1, -2], [-3, 4]], "slope": [0.25, 0.5]}' "$base/gradient")"

# binary: eight little-endian bytes per float64 (printf writes them here)
printf '\000\000\000\000\000\000\360\077\000\000\000\000\000\000\000\300' > "$tmp/x.bin" # 1, -2
curl -sf -H 'Content-Type: application/octet-stream' --data-binary @"$tmp/x.bin" \
     -D "$tmp/head" -o "$tmp/y.bin" "$base/forward?slope=0.5"
echo "binary: $(od -An -tf8 "$tmp/y.bin" | tr -s ' ') ($(grep -i '^tensor-shape' "$tmp/head" | tr -d '\r'))"

# a gzip body, and a compressed reply
echo "gzip: $(printf '[1, -2]' | gzip | curl -sf -H 'Content-Encoding: gzip' --data-binary @- "$base/forward")"

# the Open Inference Protocol
echo "infer: $(curl -sf -d '{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [-1, 1]}]}' \
    "$base/v2/models/leaky_relu/infer")"
echo "ready: $(curl -sf "$base/v2/models/leaky_relu/ready")"
