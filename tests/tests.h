/* Every test of the test binary, in running order. */
#ifndef LEAKYRELU_TESTS_H
#define LEAKYRELU_TESTS_H

#define TEST_LIST(X)                                                           \
    X(numfmt_layout)                                                           \
    X(numfmt_vectors)                                                          \
    X(numparse_grammar)                                                        \
    X(numparse_vectors)                                                        \
    X(numparse_fxx)                                                            \
    X(numcodec_roundtrip)

#define TEST_DECLARE(name) void test_##name(void);
TEST_LIST(TEST_DECLARE)
#undef TEST_DECLARE

#endif
