#!/usr/bin/env python3
"""`make test`: every shell example in the README and the docs that shows
its output is run against the real server, and must print exactly that.

The conventions (docs/testing.md#checked-documents says them for writers):

- A ```console block is a shell session: each `$ ` line is a command (a
  line ending in `\\` continues on the next), and the lines under it, up
  to the next `$ `, are what it prints, stdout and stderr together. The
  commands of one block run in one bash, one after the other, so a
  variable set by one is seen by the next. Trailing blank lines and the
  carriage returns of HTTP heads are not compared.
- `...` in an output line matches any text within that line (a date, a
  request id). A line that is only `...` is refused: show every line.
- Commands run in a scratch directory, one per document, where `build/`
  holds the server binary under test and `examples/` is the repository's.
  `localhost:8080` and `127.0.0.1:8080` are the server this checker
  started (`--port 0 --threads 2 --log off`); the port it got is written
  back as 8080 in what the commands print.
- A ```console block whose one command starts the server in the
  foreground (`$ build/leakyrelu-server ...`) and whose output opens with
  its `listening on` line is a server's terminal: the server is started
  with those flags (and `--port 0`; a `--port N` in the command is the
  port the next block's commands name), the next ```console block talks
  to it, then it is stopped with SIGTERM, and all it printed must be the
  block's output (its shutdown lines are left out, unless the block shows
  them).
- A fenced block whose first line is `# file: NAME` or `// file: NAME` is
  written to NAME in the scratch directory (ports as above), for the
  commands after it to run.
- A `$ ` line in a fenced block of another language is refused: a shell
  session must be ```console, so that it is checked.

Standard library only; TAP output.
Usage: tests/docs_examples.py SERVER_BINARY [FILE.md]..."""
import concurrent.futures
import difflib
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC_PORT = 8080
DOC_GRPC_PORT = 8001
TIMEOUT = 20  # seconds for one block's commands
ADDRESS = re.compile(r"\b(localhost|127\.0\.0\.1):(\d+)\b")
FILE_LINE = re.compile(r"^(?:#|//) file: (\S+)$")
SHUTDOWN = re.compile(r"^leakyrelu: (SIG\w+ received;|stopped$)")


class Results(list):
    """One document's checks, (name, passed, detail), printed by main as TAP."""

    def ok(self, name, cond, detail=""):
        self.append((name, bool(cond), detail))


def fences(path):
    """(line number, language, lines) of each fenced block of the file."""
    blocks, block = [], None
    for i, line in enumerate(path.read_text().split("\n"), 1):
        m = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", line)
        if block is None and m:
            block = (i, m[2], [], m[1])
        elif block is not None and line.startswith(block[3]) and line.strip() == block[3]:
            blocks.append(block[:3])
            block = None
        elif block is not None:
            block[2].append(line)
    return blocks


