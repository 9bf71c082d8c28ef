/* Tests of the request reader (src/request.c) fed a body in pieces: the
 * same outcomes as a whole body, read ahead on workers, little text held. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/pool.h"
#include "../src/request.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* One PyTorch request body read at every cut. */
static void torch_in_pieces(void *arg, int line, int which, const char *req, const char *want)
{
    (void)arg;
    (void)line;
    (void)want;
    test_check_reader_everywhere(req, which ? REQUEST_GRADIENT : REQUEST_FORWARD, "torch case");
}

/* Bodies read in pieces give exactly what request_parse gives on the
 * whole: the decode cases, tricky bodies and the PyTorch cases at every
 * cut, large bodies at random cuts. */
void test_request_reader(void)
{
    /* every decode case, and bodies that cut strings, escapes, UTF-8,
     * literals, exponents and skipped members in every place */
    for (size_t i = 0; i < test_decode_count; i++)
        test_check_reader_everywhere(test_decode_cases[i].body, test_decode_cases[i].kind,
                                     "decode case");
    static const char *const more[] = {
        "{\"x\": [[1.5e+300, -2.25E-3], [0, -0]], \"slope\": 1e-2}",
        "{\"a\\u00e9\\ud83d\\ude00\\n\": {\"k\": [true, false, null, \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]}, \"x\": [1]}",
        "{\"x\": [1, 2], \"x\": [3]}",
        "{\"slope\": \"a\", \"x\": [[1], [2, 3]]}",
        "{\"x\": [1, \"two\", [3]], \"slope\": 0.5, \"zz\": [[[[]]]]}",
        "[1, 2] x",
        "[1, 2]   ",
        "{\"x\": [1, 1e999, 2]}",
        "{\"x\": [[1, 2], [3, 4]], \"grad_output\": [[1, 2], [3]]}",
        "\"text\"",
        "{\"x\": [1, 2, 3], \"slope\": tru}",
        "{\"x\": [1, 2, 3], \"slope\": 12.",
        "[1, 2, \"\xc3\"]",
        "{\"x\": [1], \"bad\": \"\\ud83d\"}",
        "123.456e-7",
        "[[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]",
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        for (int kind = 0; kind < 2; kind++)
            test_check_reader_everywhere(more[i], (request_kind)kind, "tricky body");

    (void)test_torch_cases(torch_in_pieces, NULL); /* the 600 PyTorch bodies */

    /* Large bodies at random cuts, with the default batch and a small one,
     * alone and on workers; the text held stays small for valid ones. */
    pool *workers = pool_new(2);
    static const size_t shapes[][2] = {{200000, 1}, {400, 500}};
    uint64_t state = 3;
    for (int si = 0; si < 2; si++) {
        char *want_text, *body = test_big_body(shapes[si], si + 1, si == 0, &want_text);
        size_t len = strlen(body), cuts[4000];
        size_t n = test_random_cuts(&state, len, 9000, cuts, 4000);
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 64 * 1024, NULL,
                                "large body");
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 1000, workers,
                                "large body");
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                                "large body, workers");
        request q;
        lr_error e;
        request_init(&q);
        request_reader *r = request_reader_new(REQUEST_FORWARD, NULL, &q, &e);
        size_t at = 0, held = 0;
        for (size_t i = 0; i < n && r; i++) {
            request_reader_feed(r, body + at, cuts[i] - at);
            at = cuts[i];
            if (request_reader_held(r) > held)
                held = request_reader_held(r);
        }
        if (r) {
            request_reader_feed(r, body + at, len - at);
            ASSERT_EQ(request_reader_finish(r), LR_ERR_OK);
            request_reader_free(r);
        }
        if (held > 256 * 1024) /* measured: 128 KiB; never dropping, 4 MiB */
            tap_fail(__FILE__, __LINE__, "held %zu bytes of a %zu-byte body", held, len);
        /* a flaw late in the body: the same error, offset included */
        body[len - 1000] = 'x';
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 64 * 1024, NULL,
                                "flawed large body");
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                                "flawed, workers");
        request_free(&q);
        free(want_text);
        free(body);
    }
    pool_free(workers);
}

/* Long arrays read as they arrive with workers: runs are read ahead on
 * them while more text comes, and a flaw anywhere in such a run (in the
 * part read before going on, in a part left to the workers, at a cut)
 * sends the reader back to read it in order: every outcome equals
 * request_parse's on the whole body. Valid bodies are read in parts, and
 * hold little text. */
