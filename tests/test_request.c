/* Tests of request decoding (src/request.c) on whole bodies: errors with
 * their offsets and paths, shapes, and deep nesting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/errors.h"
#include "../src/request.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* Every decode case gives its error code, offset and path. */
void test_request_decode(void)
{
    for (size_t i = 0; i < test_decode_count; i++) {
        const test_decode_case *c = &test_decode_cases[i];
        request req;
        lr_error err;
        request_init(&req);
        lr_err rc = request_parse(c->body, strlen(c->body), c->kind, &req, &err);
        long off = err.offset == LR_NO_OFFSET ? -1 : (long)err.offset;
        if (rc != c->code || err.code != rc || off != c->offset || strcmp(err.path, c->path) != 0)
            tap_fail(__FILE__, __LINE__,
                     "case %zu %s: want %s at %ld \"%s\", got %s at %ld \"%s\" (%s)", i, c->body,
                     lr_err_code(c->code), c->offset, c->path, lr_err_code(rc), off, err.path,
                     err.detail);
        request_free(&req);
    }
    /* Messages that count say "1 element", not "1 elements". */
    static const struct {
        const char *body, *detail;
    } counted[] = {
        {"[[1], [1, 2]]", "array has more than 1 element, unlike the ones before it"},
        {"[[1, 2], [1]]", "array has 1 element, unlike the ones before it (2)"},
        {"[[1, 2], [1, 2, 3]]", "array has more than 2 elements, unlike the ones before it"},
        {"[[1, 2, 3], []]", "array has 0 elements, unlike the ones before it (3)"},
        {"[[1, 2, 3], [1]]", "array has 1 element, unlike the ones before it (3)"},
        {"[[1], [1, 2, 3]]", "array has more than 1 element, unlike the ones before it"},
        {"[[1, 2], [3, 4], [5]]", "array has 1 element, unlike the ones before it (2)"},
    };
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++) {
        request req;
        lr_error err;
        request_init(&req);
        ASSERT_EQ(request_parse(counted[i].body, strlen(counted[i].body), REQUEST_FORWARD, &req,
                                &err),
                  LR_ERR_RAGGED);
        ASSERT_STR_EQ(err.detail, counted[i].detail);
        request_free(&req);
    }
}

void test_request_shapes(void)
{
    request req;
    lr_error err;
    const char *b = "{\"x\": [[[1, -2, 3], [4, 5, 6]]], \"slope\": -0.5}";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 3);
    ASSERT_EQ(req.x.shape[0], 1);
    ASSERT_EQ(req.x.shape[1], 2);
    ASSERT_EQ(req.x.shape[2], 3);
    ASSERT_EQ(req.x.count, 6);
    ASSERT(req.has_slope && req.slopes.ndim == 0 && req.slopes.data[0] == -0.5 && req.is_object);
    ASSERT_BITS_EQ(req.x.data[1], -2.0);
    request_free(&req);

    b = "[[], [], []]";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 2);
    ASSERT_EQ(req.x.shape[0], 3);
    ASSERT_EQ(req.x.shape[1], 0);
    ASSERT_EQ(req.x.count, 0);
    request_free(&req);

    b = "-0";
    request_init(&req);
    ASSERT_EQ(request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err), LR_ERR_OK);
    ASSERT_EQ(req.x.ndim, 0);
    ASSERT_EQ(req.x.count, 1);
    ASSERT_BITS_EQ(req.x.data[0], -0.0);
    ASSERT(!req.is_object);
    request_free(&req);

    /* 32 levels are fine, 33 are too deep; 100 levels stop the scan. */
    static const int depths[] = {32, 33, 100};
    char deep[512];
    for (size_t d = 0; d < 3; d++) {
        int n = 0, depth = depths[d];
        for (int i = 0; i < depth; i++)
            deep[n++] = '[';
        deep[n++] = '1';
        for (int i = 0; i < depth; i++)
            deep[n++] = ']';
        request_init(&req);
        lr_err rc = request_parse(deep, (size_t)n, REQUEST_FORWARD, &req, &err);
        ASSERT_EQ(rc, depth == 32 ? LR_ERR_OK : LR_ERR_TOO_DEEP);
        if (depth == 32)
            ASSERT_EQ(req.x.ndim, 32);
        request_free(&req);
    }
}

/* Builds prefix + depth '[' + middle + depth ']' (or fewer: `close`) +
 * suffix into a malloc'd string. */
static char *nest(const char *prefix, int depth, const char *middle, int close,
                  const char *suffix)
{
    size_t n = strlen(prefix) + strlen(middle) + strlen(suffix) + 2 * (size_t)depth + 1;
    char *b = malloc(n), *p = b;
    if (!b)
        return NULL;
    p += sprintf(p, "%s", prefix);
    memset(p, '[', (size_t)depth);
    p += depth;
    p += sprintf(p, "%s", middle);
    memset(p, ']', (size_t)close);
    p += close;
    sprintf(p, "%s", suffix);
    return b;
}

/* Deep nesting is a request error (422) that never hides a syntax error
 * (400) or an unknown member; found by review. */
void test_request_deep(void)
{
    static const struct {
        const char *prefix;
        int depth;
        const char *middle;
        int close;
        const char *suffix;
        lr_err code;
    } cases[] = {
        {"{\"x\": [1], \"a\": ", 70, "", 70, "} garbage", LR_ERR_JSON_TRAILING},
        {"{\"x\": [1], \"a\": ", 70, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"{\"x\": [1], \"a\": ", 70, "", 70, "}", LR_ERR_UNKNOWN_MEMBER},
        {"{\"x\": [1], \"a\": ", 300, "{\"k\": [true]}", 300, "}", LR_ERR_UNKNOWN_MEMBER},
        {"{\"x\": [1], \"a\": ", 300, "{\"k\" [true]}", 300, "}", LR_ERR_JSON_SYNTAX},
        {"", 70, "1", 69, "", LR_ERR_JSON_SYNTAX},
        {"", 70, "1", 70, "", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 40, "1", 40, "}", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 300, "1", 300, "}", LR_ERR_TOO_DEEP},
        {"{\"x\": ", 300, "1", 300, "", LR_ERR_JSON_SYNTAX},
        /* Where no value can start, N, I, '.' and '+' are plain syntax errors. */
        {"{Nope}", 0, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"", 1, "1 .5", 1, "", LR_ERR_JSON_SYNTAX},
        {"{\"x\": [1] N}", 0, "", 0, "", LR_ERR_JSON_SYNTAX},
        {"", 1, "1, .5", 1, "", LR_ERR_JSON_NUMBER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = nest(cases[i].prefix, cases[i].depth, cases[i].middle, cases[i].close,
                       cases[i].suffix);
        request req;
        lr_error err;
        request_init(&req);
        lr_err rc = b ? request_parse(b, strlen(b), REQUEST_FORWARD, &req, &err) : LR_ERR_NO_MEMORY;
        if (rc != cases[i].code)
            tap_fail(__FILE__, __LINE__, "case %zu: want %s, got %s (%s)", i,
                     lr_err_code(cases[i].code), lr_err_code(rc), err.detail);
        request_free(&req);
        free(b);
    }
}
