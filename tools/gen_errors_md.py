#!/usr/bin/env python3
"""Writes docs/errors.md: the error replies, with the table of every code
generated from src/errors.h (its status, and when it is sent). Run by
`make errors-doc`; `make test` fails when docs/errors.md is not what this
writes. Standard library only.

The table's "when" column is the note below for the code, else the
table's own message: a new row in errors.h shows up here with no change to
this file. A note for a code errors.h does not have is an error."""
import sys

import errors_table

# When each code is sent, in more detail than errors.h's message (which
# the service sends when it has nothing more precise to say).
NOTES = {
    "empty_body": "no body",
    "invalid_json": "malformed JSON (unexpected character, unterminated string, bad escape, "
                    "lone surrogate)",
    "invalid_number": "a number outside JSON's grammar (`01`, `.5`, `1.`, `+1`, `0x10`), "
                      "`NaN`, `Infinity`",
    "invalid_utf8": "invalid UTF-8 (overlong forms, surrogates, stray bytes)",
    "trailing_data": "anything after the JSON value",
    "invalid_framing": "`Content-Length` and `Transfer-Encoding` together, two "
                       "`Content-Length`s, `Transfer-Encoding` on HTTP/1.0 (the connection "
                       "is closed)",
    "invalid_host": "an HTTP/1.1 request with no `Host` or more than one (closed)",
    "invalid_content_encoding": "a gzip or deflate body that is malformed or cut short",
    "invalid_target": "a request target with a NUL (`%00`, or a raw one), a malformed "
                      "`%` escape, a space or control byte, or not a path: neither "
                      "`/path` nor `http://host/path` (nor `*` for `OPTIONS`) (closed)",
    "invalid_header": "a header name that is not a token (a space before the colon, a "
                      "folded line), or a value with NUL, CR or LF (RFC 9110 section 5.5; "
                      "closed)",
    "invalid_message": "gRPC only (`INVALID_ARGUMENT`): a request message that is not "
                       "Protocol Buffers wire data (a truncated field, a bad varint or tag)",
    "not_found": "unknown path; inference: unknown model or version",
    "method_not_allowed": "wrong method; the `Allow` header lists the right ones "
                          "(`OPTIONS` is always one: 204)",
    "body_too_large": "body over `--max-body`: decided from Content-Length before reading "
                      "(the connection is then closed), and while reading chunked bodies "
                      "(the rest is read and dropped, and the 413 follows the body's end); "
                      "also a request that needs more memory than the whole "
                      "`--max-memory` (it never fits)",
    "unsupported_media_type": "a Content-Type other than `application/json`, "
                              "`application/x-www-form-urlencoded`, `text/plain`, "
                              "`application/octet-stream` or none",
    "unsupported_content_encoding": "a `Content-Encoding` other than `gzip`, `deflate` or "
                                    "`identity`, or more than one",
    "invalid_body": "the body is a string, boolean or null; inference: not an object",
    "missing_x": "the object has no `x`",
    "not_a_number": "an element is a string, boolean, null or object",
    "ragged_array": "nested arrays of different lengths or depths",
    "too_deep": "more than 32 levels of arrays in `x`, or a document nested more than 64 "
                "levels (still checked to the end for syntax errors)",
    "number_out_of_range": "a number beyond the double range, like `1e400`; for float32, "
                           "beyond float32's (`1e39`), with its path",
    "invalid_slope": "slope not a number or a flat, non-empty array of numbers (the path "
                     "names the element), beyond the double range (float32's for float32), "
                     "or a bad `?slope=`",
    "slope_count_mismatch": "a list of slopes neither 1 long nor as long as `x`'s axis 1 "
                            "(its channels; 1 below 2 dimensions); the message names the "
                            "count expected",
    "slope_conflict": "slope both in the body and the query (or twice in the query)",
    "invalid_dtype": "`dtype` (member or `?dtype=`) other than `\"float64\"` or "
                     "`\"float32\"`",
    "dtype_conflict": "dtype both in the body and the query (or twice in the query)",
    "shape_mismatch": "`grad_output` and `x` differ in shape; a binary body's `?shape=` "
                      "does not hold its numbers; inference: `data` does not fill `shape`",
    "invalid_shape": "a `?shape=` that is not sizes separated by commas (or is given twice)",
    "invalid_binary_length": "a binary body that is not a whole number of elements of its "
                             "dtype (or, with `grad_output=1`, two equal halves)",
    "unknown_member": "members other than `x`, `slope`, `dtype` (and `grad_output` on "
                      "`/gradient`); all are named; inference: members the protocol does "
                      "not define",
    "duplicate_member": "a member given twice",
    "unknown_parameter": "a query parameter other than `slope` and `dtype` (binary bodies: "
                         "also `shape`, and `grad_output=1` on `/gradient`; `/plot.svg`: "
                         "also `xmin`, `xmax`, `what`, `width`, `height`)",
    "invalid_parameter": "inference: a parameter of the wrong type (`binary_data_output` not "
                         "a boolean); `/plot.svg`: a parameter out of its bounds (`xmin >= "
                         "xmax`, a width past 4096), its name in `path`",
    "invalid_input": "inference: an input missing, unknown (not `x` or `grad_output`), given "
                     "twice, without `name`, `shape` or `datatype`, with neither or both of "
                     "`data` and `binary_data_size`; `grad_output` on `leaky_relu`",
    "invalid_output": "inference: an output the model does not have, or asked for twice",
    "invalid_member": "inference: a member of the wrong type (`id` not a string), or one "
                      "over 64 KiB that is not `data`",
    "result_not_finite": "the result overflows (`slope * x` beyond the double range, or "
                         "float32's), or a `grad_slope` sum does (its path names the slope), "
                         "or a plotted curve does",
    "unsupported_transfer_encoding": "a `Transfer-Encoding` other than `chunked` (closed)",
    "method_not_implemented": "a method no endpoint serves (`PUT`, `DELETE`, `CONNECT`, "
                              "`TRACE`, lower-case `get`, ...): only `GET`, `HEAD`, `POST` "
                              "and `OPTIONS` are",
    "out_of_memory": "the server could not allocate; retry",
    "overloaded": "the memory budget had no room for the request within `--queue-timeout`, "
                  "or `--max-queue` requests wait already; `Retry-After: 1` "
                  "([operations.md](operations.md#memory-budget))",
    "shutting_down": "`/readyz` once SIGTERM arrived (inference's ready endpoints: 400)",
}

