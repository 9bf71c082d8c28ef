/* Integration tests of the real binary under load: the memory budget
 * (concurrent large requests against --max-memory) and SIGTERM while
 * requests are in flight. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

typedef struct budget_client {
    unsigned port;
    const char *body, *want;
    int expect;        /* let curl send "Expect: 100-continue" */
    long status, then; /* of the large request, and of a small one after it */
    long reused;       /* the small one went on the same connection */
    int right;         /* a 200's body is exactly the reply */
    char code[32], retry_after[16];
    char body_head[120];
} budget_client;

static void *budget_run(void *arg)
{
    budget_client *c = arg;
    CURL *h = curl_easy_init();
    char url[64];
    reply r;
    memset(&r, 0, sizeof r);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c->expect)
        headers = curl_slist_append(headers, "Expect:");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/forward", c->port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(c->body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reply_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, reply_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    c->right = r.body && strcmp(r.body, c->want) == 0;
    snprintf(c->retry_after, sizeof c->retry_after, "%s", r.retry_after);
    snprintf(c->body_head, sizeof c->body_head, "%s", r.body ? r.body : "");
    const char *code = r.body ? strstr(r.body, "\"code\": \"") : NULL;
    if (code)
        snprintf(c->code, sizeof c->code, "%.*s", (int)strcspn(code + 9, "\""), code + 9);
    reply_free(&r);
    /* The same handle again: on the same connection when it was kept. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "[1, -2]");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)7);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->then);
    long connects = -1;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    c->reused = connects == 0;
    if (!r.body || strcmp(r.body, "[1.0, -0.02]") != 0)
        c->then = -c->then;
    reply_free(&r);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return NULL;
}

/* 24 clients send a 100,000-element body (2 MB) at once to a server with
 * --max-memory 16M (with LEAKYRELU_HARD=1, the goal: 1,000,000
 * elements, 20 MB, against 160M), half of them waiting for "100
 * Continue": each gets 200 with the exact reply or 503 overloaded with
 * Retry-After: 1; at least one gets 200; a refused client that sent its
 * body keeps its connection for the next request; the server's peak RSS
 * stays within the budget and a fixed overhead. */
void test_http_memory_budget(void)
{
    enum { N = 24 };
    int hard = test_hard();
    const long budget_kb = (hard ? 160 : 16) * 1024, overhead_kb = (hard ? 16 : 12) * 1024;
    char budget_arg[16];
    snprintf(budget_arg, sizeof budget_arg, "%ldK", budget_kb);
    srv s;
    const char *extra[] = {"--max-memory", budget_arg, NULL};
    if (srv_start(&s, extra) != 0)
        return;
    size_t shape = hard ? 1000000 : 100000;
    char *want, *body = test_big_body(&shape, 1, 0, &want);
    long idle_kb = rss_kb(s.pid);
    budget_client c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (budget_client){.port = s.port, .body = body, .want = want, .expect = i % 2};
        ASSERT_EQ(pthread_create(&t[i], NULL, budget_run, &c[i]), 0);
    }
    int ok = 0, refused = 0, kept = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        if (c[i].status == 200) {
            ok++;
            if (!c[i].right)
                tap_fail(__FILE__, __LINE__, "client %d: 200 with a wrong body", i);
        } else if (c[i].status == 503) {
            refused++;
            ASSERT_STR_EQ(c[i].code, "overloaded");
            ASSERT_STR_EQ(c[i].retry_after, "1");
            if (!c[i].expect)
                kept += (int)c[i].reused;
        } else {
            tap_fail(__FILE__, __LINE__, "client %d: status %ld: %s", i, c[i].status,
                     c[i].body_head);
        }
        if (c[i].then != 200)
            tap_fail(__FILE__, __LINE__, "client %d: the next request got %ld", i, c[i].then);
    }
    ASSERT(ok >= 1);
    long peak_kb = peak_rss_kb(s.pid);
    printf("#   %zu elements: %d of %d answered 200, %d refused (%d of them kept the connection); peak RSS "
           "%ld kB (idle %ld kB) for a budget of %ld kB\n",
           shape, ok, N, refused, kept, peak_kb, idle_kb, budget_kb);
    if (!getenv("LEAKYRELU_WRAPPER") && peak_kb > budget_kb + overhead_kb)
        tap_fail(__FILE__, __LINE__, "peak RSS %ld kB is over the budget %ld kB + %ld kB",
                 peak_kb, budget_kb, overhead_kb);
    /* Every refused client that sent its body had its connection kept. */
    int sent_body = 0;
    for (int i = 0; i < N; i++)
        sent_body += c[i].status == 503 && !c[i].expect;
    ASSERT_EQ(kept, sent_body);
    ASSERT_EQ(srv_stop(&s), 0);
    free(body);
    free(want);
}
