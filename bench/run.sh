#!/usr/bin/env bash
# `make bench`: codec and kernel tables (bench_codec), then end-to-end
# throughput of POST /forward with 4, 1,000 and 1,000,000 elements on our
# server and three baselines built from bench/ (the obvious jansson server,
# a bare "ok" server and an echo of the body), all measured in this one run
# on this machine; then
# float32 and per-channel slopes beside float64 (bench/variants.sh) and
# the access log's cost (bench/log.sh).
# Usage: bench/run.sh BUILD_DIR [SECONDS_SMALL] [SECONDS_LARGE]
set -euo pipefail
build=${1:-build}
secs_small=${2:-3}
secs_large=${3:-10}
. "$(dirname "$0")/lib.sh"

echo "leakyrelu benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$build/bench_codec"
echo
"$build/bench_anchors"

sizes=(4 1000 1000000)
for n in "${sizes[@]}"; do "$build/bench_codec" --gen "$n" "$tmp/body$n.json"; done

kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

declare -A rps mbps peak pidof portof base
servers=(ours jansson ok echo)
for server in "${servers[@]}"; do
    case $server in
        ours) start ours 2 "$build/leakyrelu-server" ;;
        jansson) start jansson 2 "$build/bench_jansson_server" ;;
        ok) start ok 2 "$build/bench_ok_server" ;;
        echo) start echo 2 "$build/bench_echo_server" ;;
    esac
    pidof[$server]=$pid
    portof[$server]=$port
done

# run SERVER N CONNS SECONDS: one wrk run; keeps the best requests/s.
run() {
    local server=$1 n=$2 conns=$3 secs=$4 body="$tmp/body$2.json" out r
    out=$(BODY="$body" wrk -t1 -c"$conns" -d"${secs}s" --timeout 60s -s bench/post.lua \
          "http://127.0.0.1:${portof[$server]}/forward?slope=0.01" 2>&1)
    if echo "$out" | grep -q "Non-2xx"; then echo "$server $n: errors: $out" >&2; exit 1; fi
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    if [ -z "${rps[$server,$n]:-}" ] || awk -v a="$r" -v b="${rps[$server,$n]}" 'BEGIN {exit !(a > b)}'; then
        rps[$server,$n]=$r
    fi
}

# Small requests: servers interleaved, five rounds, best of each (the
# client shares the two cores, so single runs vary by +-15%).
for round in 1 2 3 4 5; do
    for n in 4 1000; do
        for server in "${servers[@]}"; do run "$server" "$n" 32 "$secs_small"; done
    done
done
# Large requests: one connection; the peak RSS over the run, from a reset
# just before it, less the RSS then (what the small requests left, such as
# connection buffers, is not the large requests' doing).
for server in "${servers[@]}"; do
    base[$server]=$(kb "${pidof[$server]}" VmRSS)
    echo 5 > "/proc/${pidof[$server]}/clear_refs" 2>/dev/null || true
    run "$server" 1000000 1 "$secs_large"
    peak[$server]=$(kb "${pidof[$server]}" VmHWM)
done
for server in "${servers[@]}"; do
    for n in "${sizes[@]}"; do
        bytes=$(stat -c %s "$tmp/body$n.json")
        mbps[$server,$n]=$(awk -v r="${rps[$server,$n]}" -v b="$bytes" 'BEGIN {printf "%.1f", r * b / 1e6}')
    done
    bytes=$(stat -c %s "$tmp/body1000000.json")
    peak[$server]=$(awk -v h="${peak[$server]}" -v b="${base[$server]}" -v s="$bytes" \
                    'BEGIN {printf "%.1f MB (%.2fx the body)", (h - b) / 1024, (h - b) * 1024 / s}')
done

echo
printf "%-24s %12s %12s %12s %12s %10s %8s %14s\n" "POST /forward, req/s" "ours" "jansson" "bare ok" \
    "echo" "vs jansson" "vs ok" "time / echo's"
for n in "${sizes[@]}"; do
    printf "%-24s %12s %12s %12s %12s %9.1fx %7.2fx %13.2fx\n" "$n elements" "${rps[ours,$n]}" \
        "${rps[jansson,$n]}" "${rps[ok,$n]}" "${rps[echo,$n]}" \
        "$(awk -v a="${rps[ours,$n]}" -v b="${rps[jansson,$n]}" 'BEGIN {print a / b}')" \
        "$(awk -v a="${rps[ours,$n]}" -v b="${rps[ok,$n]}" 'BEGIN {print a / b}')" \
        "$(awk -v a="${rps[ours,$n]}" -v b="${rps[echo,$n]}" 'BEGIN {print b / a}')"
done
echo
printf "%-24s %14s %14s\n" "request MB/s" "ours" "jansson"
for n in "${sizes[@]}"; do
    printf "%-24s %14s %14s\n" "$n elements" "${mbps[ours,$n]}" "${mbps[jansson,$n]}"
