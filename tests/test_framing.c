/* Tests of src/framing.c: which request heads are refused, with which
 * error, whatever the case of the names and the spaces around values. */
#define _GNU_SOURCE /* strcasestr */
#include <string.h>

#include "../src/framing.h"
#include "tap.h"
#include "tests.h"

void test_framing(void)
{
    static const struct {
        const char *headers; /* "Name: value" lines joined by '\n' */
        int http_1_1;
        lr_err verdict, encoding;
        const char *detail; /* of the verdict, when not NULL */
    } cases[] = {
        {"Host: a\nContent-Length: 5", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"host: a\ntransfer-encoding:  chunked ", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nTransfer-Encoding: CHUNKED", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Content-Length: 5", 0, LR_ERR_OK, LR_ERR_OK, NULL},
        {"", 0, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nContent-Length: 5\nTransfer-Encoding: chunked", 1, LR_ERR_BAD_FRAMING,
         LR_ERR_OK, "Content-Length and Transfer-Encoding together; send one"},
        {"Host: a\nContent-Length: 5\nCONTENT-LENGTH: 5", 1, LR_ERR_BAD_FRAMING, LR_ERR_OK,
         "2 Content-Length headers; send one"},
        {"Transfer-Encoding: chunked", 0, LR_ERR_BAD_FRAMING, LR_ERR_OK,
         "Transfer-Encoding in an HTTP/1.0 request"},
        {"Host: a\nTransfer-Encoding: gzip", 1, LR_ERR_TRANSFER_CODING, LR_ERR_OK,
         "Transfer-Encoding \"gzip\" is not supported; only chunked is"},
        {"Host: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked", 1,
         LR_ERR_TRANSFER_CODING, LR_ERR_OK, NULL},
        {"Host: a\nTransfer-Encoding: gzip, chunked", 1, LR_ERR_TRANSFER_CODING, LR_ERR_OK, NULL},
        {"Content-Length: 5", 1, LR_ERR_BAD_HOST, LR_ERR_OK,
         "no Host header; an HTTP/1.1 request has one"},
        {"Host: a\nHost: a", 1, LR_ERR_BAD_HOST, LR_ERR_OK,
         "2 Host headers; an HTTP/1.1 request has one"},
        {"Host: a\nContent-Encoding: gzip", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nContent-Encoding: X-GZIP ", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nContent-Encoding: deflate", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nContent-Encoding: br", 1, LR_ERR_OK, LR_ERR_CONTENT_ENCODING, NULL},
        {"Host: a\nContent-Encoding: gzip, gzip", 1, LR_ERR_OK, LR_ERR_CONTENT_ENCODING, NULL},
        {"Host: a\nContent-Encoding:  Identity\t", 1, LR_ERR_OK, LR_ERR_OK, NULL},
        {"Host: a\nContent-Encoding: identity\nContent-Encoding: gzip", 1, LR_ERR_OK,
         LR_ERR_CONTENT_ENCODING, NULL},
        {"Host: a\nContent-Lengths: 5\nX-Transfer-Encoding: gzip", 1, LR_ERR_OK, LR_ERR_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        framing f;
        framing_init(&f);
        for (const char *line = cases[i].headers; *line;) {
            size_t len = strcspn(line, "\n"), name = strcspn(line, ":");
            const char *value = line + name + 1;
            framing_header(&f, line, name, value, len - name - 1);
            line += len + (line[len] == '\n');
        }
        lr_error err;
        lr_err v = framing_verdict(&f, cases[i].http_1_1, &err);
        if (v != cases[i].verdict)
            tap_fail(__FILE__, __LINE__, "case %zu: verdict %s, want %s (%s)", i, lr_err_code(v),
                     lr_err_code(cases[i].verdict), err.detail);
        if (cases[i].detail)
            ASSERT_STR_EQ(err.detail, cases[i].detail);
        coding c;
        ASSERT_EQ(framing_encoding(&f, &c, &err), cases[i].encoding);
        const char *ce = strcasestr(cases[i].headers, "\nContent-Encoding:");
        if (cases[i].encoding == LR_ERR_OK)
            ASSERT_EQ(c, !ce                          ? CODING_IDENTITY
                         : strstr(ce, "deflate")      ? CODING_DEFLATE
                         : strcasestr(ce, "gzip")     ? CODING_GZIP
                                                      : CODING_IDENTITY);
    }
}

/* Header fields (RFC 9110 sections 5.1, 5.5): a name is a token; a value
 * holds no NUL, CR or LF; the first malformed one is named. */
void test_framing_fields(void)
{
    static const struct {
        const char *name, *value;
        size_t value_len;
        int bad;
    } cases[] = {
        {"X-Ok", "a b\tc", 5, 0},
        {"X-Ok", "", 0, 0},
        {"Content-Length ", "5", 1, 1}, /* a space before the colon stays in the name */
        {"X(A)", "1", 1, 1},
        {"", "1", 1, 1},
        {"X-Cr", "a\rb", 3, 1},
        {"X-Lf", "a\nb", 3, 1},
        {"X-Nul", "a\0b", 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        framing f;
        lr_error err;
        framing_init(&f);
        framing_header(&f, "Host", 4, "a", 1);
        framing_header(&f, cases[i].name, strlen(cases[i].name), cases[i].value,
                       cases[i].value_len);
        lr_err rc = framing_verdict(&f, 1, &err);
        if ((rc == LR_ERR_BAD_HEADER) != cases[i].bad)
            tap_fail(__FILE__, __LINE__, "case %zu (%s): %s", i, cases[i].name, err.detail);
        if (cases[i].bad && cases[i].name[0] == 'X')
            ASSERT(strstr(err.detail, cases[i].name) != NULL);
    }
    framing f;
    lr_error err;
    framing_init(&f);
    framing_header(&f, "Host", 4, "a", 1);
    framing_malformed(&f, "X-First", 7, "why");
    framing_malformed(&f, "X-Second", 8, "not told");
    ASSERT_EQ(framing_verdict(&f, 1, &err), LR_ERR_BAD_HEADER);
    ASSERT_STR_EQ(err.detail, "the header \"X-First\" is malformed: why");
}

/* Request targets (RFC 9112 section 3.2): the origin and absolute forms
 * give their decoded path, on all its bytes; "*" is itself; anything
 * else, a NUL, a malformed escape or a control byte is invalid_target. */
void test_framing_target(void)
{
    static const struct {
        const char *raw, *path; /* path NULL: invalid */
        size_t len;
    } cases[] = {
        {"/forward", "/forward", 8},
        {"/forward?slope=0.5", "/forward", 8},
        {"/for%77ard", "/forward", 8},
        {"/a%2Fb", "/a/b", 4},
        {"http://example.com/forward?x=1", "/forward", 8},
        {"HTTPS://example.com:8443/v2/health/live", "/v2/health/live", 15},
        {"http://example.com", "/", 1},
        {"http://example.com?x=1", "/", 1},
        {"*", "*", 1},
        {"/forward%00.png", NULL, 0},
        {"/forward%0", NULL, 0},
        {"/forward%zz", NULL, 0},
        {"/for ward", NULL, 0},
        {"/for\x7f", NULL, 0},
        {"example.com:443", NULL, 0},
        {"http:///forward", NULL, 0},
        {"ftp://example.com/forward", NULL, 0},
        {"", NULL, 0},
    };
    char out[32];
    size_t len;
    lr_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lr_err rc = framing_target(cases[i].raw, out, sizeof out, &len, &err);
        if (cases[i].path ? rc != LR_ERR_OK || strcmp(out, cases[i].path) != 0 ||
                                len != cases[i].len
                          : rc != LR_ERR_BAD_TARGET)
            tap_fail(__FILE__, __LINE__, "%s: %s (%s)", cases[i].raw, out, err.detail);
    }
    ASSERT_EQ(framing_target(NULL, out, sizeof out, &len, &err), LR_ERR_BAD_TARGET);
    /* Longer than out: cut, its length whole. */
    ASSERT_EQ(framing_target("/0123456789012345678901234567890123456789", out, sizeof out, &len,
                             &err), LR_ERR_OK);
    ASSERT_EQ(len, 41);
    ASSERT_EQ(strlen(out), sizeof out - 1);
}
