#!/usr/bin/env bash
# `make bench`: codec and kernel tables (bench_codec), then end-to-end
# throughput of POST /forward with 4, 1,000 and 1,000,000 elements on our
# server and two baselines built from bench/ (the obvious jansson server and
# a bare "ok" server), all measured in this one run on this machine.
# Usage: bench/run.sh BUILD_DIR [SECONDS_SMALL] [SECONDS_LARGE]
set -euo pipefail
build=${1:-build}
secs_small=${2:-5}
secs_large=${3:-10}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

echo "leakyrelu benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$build/bench_codec"

sizes=(4 1000 1000000)
for n in "${sizes[@]}"; do "$build/bench_codec" --gen "$n" "$tmp/body$n.json"; done

# start NAME CMD...: starts a server on a free port, sets $port and $pid.
start() {
    local name=$1; shift
    exec {fd}< <(exec "$@" --port 0 --threads 2)
    pid=$!
    pids+=("$pid")
    local line
    read -r line <&"$fd"
    port=$(echo "$line" | sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\).*/\1/p')
    [ -n "$port" ] || { echo "$name did not start: $line" >&2; exit 1; }
}

kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

declare -A rps mbps peak
for server in ours jansson ok; do
    case $server in
        ours) start ours "$build/leakyrelu-server" ;;
        jansson) start jansson "$build/bench_jansson_server" ;;
        ok) start ok "$build/bench_ok_server" ;;
    esac
    base=$(kb "$pid" VmRSS)
    for n in "${sizes[@]}"; do
        body="$tmp/body$n.json"
        bytes=$(stat -c %s "$body")
        if [ "$n" -ge 1000000 ]; then conns=1; secs=$secs_large; else conns=32; secs=$secs_small; fi
        echo 5 > "/proc/$pid/clear_refs" 2>/dev/null || true  # reset the peak RSS
        out=$(BODY="$body" wrk -t1 -c"$conns" -d"${secs}s" --timeout 60s -s bench/post.lua \
              "http://127.0.0.1:$port/forward?slope=0.01" 2>&1)
        if echo "$out" | grep -q "Non-2xx"; then echo "$server $n: errors: $out" >&2; exit 1; fi
        r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        rps[$server,$n]=$r
        mbps[$server,$n]=$(awk -v r="$r" -v b="$bytes" 'BEGIN {printf "%.1f", r * b / 1e6}')
        peak[$server,$n]=$(awk -v h="$(kb "$pid" VmHWM)" -v b="$base" -v s="$bytes" \
                           'BEGIN {printf "%.1f MB (%.1fx body)", (h - b) / 1024, (h - b) * 1024 / s}')
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
done

echo
printf "%-24s %14s %14s %14s %10s %10s\n" "POST /forward, req/s" "ours" "jansson" "bare ok" "vs jansson" "vs ok"
for n in "${sizes[@]}"; do
    printf "%-24s %14s %14s %14s %9.1fx %9.2fx\n" "$n elements" "${rps[ours,$n]}" "${rps[jansson,$n]}" \
        "${rps[ok,$n]}" "$(awk -v a="${rps[ours,$n]}" -v b="${rps[jansson,$n]}" 'BEGIN {print a / b}')" \
        "$(awk -v a="${rps[ours,$n]}" -v b="${rps[ok,$n]}" 'BEGIN {print a / b}')"
done
echo
printf "%-24s %14s %14s\n" "request MB/s" "ours" "jansson"
for n in "${sizes[@]}"; do
    printf "%-24s %14s %14s\n" "$n elements" "${mbps[ours,$n]}" "${mbps[jansson,$n]}"
done
echo
printf "%-24s %28s %28s\n" "peak extra RSS" "ours" "jansson"
for n in "${sizes[@]}"; do
    printf "%-24s %28s %28s\n" "$n elements" "${peak[ours,$n]}" "${peak[jansson,$n]}"
done
