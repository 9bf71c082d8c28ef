/* Tests of reading in parts on workers (src/request.c): long runs of
 * numbers and many rows give exactly what the sequential reader gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/pool.h"
#include "../src/request.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* Long runs of numbers read in parts on workers give exactly what the
 * sequential reader gives: the same values, and for broken bodies the
 * same error (code, offset, path, message), wherever the flaw sits. */
void test_request_parallel_runs(void)
{
    enum { N = 70000 }; /* about 1.4 MB of text per run */
    pool *workers = pool_new(3);
    ASSERT(workers != NULL);
    char *body = malloc((size_t)N * 2 * 32 + 256);
    ASSERT(body != NULL);
    static const char *const flaws[] = {
        NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true", "1.5e+3\n", NULL,
    };
    for (int f = 0; f < (int)(sizeof flaws / sizeof flaws[0]); f++) {
        for (int rows = 1; rows <= 2; rows++) {
            uint64_t state = 7;
            char *p = body;
            p += sprintf(p, "{\"x\": %s", rows == 2 ? "[" : "");
            for (int r = 0; r < rows; r++) {
                *p++ = r ? ',' : '[';
                if (r)
                    p += sprintf(p, " [");
                int extra = f == 10 && r == 1; /* the second row longer: ragged */
                for (int i = 0; i < N + extra; i++) {
                    double v = (test_rand_unit(&state) - 0.5) * 1e6;
                    const char *sep = i == 0 ? "" : (i % 1000 == 999 ? ",\n\t" : ", ");
                    if (flaws[f] && i == (f * 7919) % N && r == rows - 1)
                        p += sprintf(p, "%s%s", sep, flaws[f]);
                    else
                        p += sprintf(p, "%s%.17g", sep, v);
                }
                *p++ = ']';
            }
            p += sprintf(p, "%s}", rows == 2 ? "]" : "");
            char what[64];
            snprintf(what, sizeof what, "flaw %d, %d rows", f, rows);
            size_t count, in_parts;
            lr_err ra =
                test_check_on_workers(body, (size_t)(p - body), workers, &count, &in_parts, what);
            int valid = f == 0 || f == 9 || (f == 10 && rows == 1); /* 9: a fine number */
            ASSERT_EQ(ra == LR_ERR_OK, valid);
            if (ra == LR_ERR_OK) {
                /* the parts were used, not fallen back from */
                ASSERT_EQ(in_parts, count);
                ASSERT(count == (size_t)N * (size_t)rows);
            }
        }
    }
    /* A flaw that follows a whole number ("7 x") as the last element of a
     * part: numbers of one width put the parts' cuts (the first comma
     * after each quarter of the bytes, with 3 workers) at known places. */
    for (int cut = 1; cut <= 3; cut++) {
        for (int d = -2; d <= 2; d++) {
            char *p = body;
            p += sprintf(p, "[");
            for (int i = 0; i < N; i++)
                p += sprintf(p, "%s%s", i ? ", " : "",
                             i == cut * N / 4 + d ? "7.0000000000000000 x" : "1.2345678901234567");
            p += sprintf(p, "]");
            request a, b;
            lr_error ea, eb;
            request_init(&a);
            request_init(&b);
            lr_err ra = request_parse(body, (size_t)(p - body), REQUEST_FORWARD, &a, &ea);
            lr_err rb = request_parse_on(body, (size_t)(p - body), REQUEST_FORWARD, workers, &b,
                                         &eb);
            ASSERT(ra != LR_ERR_OK);
            if (ra != rb || ea.offset != eb.offset)
                tap_fail(__FILE__, __LINE__, "cut %d%+d: alone %d at %zu, on workers %d at %zu",
                         cut, d, ra, ea.offset, rb, eb.offset);
            request_free(&a);
            request_free(&b);
        }
    }
    free(body);
    pool_free(workers);
}

/* Flaws of a rows body: a number replaced (1-8), a row changed (9-11, 16),
 * the separator before a row changed (12-15), a row too many or too few
 * in a 3-D block (17-18). */
static const char *const rows_flaws[] = {
    NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true",
    "short row", "long row", "empty row", " [", "], [", "\n\t,  [\r\n", "[[", ")",
    "extra row", "missing row",
};

/* A rows body: "[[n, ...], ...]" of rows x cols numbers from nums (each
 * number's text at nums + at[k]), 3-D as [2][rows / 2][cols] when deep,
 * with flaw f at row fr, column fc. Returns its length. */
