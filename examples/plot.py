#!/usr/bin/env python3
"""The figure that goes with an explanation of Leaky ReLU, computed by the
service: f(x) and its gradient over a grid, drawn with matplotlib into a
PNG. The numbers come from POST /forward and POST /gradient (bare arrays,
the slope in the query); matplotlib only draws them.

    python3 examples/plot.py                      # leaky_relu.png, slope 0.1
    python3 examples/plot.py --slope 0.1,0.3 --dtype float32 --out prelu.png
    python3 examples/plot.py --url http://127.0.0.1:8080 --xmin -3 --xmax 3

Needs matplotlib (Debian: apt-get install python3-matplotlib)."""
import argparse
import json
import sys
import urllib.error
import urllib.request


def call(url, path, xs, slope, dtype):
    """The service's reply to xs: one list per slope (PReLU's channels)."""
    slopes = slope.split(",")
    # With a list of slopes, x has one row per slope, as axis 1 of an (N, C) batch.
    body = xs if len(slopes) == 1 else [list(row) for row in zip(*[xs] * len(slopes))]
    req = urllib.request.Request(f"{url}/{path}?slope={slope}&dtype={dtype}",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        reply = json.load(r)
    reply = reply["grad"] if isinstance(reply, dict) else reply
    return [reply] if len(slopes) == 1 else [list(col) for col in zip(*reply)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--slope", default="0.1", help="a slope, or a list: 0.1,0.3")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--xmin", type=float, default=-5.0)
    ap.add_argument("--xmax", type=float, default=5.0)
    ap.add_argument("--points", type=int, default=1001)
    ap.add_argument("--out", default="leaky_relu.png")
    args = ap.parse_args()
    try:
        urllib.request.urlopen(f"{args.url}/healthz", timeout=10).close()
    except (urllib.error.URLError, OSError):
        sys.exit(f"cannot reach the service at {args.url}: is it running? "
                 "start it with `make run`")
    # Imported once the service answers, so that its absence is reported
    # the same way with or without matplotlib.
    try:
        import matplotlib
    except ImportError:
        sys.exit("examples/plot.py needs matplotlib: apt-get install python3-matplotlib")
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    step = (args.xmax - args.xmin) / (args.points - 1)
    xs = sorted({args.xmin + i * step for i in range(args.points)} |
                ({0.0} if args.xmin < 0 < args.xmax else set()))
    ys = call(args.url, "forward", xs, args.slope, args.dtype)
    gs = call(args.url, "gradient", xs, args.slope, args.dtype)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for a, y, g in zip(args.slope.split(","), ys, gs):
        line, = left.plot(xs, y, label=f"a = {a}")
        # The gradient jumps at 0: two pieces, f'(0) = a filled, 1 just after it open.
        neg = [(x, v) for x, v in zip(xs, g) if x <= 0]
        pos = [(x, v) for x, v in zip(xs, g) if x > 0]
        for piece in (neg, pos):
            if piece:
                right.plot(*zip(*piece), color=line.get_color())
        if neg and pos:
            right.plot([0], [neg[-1][1]], "o", color=line.get_color())
            right.plot([0], [pos[0][1]], "o", mfc="white", color=line.get_color())
    left.set_title("Leaky ReLU: f(x) = x if x > 0, else a·x")
    right.set_title("Its gradient: f′(x) = 1 if x > 0, else a")
    for ax in (left, right):
        ax.axhline(0, color="0.2", lw=0.8)
        ax.axvline(0, color="0.2", lw=0.8)
        ax.grid(True, color="0.9")
        ax.set_xlabel("x")
    left.set_ylabel("f(x)")
    right.set_ylabel("f′(x)")
    left.legend()
    fig.suptitle(f"computed by the leakyrelu service ({args.dtype})", fontsize=9, color="0.4")
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}: {len(xs)} points per curve")


main()
