/* Every test of the test binary, in running order. */
#ifndef LEAKYRELU_TESTS_H
#define LEAKYRELU_TESTS_H

#include <stddef.h>

#define TEST_LIST(X)                                                           \
    X(numfmt_layout)                                                           \
    X(numfmt_vectors)                                                          \
    X(numparse_grammar)                                                        \
    X(numparse_vectors)                                                        \
    X(numparse_fxx)                                                            \
    X(numcodec_roundtrip)                                                      \
    X(numfmt_vs_reference)                                                     \
    X(numparse_vs_strtod)                                                      \
    X(numparse_sticky)                                                         \
    X(numparse_run)                                                            \
    X(numparse_count_commas)                                                   \
    X(errors_table)                                                            \
    X(errors_render)                                                           \
    X(errors_quote_bytes)                                                      \
    X(kernel_scalar)                                                           \
    X(kernel_variants)                                                         \
    X(tensor_write_repeats)                                                    \
    X(tensor_write_pieces)                                                     \
    X(api_stream)                                                              \
    X(pool)                                                                    \
    X(request_decode)                                                          \
    X(request_shapes)                                                          \
    X(request_deep)                                                            \
    X(request_parallel_runs)                                                   \
    X(request_reader)                                                          \
    X(request_reader_ahead)                                                    \
    X(request_reader_skips)                                                    \
    X(request_rows)                                                            \
    X(api_compute)                                                             \
    X(api_routes)                                                              \
    X(api_torch_cases)                                                         \
    X(config)                                                                  \
    X(http_endpoints)                                                          \
    X(http_compute)                                                            \
    X(http_errors)                                                             \
    X(http_body_limit)                                                         \
    X(http_torch_cases)                                                        \
    X(http_stream)                                                             \
    X(http_stream_slow_reader)                                                 \
    X(http_keepalive)                                                          \
    X(http_concurrent)                                                         \
    X(http_garbage)                                                            \
    X(http_timeout)                                                            \
    X(http_shutdown)                                                           \
    X(http_flags)

#define TEST_DECLARE(name) void test_##name(void);
TEST_LIST(TEST_DECLARE)
#undef TEST_DECLARE

/* test_core.c: builds request `req` and the exact reply `want` (len bytes
 * each) for line `line` of torch_cases.jsonl; which: 0 forward, 1 gradient,
 * 2 backward. Returns 0, or -1 for an unreadable line. */
int torch_case(const char *line, int which, char *req, char *want, size_t len);

/* test_core.c: a body of random doubles of the given shape (bare, or as
 * {"x": ...}) and, in *want, its exact /forward reply for slope 0.01; both
 * malloc'd. */
char *test_big_body(const size_t *shape, int ndim, int object, char **want);

/* ref_numfmt.c: the same text as numfmt_f64, found the slow way with printf
 * and strtod; buf holds 32 bytes. Returns one past the last byte. */
char *ref_numfmt_f64(double v, char *buf);

#endif
