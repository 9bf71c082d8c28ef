/* Tests of src/stream.c: a reply read in any sizes is exactly
 * tensor_write_json's text with its head and tail, alone and on workers
 * (the slot ring turning many times); a stream freed half read. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/pool.h"
#include "../src/stream.h"
#include "../src/tensor.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* A tensor of the given shape filled with values of many text lengths. */
static void fill(tensor *t, const size_t *shape, int ndim, uint64_t seed)
{
    static const double values[] = {1.0, 0.01, -0.0, -1.2345678901234567e-300, 123456.789,
                                    1e22, -2.5, 5e-324, 0.1};
    tensor_init(t);
    t->ndim = ndim;
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= (t->shape[k] = shape[k]);
    ASSERT_EQ(tensor_reserve(t, n), 0);
    for (size_t i = 0; i < n && t->data; i++) {
        uint64_t r = test_rand(&seed);
        t->data[i] = r % 3 ? test_rand_unit(&seed) * 1e3 - 500 : values[(r >> 33) % 9];
    }
    t->count = t->data ? n : 0;
}

/* The text a stream of t must give: {"key": T} or the bare T. */
static char *expected(const tensor *t, const char *key, size_t *len)
{
    char *want = malloc(tensor_json_bound(t) + 32), *w = want;
    ASSERT(want != NULL);
    if (!want)
        return NULL;
    if (key)
        w += sprintf(w, "{\"%s\": ", key);
    w = tensor_write_json(t, w);
    if (key)
        *w++ = '}';
    *len = (size_t)(w - want);
    return want;
}

/* Reads st to its end with sizes from 1 byte up and checks its text is
 * exactly want[0, want_len). */
static void check_read_in_sizes(stream *st, const char *want, size_t want_len)
{
    static const size_t reads[] = {1, 7, 300, 65536, 259, 260, 4096, 2};
    size_t got_len = 0;
    char *got = malloc(want_len + 65536);
    ASSERT(got != NULL);
    for (size_t r = 0; got; r++) {
        size_t max = reads[r % (sizeof reads / sizeof reads[0])];
        if (got_len + max > want_len + 65536) {
            tap_fail(__FILE__, __LINE__, "the stream runs past the reply's length");
            break;
        }
        ptrdiff_t n = stream_read(st, got + got_len, max);
        if (n < 0 || (size_t)n > max) {
            tap_fail(__FILE__, __LINE__, "read %td bytes of at most %zu", n, max);
            break;
        }
        if (n == 0)
            break;
        got_len += (size_t)n;
    }
    ASSERT_EQ(got_len, want_len);
    ASSERT(got && memcmp(got, want, want_len) == 0);
    free(got);
}

void test_stream_read(void)
{
    static const size_t shapes[][3] = {{4096, 1, 1}, {120, 50, 1}, {10, 41, 13}, {1, 1, 1},
                                       {70000, 1, 1}, {3, 1, 30000}};
    static const int ndims[] = {1, 2, 3, 1, 1, 3};
    pool *pools[3] = {NULL, pool_new(1), pool_new(2)};
    ASSERT(pools[1] && pools[2]);
    for (int si = 0; si < 6; si++) {
        for (int p = 0; p < 3; p++) {
            for (int object = 0; object < 2; object++) {
                const char *key = object ? (si % 2 ? "grad" : "y") : NULL;
                tensor t, copy;
                fill(&t, shapes[si], ndims[si], (uint64_t)si + 1);
                size_t want_len = 0;
                char *want = expected(&t, key, &want_len);
                copy = t;
                char head[16];
                int hl = key ? snprintf(head, sizeof head, "{\"%s\": ", key) : 0;
                stream *st = stream_new(&t, head, (size_t)hl, "}", key ? 1 : 0, pools[p]);
                ASSERT(st != NULL);
                if (st) {
                    ASSERT(t.data == NULL && t.count == 0); /* the data moved */
                    check_read_in_sizes(st, want, want_len);
                    stream_free(st);
                } else {
                    tensor_free(&copy);
                }
                free(want);
            }
        }
    }
    pool_free(pools[1]);
    pool_free(pools[2]);
}

/* A stream freed unread, half read and read to the end, with ranges still
 * queued or being formatted on the workers (the sanitizers and valgrind
 * see what it leaves). */
void test_stream_free_early(void)
{
    pool *workers = pool_new(2);
    ASSERT(workers != NULL);
    size_t shape[] = {200000};
    for (int k = 0; k < 4; k++) {
        tensor t;
        fill(&t, shape, 1, 7);
        stream *st = stream_new(&t, "{\"y\": ", 6, "}", 1, workers);
        ASSERT(st != NULL);
        char buf[1000];
        for (int r = 0; st && r < k * 300; r++)
            ASSERT(stream_read(st, buf, sizeof buf) > 0);
        if (st && k == 3)
            while (stream_read(st, buf, sizeof buf) > 0) {
            }
        stream_free(st);
    }
    stream_free(NULL);
    pool_free(workers);
}
