#!/usr/bin/env bash
# docker/compose.yaml brought up with docker-compose over podman's socket:
# three replicas behind nginx. Traffic through the load balancer reaches
# every replica (each one's /metrics says how many it served), and
# stopping one replica under load fails no request. Prints TAP.
# Usage: tests/container/compose.sh
set -u
cd "$(dirname "$0")/../.."
. tests/container/env.sh
project=lrtest$$
sock=$CTR_DIR/podman.sock
svc_pid=
compose() { docker-compose -p "$project" -f docker/compose.yaml "$@"; }
cleanup() {
    compose down -t 5 > /dev/null 2>&1
    [ -n "$svc_pid" ] && kill "$svc_pid" 2> /dev/null && wait "$svc_pid" 2> /dev/null
    rm -f "$sock"
    ctr_release_storage
}
trap cleanup EXIT

ctr_base_image || { echo "Bail out! cannot make the base image"; exit 1; }
for img in "localhost/leakyrelu:latest ." "docker.io/library/nginx:1.27 tests/container/nginx"; do
    set -- $img
    podman build --format docker --network=host -t "$1" "$2" > "$CTR_DIR/build-compose.log" 2>&1 ||
        { tail -20 "$CTR_DIR/build-compose.log"; echo "Bail out! cannot build $1"; exit 1; }
done
podman image prune -f > /dev/null 2>&1

rm -f "$sock"
podman system service --time=0 "unix://$sock" > "$CTR_DIR/service.log" 2>&1 &
svc_pid=$!
ctr_wait 20 test -S "$sock" || { echo "Bail out! podman's socket did not appear"; exit 1; }
export DOCKER_HOST=unix://$sock
export LEAKYRELU_LB_PORT LEAKYRELU_LB_GRPC_PORT
LEAKYRELU_LB_PORT=$(ctr_free_port)
LEAKYRELU_LB_GRPC_PORT=$(ctr_free_port)
lb=http://127.0.0.1:$LEAKYRELU_LB_PORT

# `up` waits for the replicas' health before it starts nginx; without
# systemd no timer runs their HEALTHCHECK, so run it as the timer would.
compose up -d --no-build > "$CTR_DIR/up.log" 2>&1 &
up_pid=$!
end=$((SECONDS + 120))
while kill -0 "$up_pid" 2> /dev/null && [ $SECONDS -lt $end ]; do
    for c in $(podman ps -q --filter "label=com.docker.compose.project=$project" \
                   --filter health=starting); do
        podman healthcheck run "$c" > /dev/null 2>&1
    done
    sleep 0.5
done
wait "$up_pid"
ok "compose up: three healthy replicas, then the load balancer" "$?" "0"
replicas=$(podman ps -q --filter "label=com.docker.compose.project=$project" \
               --filter "label=com.docker.compose.service=leakyrelu" | sort)
ok "three replicas run" "$(echo "$replicas" | grep -c .)" "3"
ctr_wait 30 curl -fsS "$lb/readyz"
ok "the load balancer answers" "$(curl -s -d '{"x": [1, -2]}' "$lb/forward")" '{"y": [1.0, -0.02]}'
ok "and gRPC through it (nginx's grpc_pass)" \
   "$(tests/container/grpc_call.py "127.0.0.1:$LEAKYRELU_LB_GRPC_PORT" 2>&1)" "SERVING [1.0, -0.02]"

served() { # served CONTAINER: its forward requests answered 200, from its /metrics
    local ip
    ip=$(podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1")
    curl -s --max-time 5 "http://$ip:8080/metrics" |
        awk '/^leakyrelu_requests_total\{route="forward",code="200"\}/ {print $2; found=1}
             END {if (!found) print 0}'
}
summary=$(tests/container/load.py "$lb/forward" 4 4)
echo "# through the load balancer, 4 clients for 4 s: $summary"
all_served=1
for c in $replicas; do
    k=$(served "$c")
    echo "# replica $c served $k forward requests"
    [ "$k" -gt 0 ] || all_served=0
done
ok "every replica served requests" "$all_served" "1"

# Stop one replica 2 s into 8 s of load: nginx retries what it refuses.
victim=$(echo "$replicas" | head -1)
tests/container/load.py "$lb/forward" 8 4 > "$CTR_DIR/load.json" &
load_pid=$!
sleep 2
podman stop -t 10 "$victim" > /dev/null 2>&1
wait "$load_pid"
summary=$(cat "$CTR_DIR/load.json")
echo "# 4 clients for 8 s, one replica stopped at 2 s: $summary"
ok "the stopped replica exited 0" "$(podman inspect --format '{{.State.ExitCode}}' "$victim")" "0"
ok "no request failed while it stopped" \
   "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(v for k,v in d.items() if k!="200"))' "$CTR_DIR/load.json")" "0"
ok "requests went on through the others" \
   "$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1])).get("200",0) > 100))' "$CTR_DIR/load.json")" "1"
for c in $replicas; do
    [ "$c" = "$victim" ] && continue
    echo "# replica $c served $(served "$c") forward requests in all"
done
compose down -t 5 > /dev/null 2>&1
ok "compose down removes every container" \
   "$(podman ps -aq --filter "label=com.docker.compose.project=$project" | grep -c .)" "0"
echo "1..$n"
[ "$failed" -eq 0 ]
