#!/usr/bin/env python3
"""`make test`: GET /plot.svg from the real server, read as any SVG consumer
reads it. Each picture must parse as XML (and be valid SVG 1.1 against the
W3C DTD, with xmllint); each curve's vertices, mapped back through the axes
(the ticks' labels and positions), must be the Leaky ReLU values at their x
to the printed precision, with the gradient's jump as two pieces; the ticks
must be round numbers inside the range, evenly spaced. Bad queries are 422s.
Standard library only; TAP output.
Usage: tests/plot_check.py SERVER_BINARY"""
import json
import re
import shutil
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from decimal import Decimal

from tap import finish, ok

SVG = "{http://www.w3.org/2000/svg}"
DTD = "/usr/share/xml/w3c-sgml-lib/schema/dtd/REC-SVG11-20110816/svg11.dtd"


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def kernel(x, a, gradient, single):
    """PyTorch's leaky_relu (and its gradient), in float32 when single."""
    if single:
        x, a = f32(x), f32(a)
        return (1.0 if x > 0 else a) if gradient else (x if x > 0 else f32(a * x))
    return (1.0 if x > 0 else a) if gradient else (x if x > 0 else a * x)


def get(base, query):
    try:
        with urllib.request.urlopen(f"{base}/plot.svg?{query}") as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def ticks(g, cls):
    """(label value as Decimal, pixel) for each tick of the axis."""
    lines = [el for el in g.iter(SVG + "line") if el.get("class") == cls]
    texts = [el for el in g.iter(SVG + "text") if el.get("class") == cls]
    pos = "x1" if cls == "tick-x" else "y1"
    return [(Decimal(t.text), float(l.get(pos))) for l, t in zip(lines, texts)], len(lines) == len(texts)


def linear(tk):
    """The axis' map value -> pixel, fitted from its first and last tick."""
    (v0, p0), (v1, p1) = (float(tk[0][0]), tk[0][1]), (float(tk[-1][0]), tk[-1][1])
    k = (p1 - p0) / (v1 - v0)
    return (lambda v: p0 + (v - v0) * k), (lambda p: v0 + (p - p0) / k), abs(k)


def check_ticks(name, tk, lo, hi):
    """Round numbers k * m * 10^e (m in 1, 2, 5), evenly spaced, within [lo, hi]."""
    values = [v for v, _ in tk]
    steps = {b - a for a, b in zip(values, values[1:])}
    problem = ""
    if len(values) < 2:
        problem = f"only {len(values)} ticks"
    elif len(steps) != 1:
        problem = f"uneven steps {steps}"
    else:
        step = steps.pop()
        digits = step.normalize().as_tuple().digits
        if digits not in ((1,), (2,), (5,)):
            problem = f"step {step} is not 1, 2 or 5 times a power of ten"
        elif any(v % step != 0 for v in values):
            problem = f"a tick is not a multiple of {step}: {values}"
        elif any(float(v) < lo or float(v) > hi for v in values):
            problem = f"a tick outside [{lo}, {hi}]: {values}"
        elif float(values[0]) - lo > float(step) * 1.000001 or hi - float(values[-1]) > float(step) * 1.000001:
            problem = f"the ticks {values} leave part of [{lo}, {hi}] without one"
    put, _, _ = linear(tk) if len(tk) >= 2 else (None, None, None)
    if not problem and any(abs(put(float(v)) - p) > 0.015 for v, p in tk):
        problem = f"ticks not on one linear scale: {tk}"
    ok(f"{name}: {len(values)} ticks at round numbers in range", not problem, problem)


def subpaths(d):
    """[[(x, y), ...], ...]: the path's M/L vertices, one list per M."""
    out = []
    for cmd, x, y in re.findall(r"([ML])(-?[0-9.]+),(-?[0-9.]+)", d):
        if cmd == "M":
            out.append([])
        out[-1].append((float(x), float(y)))
    return out


