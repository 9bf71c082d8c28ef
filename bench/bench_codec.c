/* Codec and kernel benchmarks, one process, one table:
 *   decode: request_parse vs jansson json_loadb vs a strtod loop
 *   encode: tensor_write_json vs jansson json_dumps vs snprintf("%.17g")
 *   kernels: forward/gradient vs memcpy at 8 KB, 8 MB, 128 MB
 *   f32: float32 decode, encode and kernel per number, beside float64
 * Also writes request bodies for the HTTP benchmark: --gen N FILE [COLS]
 * (N numbers, in rows of COLS when given; --gen32: float32 texts). */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/lrelu.h"
#include "../src/numfmt.h"
#include "../src/request.h"
#include "../src/tensor.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

enum { KIND_RANDOM17, KIND_SHORT, KIND_INT, KIND_GRADIENT, KIND_FLOAT32 };

/* "[v, v, ...]" with n numbers of the given kind; *len its length. */
static char *make_body(size_t n, int kind, size_t cols, size_t *len)
{
    size_t cap = n * 30 + 16;
    char *b = malloc(cap), *p = b;
    if (!b)
        exit(1);
    *p++ = '[';
    if (cols) /* rows of cols numbers */
        *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i && cols && i % cols == 0) {
            memcpy(p, "], [", 4);
            p += 4;
        } else if (i) {
            *p++ = ',';
            *p++ = ' ';
        }
        double v;
        switch (kind) {
        case KIND_RANDOM17:
            v = ((double)(next() >> 11) / 9007199254740992.0 - 0.5) *
                (double)(1u << (next() % 20));
            p += snprintf(p, 32, "%.17g", v);
            break;
        case KIND_SHORT:
            p += snprintf(p, 32, "%.2f", (double)((int64_t)(next() % 2001) - 1000) / 100.0);
            break;
        case KIND_INT:
            p += snprintf(p, 32, "%lld", (long long)(next() % 2000000001) - 1000000000);
            break;
        case KIND_FLOAT32: /* the same values as float32, shortest text */
            v = ((double)(next() >> 11) / 9007199254740992.0 - 0.5) *
                (double)(1u << (next() % 20));
            p = numfmt_f32((float)v, p);
            break;
        default: /* what /gradient answers: 1 or the slope */
            p += snprintf(p, 32, "%s", next() & 1 ? "1.0" : "0.01");
        }
    }
    if (cols)
        *p++ = ']';
    *p++ = ']';
    *p = '\0';
    *len = (size_t)(p - b);
    return b;
}

/* Best wall time of `reps` runs of fn(arg). */
#define BEST(reps, stmt)                                                       \
    ({                                                                         \
        double best_ = 1e30;                                                   \
        for (int r_ = 0; r_ < (reps); r_++) {                                  \
            double t0_ = now();                                                \
            stmt;                                                              \
            double t_ = now() - t0_;                                           \
            if (t_ < best_)                                                    \
                best_ = t_;                                                    \
        }                                                                      \
        best_;                                                                 \
    })

static volatile double sink;