HEAD = """\
<!-- Generated by tools/gen_errors_md.py from src/errors.h: edit those, and
     run `make errors-doc`. `make test` fails when this file differs. -->
# Errors

Every error the service sends is JSON, with a status that says whose fault
it is (4xx: the request's, 5xx: the server's). Contents:
[The reply](#the-reply) · [Every code](#every-code) ·
[Which error wins](#which-error-wins) ·
[Replies that are libmicrohttpd's](#replies-that-are-libmicrohttpds-not-the-services) ·
back to the [README](../README.md)

## The reply

`{"error": "<what and where, for people>", "code": "<for programs>", ...}`
with `"offset"` (byte offset in the body) for syntax errors and `"path"`
(like `"x[3][1]"`) for element errors. Programs should test `code`; the
message may change.

```console
$ curl -s -d '[1, 2' localhost:8080/forward
{"error": "unexpected end of input; expected ',' or ']' at byte 5", "code": "invalid_json", "offset": 5}
$ curl -s -d '[[1, 2], [3, "4"]]' localhost:8080/forward
{"error": "expected a number, got a string at x[1][1]", "code": "not_a_number", "path": "x[1][1]"}
$ curl -s -i localhost:8080/forward
HTTP/1.1 405 Method Not Allowed
Date: ...
Connection: close
Content-Type: application/json
X-Request-Id: ...
Allow: POST, OPTIONS
Content-Length: 83

{"error": "GET is not allowed on /forward; use POST", "code": "method_not_allowed"}
```

Messages quote what the client sent (member names, bad escapes, paths,
Content-Types); bytes that are not printable UTF-8 are shown as `\\xNN`, so
every error body is valid JSON.

The Open Inference Protocol's endpoints send the same replies, with 400 in
place of 422, and 400 for `shutting_down`
([inference-protocol.md](inference-protocol.md#errors)). The OpenAPI
document (`GET /openapi.json`) lists, for each operation's error statuses,
the codes below.

## Every code

| status | code | when |
|---|---|---|
"""

TAIL = """
## Which error wins

A syntax error anywhere wins over a request error (400 before 422); among
request errors the first in the document is reported, except that unknown
members are reported first, all together.

```console
$ curl -s -d '{"x": [1, "a"], "slop": 1, "dtyp": 2}' localhost:8080/forward
{"error": "unknown members \\"slop\\", \\"dtyp\\"; expected \\"x\\", \\"slope\\", \\"dtype\\"", "code": "unknown_member"}
$ curl -s -d '{"x": [1, "a"], "slop": 1' localhost:8080/forward
{"error": "unexpected end of input; expected ',' or '}' at byte 25", "code": "invalid_json", "offset": 25}
```

## Replies that are libmicrohttpd's, not the service's

Every malformed request the service can see is answered with its JSON
error (or the connection closed where no answer can be trusted).
libmicrohttpd 0.9.75 (Debian 12) answers a few before the service sees
them, with HTML and no Content-Type; it has no option, callback or hook
that runs first (its source was read for each: `connection.c`, the
`transmit_error_response` calls), so the service cannot change them:

| status | when | why it cannot be the service's |
|---|---|---|
| 505 | a request line version other than HTTP/1.0 or 1.1 (`HTTP/2.0`, `HTTP/0.9`) | checked while the request line is parsed |
| 400 | a version not of the form `HTTP/d.d`, or a header line with no colon or a NUL in its name | as above, and per header line |
| 414, 431 | a request line, or a head, larger than the per-connection memory (`--connection-memory`, 32 KB by default) | it cannot hold them to hand them over |
| 400, 413 | a `Content-Length` that is not a number, or beyond 2^64 (it writes its status and header lines twice) | parsed before the first call to the service |
| 400, 413 | a chunk-size line that is not hexadecimal, a chunk size beyond 2^64, no CRLF after a chunk's data | parsed between the service's calls for the body |
| 500 | a chunk-size line with a chunk extension longer than the per-connection memory (`9;` and 40,000 bytes) | its read buffer is full with no line end: it answers 500 "connection management and blocking" itself; a longer `--connection-memory` only moves the limit. Fixed in libmicrohttpd 1.0 (413) |

Requests answered so are counted in `/metrics` as aborted
(`leakyrelu_requests_aborted_total{route="none"}`) once their target had
arrived, and logged with status 0. A header line starting with `:` after
the first ends the head there (the rest is read as the next request); a
request line without a space, or too many query parameters for the
connection's memory, closes the connection with no reply.
"""


def cell(text):
    return text.replace("|", "\\|")


def main():
    rows = [e for e in errors_table.read() if e.status >= 400]
    stale = set(NOTES) - {e.code for e in rows}
    if stale:
        sys.exit(f"gen_errors_md.py: notes for codes src/errors.h does not have: "
                 f"{', '.join(sorted(stale))}")
    out = [HEAD]
    for e in rows:
        out.append(f"| {e.status} | `{e.code}` | {cell(NOTES.get(e.code, e.message))} |\n")
    out.append(TAIL)
    sys.stdout.write("".join(out))


main()
