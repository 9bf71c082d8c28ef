#!/usr/bin/env bash
# The same million float64 numbers through each protocol, on one server,
# taking turns round by round on one connection (wrk -c1): /forward with
# JSON (the baseline), an Open Inference Protocol infer with the numbers
# as JSON data (the same streaming reader), /forward with a binary body,
# and an infer with binary data in and out. Prints the best and median
# requests/s and the time beside the baseline; then each variant's peak
# memory, one request on a fresh server (VmHWM less the idle RSS). Part
# of `make bench`.
# Usage: bench/protocols.sh BUILD_DIR [SECONDS] [ROUNDS]
set -euo pipefail
build=${1:-build}
secs=${2:-3}
rounds=${3:-5}
. "$(dirname "$0")/lib.sh"
n=1000000
"$build/bench_codec" --gen "$n" "$tmp/f64.json"
{ printf '{"inputs": [{"name": "x", "shape": [%d], "datatype": "FP64", "data": ' "$n"
  cat "$tmp/f64.json"; printf '}], "parameters": {"negative_slope": 0.01}}'; } > "$tmp/oip.json"
python3 - "$tmp" "$n" <<'PY'
import json, struct, sys, random
tmp, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
data = struct.pack("<%dd" % n, *(random.uniform(-1e3, 1e3) for _ in range(n)))
open(tmp + "/f64.bin", "wb").write(data)
head = json.dumps({"inputs": [{"name": "x", "shape": [n], "datatype": "FP64",
                               "parameters": {"binary_data_size": len(data)}}],
                   "parameters": {"negative_slope": 0.01, "binary_data_output": True}}).encode()
open(tmp + "/oip.bin", "wb").write(head + data)
open(tmp + "/oip.len", "w").write(str(len(head)))
PY
hl="Inference-Header-Content-Length: $(cat "$tmp/oip.len")"
# name|body|path|content type|header
variants=(
    "/forward, JSON|f64.json|/forward?slope=0.01|application/json|"
    "/v2 infer, JSON data|oip.json|/v2/models/leaky_relu/infer|application/json|"
    "/forward, binary|f64.bin|/forward?slope=0.01|application/octet-stream|"
    "/v2 infer, binary in and out|oip.bin|/v2/models/leaky_relu/infer|-|$hl"
)
start ours 2 "$build/leakyrelu-server"
declare -A all
for round in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do
        IFS='|' read -r name body path ctype header <<< "$v"
        out=$(BODY="$tmp/$body" CTYPE="$ctype" HEADER="$header" wrk -t1 -c1 -d"${secs}s" \
              --timeout 60s -s bench/post.lua "http://127.0.0.1:$port$path" 2>&1)
        if echo "$out" | grep -q "Non-2xx"; then echo "$name: errors: $out" >&2; exit 1; fi
        all[$name]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    done
done
kill "$pid"
echo
echo "1M float64 through each protocol, one connection, $rounds rounds of ${secs} s taking turns:"
printf "  %-32s %10s %10s %10s %16s\n" "" "best r/s" "median" "time" "peak memory"
base=""
for v in "${variants[@]}"; do
    IFS='|' read -r name body path ctype header <<< "$v"
    read -r best med <<< "$(echo "${all[$name]}" | tr ' ' '\n' | grep . | sort -g |
        awk '{a[NR] = $1} END {print a[NR], a[int((NR + 1) / 2)]}')"
    [ -n "$base" ] || base=$med
    start fresh 2 "$build/leakyrelu-server"
    idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    args=(-sf -o /dev/null --data-binary @"$tmp/$body")
    [ "$ctype" = - ] || args+=(-H "Content-Type: $ctype")
    [ -z "$header" ] || args+=(-H "$header")
    curl "${args[@]}" "http://127.0.0.1:$port$path"
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"
    printf "  %-32s %10.2f %10.2f %9.2fx %10.1f MB (body %.1f MB)\n" "$name" "$best" "$med" \
        "$(awk -v m="$med" -v b="$base" 'BEGIN {print b / m}')" \
        "$(awk -v h="$hwm" -v i="$idle" 'BEGIN {print (h - i) / 1024}')" \
        "$(awk -v s="$(stat -c %s "$tmp/$body")" 'BEGIN {print s / 1e6}')"
done
