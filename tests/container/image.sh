#!/usr/bin/env bash
# The real Dockerfile, built and run as a user runs it: read-only root,
# all capabilities dropped; /readyz, /forward, gRPC and /metrics answered, the
# HEALTHCHECK turns healthy, the user is not root, SIGTERM stops it with
# exit 0. Prints TAP and the image size. Usage: tests/container/image.sh
set -u
cd "$(dirname "$0")/../.."
. tests/container/env.sh
ids=()
cleanup() {
    for id in "${ids[@]}"; do podman rm -f "$id" > /dev/null 2>&1; done
    ctr_release_storage
}
trap cleanup EXIT

ctr_base_image || { echo "Bail out! cannot make the base image"; exit 1; }
t0=$SECONDS
if ! podman build --format docker --network=host -t localhost/leakyrelu:test . \
        > "$CTR_DIR/build.log" 2>&1; then
    tail -20 "$CTR_DIR/build.log" | sed 's/^/#   /'
    echo "Bail out! podman build failed"
    exit 1
fi
podman image prune -f > /dev/null 2>&1 # the build stage
size=$(podman image inspect --format '{{.Size}}' localhost/leakyrelu:test)
echo "# image built in $((SECONDS - t0)) s: $((size / 1000000)) MB"
ok "the image is small (under 150 MB on a plain debootstrap base)" "$((size < 150000000))" "1"
apt_cache=$(podman run --rm --entrypoint /bin/sh localhost/leakyrelu:test -c \
    'ls /var/cache/apt/*.bin /var/lib/apt/lists 2>/dev/null | grep -c "\.bin$\|_Packages"')
ok "apt's caches and lists are not in the image" "$apt_cache" "0"

port=$(ctr_free_port)
gport=$(ctr_free_port)
id=$(podman run -d --read-only --cap-drop=ALL --security-opt=no-new-privileges \
    --network=host -e LEAKYRELU_PORT="$port" -e LEAKYRELU_GRPC_PORT="$gport" \
    localhost/leakyrelu:test 2> "$CTR_DIR/run.err")
[ -n "$id" ] || { cat "$CTR_DIR/run.err"; echo "Bail out! podman run failed"; exit 1; }
ids+=("$id")
base=http://127.0.0.1:$port
ctr_wait 20 curl -fsS "$base/readyz"
ok "/readyz answers" "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" "200"
ok "/forward computes" "$(curl -s -d '{"x": [1, -2]}' "$base/forward")" '{"y": [1.0, -0.02]}'
ok "gRPC: the health check and ModelInfer answer" \
   "$(tests/container/grpc_call.py "127.0.0.1:$gport" 2>&1)" "SERVING [1.0, -0.02]"
ok "/metrics counts it" \
   "$(curl -s "$base/metrics" | grep -c '^leakyrelu_requests_total{route="forward",code="200"} 1$')" "1"
ok "health is 'starting' before the first check" \
   "$(podman inspect --format '{{.State.Health.Status}}' "$id")" "starting"
# No systemd here, so no timer runs the HEALTHCHECK: run it as the timer would.
podman healthcheck run "$id" > /dev/null 2>&1 # prints nothing when healthy
ok "the HEALTHCHECK turns healthy" "$(podman inspect --format '{{.State.Health.Status}}' "$id")" "healthy"
ok "the server runs as uid 10001, not root" "$(podman exec "$id" id -u)" "10001"
ok "no capabilities" "$(podman exec "$id" grep '^CapEff' /proc/1/status | tr -d '\t')" "CapEff:0000000000000000"
ok "the root filesystem is read-only" \
   "$(podman exec "$id" sh -c 'touch /x 2>/dev/null; echo $?')" "1"
podman stop -t 10 "$id" > /dev/null 2>&1
ok "SIGTERM: exit status 0" "$(podman inspect --format '{{.State.ExitCode}}' "$id")" "0"
logs=$(podman logs "$id" 2>&1)
ok "it drained and said so" "$(echo "$logs" | grep -c 'SIGTERM received\|leakyrelu: stopped')" "2"
ok "the access log is JSON lines on stderr" \
   "$(echo "$logs" | grep -c '^{"ts": ".*"path": "/forward", "status": 200')" "1"
echo "1..$n"
[ "$failed" -eq 0 ]
