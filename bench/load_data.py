#!/usr/bin/env python3
"""Bodies and exact replies for bench/load.sh: /forward and /gradient with 4,
1,000 and 100,000 random doubles. Each reply is computed here the way PyTorch
defines it (x if x > 0 else 0.01 * x; gradient 1.0 or 0.01) in IEEE doubles and
printed with json.dumps, which writes exactly what the service writes; each
reply has its own length, so a response can be checked without knowing which
request it answers. Usage: bench/load_data.py DIR (writes DIR/case*.{path,body,reply})"""
import json, os, random, sys

out = sys.argv[1]
rng = random.Random(2026)
lengths = set()
n = 0
for size in (4, 1000, 100000):
    x = [rng.uniform(-1000, 1000) for _ in range(size)]
    for route in ("forward", "gradient"):
        if route == "forward":
            reply = {"y": [v if v > 0 else 0.01 * v for v in x]}
        else:
            reply = {"grad": [1.0 if v > 0 else 0.01 for v in x]}
        text = json.dumps(reply)
        if len(text) in lengths:  # a length of its own, or it cannot be told apart
            sys.exit("two replies of one length; change the seed")
        lengths.add(len(text))
        base = os.path.join(out, "case%d" % n)
        open(base + ".path", "w").write("/" + route)
        open(base + ".body", "w").write(json.dumps({"x": x}))
        open(base + ".reply", "w").write(text)
        n += 1
print(n)