def check_panel(name, g, slopes, lo, hi, gradient, single):
    tx, same_x = ticks(g, "tick-x")
    ty, same_y = ticks(g, "tick-y")
    ok(f"{name}: each tick has its label", same_x and same_y)
    check_ticks(f"{name} x", tx, lo, hi)
    frame = next(el for el in g.iter(SVG + "rect"))
    top = float(frame.get("y"))
    bottom = top + float(frame.get("height"))
    put_x, x_of, kx = linear(tx)
    put_y, y_of, ky = linear(ty)
    check_ticks(f"{name} y", ty, y_of(bottom), y_of(top))
    paths = [el for el in g.iter(SVG + "path") if el.get("class") == "curve"]
    ok(f"{name}: one curve per slope", len(paths) == len(slopes), f"{len(paths)} for {slopes}")
    tol = 0.012
    for a, path in zip(slopes, paths):
        pieces = subpaths(path.get("d"))
        worst, where = 0.0, None
        for piece_index, piece in enumerate(pieces):
            for px, py in piece:
                x = x_of(px)
                if gradient and lo <= 0 < hi:  # the piece says which side of 0
                    want = kernel(-1.0 if piece_index == 0 else 1.0, a, True, single)
                    want_py, allowed = put_y(want), tol
                else:
                    want_py = put_y(kernel(x, a, gradient, single))
                    # x is known to 0.005 px: the curve may move by its slope times that
                    allowed = tol + max(1.0, abs(a)) * ky / kx * 0.006
                err = abs(py - want_py)
                if err - allowed > worst:
                    worst, where = err - allowed, (px, py, x, want_py)
        ok(f"{name} a={a}: vertices are the kernel's values", where is None,
           f"off by {worst:.4f} px more than allowed at (px, py, x, want_py) = {where}")
        if gradient and lo <= 0 < hi:
            zero = put_x(0.0)
            crossing = len(pieces) == 2 and all(x_of(px) <= 1e-9 * (hi - lo) + (hi - lo) * 1e-4
                                                 for px, _ in pieces[0]) and \
                abs(pieces[0][-1][0] - zero) < 0.02 and abs(pieces[1][0][0] - zero) < 0.02
            ok(f"{name} a={a}: the jump is two pieces meeting at x = 0, none across it",
               crossing, [p[-1:] + p[:1] for p in pieces])
        elif lo < 0 < hi:
            origin = (put_x(0.0), put_y(0.0))
            ok(f"{name} a={a}: the kink at the origin is a vertex",
               any(abs(px - origin[0]) < 0.02 and abs(py - origin[1]) < 0.02
                   for px, py in pieces[0]), origin)


