/* Helpers shared by the tests: one pseudo-random generator, bit patterns
 * and data files, big bodies, the PyTorch cases and the reader checks. */
#ifndef LEAKYRELU_TEST_HELPERS_H
#define LEAKYRELU_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../src/api.h"
#include "../src/errors.h"
#include "../src/pool.h"
#include "../src/request.h"

/* Knuth's MMIX linear congruential generator: advances *state and returns
 * the new state. Every test seeds its own state, so its values are fixed. */
uint64_t test_rand(uint64_t *state);

/* The next state's top 53 bits as a double in [0, 1). */
double test_rand_unit(uint64_t *state);

/* The double with bit pattern u, and the bit pattern of d. */
double test_from_bits(uint64_t u);
uint64_t test_to_bits(double d);

/* Opens tests/data/<name> for reading; NULL (and a failure) when it
 * cannot be opened. */
FILE *test_open_data(const char *name);

/* Everything read from fd until end of file, NUL-terminated and
 * malloc'd; NULL when out of memory. */
char *test_read_fd(int fd);

/* The value of the series written exactly as `series` ("name{labels}")
 * in a Prometheus exposition, or `missing` when it is absent. */
double test_series(const char *text, const char *series, double missing);

/* 1 when this binary is built with AddressSanitizer or the server runs
 * under $LEAKYRELU_WRAPPER (valgrind): ten times slower or more, so the
 * largest tests run smaller (and say so). */
int test_instrumented(void);

/* 1 when LEAKYRELU_HARD=1 (make test-hard): tests run at full size. */
int test_hard(void);

/* Milliseconds on the monotonic clock, for measuring how long a wait took. */
long long test_now_ms(void);

/* A body of random doubles of the given shape (bare, or as {"x": ...})
 * and, in *want, its exact /forward reply for slope 0.01; both malloc'd.
 * The same shape gives the same body. */
char *test_big_body(const size_t *shape, int ndim, int object, char **want);

/* {"x": X, "dtype": "float32"} with X rows x cols numbers, a quarter of
 * them texts whose double lies on a float32 tie (or at the edges of
 * float32's range), and in *want the exact /forward reply (slope 0.01):
 * each number rounded once to float32 (strtof), in float32 arithmetic.
 * Both malloc'd. */
char *test_f32_body(size_t rows, size_t cols, char **want);

/* Called for each request of a PyTorch case: `line` counts from 0, which
 * is 0 forward, 1 gradient, 2 backward; req is the body, want the exact
 * reply. Both are valid only during the call. */
typedef void test_torch_fn(void *arg, int line, int which, const char *req, const char *want);

/* Calls fn for the three requests of every line of torch_cases.jsonl (a
 * line it cannot read is a failure). Returns the number of lines, or -1
 * (a failure) when the file cannot be opened. */
int test_torch_cases(test_torch_fn *fn, void *arg);

/* The 60 "f32" cases of torch_extra.jsonl as requests with "dtype":
 * "float32" (before x in half of them, last in the others): forward,
 * gradient and backward, each reply exactly PyTorch's float32 values in
 * the reference formatter's shortest float32 text. Returns the cases
 * read, -1 when the file is missing. */
int test_torch_f32_cases(test_torch_fn *fn, void *arg);

/* The 40 "prelu" cases of torch_extra.jsonl (float64, x of shape (N, C,
 * L), a slope per channel): for each, fn gets /forward's request and its
 * exact reply (backward 0), then /gradient's with grad_output (backward
 * 1), the exact start of its reply ({"grad": ..., without the rest) and
 * PyTorch's grad_slope (n numbers). Returns the cases read. */
typedef void test_prelu_fn(void *arg, int line, const char *req, int backward, const char *want,
                           const double *grad_slope, size_t n);
int test_torch_prelu_cases(test_prelu_fn *fn, void *arg);

/* 1 when got is want, then `, "grad_slope": [...]}` with n numbers each
 * within a relative 1e-12 of gs's. */
int test_check_grad_slope(const char *got, const char *want, const double *gs, size_t n);

/* Decoding cases, shared by request_decode and request_reader: body,
 * kind, expected error, offset (-1: none), path. */
typedef struct test_decode_case {
    const char *body;
    request_kind kind;
    lr_err code;
    long offset;
    const char *path;
} test_decode_case;
extern const test_decode_case test_decode_cases[];
extern const size_t test_decode_count;

/* Up to max cuts in (0, len) for feeding a body in pieces of 1 to `piece`
 * bytes, from the generator *state; returns how many. */
size_t test_random_cuts(uint64_t *state, size_t len, size_t piece, size_t *cuts, size_t max);

/* Reads body through a request_reader fed in pieces ending at cuts[] (and
 * the rest), reading after every `batch` bytes (0: the default), and
 * checks the outcome equals request_parse's on the whole body: status,
 * error code, offset, path and message, members and tensors bit for bit.
 * Returns the numbers the reader read in parts. */
size_t test_check_reader(const char *body, size_t len, request_kind kind, const size_t *cuts,
                         size_t ncuts, size_t batch, pool *workers, const char *what);

/* test_check_reader on body cut in two at every byte boundary (at 64
 * spread ones past 256 bytes), and fed one byte at a time. */
void test_check_reader_everywhere(const char *body, request_kind kind, const char *what);

/* body parsed alone and on workers: the outcomes must be equal (status,
 * error offset, path and message; x bit for bit). Returns the outcome,
 * with x's count and the numbers read in parts on the workers. */
lr_err test_check_on_workers(const char *body, size_t len, pool *workers, size_t *count,
                             size_t *in_parts, const char *what);

/* The most text a reader holds while a body is fed in 16 KiB pieces; the
 * outcome and the count of x's elements in *rc and *count. */
size_t test_max_held(const char *body, size_t len, pool *workers, lr_err *rc, size_t *count);

/* A body for api_handle, fed whole into an api_body (the one way a body
 * reaches the API), read on workers when not NULL. */
api_body *test_api_body(api_route route, const char *text, size_t len, pool *workers);

/* Reads a streamed reply to its end, freeing it, into a malloc'd text of
 * *len bytes (NUL-terminated); NULL (and a failure) when a read fails. */
struct stream;
char *test_stream_text(struct stream *st, size_t *len);

/* zlib's coding of len bytes of src (windowBits: 31 gzip, 15 zlib, -15
 * raw deflate), malloc'd, *out_len bytes; NULL when memory runs out. */
char *test_zcode(const void *src, size_t len, int bits, size_t *out_len);

/* The value of the extra header `name` of an API response, or NULL. */
const char *test_header(const api_response *r, const char *name);

/* ref_numfmt.c: the same text as numfmt_f64, found the slow way with printf
 * and strtod; buf holds 32 bytes. Returns one past the last byte. */
char *ref_numfmt_f64(double v, char *buf);
/* The same for numfmt_f32, reading back with strtof. */
char *ref_numfmt_f32(float v, char *buf);

#endif
