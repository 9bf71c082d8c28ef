/* libFuzzer target (make fuzz): any bytes as a request body, both routes,
 * with and without a query slope; every reply must be well-formed, and
 * every successful reply must read back to the same doubles. The body must
 * also read the same (outcome, error offset, path and message, values bit
 * for bit) on workers and through a reader fed in pieces; this build makes
 * the sizes for reading in parts tiny (see the Makefile), so short inputs
 * reach those paths. A first line is also a query: of a binary body, and
 * of GET /plot.svg (a whole SVG document, or a 422). Also fuzzes the
 * number codec: any text that parses must format and re-parse to the
 * same bits. Built only by `make fuzz` (clang). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/api.h"
#include "../src/numfmt.h"
#include "../src/numparse.h"
#include "../src/pool.h"
#include "../src/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_fixes(const tensor *a, const tensor *b)
{
    for (size_t i = 0; i < a->nfixes; i++)
        if (a->fixes[i].index != b->fixes[i].index ||
            memcmp(&a->fixes[i].value, &b->fixes[i].value, sizeof(float)) != 0)
            return 0;
    return 1;
}

static int same_tensor(const tensor *a, const tensor *b)
{
    return a->count == b->count && a->ndim == b->ndim &&
           memcmp(a->shape, b->shape, sizeof a->shape) == 0 &&
           (a->count == 0 || memcmp(a->data, b->data, a->count * sizeof(double)) == 0) &&
           a->nfixes == b->nfixes && same_fixes(a, b);
}

/* Aborts unless two readings of one body agree. */
static void check_same(lr_err ra, const lr_error *ea, const request *a, lr_err rb,
                       const lr_error *eb, const request *b)
{
    if (ra != rb || ea->offset != eb->offset || strcmp(ea->path, eb->path) != 0 ||
        strcmp(ea->detail, eb->detail) != 0)
        abort();
    if (ra == LR_ERR_OK &&
        (a->is_object != b->is_object || a->has_slope != b->has_slope ||
         a->has_dtype != b->has_dtype || a->dtype != b->dtype ||
         !same_tensor(&a->slopes, &b->slopes) || a->has_grad_output != b->has_grad_output ||
         !same_tensor(&a->x, &b->x) || !same_tensor(&a->grad_output, &b->grad_output)))
        abort();
}

/* The body read whole, on workers, and by a reader fed in pieces whose
 * lengths come from the body's own bytes, alone and on workers. */
