#!/usr/bin/env python3
"""Checks the shape of src/: files a newcomer reads in one sitting (at most
FILE_MAX lines, functions at most FUNCTION_MAX), and that it depends one way: every #include and every symbol one
object file uses from another goes down the table of layers below (or
stays in its layer), and no two modules depend on each other through any
chain. A backwards dependency fails with a message naming both ends.

    python3 tools/check-layers.py build/obj [src]

The layers, highest first (a module may use its own layer and those
below it; docs/architecture.md draws them):
"""
import collections
import glob
import os
import re
import subprocess
import sys

LAYERS = [  # lowest first
    ("base", "errors mem budget pool version"),
    ("codec/kernels", "numtables numparse numfmt coding utf8 pb lrelu lrelu_scalar lrelu_sse2 "
                      "lrelu_avx2 lrelu_avx512f lrelu_neon"),
    ("request/compute", "tensor request request_scan request_array request_parts request_oip "
                        "request_reader request_internal compute stream infer plot"),
    ("api", "route metrics api_reply api_body api_query api_compute api_binary api_infer "
            "api_oip api_plot api api_internal openapi openapi_doc playground playground_doc "
            "rpc rpc_internal rpc_msg rpc_infer rpc_reflect rpc_reply descriptors_doc"),
    ("edge", "server server_reply server_head server_internal framing cors drain watch reqid accesslog "
             "config healthcheck main grpc grpc_call grpc_reply grpc_internal"),
]
FILE_MAX = 700
FUNCTION_MAX = 150

# Only these include the HTTP library (STYLE.md: only server.c sees it).
HTTP_LIBRARY = "microhttpd.h"
HTTP_FILES = {"server", "server_reply", "server_head", "server_internal"}
# And only these include the HTTP/2 library.
HTTP2_LIBRARY = "nghttp2/nghttp2.h"
HTTP2_FILES = {"grpc", "grpc_call", "grpc_reply", "grpc_internal"}

LAYER = {}
for rank, (name, modules) in enumerate(LAYERS):
    for m in modules.split():
        LAYER[m] = rank


def layer_name(module):
    return LAYERS[LAYER[module]][0]


def module_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def includes(src):
    """(file, line, module) for every #include "x.h" under src."""
    out = []
    for path in sorted(glob.glob(os.path.join(src, "*.[ch]"))):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s*[<"]([^">]+)[">]', line)
                if m:
                    out.append((path, n, m.group(1)))
    return out


def sizes(src):
    """Files over FILE_MAX lines, and functions over FUNCTION_MAX (a
    function: from its signature, at column 0, to the '}' that closes the
    '{' alone on the line after it, as this code base writes them)."""
    out = []
    for path in sorted(glob.glob(os.path.join(src, "*.[ch]"))):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if len(lines) - 1 > FILE_MAX:
            out.append(f"{path}: {len(lines) - 1} lines, more than {FILE_MAX}: split it by job")
        start = None
        for i, line in enumerate(lines):
            if line == "{" and i > 0:
                j = i - 1
                while j > 0 and lines[j - 1] and lines[j - 1][0] not in " \t#/}" \
                        and not lines[j - 1].endswith((";", "*/")):
                    j -= 1
                start = j
            elif line.startswith("}") and start is not None:
                if i - start + 1 > FUNCTION_MAX:
                    out.append(f"{path}:{start + 1}: a function of {i - start + 1} lines, more "
                               f"than {FUNCTION_MAX}: {lines[start][:60]}")
                start = None
    return out


def symbols(objdir):
    """For each object: the symbols it defines and those it needs."""
    defs, needs = {}, {}
    for path in sorted(glob.glob(os.path.join(objdir, "*.o"))):
        text = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
        m = module_of(path)
        defs[m], needs[m] = set(), set()
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRCV":
                defs[m].add(parts[2])
            elif len(parts) == 2 and parts[0] == "U":
                needs[m].add(parts[1])
    return defs, needs


def cycles(graph):
    """The strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    objdir = sys.argv[1] if len(sys.argv) > 1 else "build/obj"
    src = sys.argv[2] if len(sys.argv) > 2 else "src"
    problems = []
    modules = {module_of(p) for p in glob.glob(os.path.join(src, "*.[ch]"))}
    for m in sorted(modules - set(LAYER)):
        problems.append(f"src/{m}: in no layer; add it to the table in tools/check-layers.py")
    for m in sorted(set(LAYER) - modules - {"openapi_doc", "playground_doc", "descriptors_doc"}):
        problems.append(f"{m}: in the table of layers but not in src/")

    problems += sizes(src)
    include_graph = collections.defaultdict(set)
    for path, line, header in includes(src):
        m = module_of(path)
        if header == HTTP_LIBRARY and m not in HTTP_FILES:
            problems.append(f"{path}:{line}: includes {header}; only server.c, "
                            "server_reply.c and server_head.c see the HTTP library")
        if header == HTTP2_LIBRARY and m not in HTTP2_FILES:
            problems.append(f"{path}:{line}: includes {header}; only grpc.c, grpc_call.c and "
                            "grpc_reply.c see the HTTP/2 library")
        target = module_of(header)
        if not header.endswith(".h") or target not in LAYER or m not in LAYER or target == m:
            continue
        # X_internal.h is module X's own header, shared by its files.
        include_graph[m.removesuffix("_internal")].add(target.removesuffix("_internal"))
        if LAYER[target] > LAYER[m]:
            problems.append(f"{path}:{line}: {m} ({layer_name(m)}) includes {header} "
                            f"({layer_name(target)}): a backwards dependency")

    defs, needs = symbols(objdir)
    owner = {s: m for m, ds in defs.items() for s in ds}
    graph = collections.defaultdict(set)
    for m, ns in needs.items():
        for s in sorted(ns):
            o = owner.get(s)
            if o is None or o == m:
                continue
            graph[m].add(o)
            if m in LAYER and o in LAYER and LAYER[o] > LAYER[m]:
                problems.append(f"{objdir}/{m}.o ({layer_name(m)}) uses {s} from {o}.o "
                                f"({layer_name(o)}): a backwards dependency")
    for comp in cycles(graph):
        problems.append("objects depend on each other in a cycle: " + ", ".join(comp))
    for m in list(include_graph):
        include_graph[m].discard(m)
    for comp in cycles(include_graph):
        problems.append("headers include each other in a cycle: " + ", ".join(comp))

    if problems:
        for p in problems:
            print("check-layers: " + p, file=sys.stderr)
        return 1
    print(f"check-layers: files of at most {FILE_MAX} lines, functions of at most {FUNCTION_MAX}; "
          f"{len(defs)} objects, {sum(len(v) for v in graph.values())} "
          f"dependencies between them, all downwards or within a layer, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