static size_t rows_body(char *out, const char *nums, const size_t *at, size_t n_nums, size_t rows,
                        size_t cols, int deep, int f, size_t fr, size_t fc)
{
    const char *flaw = rows_flaws[f];
    char *p = out;
    size_t per = rows / 2, i = 0;
    p += sprintf(p, "{\"slope\": 0.25, \"x\": [%s[", deep ? "[" : "");
    for (size_t r = 0; r < rows; r++) {
        if (r) {
            const char *sep = deep && r % per == 0 ? "], [[" : ", [";
            if (r == fr && (f == 12 || f == 13 || f == 14))
                sep = flaw;
            else if (r == fr && f == 15)
                sep = ", [[";
            p += sprintf(p, "%s", sep);
        }
        if (deep && r == fr && f == 17) { /* one more row in this block */
            for (size_t c = 0; c < cols; c++)
                p += sprintf(p, "%s%zu", c ? ", " : "", c);
            p += sprintf(p, "], [");
        }
        size_t n = cols - (r == fr && f == 9) + (r == fr && f == 10);
        if (r == fr && f == 11)
            n = 0;
        if (deep && r == fr && f == 18) { /* this row left out of its block */
            p -= 3;                     /* the ", [" just written */
            i += cols;
            continue;
        }
        for (size_t c = 0; c < n; c++, i++) {
            if (c)
                p += sprintf(p, ", ");
            if (r == fr && c == fc && f >= 1 && f <= 8) {
                p += sprintf(p, "%s", flaw);
            } else {
                size_t k = i % n_nums;
                memcpy(p, nums + at[k], at[k + 1] - at[k]);
                p += at[k + 1] - at[k];
            }
        }
        *p++ = r == fr && f == 16 ? ')' : ']';
        if (r == fr && f == 15)
            *p++ = ']';
    }
    p += sprintf(p, "]%s}", deep ? "]" : "");
    return (size_t)(p - out);
}

/* Many rows of one length are read in parts too: cut after rows, each
 * part checked to be exactly rows of numbers, on workers while the caller
 * waits (the whole body held) and while the reader receives (read ahead).
 * Outcomes equal request_parse's on every flaw in a row or between rows,
 * at the first row, in later parts and at the last row; valid bodies (2-D
 * and 3-D) are read in parts. */
void test_request_rows(void)
{
    enum { N = 60000 }; /* about 1.2 MB */
    char *nums = malloc((size_t)N * 32), *body = malloc((size_t)N * 2 * 40 + 4096);
    size_t *at = malloc((N + 1) * sizeof *at);
    pool *workers = pool_new(3), *one = pool_new(1);
    ASSERT(nums && body && at && workers && one);
    if (!nums || !body || !at || !workers || !one)
        goto out;
    uint64_t state = 11;
    at[0] = 0;
    for (size_t i = 0; i < N; i++) {
        at[i + 1] = at[i] + (size_t)sprintf(nums + at[i], "%.17g",
                                             (test_rand_unit(&state) - 0.5) * 1e3);
    }
    static const size_t widths[] = {12, 1000};
    for (int w = 0; w < 2; w++) {
        size_t cols = widths[w];
        for (int f = 0; f < (int)(sizeof rows_flaws / sizeof rows_flaws[0]); f++) {
            for (int deep = 0; deep <= 1; deep++) {
                if ((f >= 17) != deep && f != 0)
                    continue; /* the block flaws are 3-D only */
                /* 3-D: two blocks of N numbers, over REQUEST__PARALLEL_RUN_BYTES each */
                size_t rows = (deep ? 2 * N : N) / cols / 2 * 2;
                const size_t places[][2] = {
                    {0, 0}, {1, cols / 2}, {rows / 2 + 3, cols - 1}, {rows - 1, 1}};
                for (int k = 0; k < (f ? 4 : 1); k++) {
                    size_t fr = places[k][0], fc = places[k][1];
                    if ((f >= 12 && f <= 14) && fr == 0)
                        fr = 2; /* between rows: not before the first */
                    if (f >= 17 && fr % (rows / 2) == 0)
                        fr++;
                    size_t len = rows_body(body, nums, at, N, rows, cols, deep, f, fr, fc);
                    char what[64];
                    snprintf(what, sizeof what, "%zu cols, flaw %d at row %zu%s", cols, f, fr,
                             deep ? " (3-D)" : "");
                    size_t count, in_parts;
                    lr_err ra = test_check_on_workers(body, len, workers, &count, &in_parts, what);
                    int valid = f == 0 || f == 14;
                    ASSERT_EQ(ra == LR_ERR_OK, valid);
                    if (valid) /* the rows after the first were read in parts */
                        ASSERT_EQ(in_parts, count - cols);
                    /* and read as they arrive, in pieces of up to 40 KiB */
                    size_t cuts[100], n = test_random_cuts(&state, len, 40 * 1024, cuts, 100);
                    in_parts = test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0,
                                            k % 2 ? one : workers, "rows read ahead");
                    if (valid)
                        ASSERT(in_parts > (size_t)N / 2);
                }
            }
        }
    }
    /* A long first row, then many short ones: no room is reserved for
     * rows x cols numbers the text cannot hold (it was 2.4 GB here). */
    char *p = body;
    p += sprintf(p, "[[0");
    for (int i = 1; i < 1000; i++)
        p += sprintf(p, ",0");
    for (int i = 0; i < 300000; i++)
        p += sprintf(p, "], [0");
    p += sprintf(p, "]]");
    request q;
    lr_error e;
    request_init(&q);
    ASSERT_EQ(request_parse_on(body, (size_t)(p - body), REQUEST_FORWARD, workers, &q, &e),
              LR_ERR_RAGGED);
    ASSERT(q.x.cap <= (size_t)(p - body));
    request_free(&q);
out:
    pool_free(workers);
    pool_free(one);
    free(nums);
    free(body);
    free(at);
}