static void check_readings(const char *body, size_t size, request_kind kind)
{
    static pool *workers;
    if (!workers && !(workers = pool_new(2)))
        abort();
    request a, b;
    lr_error ea, eb;
    request_init(&a);
    lr_err ra = request_parse(body, size, kind, &a, &ea);
    for (int way = 0; way < 3; way++) {
        request_init(&b);
        lr_err rb;
        if (way == 0) {
            rb = request_parse_on(body, size, kind, workers, &b, &eb);
        } else {
            request_reader *r = request_reader_new(kind, way == 2 ? workers : NULL, &b, &eb);
            if (!r)
                abort();
            uint32_t h = 2166136261u; /* FNV-1a over the body: the piece lengths */
            for (size_t i = 0; i < size; i++)
                h = (h ^ (uint8_t)body[i]) * 16777619u;
            for (size_t at = 0; at < size;) {
                h = h * 1103515245u + 12345u;
                size_t n = 1 + (h >> 16) % 40;
                n = n < size - at ? n : size - at;
                if (request_reader_feed(r, body + at, n) != 0)
                    break;
                at += n;
            }
            rb = request_reader_finish(r);
            request_reader_free(r);
        }
        check_same(ra, &ea, &a, rb, &eb, &b);
        request_free(&b);
    }
    request_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so reads past the end are caught. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);

    for (int route = 0; route < 2; route++) {
        /* the query: none, a slope, or a slope list and float32 */
        api_param p[2] = {{"slope", 5, "0.5,0.25", size & 4 ? 8 : 3}, {"dtype", 5, "float32", 7}};
        api_route r = route ? API_GRADIENT : API_FORWARD;
        lr_err why;
        api_body *b = api_body_new(&(api_head){.route = r}, NULL, NULL, size, &why);
        if (!b || api_body_feed(b, body, size) != 0)
            abort();
        api_request req = {.route = r, .params = p, .nparams = (size & 1) + (size & 8 ? 1 : 0),
                           .body = b};
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
        api_response_free(&resp);
    }

    /* The same bytes as a binary body: with the first bytes as its query
     * (up to the first newline), fed in pieces of 1 to 8 bytes. That query
     * also asks for a plot: a picture whole and well-formed, or an error. */
    const char *nl = memchr(body, '\n', size < 128 ? size : 128);
    if (nl) {
        char q[128];
        memcpy(q, body, (size_t)(nl - body));
        q[nl - body] = '\0';
        api_param p[8];
        size_t np = 0;
        for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && np < 8;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            p[np++] = (api_param){kv, eq ? (size_t)(eq - kv) : strlen(kv), eq ? eq + 1 : NULL,
                                  eq ? strlen(eq + 1) : 0};
        }
        const char *raw = nl + 1;
        size_t len = size - (size_t)(raw - body), piece = (size & 7) + 1;
        api_route r = size & 16 ? API_GRADIENT : API_FORWARD;
        lr_err why;
        api_body *b = api_body_new(&(api_head){.route = r, .format = API_FORMAT_BINARY}, NULL,
                                   NULL, size & 32 ? len : API_LENGTH_UNKNOWN, &why);
        for (size_t at = 0; b && at < len; at += piece)
            if (api_body_feed(b, raw + at, len - at < piece ? len - at : piece) != LR_ERR_OK)
                abort();
        api_request req = {.route = r, .params = p, .nparams = np, .body = b};
        api_response resp;
        if (!b)
            abort();
        api_handle(&req, &resp);
        if (!resp.body || (resp.status == 200 && resp.len > len) ||
            (resp.status != 200 && !strstr(resp.body, "\"code\": \"")))
            abort();
        api_response_free(&resp);

        api_request plot = {.route = API_PLOT, .params = p, .nparams = np};
        api_handle(&plot, &resp);
        if (!resp.body || resp.len != strlen(resp.body) ||
            (resp.status == 200 && (strncmp(resp.body, "<?xml", 5) != 0 ||
                                    resp.len < 7 || strcmp(resp.body + resp.len - 7, "</svg>\n") != 0 ||
                                    strstr(resp.body, "nan") || strstr(resp.body, "inf"))) ||
            (resp.status != 200 && (resp.status != 422 || !strstr(resp.body, "\"code\": \""))))
            abort();
        api_response_free(&resp);
    }

    check_readings(body, size, size & 2 ? REQUEST_GRADIENT : REQUEST_FORWARD);
    /* As an inference request: read the same every way, answered with a
     * well-formed reply; and once more gzip'd, in pieces (decoding). */
    check_readings(body, size, REQUEST_OIP);
    for (int coded = 0; coded < 2; coded++) {
        api_head call = {.route = API_V2_INFER, .format = API_FORMAT_OIP,
                         .model = size & 1 ? INFER_MODEL_GRADIENT : INFER_MODEL_FORWARD,
                         .coding = coded ? CODING_DEFLATE : CODING_IDENTITY, .max_body = 1 << 20};
        lr_err why;
        api_body *b = api_body_new(&call, NULL, NULL, size, &why);
        if (!b)
            abort();
        lr_err fed = LR_ERR_OK;
        for (size_t at = 0; at < size && fed == LR_ERR_OK; at += 5)
            fed = api_body_feed(b, body + at, size - at < 5 ? size - at : 5);
        api_request req = {.route = API_V2_INFER, .model = call.model, .body = b};
        api_response resp;
        api_handle(&req, &resp);
        if (!coded && (!resp.body || (resp.status != 200 && !strstr(resp.body, "\"error\": \"")) ||
                       resp.status == 422))
            abort();
        api_response_free(&resp);
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
    /* float32: the direct rounding is strtof's (glibc's is correct), and
     * its shortest text reads back */
    float f, g;
    if (size && size < 512 && numparse_f32(body, body + size, &f, &stop) == NUMPARSE_OK) {
        char text[512], buf[NUMFMT_F32_BUF];
        memcpy(text, body, (size_t)(stop - body));
        text[stop - body] = '\0';
        float want = strtof(text, NULL);
        char *end = numfmt_f32(f, buf);
        if (memcmp(&f, &want, sizeof f) != 0 || numparse_f32(buf, end, &g, &stop) != NUMPARSE_OK ||
            stop != end || memcmp(&f, &g, sizeof f) != 0)
            abort();
    }
    free(body);
    return 0;
}
