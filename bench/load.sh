#!/usr/bin/env bash
# Load (issue 11): mixes of /forward and /gradient with 4, 1,000 and
# 100,000 elements over many connections (wrk and bench/load.lua), every
# reply checked byte for byte; requests/s, p50/p99 latency and the
# server's RSS after each run (it must not grow run over run). Exits 1
# when a reply is wrong, a socket error occurs, or RSS (2 s after a run)
# grows by over 10% from the second run on.
# Usage: bench/load.sh [SECONDS 30] [CONNECTIONS 256] [RUNS 3]   (from the
# project root, after make; installs nothing)
set -euo pipefail
secs=${1:-30} conns=${2:-256} runs=${3:-3}
. "$(dirname "$0")/lib.sh"
ncases=$(python3 bench/load_data.py "$tmp")
start ours 2 build/leakyrelu-server
echo "load: $ncases cases (/forward and /gradient x 4, 1000, 100000 elements), $conns connections, $runs runs of $secs s, --threads 2"
fail=0 base_rss=
for r in $(seq "$runs"); do
    out=$(CASES=$tmp NCASES=$ncases wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s --latency \
          -s bench/load.lua "http://127.0.0.1:$port/" 2>&1 | grep -E '^(requests|checked)')
    sleep 2 # the requests wrk left behind are answered (or cut) first
    rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
    echo "run $r: $out" | tr '\n' ' '
    echo "; server RSS ${rss} kB"
    # Every reply right, no socket error; after the first run (which warms
    # glibc's arenas) RSS stays within 10% of the second run's.
    echo "$out" | grep -qE 'checked [1-9][0-9]* replies: 0 wrong, 0 not 200; socket errors: connect 0, read 0, write 0, timeout 0' || fail=1
    if [ "$r" -ge 2 ]; then
        base_rss=${base_rss:-$rss}
        [ "$rss" -le $((base_rss + base_rss / 10)) ] || { echo "RSS grew: $base_rss -> $rss kB"; fail=1; }
    fi
done
[ "$fail" = 0 ] || { echo "load: FAILED"; exit 1; }
echo "load: ok"
