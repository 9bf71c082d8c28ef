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
