#!/usr/bin/env python3
"""Writes the seeds of tests/fuzz_http.c into tests/fuzz_corpus_http/: one
client connection each (one request, or several pipelined), every route
and body form, and the hostile framing the server must refuse. Files it
does not name (crash reproducers) are left alone. gzip output is made
with mtime 0, so the seeds are the same on every run.

    python3 tools/gen_fuzz_http_seeds.py [DIR]
"""
import gzip
import json
import os
import struct
import sys
import zlib

H = "Host: a\r\n"


def req(line, headers="", body=b""):
    """One request: the line, Host, extra header lines (CRLF each), body."""
    if isinstance(body, str):
        body = body.encode()
    return (line + "\r\n" + H + headers + "\r\n").encode() + body


def post(path, body, headers=""):
    if isinstance(body, str):
        body = body.encode()
    return req(f"POST {path} HTTP/1.1", f"Content-Length: {len(body)}\r\n" + headers, body)


def chunked(path, pieces, headers="", last="0\r\n\r\n"):
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + last.encode()
    return req(f"POST {path} HTTP/1.1", "Transfer-Encoding: chunked\r\n" + headers, body)


def f64(*xs):
    return struct.pack(f"<{len(xs)}d", *xs)


def f32(*xs):
    return struct.pack(f"<{len(xs)}f", *xs)


def gz(b):
    return gzip.compress(b.encode() if isinstance(b, str) else b, mtime=0)


ORIGIN = "Origin: https://app.example.com\r\n"
OIP = {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [-1, 2, -3, 4]}]}
OIP_BIN_HEAD = json.dumps({
    "inputs": [{"name": "x", "shape": [3], "datatype": "FP32",
                "parameters": {"binary_data_size": 12}}],
    "parameters": {"binary_data_output": True}}).encode()
BIG = "[" + ",".join(["-1.5", "2", "0", "-0.25"] * 1500) + "]"  # 6,000 numbers: a streamed reply

