#!/usr/bin/env bash
# `make test`: each client in examples/ run against the real server; its
# output must be exactly tests/data/examples/<name>.txt. TAP output.
# Usage: tests/examples.sh SERVER_BINARY
set -euo pipefail
server=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
exec {fd}< <(exec "$server" --port 0 --log off)
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
read -r line <&"$fd"
base=$(echo "$line" | sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p')
n=0 failed=0
for ex in client.py client.mjs curl.sh; do
    n=$((n + 1))
    case $ex in
        *.py) run=(python3 "$root/examples/$ex" "$base") ;;
        *.mjs) run=(node "$root/examples/$ex" "$base") ;;
        *.sh) run=(sh "$root/examples/$ex" "$base") ;;
    esac
    if "${run[@]}" > "$tmp/out" 2>&1 && diff -u "$root/tests/data/examples/$ex.txt" "$tmp/out" > "$tmp/diff"; then
        echo "ok $n - examples/$ex"
    else
        failed=$((failed + 1))
        echo "not ok $n - examples/$ex"
        sed 's/^/#   /' "$tmp/out" "$tmp/diff" 2>/dev/null | head -40
    fi
done
echo "1..$n"
[ "$failed" = 0 ]
