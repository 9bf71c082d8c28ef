#!/usr/bin/env bash
# /metrics checked by the real tools: promtool's linter on the exposition,
# and a real Prometheus server scraping the service on loopback, its data
# in a temporary folder, read back through Prometheus' HTTP query API.
# Usage: tests/prometheus.sh path/to/leakyrelu-server      (prints TAP)
set -u
server=${1:-build/leakyrelu-server}
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
prom_pid=
cleanup() {
    [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT


for tool in promtool prometheus python3 curl; do
    command -v "$tool" >/dev/null || { echo "Bail out! $tool is not installed"; exit 1; }
done

start_server "$server" --log off
hostport=${base#http://}

for i in $(seq 1 25); do
    curl -s -o /dev/null -d "[$i, -$i]" "$base/forward"
done
curl -s -o /dev/null "$base/nope"

curl -s "$base/metrics" > "$tmp/metrics.txt"
lint=$(promtool check metrics < "$tmp/metrics.txt" 2>&1; echo "rc=$?")
ok "promtool check metrics passes, with no lint findings" "$lint" "rc=0"

# A free port for Prometheus, from the kernel.
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: leakyrelu
    static_configs:
      - targets: ["$hostport"]
YML
ok "promtool check config passes" \
   "$(promtool check config "$tmp/prometheus.yml" >/dev/null 2>&1; echo $?)" "0"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn > "$tmp/prom.log" 2>&1 &
prom_pid=$!

# The value of an instant query, or "none".
query() {
    curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json,sys
try:
    r = json.load(sys.stdin)["data"]["result"]
    print(r[0]["value"][1] if r else "none")
except Exception:
    print("none")'
}

want='leakyrelu_requests_total{job="leakyrelu",route="forward",code="200"}'
got=none
for _ in $(seq 1 60); do # until the first scrapes are in: at most 30 s
    got=$(query "$want")
    [ "$got" = 25 ] && break
    sleep 0.5
done
ok "Prometheus scraped the service and reads back 25 forward requests" "$got" "25"
ok "the target is up" "$(query 'up{job="leakyrelu"}')" "1"
ok "the 404 is counted under route none" \
   "$(query 'leakyrelu_requests_total{route="none",code="404"}')" "1"
ok "the duration histogram counts them" \
   "$(query 'leakyrelu_request_duration_seconds_count{route="forward"}')" "25"
ok "build_info carries the version" \
   "$(query 'count(leakyrelu_build_info{version!=""})')" "1"
if [ "$failed" -ne 0 ]; then
    echo "# Prometheus log:"; sed 's/^/#   /' "$tmp/prom.log" | tail -20
fi
stop_server
ok "the server exits 0 after SIGTERM" "$status" 0
done_testing
