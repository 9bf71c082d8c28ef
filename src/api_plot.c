/* The endpoints for people: GET /plot.svg (the function's picture, plot.c)
 * and GET / (the playground page), both cacheable (api__cacheable). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "budget.h"
#include "numfmt.h"
#include "numparse.h"
#include "plot.h"
#include "playground.h"

/* What a plot is when its query does not say. */
#define DEFAULT_XMIN (-5.0)
#define DEFAULT_XMAX 5.0
#define DEFAULT_WIDTH 640
#define DEFAULT_WIDTH_BOTH 960
#define DEFAULT_HEIGHT 400

/* The parameters /plot.svg takes, for the unknown parameter's message. */
#define PLOT_PARAMS "\"slope\", \"xmin\", \"xmax\", \"what\", \"dtype\", \"width\" or \"height\""

static int param_is(const api_param *p, const char *name)
{
    return p->key_len == strlen(name) && memcmp(p->key, name, p->key_len) == 0;
}

/* An error about query parameter `name`, its path the parameter's name. */
static lr_err bad(lr_error *err, lr_err code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static lr_err bad(lr_error *err, lr_err code, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lr_error_vset(err, code, fmt, ap);
    va_end(ap);
    snprintf(err->path, sizeof err->path, "%s", name);
    return code;
}

/* A finite number, the whole value. */
static lr_err read_x(const api_param *pm, const char *name, double *out, lr_error *err)
{
    const char *v = pm->value ? pm->value : "", *stop = v;
    size_t len = pm->value ? pm->value_len : 0;
    numparse_status st = len ? numparse_f64(v, v + len, out, &stop) : NUMPARSE_SYNTAX;
    if (st == NUMPARSE_OK && stop == v + len)
        return LR_ERR_OK;
    return bad(err, LR_ERR_BAD_PARAMETER, name, "query parameter %s must be a finite "
               "number, not \"%.*s\"", name, (int)(len < 100 ? len : 100), v);
}

/* An integer in [lo, hi]. */
static lr_err read_size(const api_param *pm, const char *name, int lo, int hi, int *out,
                        lr_error *err)
{
    const char *v = pm->value ? pm->value : "";
    size_t len = pm->value ? pm->value_len : 0, i = 0;
    long n = 0;
    while (i < len && v[i] >= '0' && v[i] <= '9' && n <= hi)
        n = n * 10 + (v[i++] - '0');
    if (i == 0 || i < len || n < lo || n > hi)
        return bad(err, LR_ERR_BAD_PARAMETER, name, "query parameter %s must be a whole "
                   "number of pixels from %d to %d, not \"%.*s\"", name, lo, hi,
                   (int)(len < 100 ? len : 100), v);
    *out = (int)n;
    return LR_ERR_OK;
}

static lr_err read_what(const api_param *pm, plot_what *out, lr_error *err)
{
    static const struct {
        const char *name;
        plot_what what;
    } names[] = {{"forward", PLOT_FORWARD}, {"gradient", PLOT_GRADIENT}, {"both", PLOT_BOTH}};
    const char *v = pm->value ? pm->value : "";
    size_t len = pm->value ? pm->value_len : 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (len == strlen(names[i].name) && memcmp(v, names[i].name, len) == 0) {
            *out = names[i].what;
            return LR_ERR_OK;
        }
    }
    return bad(err, LR_ERR_BAD_PARAMETER, "what", "query parameter what must be \"forward\", "
               "\"gradient\" or \"both\", not \"%.*s\"", (int)(len < 100 ? len : 100), v);
}

static lr_err read_slopes(const api_param *pm, plot_spec *spec, lr_error *err)
{
    tensor t;
    tensor_init(&t);
    lr_err rc = api__query_slopes(pm->value ? pm->value : "", pm->value ? pm->value_len : 0,
                                  &t, err);
    if (rc == LR_ERR_OK && t.count > PLOT_SLOPES_MAX)
        rc = bad(err, LR_ERR_BAD_SLOPE, "slope", "a plot draws at most %d slopes, not %zu",
                 PLOT_SLOPES_MAX, t.count);
    for (size_t i = 0; rc == LR_ERR_OK && i < t.count; i++)
        spec->slopes[i] = t.data[i];
    spec->nslopes = t.count;
    tensor_free(&t);
    return rc;
}

