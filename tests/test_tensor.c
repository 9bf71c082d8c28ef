/* Tests of the tensor writer (src/tensor.c): repeated values copied, and
 * replies written in pieces and ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/numfmt.h"
#include "../src/tensor.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* The writer copies the text of a value seen among the last two distinct
 * ones instead of formatting it again: the reply must be exactly what
 * formatting every element gives, for runs, alternations, long texts and
 * values that differ only in sign. */
void test_tensor_write_repeats(void)
{
    static const double values[] = {1.0, 0.01, -0.0, 0.0, -1.2345678901234567e-300,
                                  123456.789, 1e22, -2.5, 5e-324};
    enum { ROWS = 7, COLS = 300 };
    tensor t;
    tensor_init(&t);
    ASSERT_EQ(tensor_reserve(&t, ROWS * COLS), 0);
    uint64_t state = 12345;
    for (size_t i = 0; i < ROWS * COLS; i++) {
        uint64_t u = test_rand(&state);
        /* long runs, then two alternating values, then anything */
        size_t pick = i < 200 ? 4 : i < 900 ? (u >> 60) % 2 : (u >> 59) % 9;
        t.data[i] = values[pick];
    }
    t.count = ROWS * COLS;
    t.ndim = 2;
    t.shape[0] = ROWS;
    t.shape[1] = COLS;
    size_t bound = tensor_json_bound(&t);
    char *got = malloc(bound), *want = malloc(bound);
    ASSERT(got && want);
    char *end = tensor_write_json(&t, got);
    char *w = want;
    for (size_t r = 0; r < ROWS; r++) {
        *w++ = r ? ',' : '[';
        if (r)
            *w++ = ' ';
        *w++ = '[';
        for (size_t c = 0; c < COLS; c++) {
            if (c) {
                memcpy(w, ", ", 2);
                w += 2;
            }
            char buf[NUMFMT_F64_BUF];
            char *e = numfmt_f64(t.data[r * COLS + c], buf);
            memcpy(w, buf, (size_t)(e - buf));
            w += e - buf;
        }
        *w++ = ']';
    }
    *w++ = ']';
    ASSERT_EQ((size_t)(end - got), (size_t)(w - want));
    ASSERT(memcmp(got, want, (size_t)(w - want)) == 0);
    free(got);
    free(want);
    tensor_free(&t);
}

/* Writes elements [begin, end) of t in pieces of at most cap bytes,
 * appending to *w; checks every piece's size. */
static void write_range_in_pieces(const tensor *t, size_t begin, size_t end, size_t cap,
                                  char **w)
{
    tensor_cursor c;
    tensor_cursor_init(&c, t, begin, end);
    char *piece = malloc(cap);
    ASSERT(piece != NULL);
    size_t n;
    while ((n = tensor_write_piece(&c, piece, cap)) > 0) {
        ASSERT(n <= cap);
        memcpy(*w, piece, n);
        *w += n;
    }
    free(piece);
}

/* Pieces of every size, of whole tensors and of ranges written apart,
 * join into exactly tensor_write_json's text, for all kinds of shapes. */
void test_tensor_write_pieces(void)
{
    static const double values[] = {1.0, 0.01, -0.0, -1.2345678901234567e-300, 123456.789,
                                  1e22, -2.5, 5e-324, 0.1};
    static const size_t shapes[][5] = { /* ndim, then the shape */
        {1, 1}, {1, 5}, {1, 1000}, {2, 3, 4}, {3, 2, 1, 3}, {4, 1, 1, 1, 1}, {2, 7, 300},
        {3, 1000, 1, 2}, {4, 2, 1, 3, 1},
    };
    static const size_t caps[] = {TENSOR_PIECE_MIN, TENSOR_PIECE_MIN + 1, 300, 1000, 65536};
    uint64_t state = 99;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        tensor t;
        tensor_init(&t);
        t.ndim = (int)shapes[si][0];
        size_t count = 1;
        for (int k = 0; k < t.ndim; k++)
            count *= (t.shape[k] = shapes[si][k + 1]);
        ASSERT_EQ(tensor_reserve(&t, count), 0);
        for (size_t i = 0; i < count; i++) {
            t.data[i] = values[(test_rand(&state) >> 33) % (sizeof values / sizeof values[0])];
        }
        t.count = count;
        size_t bound = tensor_json_bound(&t);
        char *want = malloc(bound), *got = malloc(bound + TENSOR_PIECE_MIN);
        ASSERT(want && got);
        size_t want_len = (size_t)(tensor_write_json(&t, want) - want);
        for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
            char *w = got;
            write_range_in_pieces(&t, 0, count, caps[ci], &w);
            if ((size_t)(w - got) != want_len || memcmp(got, want, want_len) != 0)
                tap_fail(__FILE__, __LINE__, "shape %zu, cap %zu: pieces differ", si, caps[ci]);
            /* the same in three ranges, as worker threads write them */
            size_t a = count / 3, b = count - count / 4;
            w = got;
            write_range_in_pieces(&t, 0, a, caps[ci], &w);
            write_range_in_pieces(&t, a, b, caps[ci], &w);
            write_range_in_pieces(&t, b, count, caps[ci], &w);
            if ((size_t)(w - got) != want_len || memcmp(got, want, want_len) != 0)
                tap_fail(__FILE__, __LINE__, "shape %zu, cap %zu: ranges differ", si, caps[ci]);
        }
        free(want);
        free(got);
        tensor_free(&t);
    }
}
