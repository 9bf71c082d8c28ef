#!/usr/bin/env bash
# Variants of one 1M-element POST /forward on one server, taking turns
# round by round on one connection (wrk -c1), so that all see the same
# machine: float64 (the baseline), float32 read from the same 17-digit
# text, and float32 from the shorter text a float32 client sends; then a
# 1000 x 1000 matrix with one slope and with one per channel (PReLU). Prints
# the best and median requests/s of each, and the median's nanoseconds
# per element and time beside the baseline's (for the PReLU row: beside
# the one-slope row). Part of `make bench`.
# Usage: bench/variants.sh BUILD_DIR [SECONDS] [ROUNDS]
set -euo pipefail
build=${1:-build}
secs=${2:-3}
rounds=${3:-5}
. "$(dirname "$0")/lib.sh"
"$build/bench_codec" --gen 1000000 "$tmp/f64.json"
"$build/bench_codec" --gen32 1000000 "$tmp/f32.json"
"$build/bench_codec" --gen 1000000 "$tmp/rows.json" 1000
# 1000 slopes, one per channel of the 1000 x 1000 matrix: runs of one
# element, PReLU's hardest layout (x of shape (N, C))
slopes=$(awk 'BEGIN {for (i = 0; i < 1000; i++) printf "%s%.3f", i ? "," : "", 0.001 * (i % 50 + 1)}')
start ours 2 "$build/leakyrelu-server"
# name|body|query
variants=(
    "float64 (17-digit text)|f64|slope=0.01"
    "float32 (the same text)|f64|slope=0.01&dtype=float32"
    "float32 (float32 text, <= 9 digits)|f32|slope=0.01&dtype=float32"
    "1000 x 1000, one slope|rows|slope=0.01"
    "1000 x 1000, 1000 slopes (PReLU)|rows|slope=$slopes"
)
declare -A all
for round in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do
        IFS='|' read -r name body query <<< "$v"
        out=$(BODY="$tmp/$body.json" wrk -t1 -c1 -d"${secs}s" --timeout 60s -s bench/post.lua \
              "http://127.0.0.1:$port/forward?$query" 2>&1)
        if echo "$out" | grep -q "Non-2xx"; then echo "$name: errors: $out" >&2; exit 1; fi
        all[$name]+="$(echo "$out" | awk '/Requests\/sec/ {print $2}') "
    done
done
echo
echo "1M-element /forward variants, one connection, $rounds rounds of ${secs} s taking turns:"
printf "  %-38s %10s %10s %12s %10s\n" "" "best r/s" "median" "ns/element" "time"
base=""
for v in "${variants[@]}"; do
    IFS='|' read -r name body query <<< "$v"
    read -r best med <<< "$(echo "${all[$name]}" | tr ' ' '\n' | grep . | sort -g |
        awk '{a[NR] = $1} END {print a[NR], a[int((NR + 1) / 2)]}')"
    [ -n "$base" ] || base=$med
    [ "$name" != "1000 x 1000, one slope" ] || base=$med # PReLU beside it
    printf "  %-38s %10.2f %10.2f %12.1f %9.2fx\n" "$name" "$best" "$med" \
        "$(awk -v m="$med" 'BEGIN {print 1e9 / (m * 1e6)}')" \
        "$(awk -v m="$med" -v b="$base" 'BEGIN {print b / m}')"
done