/* The query into spec, each parameter at most once. */
static lr_err plot_query(const api_request *req, plot_spec *spec, lr_error *err)
{
    static const char *const names[] = {"slope", "xmin", "xmax", "what",
                                        "dtype", "width", "height"};
    unsigned seen = 0;
    int has_width = 0;
    lr_error_clear(err);
    *spec = (plot_spec){.slopes = {COMPUTE_DEFAULT_SLOPE}, .nslopes = 1, .xmin = DEFAULT_XMIN,
                        .xmax = DEFAULT_XMAX, .what = PLOT_BOTH, .height = DEFAULT_HEIGHT};
    for (size_t i = 0; i < req->nparams; i++) {
        const api_param *pm = &req->params[i];
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && !param_is(pm, names[k]))
            k++;
        if (k == sizeof names / sizeof names[0])
            return bad(err, LR_ERR_UNKNOWN_PARAM, "", "unknown query parameter \"%.*s\"; "
                       "/plot.svg takes " PLOT_PARAMS,
                       (int)(pm->key_len < 100 ? pm->key_len : 100), pm->key);
        if (seen & (1u << k))
            return bad(err, k == 0 ? LR_ERR_SLOPE_TWICE : k == 4 ? LR_ERR_DTYPE_TWICE
                                                            : LR_ERR_BAD_PARAMETER,
                       names[k], "%s is given twice in the query", names[k]);
        seen |= 1u << k;
        lr_err rc = LR_ERR_OK;
        const char *v = pm->value ? pm->value : "";
        size_t vlen = pm->value ? pm->value_len : 0;
        switch (k) {
        case 0: rc = read_slopes(pm, spec, err); break;
        case 1: rc = read_x(pm, names[k], &spec->xmin, err); break;
        case 2: rc = read_x(pm, names[k], &spec->xmax, err); break;
        case 3: rc = read_what(pm, &spec->what, err); break;
        case 4:
            spec->f32 = vlen == 7 && memcmp(v, "float32", 7) == 0;
            if (!spec->f32 && !(vlen == 7 && memcmp(v, "float64", 7) == 0))
                rc = bad(err, LR_ERR_BAD_DTYPE, "dtype", "query parameter dtype must be "
                         "\"float64\" or \"float32\", not \"%.*s\"",
                         (int)(vlen < 100 ? vlen : 100), v);
            break;
        case 5:
            rc = read_size(pm, names[k], PLOT_WIDTH_MIN, PLOT_WIDTH_MAX, &spec->width, err);
            has_width = 1;
            break;
        default:
            rc = read_size(pm, names[k], PLOT_HEIGHT_MIN, PLOT_HEIGHT_MAX, &spec->height, err);
        }
        if (rc != LR_ERR_OK)
            return rc;
    }
    if (!has_width)
        spec->width = spec->what == PLOT_BOTH ? DEFAULT_WIDTH_BOTH : DEFAULT_WIDTH;
    return LR_ERR_OK;
}

/* What plot_check refused, as the client's parameters say it. */
static lr_err plot_refusal(const plot_spec *spec, plot_problem why, lr_error *err)
{
    char lo[NUMFMT_F64_BUF], hi[NUMFMT_F64_BUF];
    *numfmt_f64(spec->xmin, lo) = '\0';
    *numfmt_f64(spec->xmax, hi) = '\0';
    if (why == PLOT_BAD_SLOPES)
        return bad(err, LR_ERR_BAD_SLOPE, "slope", "slope is outside the range of float32");
    if (why == PLOT_NOT_FINITE)
        return bad(err, LR_ERR_NOT_FINITE, "slope", "the curve leaves the range of %s between "
                   "x = %s and %s: choose a smaller slope or range",
                   spec->f32 ? "float32" : "float64", lo, hi);
    for (int i = 0; i < 2 && spec->f32; i++)
        if (!(fabs(i ? spec->xmax : spec->xmin) <= FLT_MAX))
            return bad(err, LR_ERR_BAD_PARAMETER, i ? "xmax" : "xmin", "%s = %s is outside "
                       "the range of float32", i ? "xmax" : "xmin", i ? hi : lo);
    if (!(spec->xmin < spec->xmax))
        return bad(err, LR_ERR_BAD_PARAMETER, "xmin", "xmin must be less than xmax, not "
                   "xmin = %s and xmax = %s", lo, hi);
    return bad(err, LR_ERR_BAD_PARAMETER, "xmax", "the range from xmin = %s to xmax = %s is "
               "too narrow to draw%s: make xmax - xmin at least a millionth of the larger |x|",
               lo, hi, spec->f32 ? " in float32" : "");
}

void api__handle_plot(const api_request *req, api_response *resp)
{
    plot_spec spec;
    lr_error err;
    plot_problem why;
    if (plot_query(req, &spec, &err) != LR_ERR_OK ||
        ((why = plot_check(&spec)) != PLOT_OK && plot_refusal(&spec, why, &err))) {
        api_error(&err, resp);
        return;
    }
    /* Written into the most it can take, then cut to its size: charged
     * to the budget all along, until the reply is sent. */
    budget_account account;
    budget_open(req->budget, &account, 0);
    size_t cap = plot_svg_max(&spec);
    char *svg = budget_malloc(&account, cap), *fit;
    size_t len = svg ? plot_svg(&spec, svg, cap) : 0;
    if (len && (fit = budget_realloc(&account, svg, len + 1)) != NULL)
        svg = fit;
    int refused = account.refused;
    budget_close(&account);
    if (!len) {
        budget_block_free(svg);
        api__no_memory(resp, refused);
        return;
    }
    api__respond(resp, 200, svg, len);
    resp->body_in_budget = 1;
    resp->content_type = "image/svg+xml";
    /* The same query draws the same picture, while the version lasts. */
    api__cacheable(req, resp, "public, max-age=86400");
}

/* The page may load nothing from elsewhere, run only its own inline
 * script, and talk only to this service (the plot is shown from a blob:
 * of what it fetched; its icon is an empty data: one, so that no
 * /favicon.ico is asked for). */
#define PAGE_POLICY                                                                         \
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "          \
    "img-src 'self' blob: data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "      \
    "frame-ancestors 'none'"

void api__handle_page(const api_request *req, api_response *resp)
{
    if (!api__respond_copy(resp, playground_html, playground_html_len,
                           "text/html; charset=utf-8"))
        return;
    if (!api__add_header(resp, "Content-Security-Policy", PAGE_POLICY) ||
        !api__add_header(resp, "X-Content-Type-Options", "nosniff")) {
        api_response_free(resp);
        api__error_response(resp, LR_ERR_NO_MEMORY, NULL);
        return;
    }
    api__cacheable(req, resp, "no-cache"); /* kept, but asked after each time */
}
