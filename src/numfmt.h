/* Writing doubles and float32 values as the shortest text that reads back
 * exactly, laid out as Python's repr(float). */
#ifndef LEAKYRELU_NUMFMT_H
#define LEAKYRELU_NUMFMT_H

/* Longest text numfmt_f64 writes: a sign, 17 digits, a point and "e-308"
 * ("-2.2250738585072014e-308"). No terminating NUL is written. */
#define NUMFMT_F64_MAX 24

/* Bytes numfmt_f64 may touch from buf: it writes with fixed-size copies
 * and leaves scratch bytes after the text (up to this many in all). */
#define NUMFMT_F64_BUF 40

/* Writes v into buf as CPython's repr(float) / json.dumps does and returns a
 * pointer one past the last byte written (no NUL).
 * Digits: the shortest decimal that reads back to exactly v; among several of
 * that length, the closest to v.
 * Layout, with decimal exponent k (v = 0.d1d2... * 10^k):
 *   -4 < k <= 16: positional, always with a fraction: "2.0", "0.001",
 *                 "1234567890123456.0";
 *   otherwise:    d[.ddd]e[+-]XX with at least two exponent digits:
 *                 "1e-05", "1e+16", "1.5e+300".
 * Specials: "0.0", "-0.0"; NaN and infinities as Python's json module writes
 * them ("NaN", "Infinity", "-Infinity"), though the service never emits them.
 * `buf` must hold NUMFMT_F64_BUF bytes; the bytes after the returned
 * pointer are scratch. Does not allocate; thread-safe. */
char *numfmt_f64(double v, char buf[NUMFMT_F64_BUF]);

/* Longest text numfmt_f32 writes: a sign, 16 digits and ".0"
 * ("-1000000000000000.0"); exponent forms are shorter
 * ("-1.17549435e-38"). */
#define NUMFMT_F32_MAX 19

/* Bytes numfmt_f32 may touch from buf (as NUMFMT_F64_BUF). */
#define NUMFMT_F32_BUF NUMFMT_F64_BUF

/* numfmt_f64 for a float32: the shortest decimal that reads back to
 * exactly v when rounded to float32 (the closest of that length), in the
 * same layout: 0.1f is "0.1", not the "0.10000000149011612" of the
 * double it widens to; "1e-05", "2.0", "3.4028235e+38". Specials as
 * numfmt_f64's. Does not allocate; thread-safe. */
char *numfmt_f32(float v, char buf[NUMFMT_F32_BUF]);

/* For tests: numfmt_f64 and numfmt_f32 with every choice of digits made by
 * the exact Schubfach path, never the one-product fast path; the same text
 * by construction, slower. */
char *numfmt__exact_f64(double v, char buf[NUMFMT_F64_BUF]);
char *numfmt__exact_f32(float v, char buf[NUMFMT_F32_BUF]);

#endif
