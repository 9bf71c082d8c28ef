/* Helpers shared by the tests (declared in helpers.h): written once here
 * so that every test file draws the same values from the same code. */
#include "helpers.h"

#include "../src/numfmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <unistd.h>

#include "../src/stream.h"
#include "../src/tensor.h"
#include "tap.h"

uint64_t test_rand(uint64_t *state)
{
    return *state = *state * 6364136223846793005u + 1442695040888963407u;
}

/* Dividing by 2^53 is exact: the value is (state >> 11) / 2^53. */
double test_rand_unit(uint64_t *state) { return (double)(test_rand(state) >> 11) * 0x1p-53; }

double test_from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

uint64_t test_to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

FILE *test_open_data(const char *name)
{
    char path[512];
    FILE *f = fopen(tap_data_path(name, path, sizeof path), "r");
    if (!f)
        tap_fail(__FILE__, __LINE__, "cannot open %s", path);
    return f;
}

/* A body of n random doubles (as "%.17g", so they parse back exactly) in
 * the given shape, bare or as {"x": ...}; *want gets the /forward reply
 * for slope 0.01, from the kernel's definition and tensor_write_json. The
 * generator is seeded with n. */
char *test_read_fd(int fd)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = read(fd, buf + n, cap - n - 1)) > 0) {
        n += (size_t)k;
        if (cap - n < 2) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

double test_series(const char *text, const char *series, double missing)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return missing;
}

int test_instrumented(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return 1;
#endif
#endif
    return getenv("LEAKYRELU_WRAPPER") != NULL;
}

int test_hard(void)
{
    const char *v = getenv("LEAKYRELU_HARD");
    return v && strcmp(v, "1") == 0;
}

long long test_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

char *test_big_body(const size_t *shape, int ndim, int object, char **want)
{
    tensor y;
    tensor_init(&y);
    y.ndim = ndim;
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= (y.shape[k] = shape[k]);
    ASSERT_EQ(tensor_reserve(&y, n), 0);
    y.count = n;
    char *body = malloc(n * 32 + 64), *p = body;
    ASSERT(body != NULL);
    uint64_t state = n;
    p += sprintf(p, "%s", object ? "{\"x\": " : "");
    for (size_t i = 0; i < n; i++) {
        double x = (test_rand_unit(&state) - 0.5) * 1000;
        size_t rest = i, opens = 0;
        for (int k = ndim - 1; k >= 0 && rest % shape[k] == 0; k--, opens++)
            rest /= shape[k];
        if (i) {
            memset(p, ']', opens);
            p += opens;
            p += sprintf(p, ", ");
        } else {
            opens = (size_t)ndim;
        }
        memset(p, '[', opens);
        p += opens;
        p += sprintf(p, "%.17g", x);
        y.data[i] = x > 0 ? x : 0.01 * x;
    }
    memset(p, ']', (size_t)ndim);
    p += ndim;
    p += sprintf(p, "%s", object ? "}" : "");
    *want = malloc(tensor_json_bound(&y) + 16);
    ASSERT(*want != NULL);
    char *w = *want;
    w += sprintf(w, "%s", object ? "{\"y\": " : "");
    w = tensor_write_json(&y, w);
    sprintf(w, "%s", object ? "}" : "");
    tensor_free(&y);
    return body;
}

char *test_f32_body(size_t rows, size_t cols, char **want)
{
    /* texts whose double lies on a float32 tie, one way or the other, and
     * the edges of float32's range */
    static const char *const tricky[] = {
        "1.000000059604644775390625000000000001", "1.000000059604644775390625",
        "-1.0000000596046447753906249999999999", "16777217", "-16777219",
        "3.4028235677973366e38", "7.0064923216240862e-46", "-7.006492321624085e-46",
        "1e-50", "0.1", "-0.30000001192092896",
    };
    size_t n = rows * cols, ntricky = sizeof tricky / sizeof tricky[0];
    char *body = malloc(n * 48 + 64), *p = body;
    char *w = *want = malloc(n * (NUMFMT_F32_MAX + 2) + rows * 4 + 64);
    ASSERT(body && w);
    uint64_t state = n;
    p += sprintf(p, "{\"x\": [");
    w += sprintf(w, "{\"y\": [");
    for (size_t i = 0; i < n; i++) {
        if (i % cols == 0) {
            p += sprintf(p, "%s[", i ? "], " : "");
            w += sprintf(w, "%s[", i ? "], " : "");
        } else {
            p += sprintf(p, ", ");
            w += sprintf(w, ", ");
        }
        char *text = p;
        if ((test_rand(&state) >> 40) % 4 == 0) /* an LCG's high bits */
            p += sprintf(p, "%s", tricky[(test_rand(&state) >> 40) % ntricky]);
        else
            p += sprintf(p, "%.9g", (test_rand_unit(&state) - 0.5) * 100);
        char save = *p;
        *p = '\0';
        float x = strtof(text, NULL), y = x > 0 ? x : x * 0.01f;
        *p = save;
        w = numfmt_f32(y, w);
    }
    sprintf(p, "]], \"dtype\": \"float32\"}");
    sprintf(w, "]]}");
    return body;
}