def check_svg(base, query, slopes, lo, hi, what, single):
    status, headers, body = get(base, query)
    ok(f"?{query}: 200 image/svg+xml", status == 200 and headers.get("Content-Type") == "image/svg+xml",
       f"{status} {headers.get('Content-Type')} {body[:200]!r}")
    if status != 200:
        return
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        ok(f"?{query}: parses as XML", False, e)
        return
    ok(f"?{query}: parses as XML, an SVG 1.1 root", root.tag == SVG + "svg" and root.get("version") == "1.1")
    valid = subprocess.run(["xmllint", "--noout", "--dtdvalid", DTD, "-"], input=body,
                           capture_output=True)
    ok(f"?{query}: valid SVG 1.1 (xmllint against the W3C DTD)", valid.returncode == 0,
       valid.stderr.decode()[:600])
    text = body.decode()
    coords = [(el.tag, k, v) for el in root.iter() for k, v in el.attrib.items()
              if k in ("x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height")]
    bad = [c for c in coords if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", c[2])]
    ok(f"?{query}: every coordinate is a number ({len(coords)})", coords and not bad, bad[:5])
    paths = [el.get("d") for el in root.iter(SVG + "path")]
    ok(f"?{query}: every path is M/L and numbers", paths and all(
        re.fullmatch(r"M-?[0-9.]+,-?[0-9.]+( [ML]-?[0-9.]+,-?[0-9.]+)*", d) for d in paths), paths[:1])
    ok(f"?{query}: no script, no link, nothing from elsewhere",
       not re.search(r"<script|href|url\(|@import|<foreignObject", text))
    ok(f"?{query}: Cache-Control and ETag", "max-age" in headers.get("Cache-Control", "") and
       re.fullmatch(r'W/"[0-9a-f]{16}"', headers.get("ETag", "")), headers)
    panels = [g for g in root.iter(SVG + "g")]
    kinds = [False, True] if what == "both" else [what == "gradient"]
    ok(f"?{query}: {len(kinds)} panel(s)", len(panels) == len(kinds))
    for g, gradient in zip(panels, kinds):
        check_panel(f"?{query} {'gradient' if gradient else 'forward'}", g, slopes, lo, hi, gradient, single)


def main():
    server = sys.argv[1]
    if not shutil.which("xmllint") or not shutil.os.path.exists(DTD):
        print("xmllint and the SVG 1.1 DTD are needed: apt-get install libxml2-utils w3c-sgml-lib",
              file=sys.stderr)
        sys.exit(1)
    child = subprocess.Popen([server, "--port", "0", "--log", "off"], stdout=subprocess.PIPE, text=True)
    base = re.search(r"listening on (http://\S+)", child.stdout.readline()).group(1)
    try:
        cases = [
            ("", [0.01], -5, 5, "both", False),
            ("slope=0.1&what=forward", [0.1], -5, 5, "forward", False),
            ("slope=0.1&what=gradient", [0.1], -5, 5, "gradient", False),
            ("slope=0.25,0.1,-0.5,1.5&xmin=-3&xmax=2", [0.25, 0.1, -0.5, 1.5], -3, 2, "both", False),
            ("slope=0.2&dtype=float32&xmin=-0.3&xmax=0.7&width=300&height=600", [0.2], f32(-0.3), f32(0.7),
             "both", True),
            ("slope=0.1&xmin=-1e-7&xmax=3e-7&what=gradient", [0.1], -1e-7, 3e-7, "gradient", False),
            ("slope=3&xmin=-1234.5&xmax=98765&width=1200&height=500", [3], -1234.5, 98765, "both", False),
            ("slope=0.01&xmin=2&xmax=10", [0.01], 2, 10, "both", False),
            ("slope=0.5&xmin=-10&xmax=-2&what=gradient", [0.5], -10, -2, "gradient", False),
            ("slope=0&xmin=0&xmax=1", [0.0], 0, 1, "both", False),
            ("slope=0.3,-0.7&width=4096&height=4096", [0.3, -0.7], -5, 5, "both", False),
            ("slope=0.3&xmin=-1e6&xmax=3e6&width=4096&height=600&what=forward", [0.3], -1e6, 3e6, "forward", False),
            ("slope=1e-3,2e-3,3e-3,4e-3,5e-3,6e-3,7e-3,8e-3&width=240&height=160", [1e-3 * i for i in range(1, 9)],
             -5, 5, "both", False),
        ]
        for q, slopes, lo, hi, what, single in cases:
            check_svg(base, q, slopes, lo, hi, what, single)

        bad = [
            ("xmin=3&xmax=1", "invalid_parameter", "xmin"),
            ("xmin=1&xmax=1", "invalid_parameter", "xmin"),
            ("xmin=nan", "invalid_parameter", "xmin"),
            ("xmax=1e999", "invalid_parameter", "xmax"),
            ("xmin=1&xmax=1.0000000001", "invalid_parameter", "xmax"),
            ("width=100", "invalid_parameter", "width"),
            ("width=5000", "invalid_parameter", "width"),
            ("height=12px", "invalid_parameter", "height"),
            ("what=sideways", "invalid_parameter", "what"),
            ("dtype=float16", "invalid_dtype", "dtype"),
            ("slope=abc", "invalid_slope", None),
            ("slope=1,2,3,4,5,6,7,8,9", "invalid_slope", "slope"),
            ("slope=1e300&dtype=float32", "invalid_slope", "slope"),
            ("slope=1e300&xmin=-1e300", "result_not_finite", "slope"),
            ("slope=1&slope=2", "slope_conflict", "slope"),
            ("colour=red", "unknown_parameter", None),
        ]
        for q, code, path in bad:
            status, headers, body = get(base, q)
            try:
                err = json.loads(body)
            except ValueError:
                err = {}
            ok(f"?{q}: 422 {code}", status == 422 and err.get("code") == code and
               (path is None or err.get("path") == path) and err.get("error"), f"{status} {body!r}")
    finally:
        child.terminate()
        child.wait()
    finish()


main()
