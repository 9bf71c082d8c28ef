#!/usr/bin/env bash
# A/B of two builds in one run, the two alternating so that both see the
# same machine: codec decode/encode MB/s (bench_codec), POST /forward
# requests/s with 4 and 1,000,000 elements (wrk), and one 1M-element
# request at a time (bench_one_request, the two servers taking turns).
# Usage: bench/ab.sh DIR_A DIR_B [ROUNDS]   (each DIR holds leakyrelu-server
# and bench_codec, e.g. a copy of build/ from another commit; the clients
# come from build/). Prints one line per measurement and round.
set -euo pipefail
a=$1 b=$2 rounds=${3:-3}
. "$(dirname "$0")/lib.sh"

for n in 4 1000000; do build/bench_codec --gen "$n" "$tmp/body$n.json"; done

echo "codec MB/s (ours): decode 17-digit, short, integers; encode 17-digit, short, integers, gradient"
# Odd rounds run A first, even rounds B first, so neither is always second.
order() { if [ $(($1 % 2)) = 1 ]; then echo "$a $b"; else echo "$b $a"; fi; }
for r in $(seq "$rounds"); do
    for d in $(order "$r"); do
        printf '%-6s round %d: ' "$([ "$d" = "$a" ] && echo A || echo B)" "$r"
        "$d/bench_codec" | awk '/^(17-digit|short|integers|gradient)/ {printf " %s", $(NF-4)} END {print ""}'
    done
done

start A 2 "$a/leakyrelu-server"
port_a=$port pid_a=$pid
start B 2 "$b/leakyrelu-server"
port_b=$port pid_b=$pid
wrk_rps() { # PORT N CONNS SECONDS
    BODY="$tmp/body$2.json" wrk -t1 -c"$3" -d"$4s" --timeout 60s -s bench/post.lua \
        "http://127.0.0.1:$1/forward?slope=0.01" 2>&1 | awk '/Requests\/sec/ {print $2}'
}
for n in 4 1000000; do
    conns=32 secs=3
    [ "$n" = 4 ] || { conns=1; secs=10; }
    echo "POST /forward, $n elements, req/s (wrk, $conns connections, ${secs} s, --threads 2)"
    for r in $(seq "$rounds"); do
        if [ $((r % 2)) = 1 ]; then
            ra=$(wrk_rps "$port_a" "$n" "$conns" "$secs") rb=$(wrk_rps "$port_b" "$n" "$conns" "$secs")
        else
            rb=$(wrk_rps "$port_b" "$n" "$conns" "$secs") ra=$(wrk_rps "$port_a" "$n" "$conns" "$secs")
        fi
        echo "  round $r: A $ra  B $rb"
    done
done
echo "one 1M-element /forward at a time, A and B (--threads 2) taking turns of 4:"
echo "  (back-to-back median s, CPU/wall, n; first of a turn median s, CPU/wall, n)"
build/bench_one_request "$tmp/body1000000.json" 20 "$port_a" "$pid_a" "$port_b" "$pid_b" |
    awk 'NR == 1 {print "  A: " $0} NR == 2 {print "  B: " $0}'