/* Extracts the raw text of member `key` from a line written by Python's
 * json module: values there never contain ', "'. */
static int torch_field(const char *line, const char *key, char *out, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *s = strstr(line, pat);
    if (!s)
        return -1;
    s += strlen(pat);
    const char *e = strstr(s, ", \"");
    if (!e)
        e = strrchr(s, '}');
    if (!e || (size_t)(e - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return 0;
}

/* Builds request `req` and the exact reply `want` (len bytes each) for
 * one line of torch_cases.jsonl; which: 0 forward, 1 gradient, 2
 * backward. Returns 0, or -1 for an unreadable line. */
static int torch_case(const char *line, int which, char *req, char *want, size_t len)
{
    static char x[1 << 16], slope[64], val[1 << 16], go[1 << 16];
    static const char *const keys[] = {"y", "grad", "grad_input"};
    if (torch_field(line, "x", x, sizeof x) || torch_field(line, "slope", slope, sizeof slope) ||
        torch_field(line, keys[which], val, sizeof val) ||
        torch_field(line, "grad_output", go, sizeof go))
        return -1;
    if (which == 2)
        snprintf(req, len, "{\"x\": %s, \"slope\": %s, \"grad_output\": %s}", x, slope, go);
    else
        snprintf(req, len, "{\"x\": %s, \"slope\": %s}", x, slope);
    snprintf(want, len, "{\"%s\": %s}", which == 0 ? "y" : "grad", val);
    return 0;
}

int test_torch_cases(test_torch_fn *fn, void *arg)
{
    FILE *f = test_open_data("torch_cases.jsonl");
    if (!f)
        return -1;
    static char line[1 << 18], req[1 << 18], want[1 << 18];
    int lines = 0;
    for (; fgets(line, sizeof line, f); lines++) {
        for (int which = 0; which < 3; which++) {
            if (torch_case(line, which, req, want, sizeof req) != 0)
                tap_fail(__FILE__, __LINE__, "case %d: cannot read the line", lines);
            else
                fn(arg, lines, which, req, want);
        }
    }
    fclose(f);
    return lines;
}

/* Copies the JSON array text src to out, each number replaced by a
 * float32's text from the reference formatter: the float32 it stands
 * for (grad 0), or the derivative there, 1 or `slope` (grad 1). */
static void f32_text(const char *src, int grad, float slope, char *out, size_t len)
{
    size_t n = 0;
    while (*src && n + 40 < len) {
        if (*src == '-' || (*src >= '0' && *src <= '9')) {
            char *end;
            float v = (float)strtod(src, &end);
            src = end;
            if (grad)
                v = v > 0 ? 1.0f : slope;
            n = (size_t)(ref_numfmt_f32(v, out + n) - out);
        } else {
            out[n++] = *src++;
        }
    }
    out[n] = '\0';
}

int test_torch_f32_cases(test_torch_fn *fn, void *arg)
{
    FILE *f = test_open_data("torch_extra.jsonl");
    if (!f)
        return -1;
    static char line[1 << 16], req[1 << 16], want[1 << 16], x[1 << 14], slope[64], y[1 << 14],
        go[1 << 14], gi[1 << 14], t[1 << 14];
    int cases = 0;
    for (int lines = 0; fgets(line, sizeof line, f); lines++) {
        if (!strstr(line, "\"kind\": \"f32\""))
            continue;
        if (torch_field(line, "x", x, sizeof x) || torch_field(line, "slope", slope, sizeof slope) ||
            torch_field(line, "y", y, sizeof y) ||
            torch_field(line, "grad_output", go, sizeof go) ||
            torch_field(line, "grad_input", gi, sizeof gi)) {
            tap_fail(__FILE__, __LINE__, "line %d: cannot read it", lines);
            continue;
        }
        /* dtype before x in half the cases, after everything in the rest */
        const char *first = cases % 2 ? "" : "\"dtype\": \"float32\", ";
        const char *last = cases % 2 ? ", \"dtype\": \"float32\"" : "";
        for (int which = 0; which < 3; which++) {
            if (which == 2)
                snprintf(req, sizeof req, "{%s\"x\": %s, \"slope\": %s, \"grad_output\": %s%s}",
                         first, x, slope, go, last);
            else
                snprintf(req, sizeof req, "{%s\"x\": %s, \"slope\": %s%s}", first, x, slope,
                         last);
            f32_text(which == 0 ? y : which == 1 ? x : gi, which == 1, (float)strtod(slope, NULL),
                     t, sizeof t);
            snprintf(want, sizeof want, "{\"%s\": %s}", which == 0 ? "y" : "grad", t);
            fn(arg, lines, which, req, want);
        }
        cases++;
    }
    fclose(f);
    return cases;
}

int test_torch_prelu_cases(test_prelu_fn *fn, void *arg)
{
    FILE *f = test_open_data("torch_extra.jsonl");
    if (!f)
        return -1;
    static char line[1 << 16], req[1 << 16], want[1 << 16], x[1 << 14], slope[1 << 12],
        y[1 << 14], go[1 << 14], gi[1 << 14], gs[1 << 12];
    int cases = 0;
    for (int lines = 0; fgets(line, sizeof line, f); lines++) {
        if (!strstr(line, "\"kind\": \"prelu\""))
            continue;
        if (torch_field(line, "x", x, sizeof x) || torch_field(line, "slope", slope, sizeof slope) ||
            torch_field(line, "y", y, sizeof y) ||
            torch_field(line, "grad_output", go, sizeof go) ||
            torch_field(line, "grad_input", gi, sizeof gi) ||
            torch_field(line, "grad_slope", gs, sizeof gs)) {
            tap_fail(__FILE__, __LINE__, "line %d: cannot read it", lines);
            continue;
        }
        double g[256];
        size_t n = 0;
        for (char *p = gs + 1, *end; *p && *p != ']' && n < 256; p = end + (*end == ',') + 1)
            g[n++] = strtod(p, &end);
        snprintf(req, sizeof req, "{\"x\": %s, \"slope\": %s}", x, slope);
        snprintf(want, sizeof want, "{\"y\": %s}", y);
        fn(arg, lines, req, 0, want, NULL, 0);
        snprintf(req, sizeof req, "{\"x\": %s, \"grad_output\": %s, \"slope\": %s}", x, go,
                 slope);
        snprintf(want, sizeof want, "{\"grad\": %s", gi);
        fn(arg, lines, req, 1, want, g, n);
        cases++;
    }
    fclose(f);
    return cases;
}

int test_check_grad_slope(const char *got, const char *want, const double *gs, size_t n)
{
    size_t len = strlen(want);
    if (!got || strncmp(got, want, len) != 0 || strncmp(got + len, ", \"grad_slope\": [", 17) != 0)
        return 0;
    const char *p = got + len + 17;
    for (size_t i = 0; i < n; i++) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v == gs[i] || fabs(v - gs[i]) <= 1e-12 * fabs(gs[i])))
            return 0;
        p = end;
        if (i + 1 < n && strncmp(p, ", ", 2) != 0)
            return 0;
        p += i + 1 < n ? 2 : 0;
    }
    return strcmp(p, "]}") == 0;
}

