#!/usr/bin/python3
"""The gRPC port's bounds on clients that take without giving, each from
a client written with python3-h2 against its own server (--timeout 3),
side by side (found by review, beyond tests/h2_attacks.py's attacks):

 1. a stream whose replies are never read while it keeps sending
    (ServerReflectionInfo requests): its next messages wait, so the
    server's memory stays bounded;
 2. unary calls whose whole message came but whose request never ends:
    cut after --timeout, their memory given back, another call served;
 3. a reply read at 100 bytes a second: cut (--min-body-rate), its
    memory given back;
 4. a client that half-closes its socket while the server's writes are
    blocked: the event loop does not spin.

Run with Debian's /usr/bin/python3 (python3-h2); TAP.
Usage: tests/grpc_bounds.py SERVER_BINARY"""
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tap import finish, ok  # noqa: E402
from h2_attacks import field, grpc_frame, infer_msg  # noqa: E402  (the messages, by hand)

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError as e:  # not Debian's python3: a failure, never a skip
    print(f"Bail out! python3-h2 is needed ({e}); run /usr/bin/python3")
    sys.exit(1)

MiB = 1 << 20
SERVICE = "/inference.GRPCInferenceService/"
# Sanitizers' quarantine (make SANITIZE=...) holds freed memory: RSS then
# says little of the server's own.
RSS_BOUND = 32 + (512 if "sanitize" in " ".join(sys.argv) else 0)


