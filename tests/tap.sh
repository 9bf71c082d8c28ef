# Sourced by the shell tests: TAP's `ok`, and the real server started on
# a free port.
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

# start_server SERVER [ARG]...: starts it with "--port 0 --threads 2" and
# the args, waits for the address it prints; sets $pid and $base.
start_server() {
    local server=$1 line
    shift
    exec 3< <(exec "$server" --port 0 --threads 2 "$@")
    pid=$!
    read -r line <&3
    base=$(echo "$line" | grep -o 'http://[^ ]*')
    [ -n "$base" ] || { echo "Bail out! server did not start: $line"; exit 1; }
}