const test_decode_case test_decode_cases[] = {
    {"", REQUEST_FORWARD, LR_ERR_EMPTY_BODY, -1, ""},
    {"  \n", REQUEST_FORWARD, LR_ERR_EMPTY_BODY, -1, ""},
    {"[1, 2", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 5, ""},
    {"[1,]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"[1 2]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"[NaN]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[-Infinity]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[Infinity]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[01]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 2, ""},
    {"[.5]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[1.]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 3, ""},
    {"[+1]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 1, ""},
    {"[0x10]", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 2, ""},
    {"[1e]", REQUEST_FORWARD, LR_ERR_JSON_NUMBER, 3, ""},
    {"[1] x", REQUEST_FORWARD, LR_ERR_JSON_TRAILING, 4, ""},
    {"{\"x\": [1]}}", REQUEST_FORWARD, LR_ERR_JSON_TRAILING, 10, ""},
    {"{\"x\": \"\xff\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\": \"\xc0\xaf\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\": \"\xed\xa0\x80\"}", REQUEST_FORWARD, LR_ERR_JSON_UTF8, 7, ""},
    {"{\"x\\ud800\": 1}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"{\"x\\q\": 1}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 3, ""},
    {"{\"x\": [1], \"a\": \"\x01\"}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 17, ""},
    {"{\"x\": [1], \"a\": [1, tru]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 20, ""},
    {"{\"x\" [1]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 5, ""},
    {"{x: [1]}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 1, ""},
    /* A syntax error after a request error still wins (400 over 422). */
    {"{\"x\": [\"a\"], \"slope\": 1,}", REQUEST_FORWARD, LR_ERR_JSON_SYNTAX, 24, ""},
    {"\"text\"", REQUEST_FORWARD, LR_ERR_BODY_TYPE, -1, ""},
    {"null", REQUEST_FORWARD, LR_ERR_BODY_TYPE, -1, ""},
    {"{}", REQUEST_FORWARD, LR_ERR_MISSING_X, -1, ""},
    {"{\"slope\": 0.1}", REQUEST_FORWARD, LR_ERR_MISSING_X, -1, ""},
    {"[1, \"2\"]", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x[1]"},
    {"[[1, 2], [3, null]]", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x[1][1]"},
    {"{\"x\": true}", REQUEST_FORWARD, LR_ERR_NOT_A_NUMBER, -1, "x"},
    {"[[1, 2], [3]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1, 2], [3, 4, 5]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1, 2], 3]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[1, [2]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[], [1]]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[1], []]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[[[]], []]", REQUEST_FORWARD, LR_ERR_RAGGED, -1, "x[1]"},
    {"[1, 1e400]", REQUEST_FORWARD, LR_ERR_NUMBER_RANGE, -1, "x[1]"},
    {"[[-1e999]]", REQUEST_FORWARD, LR_ERR_NUMBER_RANGE, -1, "x[0][0]"},
    {"{\"x\": [1], \"slope\": \"0.1\"}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, "slope"},
    {"{\"x\": [1], \"slope\": 1e400}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, "slope"},
    {"{\"x\": [1], \"slope\": null}", REQUEST_FORWARD, LR_ERR_BAD_SLOPE, -1, "slope"},
    {"{\"x\": [1], \"y\": 2}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"grad_output\": [2]}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [\"a\"], \"z\": 2}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"x\": [2]}", REQUEST_FORWARD, LR_ERR_DUPLICATE_MEMBER, -1, ""},
    {"{\"x\": [1, 2], \"grad_output\": [1]}", REQUEST_GRADIENT, LR_ERR_SHAPE_MISMATCH, -1, ""},
    {"{\"x\": [[1, 2]], \"grad_output\": [1, 2]}", REQUEST_GRADIENT, LR_ERR_SHAPE_MISMATCH, -1, ""},
    {"{\"x\": [1], \"grad_output\": [\"a\"]}", REQUEST_GRADIENT, LR_ERR_NOT_A_NUMBER, -1,
     "grad_output[0]"},
    /* Valid requests. */
    {"[]", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {"{\"x\": [[1, 2], [3, 4]], \"slope\": 2}", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {"{\"\\u0078\": 1}", REQUEST_FORWARD, LR_ERR_OK, -1, ""},
    {" {\"x\":[[],[]],\"a\\u00e9\\ud83d\\ude00\":0}", REQUEST_FORWARD, LR_ERR_UNKNOWN_MEMBER, -1, ""},
    {"{\"x\": [1], \"grad_output\": [2]}", REQUEST_GRADIENT, LR_ERR_OK, -1, ""},
};
const size_t test_decode_count = sizeof test_decode_cases / sizeof test_decode_cases[0];

size_t test_random_cuts(uint64_t *state, size_t len, size_t piece, size_t *cuts, size_t max)
{
    size_t n = 0;
    for (size_t at = 0; n < max;) {
        at += 1 + (test_rand(state) >> 33) % piece;
        if (at >= len)
            break;
        cuts[n++] = at;
    }
    return n;
}

size_t test_check_reader(const char *body, size_t len, request_kind kind, const size_t *cuts,
                         size_t ncuts, size_t batch, pool *workers, const char *what)
{
    request a, b;
    lr_error ea, eb;
    request_init(&a);
    request_init(&b);
    lr_err ra = request_parse(body, len, kind, &a, &ea);
    request_reader *r = request_reader_new(kind, workers, &b, &eb);
    ASSERT(r != NULL);
    if (!r)
        return 0;
    if (batch) /* else the default */
        request_reader_set_batch(r, batch);
    size_t at = 0;
    for (size_t i = 0; i < ncuts; i++) {
        ASSERT_EQ(request_reader_feed(r, body + at, cuts[i] - at), 0);
        at = cuts[i];
    }
    ASSERT_EQ(request_reader_feed(r, body + at, len - at), 0);
    lr_err rb = request_reader_finish(r);
    request_reader_free(r);
    int same = ra == rb && ea.code == eb.code && ea.offset == eb.offset &&
               strcmp(ea.path, eb.path) == 0 && strcmp(ea.detail, eb.detail) == 0;
    if (same && ra == LR_ERR_OK) {
        same = a.is_object == b.is_object && a.has_slope == b.has_slope &&
               a.has_dtype == b.has_dtype && a.dtype == b.dtype &&
               a.has_grad_output == b.has_grad_output;
        const request_oip *oa = &a.oip, *ob = &b.oip;
        same = same && oa->has_id == ob->has_id && strcmp(oa->id, ob->id) == 0 &&
               oa->binary_output == ob->binary_output && oa->ninputs == ob->ninputs &&
               oa->has_outputs == ob->has_outputs && oa->noutputs == ob->noutputs;
        for (size_t k = 0; k < REQUEST_OIP_INPUTS && same; k++)
            same = strcmp(oa->in[k].name, ob->in[k].name) == 0 &&
                   oa->in[k].ndim == ob->in[k].ndim && oa->in[k].dtype == ob->in[k].dtype &&
                   memcmp(oa->in[k].shape, ob->in[k].shape, sizeof oa->in[k].shape) == 0 &&
                   oa->in[k].binary == ob->in[k].binary &&
                   oa->in[k].binary_size == ob->in[k].binary_size;
        for (size_t k = 0; k < REQUEST_OIP_OUTPUTS && same; k++)
            same = strcmp(oa->out[k].name, ob->out[k].name) == 0 &&
                   oa->out[k].binary == ob->out[k].binary;
        const tensor *ta[3] = {&a.x, &a.grad_output, &a.slopes},
                     *tb[3] = {&b.x, &b.grad_output, &b.slopes};
        for (int k = 0; k < 3 && same; k++) {
            same = ta[k]->count == tb[k]->count && ta[k]->ndim == tb[k]->ndim &&
                   memcmp(ta[k]->shape, tb[k]->shape, sizeof ta[k]->shape) == 0 &&
                   (ta[k]->count == 0 ||
                    memcmp(ta[k]->data, tb[k]->data, ta[k]->count * sizeof(double)) == 0) &&
                   ta[k]->nfixes == tb[k]->nfixes;
            for (size_t f = 0; f < ta[k]->nfixes && same; f++)
                same = ta[k]->fixes[f].index == tb[k]->fixes[f].index &&
                       memcmp(&ta[k]->fixes[f].value, &tb[k]->fixes[f].value, sizeof(float)) == 0;
        }
    }
    if (!same)
        tap_fail(__FILE__, __LINE__,
                 "%s (%zu bytes, %zu cuts, first %zu): whole %s at %zu \"%s\", read in pieces "
                 "%s at %zu \"%s\"",
                 what, len, ncuts, ncuts ? cuts[0] : 0, lr_err_code(ra), ea.offset, ea.detail,
                 lr_err_code(rb), eb.offset, eb.detail);
    size_t in_parts = b.numbers_in_parts;
    if (rb == LR_ERR_OK) /* each number counted once, however often text was re-read */
        ASSERT(in_parts <= b.x.count + b.grad_output.count);
    request_free(&a);
    request_free(&b);
    return in_parts;
}

void test_check_reader_everywhere(const char *body, request_kind kind, const char *what)
{
    size_t len = strlen(body);
    size_t *cuts = malloc((len + 1) * sizeof *cuts);
    ASSERT(cuts != NULL);
    if (!cuts)
        return;
    size_t step = len <= 256 ? 1 : len / 64;
    for (size_t k = 1; k < len; k += step) {
        cuts[0] = k;
        (void)test_check_reader(body, len, kind, cuts, 1, 1, NULL, what);
    }
    for (size_t k = 1; k < len; k++)
        cuts[k - 1] = k;
    (void)test_check_reader(body, len, kind, cuts, len > 0 ? len - 1 : 0, 1, NULL, what);
    free(cuts);
}

lr_err test_check_on_workers(const char *body, size_t len, pool *workers, size_t *count,
                             size_t *in_parts, const char *what)
{
    request a, b;
    lr_error ea, eb;
    request_init(&a);
    request_init(&b);
    lr_err ra = request_parse(body, len, REQUEST_FORWARD, &a, &ea);
    lr_err rb = request_parse_on(body, len, REQUEST_FORWARD, workers, &b, &eb);
    int same = ra == rb && ea.offset == eb.offset && strcmp(ea.path, eb.path) == 0 &&
               strcmp(ea.detail, eb.detail) == 0;
    if (same && ra == LR_ERR_OK)
        same = a.x.count == b.x.count && a.x.ndim == b.x.ndim &&
               memcmp(a.x.shape, b.x.shape, sizeof a.x.shape) == 0 &&
               memcmp(a.x.data, b.x.data, a.x.count * sizeof(double)) == 0;
    if (!same)
        tap_fail(__FILE__, __LINE__, "%s: alone %s at %zu \"%s\", on workers %s at %zu \"%s\"",
                 what, lr_err_code(ra), ea.offset, ea.detail, lr_err_code(rb), eb.offset,
                 eb.detail);
    *count = a.x.count;
    *in_parts = b.numbers_in_parts;
    request_free(&a);
    request_free(&b);
    return ra;
}

size_t test_max_held(const char *body, size_t len, pool *workers, lr_err *rc, size_t *count)
{
    request q;
    lr_error e;
    request_init(&q);
    request_reader *r = request_reader_new(REQUEST_FORWARD, workers, &q, &e);
    ASSERT(r != NULL);
    size_t held = 0;
    *rc = LR_ERR_NO_MEMORY;
    for (size_t at = 0; r && at < len; at += 16384) {
        request_reader_feed(r, body + at, len - at < 16384 ? len - at : 16384);
        if (request_reader_held(r) > held)
            held = request_reader_held(r);
    }
    if (r) {
        *rc = request_reader_finish(r);
        request_reader_free(r);
    }
    *count = q.x.count;
    request_free(&q);
    return held;
}


api_body *test_api_body(api_route route, const char *text, size_t len, pool *workers)
{
    lr_err why;
    api_body *b = api_body_new(&(api_head){.route = route}, workers, NULL, len, &why);
    ASSERT(b != NULL);
    if (b && api_body_feed(b, text, len) != 0)
        tap_fail(__FILE__, __LINE__, "api_body_feed failed");
    return b;
}

char *test_stream_text(struct stream *st, size_t *len)
{
    size_t cap = 1 << 16;
    char *text = malloc(cap + 1);
    ptrdiff_t n = 0;
    *len = 0;
    while (text && (n = stream_read(st, text + *len, cap - *len)) > 0) {
        *len += (size_t)n;
        if (*len == cap) {
            char *grown = realloc(text, 2 * cap + 1);
            if (!grown)
                free(text);
            text = grown;
            cap *= 2;
        }
    }
    stream_free(st);
    if (!text || n < 0) {
        tap_fail(__FILE__, __LINE__, "the stream could not be read (%td)", n);
        free(text);
        return NULL;
    }
    text[*len] = '\0';
    return text;
}

char *test_zcode(const void *src, size_t len, int bits, size_t *out_len)
{
    z_stream z = {0};
    size_t cap = compressBound((uLong)len) + 64;
    char *out = malloc(cap);
    if (!out || deflateInit2(&z, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (unsigned char *)(uintptr_t)src;
    z.avail_in = (uInt)len;
    z.next_out = (unsigned char *)out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

const char *test_header(const api_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}
