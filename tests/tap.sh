# Sourced by the shell tests: TAP's `ok` and a plan counted from the tests
# run, and the real server started on a free port, its stderr in a file
# beside the binary (test-logs/<script>.log), shown when a test failed.
n=0
failed=0
ok() { # ok NAME GOT WANT
    n=$((n + 1))
    if [ "$2" == "$3" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        echo "#   want: $3"
        echo "#   got:  $2"
        failed=$((failed + 1))
    fi
}

# What a sanitizer writes when it finds a fault.
reports='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|WARNING: ThreadSanitizer'

# start_server SERVER [ARG]...: starts it with "--port 0 --threads 2" and
# the args, waits (60 s at most) for the address it prints; sets $pid,
# $base and $server_log.
start_server() {
    local server=$1 line=
    shift
    server_log=$(dirname "$server")/test-logs/$(basename "$0" .sh).log
    mkdir -p "$(dirname "$server_log")"
    exec 3< <(exec "$server" --port 0 --threads 2 "$@" 2> "$server_log")
    pid=$!
    read -r -t 60 line <&3
    base=$(echo "$line" | grep -o 'http://[^ ]*')
    [ -n "$base" ] || { echo "Bail out! server did not start: $line"; kill -KILL "$pid"; exit 1; }
}

# stop_server: SIGTERM, then its exit status in $status, once its stdout
# has ended (SIGKILL when nothing came from it for 60 s).
stop_server() {
    kill -TERM "$pid"
    while :; do
        read -r -t 60 -u 3 _ && continue
        [ $? -gt 128 ] && kill -KILL "$pid"
        break
    done
    wait "$pid"
    status=$?
    pid=
}

# done_testing: a last test, that the server's stderr holds no sanitizer
# report; that stderr when any test failed; the plan; the exit status.
done_testing() {
    if [ -n "${server_log:-}" ]; then
        ok "the server's stderr has no sanitizer report" \
           "$(grep -m1 -E "$reports" "$server_log")" ""
        if [ "$failed" -gt 0 ] && [ -s "$server_log" ]; then
            echo "#   the server's stderr ($server_log), its last 30 lines:"
            tail -n 30 "$server_log" | sed 's/^/#   | /'
        fi
    fi
    echo "1..$n"
    exit $((failed > 0))
}
