/* Tests of GET /plot.svg and GET / (src/api_plot.c) without sockets: the
 * query's defaults and errors, the validators (ETag, If-None-Match: 304)
 * and the page's headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
#include "../src/budget.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

/* GET route?query (k=v&k=v, no escapes) with If-None-Match inm (or NULL),
 * its reply charged to bg (may be NULL). */
static void get_in(budget *bg, api_route route, const char *query, const char *inm,
                   api_response *resp)
{
    char q[512];
    api_param p[16];
    size_t n = 0;
    snprintf(q, sizeof q, "%s", query);
    for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && n < 16;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        p[n] = (api_param){kv, eq ? (size_t)(eq - kv) : strlen(kv), eq ? eq + 1 : NULL,
                           eq ? strlen(eq + 1) : 0};
        n++;
    }
    api_request req = {.route = route, .params = p, .nparams = n, .if_none_match = inm,
                       .budget = bg};
    api_handle(&req, resp);
}

static void get(api_route route, const char *query, const char *inm, api_response *resp)
{
    get_in(NULL, route, query, inm, resp);
}

/* A 422 with code and path. */
static void refused(const char *query, const char *code, const char *path)
{
    api_response r;
    get(API_PLOT, query, NULL, &r);
    char want[128];
    snprintf(want, sizeof want, "\"code\": \"%s\"", code);
    ASSERT_EQ(r.status, 422);
    if (!r.body || !strstr(r.body, want))
        tap_fail(__FILE__, __LINE__, "?%s: %s, not %s", query, r.body ? r.body : "(none)", code);
    if (path) {
        snprintf(want, sizeof want, "\"path\": \"%s\"", path);
        if (!r.body || !strstr(r.body, want))
            tap_fail(__FILE__, __LINE__, "?%s: %s has no path %s", query,
                     r.body ? r.body : "(none)", path);
    }
    api_response_free(&r);
}

