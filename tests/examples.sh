#!/usr/bin/env bash
# `make test`: each client in examples/ run against the real server (the
# gRPC ones against its gRPC port); its output must be exactly
# tests/data/examples/<name>.txt. Then, the server stopped, each one (plot.py
# too) must say in one line that it cannot reach the service, and exit
# nonzero. TAP output. The Node.js gRPC client needs
# tests/grpc_node/node_modules (npm ci --prefix tests/grpc_node).
# Usage: tests/examples.sh SERVER_BINARY
set -euo pipefail
server=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
exec {fd}< <(exec "$server" --port 0 --grpc-port 0 --log off)
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
read -r line <&"$fd"
base=$(echo "$line" | sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p')
target=$(echo "$line" | sed -n 's/.* and grpc:\/\/\([^ ]*\).*/\1/p')

# run EXAMPLE: the command that runs it against the server.
run_of() {
    case $1 in
        plot.py) run=(python3 "$root/examples/$1" --url "$base" --out "$tmp/plot.png") ;;
        grpc_*.py) run=(python3 "$root/examples/$1" "$target") ;;
        grpc_*.mjs) run=(node "$root/examples/$1" "$target") ;;
        *.py) run=(python3 "$root/examples/$1" "$base") ;;
        *.mjs) run=(node "$root/examples/$1" "$base") ;;
        *.sh) run=(sh "$root/examples/$1" "$base") ;;
    esac
}

n=0 failed=0
for ex in client.py client.mjs curl.sh grpc_client.py grpc_client.mjs; do
    n=$((n + 1))
    run_of "$ex"
    if "${run[@]}" > "$tmp/out" 2>&1 && diff -u "$root/tests/data/examples/$ex.txt" "$tmp/out" > "$tmp/diff"; then
        echo "ok $n - examples/$ex"
    else
        failed=$((failed + 1))
        echo "not ok $n - examples/$ex"
        sed 's/^/#   /' "$tmp/out" "$tmp/diff" 2>/dev/null | head -40
    fi
done

# The ports the server listened on are free again once it has exited.
kill "$pid"
wait "$pid" || true
for ex in client.py client.mjs curl.sh plot.py grpc_client.py grpc_client.mjs; do
    n=$((n + 1))
    run_of "$ex"
    case $ex in
        grpc_*) want="cannot reach the gRPC service at $target: is it running? start it with \`make run\`" ;;
        *) want="cannot reach the service at $base: is it running? start it with \`make run\`" ;;
    esac
    status=0
    "${run[@]}" > "$tmp/out" 2>&1 || status=$?
    if [ "$status" != 0 ] && [ "$(cat "$tmp/out")" = "$want" ]; then
        echo "ok $n - examples/$ex with no server: one line, exit $status"
    else
        failed=$((failed + 1))
        echo "not ok $n - examples/$ex with no server: one line, exit nonzero"
        echo "#   exit $status; want: $want"
        sed 's/^/#   got:  /' "$tmp/out" | head -10
    fi
done
echo "1..$n"
[ "$failed" = 0 ]
