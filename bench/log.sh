#!/usr/bin/env bash
# The access log's cost: small POST /forward requests (4 elements) on two
# servers, one with --log off and one with --log json into a pipe drained
# by cat, interleaved for ROUNDS rounds of SECONDS each; best and worst
# requests/s of each, and the log's cost at the best, in the median
# round and in each (the order alternates); and the CPU time per request
# (server, plus the log's reader), steadier than requests/s. Part of `make bench`.
# Usage: bench/log.sh BUILD_DIR [SECONDS] [ROUNDS]
set -euo pipefail
build=${1:-build}
secs=${2:-3}
rounds=${3:-5}
. "$(dirname "$0")/lib.sh"
"$build/bench_codec" --gen 4 "$tmp/body4.json" > /dev/null
start off 2 "$build/leakyrelu-server" --log off
port_off=$port
start_logging json 2 "$build/leakyrelu-server" --log json
port_json=$port pid_json=$pid
pid_off=${pids[0]}
reader=$(cat "$tmp/json.reader")
procs_off="$pid_off" procs_json="$pid_json $reader"
declare -A all cpu reqs
for round in $(seq 1 "$rounds"); do
    order="off json"
    [ $((round % 2)) = 0 ] && order="json off" # drift falls on both alike
    for mode in $order; do
        p=port_$mode
        procs=procs_$mode
        t0=$(cpu_ticks ${!procs}) r0=$(cpu_ticks $reader)
        out=$(BODY="$tmp/body4.json" wrk -t1 -c32 -d"${secs}s" -s bench/post.lua \
              "http://127.0.0.1:${!p}/forward" 2>&1)
        cpu[$mode]=$(( ${cpu[$mode]:-0} + $(cpu_ticks ${!procs}) - t0 ))
        [ "$mode" = json ] && cpu[reader]=$(( ${cpu[reader]:-0} + $(cpu_ticks $reader) - r0 ))
        reqs[$mode]=$(( ${reqs[$mode]:-0} + $(echo "$out" | awk '/requests in/ {print $1}') ))
        if echo "$out" | grep -q "Non-2xx\|Socket errors"; then echo "$mode: errors: $out" >&2; exit 1; fi
        all[$mode]+=" $(echo "$out" | awk '/Requests\/sec/ {print $2}')"
    done
done
dropped=$(curl -s "http://127.0.0.1:$port_json/metrics" |
          awk '/^leakyrelu_log_lines_dropped_total/ {print $2}')
echo
echo "access log cost, 4-element POST /forward, 32 connections, $rounds rounds of $secs s:"
awk -v off="${all[off]}" -v json="${all[json]}" -v d="$dropped" 'BEGIN {
    n = split(off, a, " "); split(json, b, " ")
    ma = mb = 0; la = lb = 1e18
    for (i = 1; i <= n; i++) {
        if (a[i] > ma) ma = a[i]; if (a[i] < la) la = a[i]
        if (b[i] > mb) mb = b[i]; if (b[i] < lb) lb = b[i]
        r[i] = 1 - b[i] / a[i]; cost = cost " " sprintf("%+.1f%%", 100 * r[i])
    }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    med = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
    printf "  --log off    %8.0f to %8.0f req/s\n", la, ma
    printf "  --log json   %8.0f to %8.0f req/s (%s lines dropped)\n", lb, mb, d
    printf "  cost: %.1f%% at the best, %.1f%% the median round; per round:%s\n",
           100 * (1 - mb / ma), 100 * med, cost
}'
# CPU per request, which the neighbours' load on a shared machine moves far
# less than requests/s: the server's, plus the log reader's for JSON.
hz=$(getconf CLK_TCK)
awk -v co="${cpu[off]}" -v cj="${cpu[json]}" -v cr="${cpu[reader]:-0}" -v ro="${reqs[off]}" -v rj="${reqs[json]}" -v hz="$hz" 'BEGIN {
    a = co / hz / ro * 1e6; b = cj / hz / rj * 1e6
    r = cr / hz / rj * 1e6
    printf "  CPU per request: %.2f us with the log off, %.2f us with JSON (%.2f of it in the log reader):" \
           " the log costs %.1f%% more CPU per request\n", a, b, r, 100 * (b / a - 1)
}'
