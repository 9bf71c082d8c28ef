/* The counters and their exposition: what is counted is what is shown,
 * histogram buckets cumulative with inclusive upper bounds. */
#include <stdlib.h>
#include <string.h>

#include "../src/metrics.h"
#include "helpers.h"
#include "tap.h"
#include "tests.h"

void test_metrics_render(void)
{
    metrics *m = metrics_new();
    ASSERT(m != NULL);
    if (!m)
        return;
    metrics_sample a = {.route = API_FORWARD, .status = 200, .duration_s = 1e-5,
                        .request_bytes = 10, .response_bytes = 20, .elements = 3};
    metrics_sample b = {.route = API_FORWARD, .status = 422, .duration_s = 0.003,
                        .request_bytes = 5, .response_bytes = 7};
    metrics_sample c = {.route = API_NONE, .status = 404, .duration_s = 50, .aborted = 1};
    metrics_sample d = {.route = API_GRADIENT, .status = 0, .aborted = 1, .elements = 4};
    metrics_count(m, &a);
    metrics_count(m, &a);
    metrics_count(m, &b);
    metrics_count(m, &c);
    metrics_count(m, &d);
    metrics_in_flight(m, 1);
    metrics_in_flight(m, 1);
    metrics_in_flight(m, -1);
    metrics_connections(m, 3);
    metrics_extra x = {.log_lines_dropped = 7, .memory_budget_bytes = 1 << 20,
                       .memory_used_bytes = 4096};
    size_t len = 0;
    char *t = metrics_render(m, &x, &len);
    ASSERT(t != NULL);
    if (!t) {
        metrics_free(m);
        return;
    }
    ASSERT_EQ(strlen(t), len);
    ASSERT(test_series(t, "leakyrelu_requests_total{route=\"forward\",code=\"200\"}", -1) == 2);
    ASSERT(test_series(t, "leakyrelu_requests_total{route=\"forward\",code=\"422\"}", -1) == 1);
    ASSERT(test_series(t, "leakyrelu_requests_total{route=\"none\",code=\"404\"}", -1) == 1);
    ASSERT(test_series(t, "leakyrelu_requests_total{route=\"gradient\",code=\"0\"}", -1) == -1);
    ASSERT(test_series(t, "leakyrelu_requests_aborted_total{route=\"gradient\"}", -1) == 1);
    ASSERT(test_series(t, "leakyrelu_requests_aborted_total{route=\"none\"}", -1) == 1);
    ASSERT(test_series(t, "leakyrelu_requests_aborted_total{route=\"forward\"}", -1) == 0);
    /* 1e-5 lies in its own bucket (le is inclusive); 0.003 in le=0.005. */
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"forward\",le=\"1e-05\"}", -1) == 2);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"forward\",le=\"0.0025\"}", -1) == 2);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"forward\",le=\"0.005\"}", -1) == 3);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"forward\",le=\"+Inf\"}", -1) == 3);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_count{route=\"forward\"}", -1) == 3);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"none\",le=\"10\"}", -1) == 0);
    ASSERT(test_series(t, "leakyrelu_request_duration_seconds_bucket{route=\"none\",le=\"+Inf\"}", -1) == 1);
    double sum = test_series(t, "leakyrelu_request_duration_seconds_sum{route=\"forward\"}", -1);
    ASSERT(sum > 0.00301 && sum < 0.00303);
    ASSERT(test_series(t, "leakyrelu_elements_total{route=\"forward\"}", -1) == 6);
    ASSERT(test_series(t, "leakyrelu_elements_total{route=\"gradient\"}", -1) == 4);
    ASSERT(test_series(t, "leakyrelu_request_bytes_total", -1) == 25);
    ASSERT(test_series(t, "leakyrelu_response_bytes_total", -1) == 47);
    ASSERT(test_series(t, "leakyrelu_requests_in_flight", -1) == 1);
    ASSERT(test_series(t, "leakyrelu_connections_open", -1) == 3);
    ASSERT(test_series(t, "leakyrelu_log_lines_dropped_total", -1) == 7);
    ASSERT(test_series(t, "leakyrelu_memory_budget_bytes", -1) == 1 << 20);
    ASSERT(test_series(t, "leakyrelu_memory_used_bytes", -1) == 4096);
    ASSERT(test_series(t, "process_resident_memory_bytes", -1) > 0);
    ASSERT(test_series(t, "process_start_time_seconds", -1) > 1.7e9);
    ASSERT(strstr(t, "# TYPE leakyrelu_request_duration_seconds histogram\n") != NULL);
    ASSERT(strstr(t, "leakyrelu_build_info{version=\"") != NULL);
    free(t);
    x.memory_budget_bytes = SIZE_MAX; /* no budget: no budget gauge */
    t = metrics_render(m, &x, &len);
    ASSERT(t && !strstr(t, "leakyrelu_memory_budget_bytes"));
    free(t);
    metrics_free(m);
}
