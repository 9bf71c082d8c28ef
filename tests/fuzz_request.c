/* libFuzzer target (make fuzz): any bytes as a request body, both routes,
 * with and without a query slope; every reply must be well-formed, and
 * every successful reply must read back to the same doubles. Also fuzzes
 * the number codec: any text that parses must format and re-parse to the
 * same bits. Built only by `make fuzz` (clang). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
#include "../src/numfmt.h"
#include "../src/numparse.h"
#include "../src/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so reads past the end are caught. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);

    for (int route = 0; route < 2; route++) {
        api_param p = {"slope", 5, "0.5", 3};
        api_request req = {.route = route ? API_GRADIENT : API_FORWARD,
                           .params = &p,
                           .nparams = (size & 1),
                           .body = body,
                           .body_len = size};
        api_response resp;
        api_handle(&req, &resp);
        if (!resp.body || resp.len != strlen(resp.body))
            abort();
        if (resp.status != 200 && !strstr(resp.body, "\"code\": \""))
            abort();
        if (resp.status == 200) { /* the reply itself is a valid body */
            request back;
            lr_error err;
            request_init(&back);
            if (resp.body[0] != '{' &&
                request_parse(resp.body, resp.len, REQUEST_FORWARD, &back, &err) != LR_ERR_OK)
                abort();
            request_free(&back);
        }
        free(resp.body);
    }

    double v, w;
    const char *stop;
    if (size && numparse_f64(body, body + size, &v, &stop) == NUMPARSE_OK) {
        char buf[NUMFMT_F64_BUF];
        char *end = numfmt_f64(v, buf);
        if (numparse_f64(buf, end, &w, &stop) != NUMPARSE_OK || stop != end ||
            memcmp(&v, &w, sizeof v) != 0)
            abort();
    }
    free(body);
    return 0;
}