SEEDS = {
    # the small endpoints
    "get_healthz": req("GET /healthz HTTP/1.1"),
    "get_livez_version": req("GET /livez HTTP/1.1") + req("GET /version HTTP/1.1"),
    "get_readyz": req("GET /readyz HTTP/1.1"),
    "get_metrics": req("GET /metrics HTTP/1.1"),
    "get_openapi_gzip": req("GET /openapi.json HTTP/1.1", "Accept-Encoding: gzip\r\n"),
    "get_openapi_etag": req("GET /openapi.json HTTP/1.1", 'If-None-Match: W/"x", *\r\n'),
    "get_playground": req("GET / HTTP/1.1", "Accept-Encoding: deflate, gzip;q=0.5\r\n"),
    "get_plot": req("GET /plot.svg?slope=0.2&dtype=float32 HTTP/1.1"),
    "head_healthz_metrics": req("HEAD /healthz HTTP/1.1") + req("HEAD /metrics HTTP/1.1"),
    "get_404_405": req("GET /nope HTTP/1.1") + req("GET /forward HTTP/1.1"),
    # /forward and /gradient, JSON
    "forward_array": post("/forward", "[1, -2, 3.5, -0.0, 1e-310]"),
    "forward_object": post("/forward", '{"x": [[1, -2], [3, -4]], "slope": [0.1, 0.2]}',
                           "Content-Type: application/json\r\n"),
    "forward_query": post("/forward?slope=0.3&dtype=float32", "[[1.5, -2.5], [1e38, -7]]"),
    "forward_form": post("/forward", "[1,2]",
                         "Content-Type: application/x-www-form-urlencoded\r\n"),
    "gradient_object": post("/gradient", '{"x": [2, -1], "grad_output": [5, 5], "slope": 0.5}'),
    "gradient_array": post("/gradient?slope=0.25,0.5", "[[-1, 2], [-3, 4]]"),
    "forward_errors": post("/forward", '{"x": [1, "a"]}') + post("/forward", "[[1],[2,3]]")
                      + post("/forward?slope=x", "[1]") + post("/forward", ""),
    # binary bodies
    "forward_binary": post("/forward?shape=2,2&slope=0.5", f64(1, -2, 3, -4),
                           "Content-Type: application/octet-stream\r\n"),
    "forward_binary_f32": post("/forward?dtype=float32&shape=3", f32(1, float("-inf"), float("nan")),
                               "Content-Type: application/octet-stream\r\n"),
    "gradient_binary": post("/gradient?shape=2,2&slope=0.1,0.2&grad_output=1",
                            f64(1, -2, 3, -4) + f64(1, 1, 2, 2),
                            "Content-Type: application/octet-stream\r\n"),
    "binary_bad_length": post("/forward?shape=3", f64(1, 2),
                              "Content-Type: application/octet-stream\r\n"),
    # the Open Inference Protocol
    "oip_meta": req("GET /v2 HTTP/1.1") + req("GET /v2/health/live HTTP/1.1")
                + req("GET /v2/health/ready HTTP/1.1") + req("GET /v2/models/leaky_relu HTTP/1.1")
                + req("GET /v2/models/leaky_relu_grad/ready HTTP/1.1"),
    "oip_infer": post("/v2/models/leaky_relu/infer", json.dumps(OIP)),
    "oip_infer_grad": post("/v2/models/leaky_relu_grad/infer", json.dumps({
        "parameters": {"negative_slope": [0.1, 0.2]}, "id": "r1",
        "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [[-1, 2], [-3, 4]]},
                   {"name": "grad_output", "shape": [2, 2], "datatype": "FP64",
                    "data": [1, 1, 2, 2]}],
        "outputs": [{"name": "grad_slope"}, {"name": "grad", "parameters": {"binary_data": True}}]})),
    "oip_infer_binary": post("/v2/models/leaky_relu/infer", OIP_BIN_HEAD + f32(1, -2, 3),
                             f"Inference-Header-Content-Length: {len(OIP_BIN_HEAD)}\r\n"),
    "oip_unknown_model": post("/v2/models/nope/infer", "{}"),
    # bodies in pieces and compressed
    "chunked_forward": chunked("/forward", [b"[1, -", b"2, 3", b"]"]),
    "chunked_trailer": chunked("/gradient", [b"[-1,2]"], last="0;x=y\r\nX-T: 1\r\n\r\n"),
    "chunked_ext": chunked("/forward", [], last="") + b"3;name=value\r\n[1]\r\n0\r\n\r\n",
    "gzip_forward": post("/forward", gz("[1, -2, 3]"), "Content-Encoding: gzip\r\n"),
    "deflate_gradient": post("/gradient", zlib.compress(b'{"x": [-1, 2]}'),
                             "Content-Encoding: deflate\r\n"),
    "gzip_binary": post("/forward?shape=2", gz(f64(-1, 2)),
                        "Content-Type: application/octet-stream\r\nContent-Encoding: gzip\r\n"),
    "gzip_stream_reply": post("/forward", gz(BIG), "Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\n"),
    "gzip_chunked": chunked("/forward", [gz("[4, -5]")], "Content-Encoding: gzip\r\n"),
    "gzip_bad": post("/forward", b"\x1f\x8b\x08\x00garbage", "Content-Encoding: gzip\r\n"),
    "gzip_reply_json": post("/forward", "[" + ",".join(["-3"] * 200) + "]",
                            "Accept-Encoding: gzip\r\n"),
    # CORS
    "options_preflight": req("OPTIONS /forward HTTP/1.1", ORIGIN
                             + "Access-Control-Request-Method: POST\r\n"
                             + "Access-Control-Request-Headers: content-type, x-request-id\r\n"),
    "options_plain": req("OPTIONS /healthz HTTP/1.1") + req("OPTIONS * HTTP/1.1"),
    "cors_get": req("GET /healthz HTTP/1.1", ORIGIN) + req("GET /healthz HTTP/1.1",
                                                           "Origin: https://evil.example\r\n"),
    # keep-alive, pipelined, closing
    "pipelined": post("/forward", "[1]") + req("GET /healthz HTTP/1.1")
                 + post("/gradient", "[-1]", "Connection: close\r\n") + req("GET /readyz HTTP/1.1"),
    "http10": b"POST /forward HTTP/1.0\r\nContent-Length: 2\r\n\r\n[]"
              + b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "request_id": req("GET /healthz HTTP/1.1", "X-Request-Id: abc-1\r\n")
                  + req("GET /healthz HTTP/1.1", "X-Request-Id: a b\r\n"),
    "expect_100": req("POST /forward HTTP/1.1", "Content-Length: 3\r\nExpect: 100-continue\r\n", b"[1]"),
    # hostile framing (tests/test_server_life.c, test_http_framing)
    "cl_te": req("POST /forward HTTP/1.1", "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n",
                 b"2\r\n[]\r\n0\r\n\r\n"),
    "cl_twice": req("POST /forward HTTP/1.1", "Content-Length: 2\r\nContent-Length: 3\r\n", b"[1]"),
    "cl_twice_same": req("POST /forward HTTP/1.1", "Content-Length: 2\r\ncontent-length: 2\r\n", b"[]"),
    "no_host": b"POST /forward HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]",
    "no_host_get": b"GET /healthz HTTP/1.1\r\n\r\n",
    "two_hosts": req("GET /healthz HTTP/1.1", "Host: b\r\n"),
    "te_gzip": req("POST /forward HTTP/1.1", "Transfer-Encoding: gzip\r\n", b"[]"),
    "te_gzip_chunked": req("POST /forward HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n",
                           b"2\r\n[]\r\n0\r\n\r\n"),
    "te_http10": b"POST /forward HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
    "ce_br": post("/forward", "[]", "Content-Encoding: br\r\n"),
    "ce_gzip_plain": post("/forward", "[]", "Content-Encoding: gzip\r\nConnection: close\r\n"),
    "te_chunked_caps": req("POST /forward HTTP/1.1", "Transfer-Encoding: Chunked\r\n",
                           b"2\r\n[]\r\n0\r\n\r\n"),
    "ce_identity": post("/forward", "[]", "Content-Encoding: identity\r\n"),
    # request smuggling shapes
    "smuggle_cl_te_get": req("POST /forward HTTP/1.1", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                             b"0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"),
    "smuggle_te_space": req("POST /forward HTTP/1.1", "Transfer-Encoding : chunked\r\nContent-Length: 3\r\n",
                            b"[1]"),
    "smuggle_te_tab": req("POST /forward HTTP/1.1", "Transfer-Encoding:\tchunked\r\n",
                          b"3\r\n[1]\r\n0\r\n\r\n"),
    "smuggle_te_xchunked": req("POST /forward HTTP/1.1", "Transfer-Encoding: xchunked\r\n", b"[1]"),
    "smuggle_te_twice": req("POST /forward HTTP/1.1",
                            "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                            b"3\r\n[1]\r\n0\r\n\r\n"),
    "smuggle_obs_fold": req("POST /forward HTTP/1.1", "Content-Length: 3\r\nX-A: b\r\n chunked\r\n", b"[1]"),
    "smuggle_cl_plus": req("POST /forward HTTP/1.1", "Content-Length: +3\r\n", b"[1]"),
    "smuggle_cl_neg": req("POST /forward HTTP/1.1", "Content-Length: -1\r\n", b"[1]"),
    "smuggle_cl_huge": req("POST /forward HTTP/1.1", "Content-Length: 99999999999999999999\r\n", b"[1]"),
    "smuggle_cl_budget": req("POST /forward HTTP/1.1", "Content-Length: 1000000\r\n", b"[1]"),
    "smuggle_cl_list": req("POST /forward HTTP/1.1", "Content-Length: 3, 3\r\n", b"[1]"),
    "smuggle_bare_lf": b"POST /forward HTTP/1.1\nHost: a\nContent-Length: 3\n\n[1]"
                       b"GET /healthz HTTP/1.1\nHost: a\n\n",
    "smuggle_chunk_size_overflow": req("POST /forward HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                                       b"10000000000000003\r\n[1]\r\n0\r\n\r\n"),
    "smuggle_chunk_bare_lf": req("POST /forward HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                                 b"3\n[1]\n0\n\n"),
    "smuggle_chunk_long_ext": req("POST /forward HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                                  b"3;" + b"e" * 3500 + b"\r\n[1]\r\n0\r\n\r\n"),
    # odd targets, methods, versions and bytes
    "path_nul": req("GET /healthz%00 HTTP/1.1") + req("GET /forward%00x HTTP/1.1")
                + post("/forward?slope=1%00x", "[1]"),
    "header_nul_cr": b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Request-Id: a\x00b\r\n"
                     b"X-B: c\rd\r\n\r\n",
    "absolute_form": b"GET http://a/healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                     b"GET http://a:80/forward?slope=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    "connect": b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    "unknown_methods": req("FOO /forward HTTP/1.1") + req("PURGE /healthz HTTP/1.1")
                       + req("DELETE /v2/models/leaky_relu/infer HTTP/1.1"),
    "version_2": b"GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n",
    "version_09": b"GET /healthz\r\n\r\n",
    "version_bad": b"GET /healthz HTTP/1.x\r\nHost: a\r\n\r\n",
    "query_odd": req("GET /plot.svg?&&slope=&=1&slope=0.1&x HTTP/1.1")
                 + post("/forward?slope=1&slope=2&dtype=float16&extra=1", "[1]"),
    "upgrade_h2c": req("GET /healthz HTTP/1.1",
                       "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n"),
    "content_type_odd": post("/forward", "[1]", "Content-Type: text/html\r\n")
                        + post("/forward", "[1]", "Content-Type: application/json; charset=utf-8\r\n"),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz_corpus_http")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        assert len(data) < 4096, f"{name}: {len(data)} bytes"
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