class Server:
    def __init__(self, binary, *extra):
        argv = [binary, "--port", "0", "--grpc-port", "0", "--log", "off", "--timeout", "3", *extra]
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        line = self.p.stdout.readline()
        self.http = int(re.search(r"http://[^ ]*:(\d+)", line)[1])
        self.grpc = int(re.search(r"grpc://[^ ]*:(\d+)", line)[1])

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/metrics", timeout=5) as r:
            m = re.search(rf"^{name} (\S+)$", r.read().decode(), re.M)
        return float(m[1]) if m else None

    def rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read())[1]) / 1024

    def cpu_s(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            t = f.read().rsplit(")", 1)[1].split()
        return (int(t[11]) + int(t[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.p.terminate()
        try:
            return self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


class Conn:
    """One HTTP/2 connection; sends within the flow-control windows, reads
    (acknowledging what it reads, or not) when polled."""

    def __init__(self, port, **settings):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.c.initiate_connection()
        if settings:
            self.c.update_settings({getattr(h2.settings.SettingCodes, k.upper()): v
                                    for k, v in settings.items()})
        self.flush()
        self.data, self.trailers, self.pending = {}, {}, {}

    def flush(self):
        d = self.c.data_to_send()
        if d:
            self.s.sendall(d)

    def open(self, sid, method):
        self.c.send_headers(sid, [(":method", "POST"), (":scheme", "http"),
                                  (":path", method if method[0] == "/" else SERVICE + method),
                                  (":authority", "127.0.0.1"),
                                  ("content-type", "application/grpc"), ("te", "trailers")])
        self.flush()

    def send(self, sid, data, end=False):
        p = self.pending.setdefault(sid, [b"", False])
        p[0] += data
        p[1] = p[1] or end
        self.pump()

    def pump(self):
        for sid, p in list(self.pending.items()):
            try:
                while p[0]:
                    n = min(self.c.local_flow_control_window(sid), self.c.max_outbound_frame_size,
                            len(p[0]))
                    if n <= 0:
                        break
                    self.c.send_data(sid, p[0][:n], end_stream=p[1] and n == len(p[0]))
                    p[0] = p[0][n:]
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                p[0] = b""
            if not p[0]:
                del self.pending[sid]
        self.flush()

    def poll(self, t=0.2, ack=True):
        self.s.settimeout(t)
        end = time.time() + t
        while time.time() < end:
            try:
                got = self.s.recv(1 << 20)
            except (socket.timeout, OSError):
                break
            if not got:
                break
            for ev in self.c.receive_data(got):
                if isinstance(ev, h2.events.DataReceived):
                    self.data[ev.stream_id] = self.data.get(ev.stream_id, b"") + ev.data
                    if ack:
                        self.c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
                    h = {k.decode() if isinstance(k, bytes) else k:
                         v.decode() if isinstance(v, bytes) else v for k, v in ev.headers}
                    if "grpc-status" in h:
                        self.trailers[ev.stream_id] = h
            self.pump()

    def status(self, sid):
        return self.trailers.get(sid, {}).get("grpc-status")


def unread_stream(binary, results):
    """ServerReflectionInfo requests sent for 8 s, no reply read."""
    srv = Server(binary, "--max-memory", "64M", "--threads", "1")
    base, peak = srv.rss_mib(), 0.0
    c = Conn(srv.grpc)
    c.open(1, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    req = grpc_frame(field(3, b"inference.proto"))
    t0 = time.time()
    while time.time() - t0 < 8:
        c.send(1, req * 2000)
        c.poll(0.01, ack=False)
        peak = max(peak, srv.rss_mib())
    results.append(("a stream whose replies are not read: its next messages wait; the server's "
                    f"memory stays under idle + {RSS_BOUND} MiB (idle {base:.0f} MiB, peak "
                    f"{peak:.0f})", peak - base < RSS_BOUND, f"peak RSS {peak:.0f} MiB"))
    srv.stop()


def unended_unary(binary, results):
    """Two 20 MiB ModelInfer messages sent whole, their requests never ended."""
    srv = Server(binary, "--max-memory", "64M", "--threads", "2", "--queue-timeout", "2")
    conns = []
    for _ in range(2):
        c = Conn(srv.grpc)
        c.open(1, "ModelInfer")
        c.send(1, grpc_frame(infer_msg(20 * MiB // 8)))
        t0 = time.time()
        while c.pending and time.time() - t0 < 10:
            c.poll(0.05)
        conns.append(c)
    time.sleep(5)
    for c in conns:
        c.poll(0.2)
    used = srv.metric("leakyrelu_memory_used_bytes")
    statuses = [c.status(1) for c in conns]
    results.append(("unary calls whose request never ends: cut after --timeout (CANCELLED), "
                    "their memory given back",
                    statuses == ["1", "1"] and used == 0, f"statuses {statuses}, used {used}"))
    d = Conn(srv.grpc)
    d.open(1, "ModelInfer")
    d.send(1, grpc_frame(infer_msg(4 * MiB // 8)), end=True)
    t0 = time.time()
    while d.status(1) is None and time.time() - t0 < 10:
        d.poll(0.05)
    results.append(("... and then a 4 MiB ModelInfer is served", d.status(1) == "0",
                    f"status {d.status(1)}"))
    srv.stop()


def slow_reader(binary, results):
    """A 24 MiB reply read at 100 bytes a second."""
    srv = Server(binary, "--max-memory", "128M", "--threads", "2")
    c = Conn(srv.grpc)
    c.open(1, "ModelInfer")
    c.send(1, grpc_frame(infer_msg(24 * MiB // 8)), end=True)
    t0 = time.time()
    while c.pending and time.time() - t0 < 10:
        c.poll(0.05, ack=False)
    t0 = time.time()
    while time.time() - t0 < 12:
        c.poll(1.0, ack=False)
        try:
            c.c.increment_flow_control_window(100)
            c.c.increment_flow_control_window(100, 1)
        except Exception:  # noqa: BLE001 -- the stream is gone: what we wait for
            pass
        c.flush()
    used = srv.metric("leakyrelu_memory_used_bytes")
    results.append(("a reply read at 100 bytes/s: cut (--min-body-rate), its memory given back",
                    used == 0, f"memory used {used}, {len(c.data.get(1, b''))} bytes read"))
    srv.stop()


def half_closed_blocked(binary, results):
    """A 16 MiB reply not read, then the client's FIN."""
    srv = Server(binary, "--threads", "1", "--timeout", "10")
    c = Conn(srv.grpc, initial_window_size=2**31 - 1)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.c.increment_flow_control_window(2**31 - 1 - 65535)
    c.flush()
    c.open(1, "ModelInfer")
    c.send(1, grpc_frame(infer_msg(2 * MiB)), end=True)
    t0 = time.time()
    while c.pending and time.time() - t0 < 10:
        c.poll(0.05, ack=False)
    time.sleep(1)
    c.s.shutdown(socket.SHUT_WR)
    cpu0 = srv.cpu_s()
    time.sleep(3)
    spent = srv.cpu_s() - cpu0
    results.append(("a client's FIN while the server's writes block: the loop does not spin "
                    f"({spent:.2f} s of CPU in 3 s)", spent < 0.5, f"{spent:.2f} s"))
    srv.stop()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("Usage: ")[1])
    binary = sys.argv[1]
    checks = [unread_stream, unended_unary, slow_reader, half_closed_blocked]
    results = {f: [] for f in checks}
    threads = [threading.Thread(target=f, args=(binary, results[f])) for f in checks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in checks:
        if not results[f]:
            ok(f"{f.__name__}: ran", False, "it raised; see above")
        for name, cond, detail in results[f]:
            ok(name, cond, detail)
    finish()


main()