void test_api_plot(void)
{
    api_response r;
    get(API_PLOT, "", NULL, &r); /* both curves, slope 0.01, 960 x 400 */
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "image/svg+xml");
    ASSERT(r.body && strstr(r.body, "width=\"960\" height=\"400\"") &&
           strstr(r.body, "a = 0.01, float64</title>") && strstr(r.body, "for x from -5 to 5"));
    ASSERT_STR_EQ(test_header(&r, "Cache-Control"), "public, max-age=86400");
    char tag[32] = "";
    if (test_header(&r, "ETag"))
        snprintf(tag, sizeof tag, "%s", test_header(&r, "ETag"));
    ASSERT(strlen(tag) == 20 && strncmp(tag, "W/\"", 3) == 0); /* weak: sent coded or not */
    api_response_free(&r);

    /* The same query, the same tag: a 304 with no body when the cache has it */
    const char *inm[] = {tag, "\"0000000000000000\", TAG", "STRONG", "*"};
    for (size_t i = 0; i < sizeof inm / sizeof inm[0]; i++) {
        char h[96], *at;
        snprintf(h, sizeof h, "%s", inm[i]);
        if ((at = strstr(h, "TAG")) != NULL)
            snprintf(at, sizeof h - (size_t)(at - h), "%s", tag);
        if (strcmp(h, "STRONG") == 0) /* the same tag, strong: the weak comparison matches */
            snprintf(h, sizeof h, "%s", tag + 2);
        get(API_PLOT, "", h, &r);
        ASSERT_EQ(r.status, 304);
        ASSERT_EQ(r.len, 0);
        ASSERT_STR_EQ(test_header(&r, "ETag"), tag);
        ASSERT_STR_EQ(test_header(&r, "Cache-Control"), "public, max-age=86400");
        api_response_free(&r);
    }
    get(API_PLOT, "slope=0.2", tag, &r); /* another picture, another tag */
    ASSERT_EQ(r.status, 200);
    ASSERT(test_header(&r, "ETag") && strcmp(test_header(&r, "ETag"), tag) != 0);
    api_response_free(&r);
    get(API_PLOT, "", "\"0000000000000000\"", &r);
    ASSERT_EQ(r.status, 200);
    api_response_free(&r);

    get(API_PLOT, "what=gradient&slope=0.5,0.25&dtype=float32&xmin=-2&xmax=3&height=300", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.body && strstr(r.body, "width=\"640\" height=\"300\"") &&
           strstr(r.body, "a = 0.5, 0.25 (PReLU), float32") && strstr(r.body, "from -2 to 3"));
    api_response_free(&r);

    /* The picture is charged to the budget until it is freed (sent),
     * cut to its size; a budget too small for it is a 503. */
    static const char big[] = "slope=1,2,3,4,5,6,7,8&width=4096&height=4096";
    budget *bg = budget_new(1 << 20);
    ASSERT(bg != NULL);
    get_in(bg, API_PLOT, big, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT(budget_used(bg) >= r.len && budget_used(bg) < r.len + 4096);
    api_response_free(&r);
    ASSERT_EQ(budget_used(bg), 0);
    get_in(bg, API_PLOT, big, "*", &r); /* a 304's body is freed from the budget too */
    ASSERT_EQ(r.status, 304);
    api_response_free(&r);
    ASSERT_EQ(budget_used(bg), 0);
    budget_free(bg);
    bg = budget_new(64 * 1024);
    get_in(bg, API_PLOT, big, NULL, &r);
    ASSERT_EQ(r.status, 503);
    ASSERT(r.body && strstr(r.body, "\"code\": \"overloaded\""));
    ASSERT_EQ(r.retry_after, 1);
    api_response_free(&r);
    ASSERT_EQ(budget_used(bg), 0);
    budget_free(bg);

    refused("xmin=3&xmax=1", "invalid_parameter", "xmin");
    refused("xmin=1&xmax=1.0000000001", "invalid_parameter", "xmax");
    refused("xmin=1e999", "invalid_parameter", "xmin");
    refused("xmax=Infinity", "invalid_parameter", "xmax");
    refused("xmin=-1e39&dtype=float32", "invalid_parameter", "xmin");
    refused("width=239", "invalid_parameter", "width");
    refused("width=4097", "invalid_parameter", "width");
    refused("width=99999999999999999999", "invalid_parameter", "width");
    refused("height=-5", "invalid_parameter", "height");
    refused("height", "invalid_parameter", "height");
    refused("what=both&what=forward", "invalid_parameter", "what");
    refused("what=all", "invalid_parameter", "what");
    refused("dtype=float16", "invalid_dtype", "dtype");
    refused("dtype=float32&dtype=float64", "dtype_conflict", "dtype");
    refused("slope=", "invalid_slope", NULL);
    refused("slope=1,2,3,4,5,6,7,8,9", "invalid_slope", "slope");
    refused("slope=1e39&dtype=float32", "invalid_slope", "slope");
    refused("slope=1e300&xmin=-1e300", "result_not_finite", "slope");
    refused("x=1", "unknown_parameter", NULL);
}

void test_api_page(void)
{
    api_response r;
    get(API_PLAYGROUND, "", NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STR_EQ(r.content_type, "text/html; charset=utf-8");
    ASSERT(r.body && strncmp(r.body, "<!doctype html>", 15) == 0 && strlen(r.body) == r.len);
    const char *csp = test_header(&r, "Content-Security-Policy");
    ASSERT(csp && strstr(csp, "default-src 'none'") && strstr(csp, "connect-src 'self'"));
    ASSERT_STR_EQ(test_header(&r, "X-Content-Type-Options"), "nosniff");
    ASSERT_STR_EQ(test_header(&r, "Cache-Control"), "no-cache");
    char tag[32] = "";
    if (test_header(&r, "ETag"))
        snprintf(tag, sizeof tag, "%s", test_header(&r, "ETag"));
    api_response_free(&r);
    get(API_PLAYGROUND, "", tag, &r);
    ASSERT_EQ(r.status, 304);
    api_response_free(&r);

    get(API_OPENAPI, "", NULL, &r); /* the document is kept by caches too */
    ASSERT_EQ(r.status, 200);
    tag[0] = '\0';
    if (test_header(&r, "ETag"))
        snprintf(tag, sizeof tag, "%s", test_header(&r, "ETag"));
    ASSERT_STR_EQ(test_header(&r, "Cache-Control"), "no-cache");
    api_response_free(&r);
    get(API_OPENAPI, "", tag, &r);
    ASSERT_EQ(r.status, 304);
    api_response_free(&r);
}