static double strtod_loop(const char *b)
{
    double s = 0;
    const char *p = b + 1;
    char *end;
    while (*p && *p != ']') {
        s += strtod(p, &end);
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return s;
}

/* Reads body into req (initialized here); exits on failure. */
static void parse_or_exit(const char *body, size_t len, request *req)
{
    lr_error err;
    request_init(req);
    if (request_parse(body, len, REQUEST_FORWARD, req, &err) != LR_ERR_OK)
        exit(2);
}

/* A table's head, and a row of ours vs two others (MB/s and ratios). */
static void print_head(const char *title, const char *c1, const char *c2, const char *c3,
                       const char *r1, const char *r2)
{
    printf("\n%-28s %12s %12s %12s %10s %10s\n", title, c1, c2, c3, r1, r2);
}

static void print_row(const char *name, double mb, double t_ours, double t_a, double t_b)
{
    printf("%-28s %12.0f %12.1f %12.0f %9.1fx %9.1fx\n", name, mb / t_ours, mb / t_a, mb / t_b,
           t_a / t_ours, t_b / t_ours);
}

static void bench_decode(void)
{
    static const char *const names[] = {"17-digit doubles", "short decimals", "integers"};
    size_t n = 1000000;
    print_head("decode (1M numbers)", "ours MB/s", "jansson MB/s", "strtod MB/s", "vs jansson",
               "vs strtod");
    for (int kind = 0; kind < 3; kind++) {
        size_t len;
        char *body = make_body(n, kind, 0, &len);
        double t_ours = BEST(11, {
            request req;
            parse_or_exit(body, len, &req);
            sink = req.x.data[n - 1];
            request_free(&req);
        });
        double t_jansson = BEST(2, {
            json_t *j = json_loadb(body, len, 0, NULL);
            if (!j)
                exit(3);
            json_decref(j);
        });
        double t_strtod = BEST(3, sink = strtod_loop(body));
        double mb = (double)len / 1e6;
        print_row(names[kind], mb, t_ours, t_jansson, t_strtod);
        free(body);
    }
}

static void bench_encode(void)
{
    static const char *const names[] = {"17-digit doubles", "short decimals", "integers",
                                        "gradient (1.0, 0.01)"};
    size_t n = 1000000;
    print_head("encode (1M numbers)", "ours MB/s", "jansson MB/s", "%.17g MB/s", "vs jansson",
               "vs printf");
    for (int kind = 0; kind < 4; kind++) {
        size_t len;
        char *body = make_body(n, kind, 0, &len);
        request req;
        parse_or_exit(body, len, &req);
        char *out = malloc(tensor_json_bound(&req.x));
        size_t out_len = 0;
        double t_ours = BEST(11, out_len = (size_t)(tensor_write_json(&req.x, out) - out));
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_real(req.x.data[i]));
        double t_jansson = BEST(2, {
            char *s = json_dumps(arr, 0);
            free(s);
        });
        double t_printf = BEST(3, {
            char *p = out;
            for (size_t i = 0; i < n; i++)
                p += snprintf(p, 32, "%.17g, ", req.x.data[i]);
        });
        json_decref(arr);
        double mb = (double)out_len / 1e6;
        print_row(names[kind], mb, t_ours, t_jansson, t_printf);
        free(out);
        request_free(&req);
        free(body);
    }
}

/* Reads body as float64, or as float32 (then narrowed): seconds. */
static double decode_as(const char *body, size_t len, int f32)
{
    return BEST(11, {
        request req;
        parse_or_exit(body, len, &req);
        if (f32 && tensor_to_f32(&req.x) != req.x.count)
            exit(2);
        sink = f32 ? req.x.data32[0] : req.x.data[0];
        request_free(&req);
    });
}

/* float32 beside float64, per number: reading (the text a float64 client
 * sends, and the shorter one a float32 client does), writing, and the
 * forward kernel at 8 MB of input. */
static void bench_f32(void)
{
    size_t n = 1000000, len64, len32;
    char *t64 = make_body(n, KIND_RANDOM17, 0, &len64);
    rng = 88172645463325252u; /* the same values */
    char *t32 = make_body(n, KIND_FLOAT32, 0, &len32);
    printf("\n%-44s %12s %12s\n", "float32 vs float64 (1M numbers)", "ns/number", "bytes/number");
    printf("%-44s %12.1f %12.1f\n", "decode 17-digit text as float64", decode_as(t64, len64, 0) * 1e9 / (double)n,
           (double)len64 / (double)n);
    printf("%-44s %12.1f %12.1f\n", "decode 17-digit text as float32", decode_as(t64, len64, 1) * 1e9 / (double)n,
           (double)len64 / (double)n);
    printf("%-44s %12.1f %12.1f\n", "decode float32 text (<= 9 digits) as float32",
           decode_as(t32, len32, 1) * 1e9 / (double)n, (double)len32 / (double)n);
    request r64, r32;
    parse_or_exit(t64, len64, &r64);
    parse_or_exit(t64, len64, &r32);
    tensor_to_f32(&r32.x);
    char *out = malloc(tensor_json_bound(&r64.x));
    size_t o64 = 0, o32 = 0;
    double e64 = BEST(11, o64 = (size_t)(tensor_write_json(&r64.x, out) - out));
    double e32 = BEST(11, o32 = (size_t)(tensor_write_json(&r32.x, out) - out));
    printf("%-44s %12.1f %12.1f\n", "encode float64 (shortest, 17 digits)", e64 * 1e9 / (double)n,
           (double)o64 / (double)n);
    printf("%-44s %12.1f %12.1f\n", "encode float32 (shortest, <= 9 digits)", e32 * 1e9 / (double)n,
           (double)o32 / (double)n);
    size_t k = (8 << 20) / sizeof(double);
    double tk64 = BEST(40, lrelu_forward_f64(r64.x.data, r64.x.data, k < n ? k : n, 0.01));
    double tk32 = BEST(40, lrelu_forward_f32(r32.x.data32, r32.x.data32, k < n ? k : n, 0.01f));
    printf("%-44s %12.3f %12s\n", "forward kernel float64", tk64 * 1e9 / (double)(k < n ? k : n), "8");
    printf("%-44s %12.3f %12s\n", "forward kernel float32", tk32 * 1e9 / (double)(k < n ? k : n), "4");
    free(out);
    request_free(&r64);
    request_free(&r32);
    free(t64);
    free(t32);
}

