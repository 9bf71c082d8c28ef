#!/usr/bin/env bash
# Load (issue 11): mixes of /forward and /gradient with 4, 1,000 and
# 100,000 elements over many connections (wrk and bench/load.lua), every
# reply checked byte for byte; requests/s, p50/p99 latency and the
# server's RSS after each run (it must not grow run over run).
# Usage: bench/load.sh [SECONDS 30] [CONNECTIONS 256] [RUNS 3]   (from the
# project root, after make; installs nothing)
set -euo pipefail
secs=${1:-30} conns=${2:-256} runs=${3:-3}
. "$(dirname "$0")/lib.sh"
ncases=$(python3 bench/load_data.py "$tmp")
start ours 2 build/leakyrelu-server
echo "load: $ncases cases (/forward and /gradient x 4, 1000, 100000 elements), $conns connections, $runs runs of $secs s, --threads 2"
for r in $(seq "$runs"); do
    out=$(CASES=$tmp NCASES=$ncases wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s --latency \
          -s bench/load.lua "http://127.0.0.1:$port/" 2>&1 | grep -E '^(requests|checked)')
    rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")
    echo "run $r: $out" | tr '\n' ' '
    echo "; server RSS ${rss} kB"
done