void test_request_reader_ahead(void)
{
    enum { N = 100000 }; /* about 2 MB */
    static const char *const flaws[] = {
        NULL, "1,,2", "\"a]\"", "[3]", "1e999", "01", "-", "1 2", "true", "1.5e+3\n", "7 x",
    };
    /* The numbers' text once (sprintf is the slow part), with where each
     * one starts; each body copies it around its flaw. */
    char *text = malloc((size_t)N * 32), *body = malloc((size_t)N * 32 + 256);
    size_t *starts = malloc((N + 1) * sizeof *starts);
    ASSERT(text && body && starts);
    if (!text || !body || !starts) {
        free(text);
        free(body);
        free(starts);
        return;
    }
    uint64_t state = 5;
    size_t text_len = 0;
    for (size_t i = 0; i < N; i++) {
        double v = (test_rand_unit(&state) - 0.5) * 1e4;
        text_len += (size_t)sprintf(text + text_len, "%s",
                                    i == 0 ? "" : i % 500 == 499 ? ",\n  " : ", ");
        starts[i] = text_len;
        text_len += (size_t)sprintf(text + text_len, "%.17g", v);
    }
    starts[N] = text_len;
    for (unsigned threads = 1; threads <= 2; threads++) {
        pool *workers = pool_new(threads);
        ASSERT(workers != NULL);
        for (int f = 0; f < (int)(sizeof flaws / sizeof flaws[0]); f++) {
            for (int place = 0; place < (flaws[f] ? 3 : 1); place++) {
                int object = (f + place) % 2;
                size_t at_flaw = (size_t)(place * 37 + f * 11) % 100 * (N / 100) + (size_t)place;
                char *p = body;
                p += sprintf(p, "%s[", object ? "{\"x\": " : "");
                if (flaws[f]) { /* the number at_flaw replaced by the flaw */
                    size_t end = starts[at_flaw] + strcspn(text + starts[at_flaw], ",");
                    memcpy(p, text, starts[at_flaw]);
                    p += starts[at_flaw];
                    p += sprintf(p, "%s", flaws[f]);
                    memcpy(p, text + end, text_len - end);
                    p += text_len - end;
                } else {
                    memcpy(p, text, text_len);
                    p += text_len;
                }
                p += sprintf(p, "]%s", object ? ", \"slope\": 0.5}" : "");
                size_t len = (size_t)(p - body), cuts[4000]; /* pieces as sockets give */
                size_t n = test_random_cuts(&state, len, 40 * 1024, cuts, 4000);
                size_t in_parts = test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                                               "read ahead");
                if (!flaws[f] || f == 9) /* 9: a fine number */
                    ASSERT(in_parts > N / 2);
            }
        }
        /* The text held stays within the 1 MiB buffer a reader with workers
         * needs, not the body's 2 MiB: it reads in batches of 576 KiB (two
         * runs read ahead and one batch), and its buffer doubles from 4 KiB.
         * Measured: exactly 1 MiB with 1 and 2 workers; a reader that never
         * drops text holds 2 MiB. */
        char *p = body;
        *p++ = '[';
        memcpy(p, text, text_len);
        p += text_len;
        *p++ = ']';
        size_t len = (size_t)(p - body);
        /* fed in one piece: each number read (and counted) once */
        (void)test_check_reader(body, len, REQUEST_FORWARD, NULL, 0, 0, workers, "one piece");
        lr_err rc;
        size_t count, held = test_max_held(body, len, workers, &rc, &count);
        ASSERT_EQ(rc, LR_ERR_OK);
        ASSERT_EQ(count, (size_t)N);
        if (held > 1024 * 1024)
            tap_fail(__FILE__, __LINE__, "held %zu bytes of a %zu-byte body", held, len);
        pool_free(workers);
    }
    free(text);
    free(starts);
    free(body);
}

/* Bodies checked for syntax only once a request error is found (a string
 * among the numbers, a ragged row, an unknown member with a large value,
 * nested objects skipped) are not held whole either: the reader saves
 * where the syntax check stands when the text runs out. Outcomes equal
 * request_parse's, at random cuts, alone and on workers. */
void test_request_reader_skips(void)
{
    enum { N = 120000 }; /* about 2.5 MB */
    char *body = malloc((size_t)N * 32 + 256);
    ASSERT(body != NULL);
    if (!body)
        return;
    static const struct {
        const char *head, *tail;
    } kinds[] = {
        {"{\"x\": [1, \"a\"", "]}"},
        {"[[1, 2], [3], [4", "]]"},
        {"{\"zz\": [[0.5", "]], \"x\": [1]}"},
        {"{\"zz\": {\"a\": [true, null], \"b\": {\"c\": [0", "}}, \"x\": [1]}"},
    };
    pool *workers = pool_new(1);
    uint64_t state = 9;
    for (int kind = 0; kind < 4; kind++) {
        char *p = body;
        p += sprintf(p, "%s", kinds[kind].head);
        for (size_t i = 0; i < N; i++) {
            double v = (double)(test_rand(&state) >> 11) * 0x1p-40;
            if (kind == 2 && i % 100 == 99)
                p += sprintf(p, "], [%.17g", v);
            else if (kind == 3 && i % 1000 == 999)
                p += sprintf(p, "], \"d%zu\": {\"e\": \"\\u00e9\", \"f\": [-1e-300",
                             i); /* the object is closed below */
            else
                p += sprintf(p, ", %.17g", v);
        }
        if (kind == 3) { /* the last array, and the objects opened among the numbers */
            *p++ = ']';
            for (size_t i = 999; i < N; i += 1000)
                *p++ = '}';
        }
        p += sprintf(p, "%s", kinds[kind].tail);
        size_t len = (size_t)(p - body), cuts[4000];
        size_t n = test_random_cuts(&state, len, 32 * 1024, cuts, 4000);
        request q;
        lr_error e;
        request_init(&q);
        ASSERT_EQ(lr_err_status(request_parse(body, len, REQUEST_FORWARD, &q, &e)), 422);
        request_free(&q);
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, NULL, "checked for syntax");
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, workers,
                           "checked for syntax, workers");
        lr_err rc;
        size_t count;
        /* Measured: 128 KiB alone (batches of 64 KiB), 1 MiB on workers (see
         * request_reader_ahead); a reader that never drops text holds 4 MiB. */
        size_t alone = test_max_held(body, len, NULL, &rc, &count);
        size_t on_workers = test_max_held(body, len, workers, &rc, &count);
        if (alone > 256 * 1024 || on_workers > 1024 * 1024)
            tap_fail(__FILE__, __LINE__, "kind %d: held %zu bytes alone, %zu on workers, of %zu",
                     kind, alone, on_workers, len);
        /* a syntax error at the very end still wins over the 422 */
        body[len - 1] = ',';
        (void)test_check_reader(body, len, REQUEST_FORWARD, cuts, n, 0, NULL, "400 at the end");
    }
    pool_free(workers);
    free(body);
}
