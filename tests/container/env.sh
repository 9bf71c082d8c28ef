# Sourced by the container tests: podman configured for a machine with no
# Docker engine, no systemd and no registry (see README "Deploy and
# scale"), its state under $CTR_DIR (default build/container), and the
# base images the Dockerfile names made from Debian's mirror with
# debootstrap when they are not there yet.
CTR_DIR=${CTR_DIR:-$PWD/build/container}
mkdir -p "$CTR_DIR"
CTR_DIR=$(cd "$CTR_DIR" && pwd)
# overlay needs a lower filesystem that is not itself overlay.
driver=overlay
[ "$(stat -f -c %T "$CTR_DIR")" = overlayfs ] && driver=vfs
cat > "$CTR_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$CTR_DIR/run/libpod"

[network]
network_backend = "netavark"
network_config_dir = "$CTR_DIR/networks"
CONF
cat > "$CTR_DIR/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$CTR_DIR/storage"
runroot = "$CTR_DIR/run"
CONF
export CONTAINERS_CONF=$CTR_DIR/containers.conf
export CONTAINERS_STORAGE_CONF=$CTR_DIR/storage.conf

# debian:bookworm and debian:bookworm-slim, as a plain minbase debootstrap
# (no apt cache cleaning of its own: the Dockerfile must do it).
ctr_base_image() {
    if podman image exists docker.io/library/debian:bookworm-slim &&
        podman image exists docker.io/library/debian:bookworm; then
        return 0
    fi
    local mirror rootfs=$CTR_DIR/rootfs
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    mirror=${mirror:-http://deb.debian.org/debian}
    echo "# making the base image from $mirror with debootstrap (about 30 s to 2 min)"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$CTR_DIR/debootstrap.log" 2>&1 ||
        { tail -5 "$CTR_DIR/debootstrap.log"; return 1; }
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        rm -f "$rootfs/etc/apt/sources.list"
        cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    fi
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -c . |
        podman import --change 'CMD ["bash"]' - docker.io/library/debian:bookworm > /dev/null 2>&1 &&
        podman tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim &&
        rm -rf "$rootfs"
}

# podman keeps its storage's overlay folder mounted after it exits; left
# mounted, `make clean` could not remove build/. Call when done.
ctr_release_storage() {
    if [ "$driver" = overlay ] && mountpoint -q "$CTR_DIR/storage/overlay" 2> /dev/null; then
        umount "$CTR_DIR/storage/overlay" 2> /dev/null || true
    fi
}

. tests/tap.sh

# Polls `$@` every 0.2 s until it succeeds, for at most $1 seconds.
ctr_wait() {
    local secs=$1
    shift
    local end=$((SECONDS + secs))
    until "$@" > /dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.2
    done
}

ctr_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
