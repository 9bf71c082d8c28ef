/* Integration tests of the endpoints for people against the real binary:
 * GET /plot.svg with its validators (ETag, If-None-Match: 304 with no
 * body on the same connection), HEAD, compression, its 422s; GET / with
 * its security headers. tests/plot_check.py and tests/browser/ read the
 * picture and drive the page. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tap.h"
#include "tests.h"

void test_http_plot(void)
{
    unsigned port = shared_port();
    char tag[64] = "", v[256];
    reply r;
    http(NULL, port, "GET", "/plot.svg?slope=0.1,0.3&what=gradient", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "image/svg+xml");
    ASSERT(r.body && strncmp(r.body, "<?xml", 5) == 0 && strstr(r.body, "</svg>\n"));
    ASSERT_STR_EQ(reply_header(&r, "Cache-Control", v, sizeof v), "public, max-age=86400");
    ASSERT_STR_EQ(reply_header(&r, "Vary", v, sizeof v), "Accept-Encoding");
    ASSERT(reply_header(&r, "ETag", tag, sizeof tag) != NULL);
    size_t len = r.len;
    reply_free(&r);

    CURL *h = curl_easy_init(); /* a 304 keeps the connection */
    char inm[128];
    snprintf(inm, sizeof inm, "If-None-Match: %s", tag);
    for (int i = 0; i < 2; i++) {
        http_header(h, port, "GET", "/plot.svg?slope=0.1,0.3&what=gradient", NULL, NULL, inm, &r);
        ASSERT_EQ(r.status, 304);
        ASSERT_EQ(r.len, 0);
        ASSERT_STR_EQ(reply_header(&r, "ETag", v, sizeof v), tag);
        ASSERT_STR_EQ(r.content_type, "");
        reply_free(&r);
    }
    http_header(h, port, "GET", "/plot.svg?slope=0.1,0.3", NULL, NULL, inm, &r);
    ASSERT_EQ(r.status, 200); /* another picture */
    reply_free(&r);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    ASSERT_EQ(connects, 0);
    curl_easy_cleanup(h);

    http(NULL, port, "HEAD", "/plot.svg?slope=0.1,0.3&what=gradient", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    ASSERT_STR_EQ(reply_header(&r, "ETag", v, sizeof v), tag);
    snprintf(inm, sizeof inm, "%zu", len);
    ASSERT_STR_EQ(reply_header(&r, "Content-Length", v, sizeof v), inm);
    reply_free(&r);

    http_header(NULL, port, "GET", "/plot.svg?slope=0.1,0.3&what=gradient", NULL, NULL,
                "Accept-Encoding: gzip", &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(reply_header(&r, "Content-Encoding", v, sizeof v), "gzip");
    ASSERT(r.len > 0 && r.len < len / 3); /* SVG text compresses well */
    reply_free(&r);

    http(NULL, port, "GET", "/plot.svg?xmin=2&xmax=1", NULL, NULL, &r);
    ASSERT_EQ(r.status, 422);
    check_error_body(&r, "invalid_parameter", 0, "xmin");
    reply_free(&r);
    http(NULL, port, "POST", "/plot.svg", "[1]", NULL, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_STR_EQ(r.allow, "GET, HEAD, OPTIONS");
    reply_free(&r);
}

void test_http_playground(void)
{
    unsigned port = shared_port();
    char v[512];
    reply r;
    http(NULL, port, "GET", "/", NULL, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "text/html; charset=utf-8");
    ASSERT(r.body && strncmp(r.body, "<!doctype html>", 15) == 0);
    ASSERT(reply_header(&r, "Content-Security-Policy", v, sizeof v) &&
           strstr(v, "default-src 'none'") && strstr(v, "frame-ancestors 'none'"));
    ASSERT_STR_EQ(reply_header(&r, "X-Content-Type-Options", v, sizeof v), "nosniff");
    ASSERT_STR_EQ(reply_header(&r, "Cache-Control", v, sizeof v), "no-cache");
    reply_free(&r);
    http(NULL, port, "GET", "/?x=1", NULL, NULL, &r); /* a query changes nothing */
    ASSERT_EQ(r.status, 200);
    reply_free(&r);
    http(NULL, port, "GET", "/index.html", NULL, NULL, &r);
    ASSERT_EQ(r.status, 404);
    reply_free(&r);
}
