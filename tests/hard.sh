#!/usr/bin/env bash
# make test-hard: the long suites of issue 11, each bounded in time, all
# on 127.0.0.1. The TAP suite at full size (LEAKYRELU_HARD=1: 24 x 1M
# elements against --max-memory 160M, SIGTERM with 16 clients and a
# 10M-element reply in flight), the slowloris goal, three 30 s load runs,
# and the vanishing clients under valgrind. Usage: tests/hard.sh BUILD
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

[ "$fail" = 0 ] && echo "test-hard: all passed" || { echo "test-hard: FAILED"; exit 1; }