def session(lines):
    """The commands of a console block: [(command, [output lines])]."""
    commands, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            return None  # output before the first command
        command = lines[i][2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command += "\n" + lines[i]
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        commands.append((command, output))
    return commands


def to_actual(text, ports):
    """The documented ports in text replaced by the servers' real ones."""
    return ADDRESS.sub(lambda m: f"{m[1]}:{ports.get(int(m[2]), m[2])}", text)


def to_doc(text, ports):
    """What a command printed, with the real ports written as documented."""
    back = {str(real): str(doc) for doc, real in ports.items()}
    text = ADDRESS.sub(lambda m: f"{m[1]}:{back.get(m[2], m[2])}", text)
    return re.sub(r"\r+\n", "\n", text).rstrip("\n")


def matches(want, got):
    """Exact, but for `...` within a line, which stands for any text."""
    want_lines, got_lines = want.split("\n"), got.split("\n")
    if "..." not in want:
        return want == got
    if len(want_lines) != len(got_lines):
        return False
    for w, g in zip(want_lines, got_lines):
        pattern = ".*?".join(re.escape(part) for part in w.split("..."))
        if not re.fullmatch(pattern, g):
            return False
    return True


def compare(want_lines, got):
    """'' when got is what the doc shows, else a diff to print."""
    want = "\n".join(want_lines).rstrip("\n")
    diff = "\n".join(difflib.unified_diff(want.split("\n"), got.split("\n"),
                                          "documented", "printed", lineterm="", n=2))
    if any(line.strip() == "..." for line in want_lines):
        return "a line of only `...` leaves lines out: show the whole output\n" + diff
    return "" if matches(want, got) else diff


def run_block(commands, ports, cwd, env):
    """Runs the commands in one bash; what each printed (ports as documented),
    or None and the reason when the block did not finish."""
    # Each command's output starts with an RS byte; the mark keeps $?.
    script = ["exec 2>&1", "__mark() { local s=$?; printf '\\036'; return $s; }"]
    for command, _ in commands:
        script += ["__mark", to_actual(command, ports)]
    # A session of its own, so that what a command leaves running (which
    # holds the output open) is ended with it.
    proc = subprocess.Popen(["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
                            cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, (f"the commands did not finish in {TIMEOUT} s (or left a process "
                      "running that holds their output)")
    parts = out.decode("utf-8", "replace").split("\x1e")
    if len(parts) != len(commands) + 1 or parts[0]:
        return None, "could not tell the commands' outputs apart: " + repr(out[:200])
    return [to_doc(p, ports) for p in parts[1:]], ""


class Server:
    """The server binary started for a server's terminal block (or the
    default one): its real port, and all it prints, collected by a thread."""

    def __init__(self, command, cwd, env):
        args = shlex.split(command)
        self.doc_port, self.doc_grpc_port = DOC_PORT, DOC_GRPC_PORT
        for i, a in enumerate(args):
            if a == "--grpc-port" and i + 1 < len(args) and args[i + 1] != "off":
                self.doc_grpc_port = int(args[i + 1])
                args[i + 1] = "0"
            elif a == "--port" and i + 1 < len(args):
                self.doc_port = int(args[i + 1])
                args[i + 1] = "0"
            elif a.startswith("--port="):
                self.doc_port = int(a.split("=", 1)[1])
                args[i] = "--port=0"
        if not any(a == "--port" or a.startswith("--port=") for a in args):
            args += ["--port", "0"]
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.first = self.proc.stdout.readline().decode()
        m = re.search(r"listening on http://[^ ]*:(\d+)", self.first)
        self.port = int(m[1]) if m else None
        m = re.search(r"grpc://[^ ]*:(\d+)", self.first)
        self.grpc_port = int(m[1]) if m else None
        self.rest = b""
        self.reader = threading.Thread(target=self._read)
        self.reader.start()

    def ports(self):
        """Its ports as documented: real ones."""
        p = {self.doc_port: self.port}
        if self.grpc_port:
            p[self.doc_grpc_port] = self.grpc_port
        return p

    def _read(self):
        self.rest = self.proc.stdout.read()

    def stop(self):
        """SIGTERM; all it printed (stdout and stderr), or None if it hung."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        self.reader.join()
        return self.first + self.rest.decode("utf-8", "replace")


def check_document(path, server, default):
    """The checks of one document, in a scratch directory of its own."""
    results = Results()
    ok = results.ok
    name = path.relative_to(ROOT)
    with tempfile.TemporaryDirectory(prefix="docs-examples-") as tmp:
        cwd = pathlib.Path(tmp)
        (cwd / "build").mkdir()
        (cwd / "build" / "leakyrelu-server").symlink_to(pathlib.Path(server).resolve())
        (cwd / "examples").symlink_to(ROOT / "examples")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TZ="UTC")
        ports = default.ports()
        terminal = None  # a server's terminal block waiting for its client block
        for line, lang, lines in fences(path):
            where = f"{name}:{line}"
            m = FILE_LINE.match(lines[0]) if lines else None
            if m:
                target = cwd / m[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(to_actual("\n".join(lines) + "\n", ports))
                continue
            if lang != "console":
                prompts = [l for l in lines if l.startswith("$ ")]
                if prompts:
                    ok(f"{where}: a shell session in a ```{lang or 'plain'} block", False,
                       f"make it ```console so that it is checked: {prompts[0]}")
                continue
            commands = session(lines)
            if not commands:
                ok(f"{where}: a console block with commands", False,
                   "it must start with a `$ ` line")
                continue
            first_out = commands[0][1][0] if commands[0][1] else ""
            if (len(commands) == 1 and commands[0][0].startswith("build/leakyrelu-server")
                    and " listening on " in first_out):
                started = Server(commands[0][0], cwd, env)
                if started.port is None:
                    ok(f"{where}: the server starts", False, started.first or "no output")
                    started.stop()
                    continue
                terminal = (where, commands[0], started, ports.copy())
                ports.update(started.ports())
                continue
            outputs, problem = run_block(commands, ports, cwd, env)
            detail = [problem] if problem else []
            for (command, want), got in zip(commands, outputs or []):
                diff = compare(want, got)
                if diff:
                    detail.append(f"$ {command}\n{diff}")
            ok(f"{where}: {len(commands)} command(s) print what the doc shows", not detail,
               "\n".join(detail))
            if terminal:
                ports = stop_terminal(terminal, ok)
                terminal = None
        if terminal:
            stop_terminal(terminal, ok)
    return results


def stop_terminal(terminal, ok):
    """Stops a server's terminal's server and checks what it printed; returns
    the ports as they were before it started."""
    where, (command, want), server, ports = terminal
    printed = server.stop()
    if printed is None:
        ok(f"{where}: the server stops on SIGTERM", False)
        return ports
    shown = any(SHUTDOWN.match(line) for line in want)
    lines = [l for l in printed.split("\n") if shown or not SHUTDOWN.match(l)]
    got = to_doc("\n".join(lines), server.ports())
    diff = compare(want, got)
    ok(f"{where}: the server's terminal shows what the doc shows", not diff, diff)
    return ports


def main():
    server = sys.argv[1]
    files = [pathlib.Path(f).resolve() for f in sys.argv[2:]] or \
        [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
    env = dict(os.environ)
    default = Server(f"{server} --threads 2 --log off", ROOT, env)
    if default.port is None:
        print(f"Bail out! the server did not start: {default.first}")
        sys.exit(1)
    # The documents side by side (each has its own scratch directory and
    # servers; the default server takes them all), reported in order.
    try:
        with concurrent.futures.ThreadPoolExecutor(len(files)) as pool:
            reports = list(pool.map(lambda path: check_document(path, server, default), files))
    finally:
        default.stop()
    n = failed = 0
    for name, passed, detail in (r for report in reports for r in report):
        n += 1
        failed += not passed
        print(f"{'ok' if passed else 'not ok'} {n} - {name}")
        if not passed and detail:
            print("#   " + str(detail).replace("\n", "\n#   "))
    print(f"1..{n}")
    sys.exit(1 if failed else 0)


main()