done
echo
bytes=$(stat -c %s "$tmp/body1000000.json")
echo "peak extra RSS over a 1M-element run (body $(awk -v b="$bytes" 'BEGIN {printf "%.1f MB", b / 1e6}')):"
for server in "${servers[@]}"; do printf "  %-10s %s\n" "$server" "${peak[$server]}"; done

# One large request at a time on our server, with 2 threads and with 1:
# both servers run, and bench_one_request sends them turns of 4 requests
# for secs_large seconds (a lean C client: it shares the 2 cores). Back to
# back: the 2nd to 4th request of a turn; the first follows the other
# server's turn. Then the same 1M numbers as a 1000 x 1000 matrix.
"$build/bench_codec" --gen 1000000 "$tmp/body1000x1000.json" 1000
start ours2 2 "$build/leakyrelu-server"
port2=$port pid2=$pid
start ours1 1 "$build/leakyrelu-server"
port1=$port pid1=$pid
for body in 1000000 1000x1000; do
    one=$("$build/bench_one_request" "$tmp/body$body.json" "$secs_large" \
          "$port2" "$pid2" "$port1" "$pid1")
    echo
    if [ "$body" = 1000000 ]; then what="1M-element /forward"; else what="1000 x 1000 /forward"; fi
    echo "one $what at a time (C client, one connection, the two servers taking turns of 4):"
    echo "$one" | awk 'NR <= 2 {
            printf "  --threads %d   back to back     %.3f s per request (median of %d), server CPU/wall %.2f\n",
                   NR == 1 ? 2 : 1, $1, $3, $2
            printf "                first of a turn  %.3f s per request (median of %d), server CPU/wall %.2f\n",
                   $4, $6, $5
            w[NR] = $1; f[NR] = $4 }
        NR == 3 { printf "  2 threads vs 1: %.2fx faster back to back, %.2fx for the first of a turn\n",
                  w[2] / w[1], f[2] / f[1]
                  printf "  the client used %.0f ms of CPU per request\n", $1 }'
done
kill "$pid2" "$pid1"
rm -f "$tmp/body1000x1000.json"

# Ten million elements (about 200 MB of text), --max-body raised: peak
# extra memory of one request.
"$build/bench_codec" --gen 10000000 "$tmp/body10m.json"
start ours10m 2 "$build/leakyrelu-server" --max-body 1G
base10m=$(kb "$pid" VmRSS)
echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true
t0=$(date +%s.%N)
curl -sf -o /dev/null -H 'Content-Type: application/json' \
     --data-binary @"$tmp/body10m.json" "http://127.0.0.1:$port/forward?slope=0.01"
t1=$(date +%s.%N)
hwm=$(kb "$pid" VmHWM)
bytes=$(stat -c %s "$tmp/body10m.json")
kill "$pid"
awk -v h="$hwm" -v b="$base10m" -v s="$bytes" -v a="$t0" -v e="$t1" 'BEGIN {
    printf "10M elements (body %.0f MB): peak extra RSS %.1f MB (%.2fx the body), %.2f s\n",
           s / 1e6, (h - b) / 1024, (h - b) * 1024 / s, e - a }'
rm -f "$tmp/body10m.json"

bench/variants.sh "$build" "$secs_small" 5
bench/protocols.sh "$build" "$secs_small" 5
bench/grpc.sh "$build" "$secs_small" 3

# A 64 MB binary body (8M float64) through HTTP on loopback, one at a
# time, beside memcpy of the same bytes.
echo
echo "binary body (application/octet-stream), one at a time; libmicrohttpd's reads are half"
echo "its --connection-memory: 16 KB by default, 128 KB with 256K:"
for mem in 32K 256K; do
    start binary 2 "$build/leakyrelu-server" --connection-memory "$mem"
    echo "  --connection-memory $mem:"
    "$build/bench_binary" "$secs_small" "$port" "$pid" | sed 's/^/    /'
    kill "$pid"
done

# GET /plot.svg: the default picture, and the largest (8 curves, 4096 x
# 4096), 4 connections.
echo
echo "GET /plot.svg (wrk, 4 connections, --threads 2), requests/s and bytes:"
start plot 2 "$build/leakyrelu-server"
for q in "" "slope=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8&width=4096&height=4096"; do
    r=$(wrk -t1 -c4 -d"${secs_small}s" "http://127.0.0.1:$port/plot.svg?$q" | awk '/Requests\/sec/ {print $2}')
    printf '  %-62s %10s r/s %7d bytes\n' "?${q:-(defaults: both panels, 960 x 400)}" "$r" \
        "$(curl -s "http://127.0.0.1:$port/plot.svg?$q" | wc -c)"
done
kill "$pid"
bench/log.sh "$build" "$secs_small" 5