static void bench_kernels(void)
{
    static const size_t sizes[] = {8 << 10, 8 << 20, 128 << 20};
    print_head("kernels (GB/s of input)", "forward", "gradient", "memcpy", "fwd/memcpy",
               "grad/mcpy");
    for (int s = 0; s < 3; s++) {
        size_t bytes = sizes[s], n = bytes / sizeof(double);
        double *x = malloc(bytes), *y = malloc(bytes);
        if (!x || !y)
            exit(1);
        for (size_t i = 0; i < n; i++)
            x[i] = (double)(int64_t)next() / 9.2e18;
        memcpy(y, x, bytes);
        int reps = bytes < (1 << 20) ? 20000 : bytes < (64 << 20) ? 40 : 5;
        /* Time a batch for small sizes so the clock resolution does not matter. */
        int batch = bytes < (1 << 20) ? 100 : 1;
        double tf = BEST(reps / batch + 1, for (int b = 0; b < batch; b++)
                                                lrelu_forward_f64(x, y, n, 0.01));
        double tg = BEST(reps / batch + 1, for (int b = 0; b < batch; b++)
                                                lrelu_gradient_f64(x, y, n, 0.01));
        double tm = BEST(reps / batch + 1, for (int b = 0; b < batch; b++) {
            memcpy(y, x, bytes);
            __asm__ volatile("" ::: "memory");
        });
        double gb = (double)bytes * batch / 1e9;
        char label[64];
        snprintf(label, sizeof label, "%zu %s", bytes >= (1 << 20) ? bytes >> 20 : bytes >> 10,
                 bytes >= (1 << 20) ? "MB" : "KB");
        printf("%-28s %12.1f %12.1f %12.1f %9.2fx %9.2fx\n", label, gb / tf, gb / tg, gb / tm,
               tm / tf, tm / tg);
        free(x);
        free(y);
    }
}

int main(int argc, char **argv)
{
    if ((argc == 4 || argc == 5) && (strcmp(argv[1], "--gen") == 0 || strcmp(argv[1], "--gen32") == 0)) {
        size_t len, n = strtoull(argv[2], NULL, 10);
        int kind = strcmp(argv[1], "--gen32") == 0 ? KIND_FLOAT32 : KIND_RANDOM17;
        char *b = make_body(n, kind, argc == 5 ? strtoull(argv[4], NULL, 10) : 0, &len);
        FILE *f = fopen(argv[3], "w");
        if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0)
            return 1;
        free(b);
        return 0;
    }
    printf("kernel variant: %s\n", lrelu_variant());
    if (argc < 2 || strstr(argv[1], "decode"))
        bench_decode();
    if (argc < 2 || strstr(argv[1], "encode"))
        bench_encode();
    if (argc < 2 || strstr(argv[1], "kernel"))
        bench_kernels();
    if (argc < 2 || strstr(argv[1], "f32"))
        bench_f32();
    return 0;
}
