# Shared by bench/run.sh and bench/ab.sh (sourced): a temporary folder
# and the servers started, both gone on exit; `start`.
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME THREADS CMD...: starts a server on a free port, sets $port and
# $pid; its stderr (the access log) goes to /dev/null.
start() { start_with_stderr /dev/null "$@"; }

# start_logging NAME THREADS CMD...: start, with the server's stderr on a
# pipe drained by cat to /dev/null, as a container runtime reads it; the
# reader's pid is in $tmp/NAME.reader.
start_logging() { start_with_stderr pipe "$@"; }

start_with_stderr() {
    local err=$1 name=$2 threads=$3 line
    shift 3
    if [ "$err" = pipe ]; then
        exec {fd}< <(exec "$@" --port 0 --threads "$threads" \
                          2> >(echo "$BASHPID" > "$tmp/$name.reader"; exec cat > /dev/null))
    else
        exec {fd}< <(exec "$@" --port 0 --threads "$threads" 2> "$err")
    fi
    pid=$!
    pids+=("$pid")
    read -r line <&"$fd"
    port=$(echo "$line" | sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\).*/\1/p')
    [ -n "$port" ] || { echo "$name did not start: $line" >&2; exit 1; }
}

# cpu_ticks PID...: user + system CPU time of the processes, in clock ticks.
cpu_ticks() {
    local t=0 p
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}
