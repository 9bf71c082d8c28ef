#!/usr/bin/env bash
# The HTTP contract through the curl command line, as README users call it.
# Usage: tests/cli.sh path/to/leakyrelu-server      (prints TAP)
set -u
server=${1:-build/leakyrelu-server}
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

start_server "$server" --max-body 4K --log off

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

ok "forward, object form" "$(curl -s -d '{"x": [[1, -2], [3, -4]], "slope": 0.1}' "$base/forward")" \
   '{"y": [[1.0, -0.2], [3.0, -0.4]]}'
ok "forward, bare array with query slope" "$(curl -s -d '[1, -2, 3]' "$base/forward?slope=0.1")" \
   '[1.0, -0.2, 3.0]'
ok "forward, JSON content type" \
   "$(curl -s -H 'Content-Type: application/json' -d '[-0, 1e16]' "$base/forward")" '[-0.0, 1e+16]'
ok "gradient" "$(curl -s -d '{"x": [2, 0, -1], "slope": 0.2}' "$base/gradient")" \
   '{"grad": [1.0, 0.2, 0.2]}'
ok "backward" "$(curl -s -d '{"x": [2, -1], "grad_output": [5, 5]}' "$base/gradient")" \
   '{"grad": [5.0, 0.05]}'
echo '{"x": [0.1, -0.3]}' > "$tmp/req.json"
ok "body from a file" "$(curl -s --data-binary @"$tmp/req.json" "$base/forward")" \
   '{"y": [0.1, -0.003]}'
ok "README's example file" \
   "$(curl -s --data-binary @"$(dirname "$0")/../examples/request.json" "$base/forward")" \
   '{"y": [[1.5, -0.2], [0.0, -0.05]]}'
ok "float32, object form" \
   "$(curl -s -d '{"x": [0.1, -0.1, 16777217], "dtype": "float32"}' "$base/forward")" \
   '{"y": [0.1, -0.001, 16777216.0]}'
ok "float32, query" "$(curl -s -d '[0.3, -0.3]' "$base/gradient?dtype=float32&slope=0.2")" \
   '[1.0, 0.2]'
ok "PReLU forward" "$(curl -s -d '{"x": [[-1, 2], [-3, 4]], "slope": [0.1, 0.2]}' "$base/forward")" \
   '{"y": [[-0.1, 2.0], [-0.30000000000000004, 4.0]]}'
ok "PReLU gradient, query list" \
   "$(curl -s -d '[[-1, -2], [3, -4]]' "$base/gradient?slope=0.25,0.1")" \
   '{"grad": [[0.25, 0.1], [1.0, 0.1]], "grad_slope": [-1.0, -6.0]}'
ok "422 slope count" "$(curl -s -d '{"x": [[-1, 2]], "slope": [0.1, 0.2, 0.3]}' "$base/forward")" \
   '{"error": "slope has 3 numbers, but x has 2 channels (the length of its axis 1): give 2 slopes, or 1 for all at slope", "code": "slope_count_mismatch", "path": "slope"}'
ok "healthz" "$(curl -s "$base/healthz")" '{"status": "ok"}'
ok "livez" "$(code "$base/livez")" 200
ok "readyz" "$(code "$base/readyz")" 200
ok "version" "$(curl -s "$base/version" | grep -c '"version"')" 1
ok "400 malformed JSON" "$(curl -s -d '[1, 2' "$base/forward")" \
   '{"error": "unexpected end of input; expected '"','"' or '"']'"' at byte 5", "code": "invalid_json", "offset": 5}'
ok "404 unknown path" "$(code "$base/backward")" 404
ok "405 with Allow" "$(curl -s -D - -o /dev/null "$base/forward" | tr -d '\r' | grep '^Allow:')" \
   'Allow: POST, OPTIONS'
ok "413 by Content-Length" "$(head -c 5000 /dev/zero | tr '\0' ' ' | code --data-binary @- "$base/forward")" 413
ok "413 chunked" "$(head -c 5000 /dev/zero | tr '\0' ' ' |
   code -H 'Transfer-Encoding: chunked' --data-binary @- "$base/forward")" 413
ok "415 other content type" "$(code -H 'Content-Type: text/csv' -d '1,2' "$base/forward")" 415
ok "text/plain is read as JSON" \
   "$(curl -s -H 'Content-Type: text/plain' -d '[2, -3]' "$base/forward")" '[2.0, -0.03]'
ok "a gzip body" "$(printf '[1, -2]' | gzip | curl -s -H 'Content-Encoding: gzip' --data-binary @- "$base/forward")" \
   '[1.0, -0.02]'
ok "415 Content-Encoding" "$(curl -s -H 'Content-Encoding: br' -d '[1]' "$base/forward")" \
   '{"error": "Content-Encoding \"br\" is not supported; send the body as gzip, deflate or unencoded", "code": "unsupported_content_encoding"}'
ok "400 Content-Length with Transfer-Encoding" \
   "$(curl -s -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' -d '[1]' "$base/forward")" \
   '{"error": "Content-Length and Transfer-Encoding together; send one", "code": "invalid_framing"}'
ok "422 names the element" "$(curl -s -d '[[1, 2], [3, "4"]]' "$base/forward")" \
   '{"error": "expected a number, got a string at x[1][1]", "code": "not_a_number", "path": "x[1][1]"}'
for flag in -h --help; do
    usage=$("$server" "$flag" 2>&1)
    ok "$flag: the usage, exit 0" "$? $(echo "$usage" | head -1)" "0 Usage: leakyrelu-server [OPTION]..."
done
port=${base##*:}
err=$("$server" --port "$port" 2>&1 >/dev/null)
ok "port in use: status 1" "$?" 1
ok "port in use: said once, with the reason" \
   "$(echo "$err" | wc -l) $(echo "$err" | grep -c '^leakyrelu-server: cannot listen on .* (.*in use)$')" "1 1"

stop_server
ok "SIGTERM exits 0" "$status" 0
ok "no connection after exit" "$(code "$base/healthz")" 000
done_testing
