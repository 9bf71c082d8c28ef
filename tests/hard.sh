#!/usr/bin/env bash
# make test-hard: the long suites of issue 11, each bounded in time, all
# on 127.0.0.1. The TAP suite at full size (LEAKYRELU_HARD=1: 24 x 1M
# elements against --max-memory 160M, SIGTERM with 16 clients and a
# 10M-element reply in flight), the slowloris goal, three 30 s load runs,
# the vanishing clients under valgrind, and examples/plot.py's figure
# when matplotlib is present. Usage: tests/hard.sh BUILD
set -uo pipefail
build=${1:-build}
fail=0
step() { echo "== $1"; shift; timeout 900 "$@" || { echo "== FAILED: $*"; fail=1; }; }

step "TAP suite at full size" env LEAKYRELU_HARD=1 "./$build/leakyrelu-test"

# Slow clients: 2,000 trickling heads and 1,000 idle connections.
. "$(dirname "$0")/../bench/lib.sh"
start slowloris 2 "./$build/leakyrelu-server"
step "slowloris (2,000 trickling + 1,000 idle; a new client's median under 100 ms)" \
    python3 bench/slowloris.py "$port" "$pid"
kill "$pid"

step "load: 3 runs of 30 s, 256 connections" ./bench/load.sh 30 256 3

step "vanishing clients under valgrind" env LEAKYRELU_SERVER="./$build/leakyrelu-server" \
    LEAKYRELU_WRAPPER="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
    "./$build/leakyrelu-test" http_vanishing_clients http_memory_budget

# examples/plot.py's figure, when some python3 here has matplotlib.
py=""
for p in python3 /usr/bin/python3; do
    "$p" -c 'import matplotlib' 2> /dev/null && { py=$p; break; }
done
if [ -n "$py" ]; then
    start plot 2 "./$build/leakyrelu-server"
    png="$build/leaky_relu.png"
    rm -f "$png"
    step "examples/plot.py (matplotlib) draws the service's curves" \
        "$py" examples/plot.py --url "http://127.0.0.1:$port" --slope 0.1,0.3 --out "$png"
    step "  and its PNG is a 1000 x 400 image" bash -c \
        "[ \"\$(head -c 8 '$png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ] &&
         [ \"\$(od -An -tu1 -j16 -N8 '$png' | tr -s ' ')\" = ' 0 0 3 232 0 0 1 144' ]"
    kill "$pid"
else
    echo "== examples/plot.py skipped: no python3 with matplotlib (apt-get install python3-matplotlib)"
fi

[ "$fail" = 0 ] && echo "test-hard: all passed" || { echo "test-hard: FAILED"; exit 1; }
