#!/usr/bin/env bash
# The gRPC examples (examples/grpc_client.py, examples/grpc_client.mjs) run
# against the real server started with --grpc-port 0: each one's output must
# be exactly what is below. Then, the server stopped, each must say in one
# line that it cannot reach the service, and exit nonzero. TAP output.
# Needs tests/grpc_node/node_modules (npm ci --prefix tests/grpc_node) for
# the Node.js one, and Debian's python3-grpcio, python3-protobuf, protoc and
# grpc_python_plugin for the Python one.
# Usage: tests/grpc_examples.sh SERVER_BINARY
set -euo pipefail
server=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
exec {fd}< <(exec "$server" --port 0 --grpc-port 0 --log off)
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
read -r line <&"$fd"
target=$(echo "$line" | sed -n 's/.* and grpc:\/\/\([^ ]*\).*/\1/p')
if [ -z "$target" ]; then
    echo "not ok 1 - the server says where gRPC listens"
    echo "#   $line"
    echo "1..1"
    exit 1
fi

# What each prints: the same numbers, in each language's way.
cat > "$tmp/grpc_client.py.want" <<'EOF'
ModelInfer example: y = [-0.25, 0.5, 2.0] (FP32, shape [3])
ModelStreamInfer first: y = [-2.0, 4.0] (FP64, shape [2])
ModelStreamInfer second: grad = [0.75, 3.0] (FP64, shape [2])
EOF
cat > "$tmp/grpc_client.mjs.want" <<'EOF'
ModelInfer example: y = [-0.25,0.5,2] (FP32, shape [3])
ModelStreamInfer first: y = [-2,4] (FP64, shape [2])
ModelStreamInfer second: grad = [0.75,3] (FP64, shape [2])
EOF

run() { # example $1 against $target
    case $1 in
        *.py) python3 "$root/examples/$1" "$target" ;;
        *.mjs) node "$root/examples/$1" "$target" ;;
    esac
}

n=0 failed=0
for ex in grpc_client.py grpc_client.mjs; do
    n=$((n + 1))
    if run "$ex" > "$tmp/out" 2>&1 && diff -u "$tmp/$ex.want" "$tmp/out" > "$tmp/diff"; then
        echo "ok $n - examples/$ex against grpc://$target"
    else
        failed=$((failed + 1))
        echo "not ok $n - examples/$ex against grpc://$target"
        sed 's/^/#   /' "$tmp/out" "$tmp/diff" 2>/dev/null | head -40
    fi
done

kill "$pid"
wait "$pid" || true
want="cannot reach the gRPC service at $target: is it running? start it with \`make run\`"
for ex in grpc_client.py grpc_client.mjs; do
    n=$((n + 1))
    status=0
    run "$ex" > "$tmp/out" 2>&1 || status=$?
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
